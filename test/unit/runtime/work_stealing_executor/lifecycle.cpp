// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki work_stealing_executor lifecycle
#include <boost/test/unit_test.hpp>

// Short-lived pools (a pool per unit test, per job, per library instance): making and destroying
// one many times leaves no memory behind and no thread running (issue 16).

#include <atomic>
#include <cstddef>

#include <boost/asio/post.hpp>

#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::WorkStealingExecutor;

namespace {

// Construct a pool of 2, post one handler, join, destroy. Returns whether the handler ran.
bool one_cycle() {
    std::atomic<bool> ran{false};
    WorkStealingExecutor pool(2);
    boost::asio::post(pool, [&] { ran.store(true, std::memory_order_relaxed); });
    pool.join();
    return ran.load(std::memory_order_relaxed);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_thousand_pools_made_and_destroyed_leave_rss_where_it_was) {
    zuki::test::Watchdog w(300s, "pool lifecycle");
    const int threads = zuki::test::process_threads();
    // Warm-up: the allocator's arenas and caches, thread stacks glibc keeps for reuse.
    for (int i = 0; i < 50; ++i) BOOST_REQUIRE(one_cycle());
    const long before = zuki::test::process_rss_kib();
    // Sanitizers keep freed memory in quarantine, and are slow: fewer cycles, no RSS bound.
    const int cycles = zuki::test::sanitized ? 100 : 1000;
    int missed = 0;
    for (int i = 0; i < cycles; ++i) missed += !one_cycle();
    const long after = zuki::test::process_rss_kib();
    BOOST_TEST(missed == 0);
    BOOST_TEST(zuki::test::threads_back_to(threads), "worker threads outlived their pools");
    BOOST_TEST_MESSAGE("RSS " << before << " KiB before, " << after << " KiB after " << cycles
                              << " cycles");
    if (!zuki::test::sanitized) {
        BOOST_TEST(before > 0);
        BOOST_TEST(after - before <= 512, "RSS grew by " << after - before << " KiB over " << cycles
                                                         << " pools (bound: 512 KiB)");
    }
}
