// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/task/join_handle.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki task join_handle
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <zuki/core/async.hpp>
#include <zuki/core/yield_now.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>

#include "common/drop_counter.hpp"
#include "common/watchdog.hpp"

// The JoinHandle API as a user sees it, through SingleThreadedExecutor.

using namespace std::chrono_literals;
using zuki::Context;
using zuki::JoinHandle;
using zuki::Poll;
using zuki::SingleThreadedExecutor;
using zuki::TaskPriority;
using zuki::Waker;

static_assert(zuki::Future<JoinHandle<int>>);
static_assert(zuki::Future<JoinHandle<void>>);
static_assert(std::is_same_v<zuki::output_t<JoinHandle<int>>, int>);
static_assert(!std::is_copy_constructible_v<JoinHandle<int>>);
static_assert(std::is_nothrow_move_constructible_v<JoinHandle<int>>);
static_assert(std::is_nothrow_move_assignable_v<JoinHandle<int>>);

namespace {

template <class Fn>
struct FnFuture {
    Fn fn;
    auto poll(Context& cx) { return fn(cx); }
};
template <class Fn>
FnFuture<Fn> poll_fn(Fn fn) {
    return FnFuture<Fn>{std::move(fn)};
}

struct MyError : std::runtime_error {
    MyError() : std::runtime_error("my error") {}
};

/// Pending until `open`; tracked by a DropCounter; counts its polls.
struct GateState {
    std::mutex m;
    bool open = false;
    int polls = 0;
    std::optional<Waker> waiter;
    void release() {
        std::optional<Waker> w;
        {
            std::lock_guard<std::mutex> lock(m);
            open = true;
            w.swap(waiter);
        }
        if (w) w->wake();
    }
};
struct Gate {
    std::shared_ptr<GateState> s;
    zuki::test::DropCounter token;
    int value = 0;
    Poll<int> poll(Context& cx) {
        std::lock_guard<std::mutex> lock(s->m);
        ++s->polls;
        if (s->open) return value;
        s->waiter = cx.waker();
        return Poll<int>::pending();
    }
};

/// An output that reports its destruction.
struct Tracked {
    zuki::test::DropCounter token;
    int v;
};

}  // namespace

BOOST_AUTO_TEST_CASE(an_empty_handle_is_invalid_and_every_use_is_a_logic_error) {
    JoinHandle<int> h;
    BOOST_TEST(!h.valid());
    BOOST_TEST(!static_cast<bool>(h));
    BOOST_CHECK_THROW(h.get(), std::logic_error);
    BOOST_CHECK_THROW((void)h.id(), std::logic_error);
    BOOST_CHECK_THROW((void)h.priority(), std::logic_error);
    BOOST_CHECK_THROW((void)h.is_finished(), std::logic_error);
    BOOST_CHECK_THROW(h.cancel(), std::logic_error);
    const Waker w = Waker::noop();
    Context cx(w);
    BOOST_CHECK_THROW((void)h.poll(cx), std::logic_error);
    h.detach();  // harmless on an empty handle
}

BOOST_AUTO_TEST_CASE(ids_are_unique_and_priority_is_reported) {
    SingleThreadedExecutor ex;
    std::set<zuki::TaskId> ids;
    std::vector<JoinHandle<int>> hs;
    for (int i = 0; i < 100; ++i) {
        hs.push_back(ex.spawn(zuki::ready(i), static_cast<TaskPriority>(i % 4)));
        ids.insert(hs.back().id());
        BOOST_TEST((hs.back().priority() == static_cast<TaskPriority>(i % 4)));
    }
    BOOST_TEST(ids.size() == 100u);
    ex.run();
    for (int i = 0; i < 100; ++i) BOOST_TEST(hs[static_cast<std::size_t>(i)].get() == i);
}

BOOST_AUTO_TEST_CASE(get_returns_the_value_once) {
    SingleThreadedExecutor ex;
    JoinHandle<int> h = ex.spawn(zuki::ready(42));
    BOOST_TEST(h.valid());
    BOOST_TEST(!h.is_finished());
    ex.run();
    BOOST_TEST(h.is_finished());
    BOOST_TEST(h.get() == 42);
    BOOST_CHECK_THROW(h.get(), std::logic_error);  // taken
    BOOST_TEST(h.valid());  // still refers to the task
}

BOOST_AUTO_TEST_CASE(void_and_move_only_outputs) {
    SingleThreadedExecutor ex;
    JoinHandle<void> v = ex.spawn(zuki::ready());
    JoinHandle<std::unique_ptr<int>> p = ex.spawn(zuki::ready(std::make_unique<int>(7)));
    ex.run();
    v.get();
    BOOST_TEST(*p.get() == 7);
}

