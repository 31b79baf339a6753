// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki runtime work_stealing_executor shutdown
#include <boost/test/unit_test.hpp>

// Shutdown: join() waits for all work (tasks spawned by tasks included), spawning after stop()
// throws, and destroying a stopped pool cancels what is queued or pending: every future is
// destroyed exactly once and a thread blocked in get() wakes with TaskCancelled.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "common/drop_counter.hpp"
#include "common/pool_helpers.hpp"
#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::Batch;
using zuki::Context;
using zuki::JoinHandle;
using zuki::Poll;
using zuki::WorkStealingExecutor;
using zuki::test::call;
using zuki::test::sanitized;
using zuki::test::SpinGate;
using zuki::test::SpinGateState;
using zuki::test::stress_scale;
using zuki::test::wait_until;

namespace {

// Spawns two children until `depth` reaches 0; counts every task.
struct Tree {
    WorkStealingExecutor* ex;
    std::atomic<std::size_t>* count;
    int depth;
    Poll<void> poll(Context&) {
        if (depth > 0) {
            ex->spawn(Tree{ex, count, depth - 1}).detach();
            ex->spawn(Tree{ex, count, depth - 1}).detach();
        }
        count->fetch_add(1, std::memory_order_relaxed);
        return Poll<void>::ready();
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(join_waits_for_all_work_including_tasks_spawned_by_tasks) {
    zuki::test::Watchdog w(120s, "join");
    const int depth = sanitized ? 11 : 14;
    for (std::size_t n : {1u, 3u}) {
        BOOST_TEST_CONTEXT(n << " workers") {
            std::atomic<std::size_t> count{0};
            WorkStealingExecutor ex(n);
            ex.spawn(Tree{&ex, &count, depth}).detach();
            ex.join();
            BOOST_TEST(count.load() == (std::size_t{1} << (depth + 1)) - 1);
            BOOST_TEST(ex.stopped());
            BOOST_CHECK_THROW((void)ex.spawn(zuki::ready(1)), zuki::ExecutorStopped);
            ex.join();  // a second join is harmless
        }
    }
}

BOOST_AUTO_TEST_CASE(spawn_after_stop_throws_executor_stopped) {
    zuki::test::Watchdog w(60s, "spawn_after_stop_throws_executor_stopped");
    WorkStealingExecutor ex(2);
    BOOST_TEST(!ex.stopped());
    ex.stop();
    BOOST_TEST(ex.stopped());
    BOOST_CHECK_THROW((void)ex.spawn(zuki::ready(1)), zuki::ExecutorStopped);
    BOOST_CHECK_THROW((void)ex.spawn_high(zuki::ready(1)), zuki::ExecutorStopped);
    Batch b(ex);
    BOOST_CHECK_THROW((void)b.push(zuki::ready(1)), zuki::ExecutorStopped);
    BOOST_TEST(b.empty());
}

BOOST_AUTO_TEST_CASE(stop_then_destroy_cancels_queued_tasks) {
    zuki::test::Watchdog w(60s, "stop with queued tasks");
    constexpr std::size_t n = 1000;
    zuki::test::DropRegistry reg(n);
    std::atomic<int> ran{0};
    std::vector<JoinHandle<int>> hs;
    JoinHandle<int> g;
    {
        WorkStealingExecutor ex(1);
        auto gate = std::make_shared<SpinGateState>();
        g = ex.spawn(SpinGate(gate));
        BOOST_REQUIRE(
            wait_until([&] { return gate->started.load(std::memory_order_acquire) == 1; }));
        for (std::size_t i = 0; i < n; ++i) {
            hs.push_back(ex.spawn(call(
                [&ran, d = zuki::test::DropCounter(reg, i)] { return ran.fetch_add(1) + 1; })));
        }
        ex.stop();
        gate->open.store(true, std::memory_order_release);
    }  // destroyed with 1000 queued tasks
    BOOST_TEST(g.get() == 1);  // it was running: it completed
    BOOST_TEST(ran.load() == 0);
    std::size_t cancelled = 0;
    for (auto& h : hs) {
        BOOST_TEST(h.is_finished());
        try {
            (void)h.get();
        } catch (const zuki::TaskCancelled&) {
            ++cancelled;
        }
    }
    BOOST_TEST(cancelled == n);
    for (std::size_t i = 0; i < n; ++i) BOOST_REQUIRE(reg.drops(i) == 1);
}

BOOST_AUTO_TEST_CASE(a_thread_blocked_in_get_wakes_with_task_cancelled_on_destruction) {
    zuki::test::Watchdog w(60s, "blocked get during destruction");
    std::atomic<int> outcome{0};  // 1: TaskCancelled, 2: a value, 3: another exception
    std::thread waiter;
    {
        WorkStealingExecutor ex(1);
        auto gate = std::make_shared<SpinGateState>();
        auto g = ex.spawn(SpinGate(gate));
        BOOST_REQUIRE(
            wait_until([&] { return gate->started.load(std::memory_order_acquire) == 1; }));
        JoinHandle<int> queued = ex.spawn(zuki::ready(5));
        waiter = std::thread([&outcome, h = std::move(queued)]() mutable {
            try {
                (void)h.get();
                outcome.store(2);
            } catch (const zuki::TaskCancelled&) {
                outcome.store(1);
            } catch (...) {
                outcome.store(3);
            }
        });
        std::this_thread::sleep_for(20ms);  // let it block
        ex.stop();
        gate->open.store(true, std::memory_order_release);
    }
    waiter.join();
    BOOST_TEST(outcome.load() == 1);
}

namespace {

// Pending forever after counting its first poll.
struct PendingForever {
    zuki::test::DropCounter d;
    std::atomic<std::size_t>* polled;
    bool counted = false;
    Poll<int> poll(Context&) {
        if (!counted) {
            counted = true;
            // release: pairs with the test's acquire wait.
            polled->fetch_add(1, std::memory_order_release);
        }
        return Poll<int>::pending();
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(destructor_cancels_pending_and_queued_tasks_without_leaks) {
    zuki::test::Watchdog w(120s, "destructor with pending tasks");
    const std::size_t n = (sanitized ? 20'000 : 100'000) * stress_scale();
    const std::size_t half = n / 2;
    zuki::test::DropRegistry reg(n);
    std::atomic<std::size_t> polled{0};
    std::atomic<std::size_t> ran{0};
    std::vector<JoinHandle<int>> hs;
    hs.reserve(n);
    {
        WorkStealingExecutor ex(2);
        // Half never complete: polled once, then idle with nobody holding their waker...
        for (std::size_t i = 0; i < half; ++i)
            hs.push_back(ex.spawn(PendingForever{zuki::test::DropCounter(reg, i), &polled}));
        // ... and one more that is idle as zuki::pending<int>() (no DropCounter).
        auto plain = ex.spawn(zuki::pending<int>());
        BOOST_REQUIRE(
            wait_until([&] { return polled.load(std::memory_order_acquire) == half; }, 60s));
        // Both workers held by gates; the other half stays queued.
        auto gate = std::make_shared<SpinGateState>();
        auto g1 = ex.spawn(SpinGate(gate));
        auto g2 = ex.spawn(SpinGate(gate));
        BOOST_REQUIRE(
            wait_until([&] { return gate->started.load(std::memory_order_acquire) == 2; }));
        for (std::size_t i = half; i < n; ++i) {
            hs.push_back(ex.spawn(call([&ran, d = zuki::test::DropCounter(reg, i)] {
                return static_cast<int>(ran.fetch_add(1));
            })));
        }
        ex.stop();
        gate->open.store(true, std::memory_order_release);
        hs.push_back(std::move(plain));
    }
    BOOST_TEST(ran.load() == 0u);
    std::size_t cancelled = 0;
    for (auto& h : hs) {
        try {
            (void)h.get();
        } catch (const zuki::TaskCancelled&) {
            ++cancelled;
        }
    }
    BOOST_TEST(cancelled == n + 1);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i) wrong += reg.drops(i) != 1 || reg.live(i) != 0;
    BOOST_TEST(wrong == 0u, wrong << " futures not destroyed exactly once");
}
