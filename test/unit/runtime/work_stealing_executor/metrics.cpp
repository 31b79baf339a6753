// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/metrics.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki work_stealing_executor metrics
#include <boost/test/unit_test.hpp>

// The metrics a user runs the pool by (issue 13, part 4): busy time per worker, queue depths,
// tasks alive, I/O events, the blocking pool.

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include <zuki/asio/detail/reactor_driver.hpp>
#include <zuki/core/async.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>

#include "common/pool_helpers.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::TaskPriority;
using zuki::WorkStealingExecutor;

BOOST_AUTO_TEST_CASE(busy_time_covers_the_time_tasks_ran_and_no_more_than_the_pool_lived) {
    zuki::test::Watchdog dog(60s, "metrics: busy time");
    const auto t0 = std::chrono::steady_clock::now();
    WorkStealingExecutor pool(2);
    // 10 tasks of 20 ms each: at least 200 ms of busy time over the workers. The first two to
    // start wait for each other (up to 10 s), so both workers run one whatever the machine's
    // load (a worker the scheduler kept off the CPU for 200 ms could otherwise see none).
    std::atomic<int> started{0};
    std::vector<zuki::JoinHandle<void>> hs;
    for (int i = 0; i < 10; ++i)
        hs.push_back(pool.spawn([&started] {
            if (started.fetch_add(1) < 2) {
                const auto give_up = std::chrono::steady_clock::now() + 10s;
                while (started.load() < 2 && std::chrono::steady_clock::now() < give_up)
                    std::this_thread::yield();
            }
            zuki::test::spin_for(20ms);
        }));
    for (auto& h : hs) h.get();
    pool.join();  // the workers stopped: their busy time is all counted
    const auto lived = std::chrono::steady_clock::now() - t0;
    const zuki::Metrics m = pool.metrics();
    const std::uint64_t busy = m.total().busy_ns;
    BOOST_TEST(busy >= std::uint64_t{200'000'000});
    BOOST_TEST(busy <=
               2 * static_cast<std::uint64_t>(
                       std::chrono::duration_cast<std::chrono::nanoseconds>(lived).count()));
    for (const auto& w : m.workers) BOOST_TEST(w.busy_ns > 0u);  // both ran some of them
}

BOOST_AUTO_TEST_CASE(an_idle_pool_is_not_busy) {
    zuki::test::Watchdog dog(60s, "metrics: idle");
    WorkStealingExecutor pool(2);
    BOOST_TEST(pool.spawn([] { return 1; }).get() == 1);
    std::this_thread::sleep_for(20ms);  // let both workers go idle
    const std::uint64_t before = pool.metrics().total().busy_ns;
    std::this_thread::sleep_for(100ms);
    const std::uint64_t after = pool.metrics().total().busy_ns;
    // Parked workers add nothing (a stray wake-up may add a few microseconds, never 100 ms).
    BOOST_TEST(after - before < std::uint64_t{50'000'000});
}

BOOST_AUTO_TEST_CASE(queue_depths_and_tasks_alive) {
    zuki::test::Watchdog dog(60s, "metrics: depths");
    WorkStealingExecutor pool(1);
    zuki::test::HeldWorker blocked(pool);
    // From outside, to the global queue, each in its priority's lane.
    std::vector<zuki::JoinHandle<int>> hs;
    for (int i = 0; i < 10; ++i) hs.push_back(pool.spawn([] { return 1; }, TaskPriority::Low));
    for (int i = 0; i < 3; ++i) hs.push_back(pool.spawn([] { return 1; }, TaskPriority::High));
    zuki::Metrics m = pool.metrics();
    BOOST_TEST(m.global_queued[static_cast<std::size_t>(TaskPriority::Low)] == 10);
    BOOST_TEST(m.global_queued[static_cast<std::size_t>(TaskPriority::High)] == 3);
    BOOST_TEST(m.global_queued[static_cast<std::size_t>(TaskPriority::Normal)] == 0);
    // 13 tasks plus the one holding the worker.
    BOOST_TEST(m.tasks_alive == 14);
    blocked.release();
    int sum = 0;
    for (auto& h : hs) sum += h.get();
    BOOST_TEST(sum == 13);

    // A task that spawns 6 children on its worker and then spins until released: one waits in
    // the LIFO slot, 5 in the deque.
    std::atomic<bool> go{false};
    auto parent = pool.spawn([&]() -> zuki::Async<int> {
        std::vector<zuki::JoinHandle<int>> kids;
        for (int i = 0; i < 6; ++i) kids.push_back(zuki::spawn([] { return 1; }));
        while (!go.load()) std::this_thread::sleep_for(100us);
        int n = 0;
        for (auto& k : kids) n += co_await std::move(k);
        co_return n;
    });
    while (pool.metrics().workers[0].local_queued != 5u) std::this_thread::sleep_for(100us);
    BOOST_TEST(pool.metrics().tasks_alive == 7);
    go = true;
    BOOST_TEST(parent.get() == 6);
    pool.join();
    m = pool.metrics();
    BOOST_TEST(m.tasks_alive == 0);
    BOOST_TEST(m.total().local_queued == 0u);
}

BOOST_AUTO_TEST_CASE(io_events_count_the_completions_the_workers_took_from_the_reactor) {
    zuki::test::Watchdog dog(60s, "metrics: io events");
    WorkStealingExecutor pool(2);
    std::atomic<int> fired{0};
    std::vector<std::unique_ptr<boost::asio::steady_timer>> timers;
    for (int i = 0; i < 5; ++i) {
        timers.push_back(std::make_unique<boost::asio::steady_timer>(pool, 1ms));
        timers.back()->async_wait([&](boost::system::error_code) { fired.fetch_add(1); });
    }
    pool.join();
    BOOST_TEST(fired.load() == 5);
    const std::uint64_t events = pool.metrics().total().io_events;
    if (zuki::detail::reactor_on_executor_threads())
        BOOST_TEST(events >= 5u);
    else
        BOOST_TEST(events == 0u);  // Asio's own reactor thread delivered them
}

BOOST_AUTO_TEST_CASE(the_metrics_print) {
    WorkStealingExecutor pool(2);
    pool.spawn([] { return 1; }).get();
    std::ostringstream os;
    os << pool.metrics();
    const std::string text = os.str();
    BOOST_TEST(text.find("busy_ns=") != std::string::npos);
    BOOST_TEST(text.find("tasks alive:") != std::string::npos);
    BOOST_TEST(text.find("blocking threads:") != std::string::npos);
}