BOOST_AUTO_TEST_CASE(get_rethrows_the_tasks_exception_type) {
    SingleThreadedExecutor ex;
    JoinHandle<int> h = ex.spawn(poll_fn([](Context&) -> Poll<int> { throw MyError(); }));
    ex.run();
    BOOST_TEST(h.is_finished());
    BOOST_CHECK_THROW(h.get(), MyError);
    BOOST_CHECK_THROW(h.get(), std::logic_error);
}

BOOST_AUTO_TEST_CASE(get_blocks_another_thread_until_the_executor_completes_the_task) {
    zuki::test::Watchdog dog(30s, "get from another thread");
    SingleThreadedExecutor ex;
    auto gate = std::make_shared<GateState>();
    zuki::test::DropRegistry drops(1);
    JoinHandle<int> h = ex.spawn(Gate{gate, zuki::test::DropCounter(drops, 0), 9});
    std::atomic<int> got{0};
    std::thread waiter([&] { got = h.get(); });  // parks on a ThreadParker
    std::thread opener([&] {
        std::this_thread::sleep_for(20ms);
        gate->release();
    });
    ex.run();
    waiter.join();
    opener.join();
    BOOST_TEST(got.load() == 9);
}

BOOST_AUTO_TEST_CASE(get_inside_a_task_is_a_logic_error_instead_of_a_deadlock) {
    SingleThreadedExecutor ex;
    JoinHandle<int> other = ex.spawn_low(zuki::ready(1));
    bool threw = false;
    ex.spawn(poll_fn([&](Context&) {
          try {
              (void)other.get();
          } catch (const std::logic_error&) {
              threw = true;
          }
          return Poll<void>::ready();
      }))
        .detach();
    ex.run();
    BOOST_TEST(threw);
    BOOST_TEST(other.get() == 1);
}

BOOST_AUTO_TEST_CASE(a_task_can_await_another_tasks_handle) {
    SingleThreadedExecutor ex;
    JoinHandle<int> inner = ex.spawn_low(zuki::ready(20));  // runs after the awaiting task
    int polls = 0;
    JoinHandle<int> outer =
        ex.spawn(poll_fn([&, h = std::move(inner)](Context& cx) mutable -> Poll<int> {
            ++polls;
            Poll<int> p = h.poll(cx);  // first: pending, the join waker is ours
            if (p.is_pending()) return Poll<int>::pending();
            return std::move(p).value() + 1;
        }));
    ex.run();
    BOOST_TEST(polls == 2);  // woken exactly by the inner task's completion
    BOOST_TEST(outer.get() == 21);
}

// co_await on a handle whose task already completed takes the output without polling the handle
// (detail::AwaitReadyNow): the value, the task's exception, its cancellation, as a poll would;
// a handle whose output was taken is still a logic error.
BOOST_AUTO_TEST_CASE(an_async_awaits_handles_of_completed_tasks) {
    SingleThreadedExecutor ex;
    auto body = [&]() -> zuki::Async<int> {
        JoinHandle<int> value = ex.spawn(zuki::ready(5));
        JoinHandle<int> failing = ex.spawn(poll_fn([](Context&) -> Poll<int> { throw MyError(); }));
        JoinHandle<int> aborted = ex.spawn(zuki::ready(6));
        aborted.abort();  // queued: cancelled when the executor takes it
        JoinHandle<void> done = ex.spawn(zuki::ready());
        co_await zuki::yield_now();  // the four run (and complete) before we go on
        BOOST_TEST(value.is_finished());
        BOOST_TEST(failing.is_finished());
        BOOST_TEST(aborted.is_finished());
        BOOST_TEST(done.is_finished());
        int sum = co_await value;
        bool threw = false;
        try {
            co_await failing;
        } catch (const MyError&) {
            threw = true;
        }
        BOOST_TEST(threw);
        bool cancelled = false;
        try {
            co_await aborted;
        } catch (const zuki::TaskCancelled&) {
            cancelled = true;
        }
        BOOST_TEST(cancelled);
        co_await std::move(done);
        bool taken = false;
        try {
            co_await value;  // its output went to the first co_await
        } catch (const std::logic_error&) {
            taken = true;
        }
        BOOST_TEST(taken);
        co_return sum;
    };
    BOOST_TEST(ex.block_on(body()) == 5);
}

BOOST_AUTO_TEST_CASE(block_on_a_handle) {
    SingleThreadedExecutor ex;
    JoinHandle<int> h = ex.spawn(zuki::ready(41));
    BOOST_TEST(ex.block_on(std::move(h)) == 41);
}

