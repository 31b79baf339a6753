// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki runtime work_stealing_executor config
#include <boost/test/unit_test.hpp>

// WorkStealingConfig: what is rejected (naming the field), the limits that are accepted, and the
// thread count by default and by number.

#include <chrono>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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
