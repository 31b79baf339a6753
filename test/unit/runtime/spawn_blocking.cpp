// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/blocking_pool.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki spawn_blocking
#include <boost/test/unit_test.hpp>

// spawn_blocking and the elastic blocking pool behind it (issue 13, part 1), on both executors,
// through zuki::Handle and the free function.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <zuki/core/async.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>
#include <zuki/task/errors.hpp>
#include <zuki/task/handle.hpp>

#include "common/both_executors.hpp"
#include "common/pool_helpers.hpp"
#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::WorkStealingConfig;
using zuki::WorkStealingExecutor;
using zuki::test::Executors;
using zuki::test::make_executor;

namespace {

struct TestError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A gate blocking calls wait at (they block their thread: that is the point).
class Gate {
public:
    void open() { open_.store(true, std::memory_order_release); }
    void wait() const {
        while (!open_.load(std::memory_order_acquire)) std::this_thread::sleep_for(200us);
    }

private:
    std::atomic<bool> open_{false};
};

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(a_blocking_call_runs_off_the_executor_and_returns_its_value, Ex,
                              Executors) {
    zuki::test::Watchdog dog(60s, "spawn_blocking: value");
    auto ex = make_executor<Ex>();
    auto where = ex->spawn_blocking([] { return std::this_thread::get_id(); });
    BOOST_TEST((where.get() != std::this_thread::get_id()));
    std::atomic<bool> ran{false};
    auto v = ex->spawn_blocking([&] { ran = true; });  // void
    v.get();
    BOOST_TEST(ran.load());
    auto s = ex->spawn_blocking([text = std::string("moved in")] { return text + " and out"; });
    BOOST_TEST(s.get() == "moved in and out");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(an_exception_travels_through_the_join_handle, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "spawn_blocking: exception");
    auto ex = make_executor<Ex>();
    auto h = ex->spawn_blocking([]() -> int { throw TestError("blocking failed"); });
    BOOST_CHECK_THROW(h.get(), TestError);
    // The pool goes on.
    BOOST_TEST(ex->spawn_blocking([] { return 2; }).get() == 2);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(from_a_task_the_free_function_and_the_handle, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "spawn_blocking: inside");
    auto ex = make_executor<Ex>();
    const zuki::Handle handle = ex->handle();
    const int v = ex->block_on([]() -> zuki::Async<int> {
        // The free function reaches the executor running this task; the call may spawn back
        // onto it (Handle::current() inside a blocking call) and wait there (not an executor
        // thread: JoinHandle::get() and block_on are allowed).
        int inner = co_await zuki::spawn_blocking([] {
            zuki::JoinHandle<int> back = zuki::spawn([] { return 40; });
            return back.get();
        });
        co_return inner + co_await zuki::Handle::current().spawn_blocking([] { return 2; });
    });
    BOOST_TEST(v == 42);
    const bool same = handle.spawn_blocking([] { return zuki::Handle::current(); }).get() == handle;
    BOOST_TEST(same);
    // Outside any executor the free function has nothing to run on.
    BOOST_CHECK_THROW(zuki::spawn_blocking([] {}).detach(), std::logic_error);
}

BOOST_AUTO_TEST_CASE(blocking_calls_do_not_hold_up_the_pools_tasks_and_the_threads_shrink_back) {
    zuki::test::Watchdog dog(120s, "spawn_blocking: isolation");
    WorkStealingConfig cfg;
    cfg.threads = 2;
    cfg.blocking_keep_alive = 50ms;
    WorkStealingExecutor pool(cfg);

    const auto ten_thousand_tasks = [&] {
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<zuki::JoinHandle<int>> hs;
        hs.reserve(10'000);
        for (int i = 0; i < 10'000; ++i) hs.push_back(pool.spawn([i] { return i; }));
        long long sum = 0;
        for (auto& h : hs) sum += h.get();
        BOOST_TEST(sum == 10'000LL * 9'999 / 2);
        return std::chrono::steady_clock::now() - t0;
    };
    const auto idle_pool = ten_thousand_tasks();

    // 8 tasks on 2 workers, each waiting for a call that blocks its thread (until the gate
    // opens, at least 100 ms): 8 blocking threads, the workers free.
    Gate gate;
    std::atomic<int> blocked{0};
    std::vector<zuki::JoinHandle<int>> tasks;
    for (int i = 0; i < 8; ++i)
        tasks.push_back(pool.spawn([&]() -> zuki::Async<int> {
            co_return co_await zuki::spawn_blocking([&] {
                blocked.fetch_add(1);
                std::this_thread::sleep_for(100ms);
                gate.wait();
                return 1;
            });
        }));
    BOOST_REQUIRE(zuki::test::wait_until([&] { return blocked.load() == 8; }));
    BOOST_TEST(pool.metrics().blocking_threads == 8u);

    // Every blocking call still blocks: the ordinary tasks run on the workers all the same.
    const auto while_blocked = ten_thousand_tasks();
    BOOST_TEST(pool.metrics().blocking_threads == 8u);
    using ms = std::chrono::duration<double, std::milli>;
    const double idle_ms = ms(idle_pool).count(), blocked_ms = ms(while_blocked).count();
    BOOST_TEST_MESSAGE("10,000 tasks: " << idle_ms << " ms on the idle pool, " << blocked_ms
                                        << " ms while 8 blocking calls block");
    gate.open();
    int sum = 0;
    for (auto& t : tasks) sum += t.get();
    BOOST_TEST(sum == 8);

    // Idle for the keep-alive, the blocking threads exit.
    BOOST_REQUIRE(zuki::test::wait_until([&] { return pool.metrics().blocking_threads == 0; }));
    BOOST_TEST(pool.metrics().blocking_idle == 0u);
    BOOST_TEST(pool.spawn_blocking([] { return 5; }).get() == 5);  // and come back on demand
}

BOOST_AUTO_TEST_CASE(beyond_the_cap_calls_queue_in_order) {
    zuki::test::Watchdog dog(60s, "spawn_blocking: cap");
    {
        WorkStealingConfig cfg;
        cfg.threads = 2;
        cfg.max_blocking_threads = 2;
        WorkStealingExecutor pool(cfg);
        Gate gate;
        std::atomic<int> started{0};
        std::vector<zuki::JoinHandle<void>> hs;
        for (int i = 0; i < 5; ++i)
            hs.push_back(pool.spawn_blocking([&] {
                started.fetch_add(1);
                gate.wait();
            }));
        BOOST_REQUIRE(zuki::test::wait_until([&] { return started.load() == 2; }));
        const zuki::Metrics m = pool.metrics();
        BOOST_TEST(m.blocking_threads == 2u);
        BOOST_TEST(m.blocking_queued == 3u);
        BOOST_TEST(started.load() == 2);
        gate.open();
        for (auto& h : hs) h.get();
        BOOST_TEST(started.load() == 5);
    }
    // One thread: the queue is first in, first out.
    WorkStealingConfig cfg;
    cfg.threads = 1;
    cfg.max_blocking_threads = 1;
    WorkStealingExecutor pool(cfg);
    std::mutex m;
    std::vector<int> order;
    std::vector<zuki::JoinHandle<void>> hs;
    for (int i = 0; i < 20; ++i)
        hs.push_back(pool.spawn_blocking([&, i] {
            std::lock_guard lock(m);
            order.push_back(i);
        }));
    for (auto& h : hs) h.get();
    std::vector<int> expect(20);
    for (int i = 0; i < 20; ++i) expect[i] = i;
    BOOST_TEST(order == expect, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(join_and_run_wait_for_blocking_work, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "spawn_blocking: join");
    auto ex = make_executor<Ex>();
    std::atomic<bool> done{false};
    ex->spawn_blocking([&] {
          std::this_thread::sleep_for(50ms);
          done = true;
      }).detach();
    if constexpr (std::is_same_v<Ex, WorkStealingExecutor>)
        ex->join();
    else
        ex->run();
    BOOST_TEST(done.load());
}

BOOST_AUTO_TEST_CASE(the_destructor_waits_for_running_calls_and_cancels_queued_ones) {
    zuki::test::Watchdog dog(60s, "spawn_blocking: destructor");
    const int threads = zuki::test::process_threads();
    WorkStealingConfig cfg;
    cfg.threads = 1;
    cfg.max_blocking_threads = 1;
    auto pool = std::make_unique<WorkStealingExecutor>(cfg);
    Gate gate;
    std::atomic<bool> running{false}, returned{false};
    auto a = pool->spawn_blocking([&] {
        running = true;
        gate.wait();
        returned = true;
        return 1;
    });
    auto b = pool->spawn_blocking([] { return 2; });  // queued behind `a`: the cap is 1
    BOOST_REQUIRE(zuki::test::wait_until([&] { return running.load(); }));
    std::thread opener([&] {
        std::this_thread::sleep_for(50ms);
        gate.open();
    });
    pool.reset();  // waits for `a` to return (it cannot be interrupted), cancels `b`
    BOOST_TEST(returned.load());
    opener.join();
    BOOST_TEST(a.get() == 1);
    BOOST_CHECK_THROW(b.get(), zuki::TaskCancelled);
    // And the blocking thread ends with the pool, not after its keep-alive (10 s).
    BOOST_TEST(zuki::test::threads_back_to(threads), "a blocking thread outlived its pool");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(the_destructor_ends_idle_blocking_threads_at_once, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "spawn_blocking: idle threads end");
    const int threads = zuki::test::process_threads();
    {
        auto ex = make_executor<Ex>();
        BOOST_TEST(ex->spawn_blocking([] { return 1; }).get() == 1);  // a thread now idles
    }
    BOOST_TEST(zuki::test::threads_back_to(threads), "a blocking thread outlived its executor");
}

BOOST_AUTO_TEST_CASE(after_stop_a_blocking_call_is_refused) {
    zuki::test::Watchdog dog(60s, "spawn_blocking: stop");
    WorkStealingExecutor pool(2);
    pool.stop();
    BOOST_CHECK_THROW(pool.spawn_blocking([] {}).detach(), zuki::ExecutorStopped);
    BOOST_CHECK_THROW(pool.handle().spawn_blocking([] {}).detach(), zuki::ExecutorStopped);
}

BOOST_AUTO_TEST_CASE(a_blocking_thread_that_fails_to_start_is_reported) {
    zuki::test::Watchdog dog(60s, "spawn_blocking: thread start failure");
    std::atomic<bool> fail_next{false};
    std::mutex m;
    std::vector<std::string> reported;
    WorkStealingConfig cfg;
    cfg.threads = 1;
    cfg.before_blocking_thread_start = [&] {
        if (fail_next.exchange(false)) throw std::runtime_error("injected: no thread");
    };
    cfg.on_unhandled_exception = [&](std::exception_ptr e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            std::lock_guard lock(m);
            reported.emplace_back(x.what());
        }
    };
    WorkStealingExecutor pool(cfg);

    // No blocking thread exists and none starts: refused with a clear error, nothing left.
    fail_next = true;
    try {
        pool.spawn_blocking([] {}).detach();
        BOOST_FAIL("spawn_blocking without any thread returned");
    } catch (const std::system_error& e) {
        BOOST_TEST((e.code() == std::errc::resource_unavailable_try_again));
    }
    {
        std::lock_guard lock(m);
        BOOST_REQUIRE(reported.size() == 1u);
        BOOST_TEST(reported[0].find("injected: no thread") != std::string::npos);
    }

    // A thread exists (busy): the failed start is reported, and the call waits for that thread.
    Gate gate;
    std::atomic<bool> first_running{false};
    auto first = pool.spawn_blocking([&] {
        first_running = true;
        gate.wait();
        return 1;
    });
    BOOST_REQUIRE(zuki::test::wait_until([&] { return first_running.load(); }));
    fail_next = true;
    auto second = pool.spawn_blocking([] { return 2; });
    {
        std::lock_guard lock(m);
        BOOST_TEST(reported.size() == 2u);
    }
    BOOST_TEST(pool.metrics().blocking_queued == 1u);
    gate.open();
    BOOST_TEST(first.get() + second.get() == 3);
    pool.join();  // the refused call left no work behind
}

BOOST_AUTO_TEST_CASE(the_config_is_validated) {
    WorkStealingConfig cfg;
    cfg.threads = 1;
    cfg.max_blocking_threads = 0;
    BOOST_CHECK_THROW(WorkStealingExecutor{cfg}, std::invalid_argument);
    cfg.max_blocking_threads = 1;
    cfg.blocking_keep_alive = -1ms;
    BOOST_CHECK_THROW(WorkStealingExecutor{cfg}, std::invalid_argument);
}