BOOST_AUTO_TEST_CASE(cancel_an_idle_task_destroys_its_future_at_once) {
    SingleThreadedExecutor ex;
    auto gate = std::make_shared<GateState>();
    zuki::test::DropRegistry drops(1);
    JoinHandle<int> h = ex.spawn(Gate{gate, zuki::test::DropCounter(drops, 0), 1});
    (void)ex.step();  // polled once: idle
    BOOST_TEST(ex.task_count() == 1u);
    h.cancel();
    BOOST_TEST(drops.drops(0) == 1);  // right here, on this thread
    BOOST_TEST(h.is_finished());
    BOOST_TEST(ex.is_empty());
    BOOST_CHECK_THROW(h.get(), zuki::TaskCancelled);
    gate->release();  // a wake after cancellation: no effect
    BOOST_TEST(!ex.step());
    BOOST_TEST(gate->polls == 1);
}

BOOST_AUTO_TEST_CASE(cancel_a_queued_task_it_is_never_polled) {
    SingleThreadedExecutor ex;
    auto gate = std::make_shared<GateState>();
    zuki::test::DropRegistry drops(1);
    JoinHandle<int> h = ex.spawn(Gate{gate, zuki::test::DropCounter(drops, 0), 1});
    h.cancel();  // queued: the executor drops it when it dequeues it
    h.cancel();  // idempotent
    BOOST_TEST(!h.is_finished());
    ex.run();
    BOOST_TEST(gate->polls == 0);
    BOOST_TEST(drops.drops(0) == 1);
    BOOST_CHECK_THROW(h.get(), zuki::TaskCancelled);
}

BOOST_AUTO_TEST_CASE(cancel_from_another_task) {
    SingleThreadedExecutor ex;
    auto gate = std::make_shared<GateState>();
    zuki::test::DropRegistry drops(1);
    JoinHandle<int> victim = ex.spawn_high(Gate{gate, zuki::test::DropCounter(drops, 0), 1});
    ex.spawn(poll_fn([&](Context&) {
          victim.cancel();  // idle by now (the High task ran first)
          return Poll<void>::ready();
      }))
        .detach();
    ex.run();
    BOOST_TEST(drops.drops(0) == 1);
    BOOST_CHECK_THROW(victim.get(), zuki::TaskCancelled);
}

BOOST_AUTO_TEST_CASE(cancel_after_completion_keeps_the_result) {
    SingleThreadedExecutor ex;
    JoinHandle<int> h = ex.spawn(zuki::ready(5));
    ex.run();
    h.cancel();
    BOOST_TEST(h.get() == 5);
}

BOOST_AUTO_TEST_CASE(detach_lets_the_task_run_and_discards_its_result) {
    SingleThreadedExecutor ex;
    zuki::test::DropRegistry drops(1);
    bool ran = false;
    JoinHandle<Tracked> h = ex.spawn(poll_fn([&](Context&) -> Poll<Tracked> {
        ran = true;
        return Tracked{zuki::test::DropCounter(drops, 0), 3};
    }));
    h.detach();
    BOOST_TEST(!h.valid());
    ex.run();
    BOOST_TEST(ran);
    BOOST_TEST(drops.created(0) == 1);
    BOOST_TEST(drops.drops(0) == 1);  // nobody wants it: destroyed with the task
}

BOOST_AUTO_TEST_CASE(dropping_or_overwriting_a_handle_detaches) {
    SingleThreadedExecutor ex;
    int ran = 0;
    auto count = [&](Context&) {
        ++ran;
        return Poll<int>::ready(0);
    };
    { JoinHandle<int> dropped = ex.spawn(poll_fn(count)); }
    JoinHandle<int> h = ex.spawn(poll_fn(count));
    h = ex.spawn(zuki::ready(8));  // the first task is detached, not cancelled
    ex.run();
    BOOST_TEST(ran == 2);
    BOOST_TEST(h.get() == 8);
}

BOOST_AUTO_TEST_CASE(a_handle_outlives_its_executor_and_reports_cancellation) {
    JoinHandle<int> h;
    zuki::test::DropRegistry drops(1);
    {
        SingleThreadedExecutor ex;
        h = ex.spawn(Gate{std::make_shared<GateState>(), zuki::test::DropCounter(drops, 0), 1});
    }
    BOOST_TEST(drops.drops(0) == 1);
    BOOST_TEST(h.is_finished());
    BOOST_CHECK_THROW(h.get(), zuki::TaskCancelled);
}

BOOST_AUTO_TEST_CASE(a_handle_moves_between_threads) {
    SingleThreadedExecutor ex;
    JoinHandle<int> h = ex.spawn(zuki::ready(4));
    ex.run();
    int got = 0;
    std::thread([&got, moved = std::move(h)]() mutable { got = moved.get(); }).join();
    BOOST_TEST(got == 4);
    BOOST_TEST(!h.valid());  // NOLINT: checking the moved-from state
}
