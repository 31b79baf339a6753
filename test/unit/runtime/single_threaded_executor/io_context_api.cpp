// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/single_threaded_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki runtime single_threaded_executor io_context api
#include <boost/test/unit_test.hpp>

// SingleThreadedExecutor as a drop-in for asio::io_context: run / run_one / run_for /
// run_until / poll / poll_one with io_context's counts, stop / stopped / restart, and the mode
// in which an exception escaping a handler propagates out of run().

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <zuki/core/combinators.hpp>

#include "common/watchdog.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using zuki::SingleThreadedExecutor;

BOOST_AUTO_TEST_CASE(run_counts_what_ran_and_running_out_of_work_stops_it) {
    zuki::test::Watchdog w(60s, "run counts");
    SingleThreadedExecutor ex;
    int a = 0;
    asio::post(ex, [&] { ++a; });
    asio::post(ex, [&] { ++a; });
    ex.spawn_detached(zuki::map(zuki::ready(), [&] { ++a; }));
    BOOST_TEST(!ex.stopped());
    BOOST_TEST(ex.run() == 3u);
    BOOST_TEST(a == 3);
    BOOST_TEST(ex.stopped());  // ran out of work
    asio::post(ex, [&] { ++a; });
    BOOST_TEST(ex.run() == 0u);  // stopped: nothing runs until restart()
    BOOST_TEST(ex.poll() == 0u);
    BOOST_TEST(a == 3);
    ex.restart();
    BOOST_TEST(!ex.stopped());
    BOOST_TEST(ex.run() == 1u);
    BOOST_TEST(a == 4);
}

BOOST_AUTO_TEST_CASE(run_one_and_poll_one_run_at_most_one) {
    zuki::test::Watchdog w(60s, "run_one / poll_one");
    SingleThreadedExecutor ex;
    int a = 0;
    for (int i = 0; i < 3; ++i) asio::post(ex, [&] { ++a; });
    BOOST_TEST(ex.run_one() == 1u);
    BOOST_TEST(a == 1);
    BOOST_TEST(ex.poll_one() == 1u);
    BOOST_TEST(a == 2);
    BOOST_TEST(ex.poll() == 1u);
    BOOST_TEST(a == 3);
    BOOST_TEST(ex.poll() == 0u);  // nothing ready: returns at once
    BOOST_TEST(!ex.stopped());  // poll never stops the executor
}

BOOST_AUTO_TEST_CASE(run_one_sleeps_until_a_handler_is_ready) {
    zuki::test::Watchdog w(60s, "run_one sleeps");
    SingleThreadedExecutor ex;
    auto guard = asio::make_work_guard(ex);
    std::atomic<int> a{0};
    std::thread poster([&] {
        std::this_thread::sleep_for(10ms);
        asio::post(ex, [&] { ++a; });
    });
    BOOST_TEST(ex.run_one() == 1u);
    BOOST_TEST(a.load() == 1);
    poster.join();
}

BOOST_AUTO_TEST_CASE(run_for_and_run_until_return_at_their_deadline) {
    zuki::test::Watchdog w(60s, "run_for");
    SingleThreadedExecutor ex;
    auto guard = asio::make_work_guard(ex);  // never runs out of work
    int fired = 0;
    asio::steady_timer t(ex, 5ms);
    t.async_wait([&](boost::system::error_code) { ++fired; });
    const auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(ex.run_for(30ms) == 1u);  // the timer's handler, then the deadline
    const auto took = std::chrono::steady_clock::now() - t0;
    BOOST_TEST(fired == 1);
    BOOST_TEST((took >= 29ms));
    BOOST_TEST((took < 5s));
    BOOST_TEST(ex.run_until(std::chrono::steady_clock::now() + 5ms) == 0u);
    BOOST_TEST(!ex.stopped());
}

BOOST_AUTO_TEST_CASE(stop_makes_a_running_run_return_early) {
    zuki::test::Watchdog w(60s, "stop");
    SingleThreadedExecutor ex;
    auto guard = asio::make_work_guard(ex);
    std::thread stopper([&] {
        std::this_thread::sleep_for(10ms);
        ex.stop();  // from another thread: wakes the sleeping run()
    });
    BOOST_TEST(ex.run() == 0u);
    stopper.join();
    BOOST_TEST(ex.stopped());
    ex.restart();
    asio::post(ex, [&] { ex.stop(); });  // from a handler: run() returns after it
    asio::post(ex, [] {});
    BOOST_TEST(ex.run() == 1u);
    guard.reset();
    ex.restart();
    BOOST_TEST(ex.run() == 1u);  // the second handler, then out of work
}

BOOST_AUTO_TEST_CASE(step_and_block_on_are_not_stopped) {
    SingleThreadedExecutor ex;
    ex.stop();
    int a = 0;
    asio::post(ex, [&] { ++a; });
    BOOST_TEST(!ex.step());  // ran the handler; nothing ready is left
    BOOST_TEST(a == 1);
    BOOST_TEST(ex.block_on(zuki::ready(7)) == 7);
}

BOOST_AUTO_TEST_CASE(in_rethrow_mode_a_handlers_exception_propagates_out_of_run) {
    zuki::test::Watchdog w(60s, "rethrow mode");
    SingleThreadedExecutor ex(SingleThreadedExecutor::rethrow_from_run);
    int a = 0;
    asio::post(ex, [&] { ++a; });
    asio::post(ex, [] { throw std::runtime_error("handler"); });
    asio::post(ex, [&] { ++a; });
    ex.spawn_detached(zuki::map(zuki::ready(), []() -> int { throw std::logic_error("task"); }));
    BOOST_CHECK_THROW(ex.run(), std::runtime_error);
    BOOST_TEST(a == 1);  // the handler after the throwing one has not run yet
    BOOST_CHECK_THROW(ex.run(), std::logic_error);  // run() again: goes on, and the task's
    BOOST_TEST(a == 2);
    BOOST_TEST(ex.run() == 0u);  // nothing left: out of work
    BOOST_TEST(ex.is_empty());
}

BOOST_AUTO_TEST_CASE(by_default_exceptions_go_to_the_handler_and_run_goes_on) {
    std::atomic<int> reported{0};
    SingleThreadedExecutor ex([&](std::exception_ptr) { ++reported; });
    asio::post(ex, [] { throw std::runtime_error("handler"); });
    asio::post(ex, [] {});
    BOOST_TEST(ex.run() == 2u);
    BOOST_TEST(reported.load() == 1);
}
