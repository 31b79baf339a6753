// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki runtime work_stealing_executor help_join
#include <boost/test/unit_test.hpp>

// Help-first joins (WorkStealingScheduler::help_join): a task that awaits the JoinHandle of a
// child still queued on its own worker runs the child there and then, instead of suspending
// and being woken; a nest of such joins is bounded by the stack, and does not keep outside
// work waiting.

#include <atomic>
#include <chrono>
#include <thread>
#include <utility>

#include <zuki/core/async.hpp>

#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::Async;
using zuki::Context;
using zuki::Poll;
using zuki::WorkStealingExecutor;

namespace {

// Counts the polls of the future it wraps.
template <class F>
struct CountPolls {
    F inner;
    std::atomic<int>* polls;
    Poll<zuki::output_t<F>> poll(Context& cx) {
        polls->fetch_add(1, std::memory_order_relaxed);
        return inner.poll(cx);
    }
};
template <class F>
CountPolls(F, std::atomic<int>*) -> CountPolls<F>;

Async<std::thread::id> where_am_i() { co_return std::this_thread::get_id(); }

Async<std::thread::id> spawn_and_await(WorkStealingExecutor& ex) {
    auto h = ex.spawn(where_am_i());
    co_return co_await h;
}

// A chain: each link spawns the next and awaits it, far deeper than a nest of joins may go (a
// nest ends at the periodic check, within 61 tasks, and at half the stack).
Async<long> chain(WorkStealingExecutor& ex, long left) {
    if (left == 0) co_return 0;
    auto h = ex.spawn(chain(ex, left - 1));
    co_return 1 + co_await h;
}

// A binary fork-join tree of 2^depth leaves. The first leaf to run announces itself and holds
// its worker until `go` (the test's outside submission is queued by then).
struct TreeGate {
    std::atomic<bool> first{true};
    std::atomic<bool> started{false};
    std::atomic<bool> go{false};
};
Async<long> tree(WorkStealingExecutor& ex, int depth, TreeGate* g) {
    if (depth == 0) {
        if (g->first.exchange(false, std::memory_order_relaxed)) {
            g->started.store(true, std::memory_order_release);
            while (!g->go.load(std::memory_order_acquire)) std::this_thread::yield();
        }
        co_return 1;
    }
    auto a = ex.spawn(tree(ex, depth - 1, g));
    auto b = ex.spawn(tree(ex, depth - 1, g));
    const long x = co_await a;
    co_return x + co_await b;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_child_queued_on_the_awaiting_worker_runs_within_the_parents_poll) {
    zuki::test::Watchdog w(60s, "help_join");
    WorkStealingExecutor ex(1);
    std::atomic<int> polls{0};
    auto h = ex.spawn(CountPolls{spawn_and_await(ex), &polls});
    const std::thread::id child_thread = h.get();
    // The child ran on the pool's one worker, and the parent was polled once: the child ran
    // inside that poll, so the parent was never suspended and woken.
    BOOST_TEST(child_thread != std::this_thread::get_id());
    BOOST_TEST(polls.load() == 1);
    ex.join();
}

BOOST_AUTO_TEST_CASE(help_while_joining_false_suspends_the_parent_instead) {
    zuki::test::Watchdog w(60s, "help_join off");
    zuki::WorkStealingConfig cfg;
    cfg.threads = 1;
    cfg.help_while_joining = false;
    WorkStealingExecutor ex(cfg);
    std::atomic<int> polls{0};
    auto h = ex.spawn(CountPolls{spawn_and_await(ex), &polls});
    BOOST_TEST(h.get() != std::this_thread::get_id());
    // Pending on the first poll (the child is queued behind it), polled again once woken.
    BOOST_TEST(polls.load() == 2);
    ex.join();
}

BOOST_AUTO_TEST_CASE(a_deep_chain_of_joins_is_bounded_by_the_stack) {
    zuki::test::Watchdog w(120s, "help_join chain");
    for (std::size_t stack : {std::size_t(0), std::size_t(64 * 1024)}) {
        zuki::WorkStealingConfig cfg;
        cfg.threads = 2;
        cfg.stack_size = stack;  // 0: the platform's default; 64 KiB: the least allowed
        WorkStealingExecutor ex(cfg);
        constexpr long depth = 100'000;
        BOOST_TEST(ex.block_on(chain(ex, depth)) == depth);
        ex.join();
    }
}

BOOST_AUTO_TEST_CASE(outside_work_runs_while_a_nest_of_joins_goes_on) {
    zuki::test::Watchdog w(120s, "help_join fairness");
    WorkStealingExecutor ex(1);
    TreeGate gate;
    std::atomic<bool> outside_ran{false};
    std::atomic<bool> tree_done_first{false};
    auto root = ex.spawn([](WorkStealingExecutor& e, TreeGate* g, std::atomic<bool>* o,
                            std::atomic<bool>* first) -> Async<long> {
        const long n = co_await e.spawn(tree(e, 16, g));
        if (!o->load(std::memory_order_acquire)) first->store(true, std::memory_order_relaxed);
        co_return n;
    }(ex, &gate, &outside_ran, &tree_done_first));
    while (!gate.started.load(std::memory_order_acquire)) std::this_thread::yield();
    // The one worker is 16 nested joins deep, in the first leaf, with the rest of the tree
    // (65,536 leaves) queued on it. An outside task must not wait for all of it: the periodic
    // check ends the nest and admits it.
    ex.spawn([&outside_ran] { outside_ran.store(true, std::memory_order_release); }).detach();
    gate.go.store(true, std::memory_order_release);
    BOOST_TEST(root.get() == (1L << 16));
    BOOST_TEST(outside_ran.load());
    BOOST_TEST(!tree_done_first.load());
    ex.join();
}
