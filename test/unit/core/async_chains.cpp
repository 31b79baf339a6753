// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Chains of `Async` coroutines awaiting each other (issue 15, item 1): symmetric transfer, so a
// million levels take no stack, a wake resumes the innermost directly, and a pending chain is
// destroyed from the leaf up without recursion. The deep cases run on a thread with a 256 KiB
// stack (a recursive poll or destruction needs hundreds of MiB at this depth) and on a worker of
// the pool with its default stack.
#include <zuki/core/async.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki core async chains
#include <boost/test/unit_test.hpp>

#include <pthread.h>

#include <cstddef>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <zuki/core/yield_now.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>

#include "common/gate_future.hpp"

using zuki::Async;
using zuki::Context;
using zuki::Waker;
using zuki::test::Gate;
using zuki::test::GateState;
using zuki::test::make_gate_state;
using GatePtr = std::shared_ptr<GateState>;

namespace {

constexpr int million = 1'000'000;
constexpr std::size_t small_stack = 256 * 1024;

/// A check on the small-stack thread (see on_small_stack): throws `what` if not `ok`.
void require(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(what);
}

/// Runs `fn` on a new thread with a `stack`-byte stack and waits for it; rethrows what it threw.
void on_small_stack(const std::function<void()>& fn, std::size_t stack = small_stack) {
    struct Job {
        const std::function<void()>* fn;
        std::exception_ptr error;
    } job{&fn, nullptr};
    pthread_attr_t attr;
    BOOST_REQUIRE(pthread_attr_init(&attr) == 0);
    BOOST_REQUIRE(pthread_attr_setstacksize(&attr, stack) == 0);
    pthread_t t;
    // No Boost.Test macro may run on that thread (the framework is not thread-safe): `fn`
    // records what it saw, and throws std::runtime_error where it cannot go on.
    const int rc = pthread_create(
        &t, &attr,
        [](void* p) -> void* {
            auto* j = static_cast<Job*>(p);
            try {
                (*j->fn)();
            } catch (...) {
                j->error = std::current_exception();
            }
            return nullptr;
        },
        &job);
    pthread_attr_destroy(&attr);
    BOOST_REQUIRE(rc == 0);
    pthread_join(t, nullptr);
    if (job.error) std::rethrow_exception(job.error);
}

/// Polls `f` with a no-op waker until ready; returns the output and counts the polls.
template <class T>
T poll_to_end(Async<T>& f, int& polls) {
    Waker w = Waker::noop();
    Context cx(w);
    for (;;) {
        ++polls;
        auto p = f.poll(cx);
        if (p.is_ready()) return std::move(p).value();
    }
}

// n levels; the innermost yields twice (so the chain is suspended and woken at full depth).
Async<int> depth(int n) {
    if (n == 0) {
        co_await zuki::yield_now();
        co_await zuki::yield_now();
        co_return 0;
    }
    co_return 1 + co_await depth(n - 1);
}

// The same, each level awaiting its child through a named local (a borrowed lvalue).
Async<int> depth_borrowed(int n) {
    if (n == 0) {
        co_await zuki::yield_now();
        co_return 0;
    }
    Async<int> child = depth_borrowed(n - 1);
    const int below = co_await child;
    co_return 1 + below;
}

// Counts, in `log`, the destruction of one local per level (its level number).
struct Record {
    std::vector<int>* log;
    int level;
    ~Record() { log->push_back(level); }
};

// n levels above an innermost that awaits the gate; each level holds a Record.
Async<int> recorded(int n, GatePtr g, std::vector<int>& log) {
    Record r{&log, n};
    if (n == 0) co_return co_await Gate<int>(g);
    co_return co_await recorded(n - 1, g, log);
}

// The innermost throws; the level `catch_at` catches and returns -level.
Async<int> throws_at_bottom(int n, int catch_at) {
    if (n == 0) {
        co_await zuki::yield_now();
        throw std::runtime_error("bottom");
    }
    if (n == catch_at) {
        try {
            co_return co_await throws_at_bottom(n - 1, catch_at);
        } catch (const std::runtime_error& e) {
            co_return std::string(e.what()) == "bottom" ? -n : 0;
        }
    }
    co_return co_await throws_at_bottom(n - 1, catch_at);
}

Async<int> await_borrowed(Async<int>& child) { co_return 1 + co_await child; }

Async<int> gate_value(GatePtr g) { co_return co_await Gate<int>(g); }

}  // namespace

