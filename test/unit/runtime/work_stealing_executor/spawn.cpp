// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki runtime work_stealing_executor spawn
#include <boost/test/unit_test.hpp>

// Spawning and results: spawn and block_on (values, void, exceptions, misuse from a worker),
// priorities (reported by the handle, and the order queued work runs in), and stealing.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <zuki/runtime/single_threaded_executor.hpp>

#include "common/pool_helpers.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::JoinHandle;
using zuki::TaskPriority;
using zuki::WorkStealingExecutor;
using zuki::test::call;
using zuki::test::spin_for;
using zuki::test::SpinGate;
using zuki::test::SpinGateState;
using zuki::test::wait_until;

BOOST_AUTO_TEST_CASE(spawn_returns_a_handle_to_the_result) {
    zuki::test::Watchdog w(60s, "spawn");
    WorkStealingExecutor ex(2);
    JoinHandle<int> a = ex.spawn(zuki::ready(21));
    JoinHandle<void> b = ex.spawn(zuki::ready());
    JoinHandle<std::string> c = ex.spawn(call([] { return std::string("hello"); }));
    BOOST_TEST(a.get() == 21);
    BOOST_CHECK_NO_THROW(b.get());
    BOOST_TEST(c.get() == "hello");
    BOOST_TEST(!ex.running_in_this_thread());
    BOOST_TEST(ex.spawn(call([&] { return ex.running_in_this_thread(); })).get());
}

BOOST_AUTO_TEST_CASE(block_on_runs_on_the_pool_and_returns_or_rethrows) {
    zuki::test::Watchdog w(60s, "block_on");
    WorkStealingExecutor ex(2);
    BOOST_TEST(ex.block_on(zuki::ready(5)) == 5);
    const auto caller = std::this_thread::get_id();
    BOOST_TEST((ex.block_on(call([] { return std::this_thread::get_id(); })) != caller));
    BOOST_CHECK_THROW(ex.block_on(call([]() -> int { throw std::out_of_range("x"); })),
                      std::out_of_range);
}

BOOST_AUTO_TEST_CASE(block_on_and_get_from_a_worker_throw_logic_error) {
    zuki::test::Watchdog w(60s, "block_on from a worker");
    WorkStealingExecutor ex(2);
    auto h = ex.spawn(call([&] {
        int failures = 0;
        try {
            (void)ex.block_on(zuki::ready(1));
        } catch (const std::logic_error&) {
            ++failures;
        }
        auto inner = ex.spawn(zuki::ready(2));
        try {
            (void)inner.get();
        } catch (const std::logic_error&) {
            ++failures;
        }
        return failures;
    }));
    BOOST_TEST(h.get() == 2);
}

BOOST_AUTO_TEST_CASE(spawn_high_and_spawn_low_run_with_their_priority) {
    zuki::test::Watchdog w(60s, "spawn_high/low");
    WorkStealingExecutor ex(2);
    auto hi = ex.spawn_high(zuki::ready(1));
    auto lo = ex.spawn_low(zuki::ready(2));
    auto cr = ex.spawn(zuki::ready(3), TaskPriority::Critical);
    BOOST_TEST(hi.priority() == TaskPriority::High);
    BOOST_TEST(lo.priority() == TaskPriority::Low);
    BOOST_TEST(cr.priority() == TaskPriority::Critical);
    BOOST_TEST(hi.get() + lo.get() + cr.get() == 6);
}

