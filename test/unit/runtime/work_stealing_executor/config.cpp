// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki runtime work_stealing_executor config
#include <boost/test/unit_test.hpp>

// WorkStealingConfig: what is rejected (naming the field), the limits that are accepted, the
// thread count by default and by number, and what the deque's capacity and claim bound do.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <zuki/runtime/metrics.hpp>

#include "common/pool_helpers.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::WorkStealingConfig;
using zuki::WorkStealingExecutor;
using zuki::test::what_of;

BOOST_AUTO_TEST_CASE(invalid_configurations_are_rejected_naming_the_field) {
    zuki::test::Watchdog w(60s, "invalid_configurations_are_rejected_naming_the_field");
    struct Bad {
        std::function<void(WorkStealingConfig&)> set;
        const char* field;
    };
    const std::vector<Bad> cases = {
        {[](auto& c) { c.threads = 4097; }, "threads"},
        {[](auto& c) { c.stack_size = 1000; }, "stack_size"},
        {[](auto& c) { c.stack_size = 64 * 1024 - 1; }, "stack_size"},
        {[](auto& c) { c.local_queue_capacity = 3; }, "local_queue_capacity"},
        {[](auto& c) { c.local_queue_capacity = 0; }, "local_queue_capacity"},
        {[](auto& c) { c.local_queue_capacity = 1; }, "local_queue_capacity"},
        {[](auto& c) { c.local_queue_capacity = std::size_t{1} << 21; }, "local_queue_capacity"},
        {[](auto& c) { c.global_queue_capacity = 0; }, "global_queue_capacity"},
        {[](auto& c) { c.global_queue_capacity = (std::size_t{1} << 24) + 1; },
         "global_queue_capacity"},
    };
    for (const auto& bad : cases) {
        BOOST_TEST_CONTEXT("field " << bad.field) {
            WorkStealingConfig c;
            c.threads = 1;
            bad.set(c);
            const std::string v = what_of<std::invalid_argument>([&] { c.validate(); });
            BOOST_TEST(v.find(bad.field) != std::string::npos, "validate(): " << v);
            const std::string e =
                what_of<std::invalid_argument>([&] { WorkStealingExecutor ex(c); });
            BOOST_TEST(e.find(bad.field) != std::string::npos, "constructor: " << e);
        }
    }
    // The limits themselves are accepted.
    WorkStealingConfig ok;
    ok.threads = 4096;
    ok.stack_size = 64 * 1024;
    ok.local_queue_capacity = 2;
    ok.global_queue_capacity = 1;
    BOOST_CHECK_NO_THROW(ok.validate());
    ok.local_queue_capacity = std::size_t{1} << 20;
    ok.global_queue_capacity = std::size_t{1} << 24;
    BOOST_CHECK_NO_THROW(ok.validate());
}

BOOST_AUTO_TEST_CASE(zero_threads_by_count_is_invalid) {
    zuki::test::Watchdog w(60s, "zero_threads_by_count_is_invalid");
    BOOST_CHECK_THROW(WorkStealingExecutor{std::size_t{0}}, std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(default_thread_count_is_the_hardware_concurrency) {
    const unsigned hc = std::thread::hardware_concurrency();
    WorkStealingExecutor ex;
    BOOST_TEST(ex.thread_count() == (hc == 0 ? 1u : hc));
    BOOST_TEST(ex.metrics().workers.size() == ex.thread_count());
    BOOST_TEST(WorkStealingConfig{}.resolved_threads() == ex.thread_count());
    WorkStealingExecutor three(3);
    BOOST_TEST(three.thread_count() == 3u);
}

namespace {

// A task on a pool of one worker spawns `n` children (they queue on its worker: one in the LIFO
// slot, the rest in the deque) and returns; returns the pool's overflow count once all ran.
std::uint64_t overflows_for_a_backlog_of(WorkStealingConfig cfg, int n) {
    cfg.threads = 1;
    WorkStealingExecutor pool(cfg);
    std::atomic<int> ran{0};
    pool.spawn_detached(zuki::test::call([&] {
        for (int i = 0; i < n; ++i)
            pool.spawn_detached(
                zuki::test::call([&] { ran.fetch_add(1, std::memory_order_relaxed); }));
    }));
    pool.join();
    BOOST_TEST(ran.load() == n);  // overflowed or not, every child ran
    return pool.metrics().total().overflows;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_default_deque_holds_a_fork_joins_backlog_without_overflowing) {
    // 1,000 children of one task: within the default 4,096 places nothing overflows (with 256
    // places a fork-join's backlog overflowed, and taking the overflowed subtrees back expanded
    // it breadth-first: doc/design.md); a deque of 256 does overflow, so the setting is used.
    zuki::test::Watchdog w(60s, "deque capacity: backlog");
    BOOST_TEST(WorkStealingConfig{}.local_queue_capacity == 4096u);
    BOOST_TEST(overflows_for_a_backlog_of(WorkStealingConfig{}, 1'000) == 0u);
    WorkStealingConfig small;
    small.local_queue_capacity = 256;
    BOOST_TEST(overflows_for_a_backlog_of(small, 1'000) > 0u);
}

BOOST_AUTO_TEST_CASE(a_thief_claims_half_of_a_deque_and_at_most_128_tasks) {
    // Worker A's task queues 1,000 children while the other worker, B, is held; then lets B go
    // and waits (holding A) until B runs one of them. Each child waits for `go` once started, so
    // B runs one and stays there: its one steal met 999 queued tasks and claimed 128 of them,
    // not half (the claim bound is fixed whatever the capacity).
    zuki::test::Watchdog w(60s, "deque capacity: claim bound");
    WorkStealingExecutor pool(2);
    zuki::test::HeldWorker held(pool);
    std::atomic<int> started{0};
    std::atomic<bool> go{false};
    zuki::Metrics at_first_run;
    auto t = pool.spawn(zuki::test::call([&] {
        for (int i = 0; i < 1'000; ++i)
            pool.spawn_detached(zuki::test::call([&] {
                started.fetch_add(1, std::memory_order_relaxed);
                while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            }));
        held.release();
        const bool stolen = zuki::test::wait_until(
            [&] { return started.load(std::memory_order_relaxed) > 0; }, 20s);
        at_first_run = pool.metrics();
        go.store(true, std::memory_order_release);
        return stolen;
    }));
    BOOST_TEST(t.get());
    pool.join();
    BOOST_TEST(started.load() == 1'000);
    const zuki::WorkerMetrics first = at_first_run.total();
    BOOST_TEST(first.steals == 1u);
    BOOST_TEST(first.tasks_stolen == 128u);
}