namespace {

// Runs the chain `make(levels)` to its end on a small stack; returns {its value, the polls}.
std::pair<int, int> run_on_small_stack(Async<int> (*make)(int), int levels) {
    int value = -1;
    int polls = 0;
    on_small_stack([&] {
        Async<int> f = make(levels);
        value = poll_to_end(f, polls);
    });
    return {value, polls};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_million_levels_run_and_wake_on_a_small_stack) {
    const auto [value, polls] = run_on_small_stack(&depth, million);
    BOOST_TEST(value == million);
    BOOST_TEST(polls == 3);  // pending at each yield of the innermost, then ready
}

BOOST_AUTO_TEST_CASE(a_million_levels_awaiting_borrowed_locals_run_on_a_small_stack) {
    const auto [value, polls] = run_on_small_stack(&depth_borrowed, million);
    BOOST_TEST(value == million);
    BOOST_TEST(polls == 2);
}

BOOST_AUTO_TEST_CASE(a_pending_million_level_chain_is_destroyed_on_a_small_stack) {
    std::vector<int> log;
    log.reserve(million + 1);
    auto g = make_gate_state();
    on_small_stack([&] {
        Waker w = Waker::noop();
        Context cx(w);
        Async<int> f = recorded(million, g, log);
        require(f.poll(cx).is_pending(), "the chain waits for the gate");
        require(g->live == 1, "the innermost awaits the gate");
    });
    BOOST_TEST(g->live == 0);  // the innermost's awaited gate is gone
    BOOST_TEST(g->drops == 1);
    BOOST_REQUIRE(log.size() == std::size_t{million} + 1);  // every level's local, once
    bool leaf_first = true;
    for (int i = 0; i <= million; ++i) leaf_first = leaf_first && log[std::size_t(i)] == i;
    BOOST_TEST(leaf_first);  // as a recursive destruction would: the innermost first
}

BOOST_AUTO_TEST_CASE(a_borrowed_million_level_chain_is_destroyed_on_a_small_stack) {
    on_small_stack([&] {
        Waker w = Waker::noop();
        Context cx(w);
        Async<int> f = depth_borrowed(million);
        require(f.poll(cx).is_pending(), "the innermost yields");
    });
}

BOOST_AUTO_TEST_CASE(destroying_a_pending_chain_destroys_child_frames_before_parent_locals) {
    Waker w = Waker::noop();
    Context cx(w);
    std::vector<int> log;
    auto g = make_gate_state();
    {
        Async<int> f = recorded(3, g, log);
        BOOST_REQUIRE(f.poll(cx).is_pending());
        BOOST_TEST(log.empty());
    }
    BOOST_TEST(log == (std::vector<int>{0, 1, 2, 3}));
    BOOST_TEST(g->live == 0);
    // A finished chain destroyed its levels as they returned, innermost first, too.
    log.clear();
    auto g2 = make_gate_state();
    Async<int> f = recorded(3, g2, log);
    BOOST_REQUIRE(f.poll(cx).is_pending());
    g2->open(7);
    BOOST_TEST(f.poll(cx).value() == 7);
    BOOST_TEST(log == (std::vector<int>{0, 1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(an_exception_travels_up_the_chain_to_the_level_that_catches_it) {
    int value = 0;
    int polls = 0;
    on_small_stack([&] {
        Async<int> f = throws_at_bottom(100'000, 50'000);
        value = poll_to_end(f, polls);
    });
    BOOST_TEST(value == -50'000);
    // Uncaught, it leaves the root's poll.
    Async<int> f = throws_at_bottom(10, -1);
    BOOST_CHECK_THROW(poll_to_end(f, polls), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(an_async_being_awaited_cannot_be_polled_directly) {
    Waker w = Waker::noop();
    Context cx(w);
    auto g = make_gate_state();
    Async<int> child = gate_value(g);
    Async<int> parent = await_borrowed(child);
    BOOST_REQUIRE(parent.poll(cx).is_pending());
    BOOST_CHECK_THROW((void)child.poll(cx), std::logic_error);
    g->open(41);
    BOOST_TEST(parent.poll(cx).value() == 42);
    BOOST_TEST(child.is_done());
    BOOST_CHECK_THROW((void)child.poll(cx), std::logic_error);  // finished
}

BOOST_AUTO_TEST_CASE(an_async_polled_before_it_is_awaited_is_polled_from_the_chain) {
    Waker w = Waker::noop();
    Context cx(w);
    auto g = make_gate_state();
    Async<int> child = gate_value(g);
    BOOST_REQUIRE(child.poll(cx).is_pending());  // now a root of its own
    Async<int> parent = await_borrowed(child);
    BOOST_REQUIRE(parent.poll(cx).is_pending());
    BOOST_TEST(g->polls == 2);  // polled through the parent
    g->open(9);
    BOOST_TEST(parent.poll(cx).value() == 10);
    // Awaiting an empty Async throws at the co_await, as polling it does.
    Async<int> empty;
    Async<int> p2 = await_borrowed(empty);
    BOOST_CHECK_THROW((void)p2.poll(cx), std::logic_error);
}

BOOST_AUTO_TEST_CASE(a_borrowed_child_is_destroyed_with_a_pending_parent) {
    Waker w = Waker::noop();
    Context cx(w);
    auto g = make_gate_state();
    Async<int> child = gate_value(g);
    {
        Async<int> parent = await_borrowed(child);
        BOOST_REQUIRE(parent.poll(cx).is_pending());
    }
    // It was suspended inside the parent's chain and could not be resumed without it.
    BOOST_TEST(!child.valid());
    BOOST_TEST(g->live == 0);
}

BOOST_AUTO_TEST_CASE(a_million_levels_complete_on_pool_workers_with_their_default_stack) {
    zuki::WorkStealingConfig cfg;
    cfg.threads = 2;  // stack_size 0: the platform's default
    zuki::WorkStealingExecutor pool(cfg);
    auto h = pool.spawn(depth(million));
    BOOST_TEST(h.get() == million);
    zuki::SingleThreadedExecutor single;
    auto h2 = single.spawn(depth_borrowed(million));
    single.run();
    BOOST_TEST(h2.get() == million);
}