BOOST_AUTO_TEST_CASE(queued_critical_and_high_work_runs_before_normal_and_low) {
    zuki::test::Watchdog w(60s, "priority");
    WorkStealingExecutor ex(1);
    auto gate = std::make_shared<SpinGateState>();
    auto g = ex.spawn(SpinGate(gate));
    BOOST_REQUIRE(wait_until([&] { return gate->started.load(std::memory_order_acquire) == 1; }));

    std::mutex m;
    std::vector<TaskPriority> order;
    std::vector<JoinHandle<void>> hs;
    const TaskPriority submit[] = {TaskPriority::Low, TaskPriority::Normal, TaskPriority::High,
                                   TaskPriority::Critical};
    for (int round = 0; round < 3; ++round) {
        for (TaskPriority p : submit) {
            hs.push_back(ex.spawn(call([&m, &order, p] {
                                      std::lock_guard lock(m);
                                      order.push_back(p);
                                  }),
                                  p));
        }
    }
    gate->open.store(true, std::memory_order_release);
    BOOST_TEST(g.get() == 1);
    for (auto& h : hs) h.get();

    BOOST_REQUIRE(order.size() == 12u);
    std::size_t last_urgent = 0, first_relaxed = order.size();
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (order[i] >= TaskPriority::High)
            last_urgent = i;
        else
            first_relaxed = std::min(first_relaxed, i);
    }
    BOOST_TEST(last_urgent < first_relaxed, "Critical and High before Normal and Low");
    // One worker, single-task submissions: it always takes the highest non-empty lane.
    BOOST_TEST(std::is_sorted(order.begin(), order.end(), std::greater<>()));
}

BOOST_AUTO_TEST_CASE(idle_workers_steal_from_a_busy_one) {
    zuki::test::Watchdog w(120s, "stealing");
    constexpr std::size_t n = 10'000;
    WorkStealingExecutor ex(4);
    std::vector<std::thread::id> who(n);
    auto runs = std::make_unique<std::atomic<int>[]>(n);
    for (std::size_t i = 0; i < n; ++i) runs[i].store(0);
    std::atomic<std::size_t> done{0};
    auto spawner = ex.spawn(call([&] {
        for (std::size_t i = 0; i < n; ++i) {
            ex.spawn(call([&, i] {
                  spin_for(2us);
                  who[i] = std::this_thread::get_id();
                  runs[i].fetch_add(1, std::memory_order_relaxed);
                  // release: pairs with the acquire load below (publishes who[i]).
                  done.fetch_add(1, std::memory_order_release);
              }))
                .detach();
        }
        return std::this_thread::get_id();
    }));
    const std::thread::id spawner_thread = spawner.get();
    BOOST_REQUIRE(wait_until([&] { return done.load(std::memory_order_acquire) == n; }, 60s));

    std::set<std::thread::id> threads(who.begin(), who.end());
    std::size_t off_spawner = 0;
    for (auto& id : who) off_spawner += id != spawner_thread;
    for (std::size_t i = 0; i < n; ++i) BOOST_REQUIRE(runs[i].load() == 1);
    const zuki::Metrics m = ex.metrics();
    std::cout << "stealing: " << threads.size() << " threads ran tasks, " << off_spawner
              << " off the spawner's thread\n"
              << m;
    BOOST_TEST(m.total().steals > 0u);
    BOOST_TEST(m.total().tasks_stolen > 0u);
    BOOST_TEST(m.total().tasks_stolen >= m.total().steals);
    BOOST_TEST(threads.size() > 1u);
    BOOST_TEST(m.total().tasks_run >= n + 1);
}

BOOST_AUTO_TEST_CASE(block_on_from_a_worker_of_another_executor_throws_before_spawning) {
    // It threw, but only after spawning the future, which then ran anyway, detached.
    zuki::test::Watchdog w(60s, "block_on from another pool's worker");
    WorkStealingExecutor a(1);
    WorkStealingExecutor b(1);
    zuki::SingleThreadedExecutor st;
    std::atomic<int> ran{0};
    auto attempt = a.spawn(call([&] {
        int thrown = 0;
        try {
            b.block_on(call([&] { ++ran; }));
        } catch (const std::logic_error&) {
            ++thrown;
        }
        try {
            st.block_on(call([&] { ++ran; }));
        } catch (const std::logic_error&) {
            ++thrown;
        }
        return thrown;
    }));
    BOOST_TEST(attempt.get() == 2);
    b.join();
    BOOST_TEST(ran.load() == 0);  // nothing was spawned
    BOOST_TEST(st.is_empty());
}
