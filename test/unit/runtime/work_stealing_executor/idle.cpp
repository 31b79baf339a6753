// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki runtime work_stealing_executor idle
#include <boost/test/unit_test.hpp>

// Idle and wake-up: idle workers park (and stay asleep while nothing happens), wake for an
// outside submission, and lose nothing over many idle/wake cycles.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <random>
#include <thread>

#include "common/pool_helpers.hpp"
#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::WorkStealingExecutor;
using zuki::test::stress_scale;
using zuki::test::wait_until;

BOOST_AUTO_TEST_CASE(idle_workers_park_and_wake_for_an_outside_submission) {
    zuki::test::Watchdog w(60s, "idle park");
    WorkStealingExecutor ex(3);
    std::this_thread::sleep_for(100ms);
    const bool all_parked = wait_until(
        [&] {
            const auto m = ex.metrics();
            return std::all_of(m.workers.begin(), m.workers.end(),
                               [](const zuki::WorkerMetrics& x) { return x.parks >= 1; });
        },
        5s);
    BOOST_TEST(all_parked, "every worker parked:\n" << ex.metrics());
    // Parked means asleep: no polling, no park/unpark churn while nothing happens.
    const auto before = ex.metrics().total();
    std::this_thread::sleep_for(100ms);
    const auto after = ex.metrics().total();
    BOOST_TEST(after.tasks_run == 0u);
    BOOST_TEST(after.parks == before.parks);
    BOOST_TEST(after.unparks == before.unparks);
    BOOST_TEST(ex.spawn(zuki::ready(9)).get() == 9);
    BOOST_TEST(ex.metrics().total().unparks > before.unparks);
}

// Issue 11, part 2: a worker that is the only one awake and finds no work parks after one
// round of its search, without spinning (WorkStealingScheduler::lone_without_io): nobody can
// make work for it to steal, and its back-off moved it off the poster's CPU, so that the next
// wake-up paid an idle CPU's exit. With another worker awake (busy) it still spins first.
BOOST_AUTO_TEST_CASE(a_lone_worker_that_runs_out_of_work_parks_without_spinning) {
    zuki::test::Watchdog w(60s, "lone worker parks");
    WorkStealingExecutor ex(2);
    BOOST_REQUIRE(wait_until(
        [&] {
            const auto m = ex.metrics();
            return std::all_of(m.workers.begin(), m.workers.end(),
                               [](const zuki::WorkerMetrics& x) { return x.parks >= 1; });
        },
        5s));
    // Single tasks from outside into the idle pool, one at a time: each wakes one worker,
    // which runs it and finds nothing more. Spinning, it would back off 3 times a task.
    constexpr int tasks = 50;
    const auto before = ex.metrics().total();
    for (int i = 0; i < tasks; ++i) {
        BOOST_REQUIRE(ex.spawn([i] { return i; }).get() == i);
        std::this_thread::sleep_for(1ms);
    }
    const auto lone = ex.metrics().total();
    BOOST_TEST(lone.back_offs - before.back_offs < std::uint64_t{tasks / 2},
               "back-offs of a lone worker: " << lone.back_offs - before.back_offs);
    // The same with the other worker awake, kept busy by one long task: the worker that runs
    // the single tasks searches on (its peer may spawn work at any moment), and backs off.
    std::atomic<bool> release{false};
    auto busy = ex.spawn([&release] {
        const auto give_up = std::chrono::steady_clock::now() + 20s;
        while (!release.load() && std::chrono::steady_clock::now() < give_up)
            std::this_thread::yield();
    });
    BOOST_REQUIRE(wait_until([&] { return ex.metrics().total().tasks_run > lone.tasks_run; }, 5s));
    for (int i = 0; i < 10; ++i) {
        BOOST_REQUIRE(ex.spawn([i] { return i; }).get() == i);
        std::this_thread::sleep_for(1ms);
    }
    const auto shared = ex.metrics().total();
    release.store(true);
    busy.get();
    BOOST_TEST(shared.back_offs > lone.back_offs, "no back-off with a peer awake:\n"
                                                      << ex.metrics());
}

BOOST_AUTO_TEST_CASE(a_thousand_idle_wake_cycles_lose_nothing) {
    zuki::test::Watchdog w(120s, "idle/wake cycles");
    const std::size_t cycles = 1000 * stress_scale();
    for (std::size_t n : {1u, 2u, 4u}) {
        BOOST_TEST_CONTEXT(n << " workers") {
            WorkStealingExecutor ex(n);
            std::mt19937 rng(static_cast<unsigned>(n));
            std::uniform_int_distribution<int> pause(0, 200);
            for (std::size_t i = 0; i < cycles; ++i) {
                BOOST_REQUIRE(ex.spawn(zuki::ready(i)).get() == i);
                std::this_thread::sleep_for(std::chrono::microseconds(pause(rng)));
            }
            std::cout << n << " workers, " << cycles
                      << " idle/wake cycles: " << ex.metrics().total() << '\n';
        }
    }
}
