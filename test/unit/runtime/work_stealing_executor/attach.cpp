// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki work_stealing_executor attach
#include <boost/test/unit_test.hpp>

// WorkStealingExecutor::attach(), asio::thread_pool::attach()'s counterpart (issue 14): a user
// thread works for the pool as one more worker until the pool stops.

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/execution/occupancy.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/steady_timer.hpp>

#include <zuki/core/async.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>

#include "common/pool_helpers.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::WorkStealingConfig;
using zuki::WorkStealingExecutor;

namespace {

// A thread inside pool.attach(); `returned` once attach() came back (what it threw, if it did).
class Attached {
public:
    explicit Attached(WorkStealingExecutor& pool)
        : thread_([this, &pool] {
              id_.store(std::this_thread::get_id());
              try {
                  pool.attach();
              } catch (...) {
                  error_ = std::current_exception();
              }
              returned_.store(true, std::memory_order_release);
          }) {}
    ~Attached() {
        if (thread_.joinable()) thread_.join();
    }
    std::thread::id id() const { return id_.load(); }
    bool returned() const { return returned_.load(std::memory_order_acquire); }
    std::exception_ptr error() const { return error_; }  // after join()
    void join() { thread_.join(); }

private:
    std::atomic<std::thread::id> id_{};
    std::atomic<bool> returned_{false};
    std::exception_ptr error_;
    std::thread thread_;
};

// Wait until `pool` counts `n` threads (the places taken by attaching threads included).
void wait_for_threads(const WorkStealingExecutor& pool, std::size_t n) {
    BOOST_REQUIRE(zuki::test::wait_until([&] { return pool.thread_count() == n; }));
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_attached_thread_runs_the_work_while_the_only_worker_is_blocked) {
    zuki::test::Watchdog dog(60s, "attach: work on the attached thread");
    WorkStealingExecutor pool(1);
    zuki::test::HeldWorker blocked(pool);
    Attached attached(pool);
    wait_for_threads(pool, 2);
    BOOST_TEST(boost::asio::query(pool.get_executor(), boost::asio::execution::occupancy) == 2u);

    // Outside spawns and Asio posts, and a task that spawns children from the attached thread:
    // only the attached thread can run any of it.
    // (Boost.Test's macros are for the main thread only: the tasks count, the test checks.)
    std::atomic<int> on_pool{0};
    std::vector<zuki::JoinHandle<std::thread::id>> hs;
    for (int i = 0; i < 100; ++i)
        hs.push_back(pool.spawn([&] {
            if (pool.running_in_this_thread()) on_pool.fetch_add(1);
            return std::this_thread::get_id();
        }));
    auto parent = pool.spawn([]() -> zuki::Async<int> {
        std::vector<zuki::JoinHandle<int>> children;
        for (int i = 0; i < 50; ++i) children.push_back(zuki::spawn([i] { return i; }));
        int sum = 0;
        for (auto& c : children) sum += co_await std::move(c);
        co_return sum;
    });
    std::atomic<int> posted{0};
    for (int i = 0; i < 100; ++i) boost::asio::post(pool, [&] { posted.fetch_add(1); });

    for (auto& h : hs) BOOST_TEST((h.get() == attached.id()));
    BOOST_TEST(on_pool.load() == 100);
    BOOST_TEST(parent.get() == 49 * 50 / 2);
    while (posted.load() != 100) std::this_thread::sleep_for(100us);

    const zuki::Metrics m = pool.metrics();
    BOOST_TEST(m.attached_threads == 1u);
    BOOST_REQUIRE(m.workers.size() == 2u);
    BOOST_TEST(m.workers[1].tasks_run >= 100u + 1u + 50u + 100u);

    blocked.release();
    pool.join();  // waits for the work, stops the pool: attach() returns
    attached.join();
    BOOST_TEST(!attached.error());
    BOOST_TEST(pool.thread_count() == 1u);
}

BOOST_AUTO_TEST_CASE(an_attached_thread_drives_timers_and_io) {
    zuki::test::Watchdog dog(60s, "attach: timers on the attached thread");
    WorkStealingExecutor pool(1);
    zuki::test::HeldWorker blocked(pool);
    Attached attached(pool);
    wait_for_threads(pool, 2);
    boost::asio::steady_timer timer(pool.get_executor(), 2ms);
    std::atomic<bool> fired{false};
    boost::system::error_code result;
    std::thread::id where;
    timer.async_wait([&](boost::system::error_code ec) {
        result = ec;
        where = std::this_thread::get_id();
        fired.store(true, std::memory_order_release);
    });
    while (!fired.load(std::memory_order_acquire)) std::this_thread::sleep_for(100us);
    BOOST_TEST(!result);
    BOOST_TEST((where == attached.id()));
    blocked.release();
    pool.stop();
    attached.join();
    BOOST_TEST(attached.returned());
}

BOOST_AUTO_TEST_CASE(attach_returns_when_the_pool_is_stopped_and_at_once_after) {
    zuki::test::Watchdog dog(60s, "attach: stop");
    WorkStealingExecutor pool(2);
    Attached a(pool), b(pool);
    wait_for_threads(pool, 4);
    BOOST_TEST(!a.returned());
    pool.stop();
    a.join();
    b.join();
    BOOST_TEST(!a.error());
    BOOST_TEST(!b.error());
    BOOST_TEST(pool.thread_count() == 2u);
    BOOST_TEST(pool.metrics().attached_threads == 2u);
    pool.attach();  // stopped: returns at once, takes no place
    BOOST_TEST(pool.metrics().attached_threads == 2u);
}

BOOST_AUTO_TEST_CASE(join_runs_the_work_out_then_attach_returns_as_on_thread_pool) {
    zuki::test::Watchdog dog(60s, "attach: join");
    WorkStealingExecutor pool(1);
    Attached attached(pool);
    wait_for_threads(pool, 2);
    std::atomic<int> ran{0};
    for (int i = 0; i < 10'000; ++i) boost::asio::post(pool, [&] { ran.fetch_add(1); });
    pool.join();
    BOOST_TEST(ran.load() == 10'000);
    attached.join();
    BOOST_TEST(!attached.error());
}

BOOST_AUTO_TEST_CASE(destroying_the_pool_returns_attach) {
    zuki::test::Watchdog dog(60s, "attach: destructor");
    auto pool = std::make_unique<WorkStealingExecutor>(1);
    Attached attached(*pool);
    wait_for_threads(*pool, 2);
    for (int i = 0; i < 1000; ++i) boost::asio::post(*pool, [] {});
    pool.reset();  // stops, waits for the attached thread, drains (ASan: nothing touched after)
    attached.join();
    BOOST_TEST(attached.returned());
    BOOST_TEST(!attached.error());
}

BOOST_AUTO_TEST_CASE(attach_on_an_executor_thread_is_a_logic_error) {
    zuki::test::Watchdog dog(60s, "attach: refused on executor threads");
    WorkStealingExecutor pool(2);
    // On one of the pool's own workers.
    auto on_worker = pool.spawn([&] {
        try {
            pool.attach();
        } catch (const std::logic_error& e) {
            return std::string(e.what());
        }
        return std::string();
    });
    BOOST_TEST(on_worker.get().find("executor thread") != std::string::npos);
    // On a thread that runs another executor.
    zuki::SingleThreadedExecutor st;
    const bool refused = st.block_on([&] {
        try {
            pool.attach();
        } catch (const std::logic_error&) {
            return true;
        }
        return false;
    });
    BOOST_TEST(refused);
    BOOST_TEST(pool.thread_count() == 2u);
    BOOST_TEST(pool.metrics().attached_threads == 0u);
}

BOOST_AUTO_TEST_CASE(attach_beyond_the_reserved_places_is_a_system_error) {
    zuki::test::Watchdog dog(60s, "attach: places");
    {
        WorkStealingConfig cfg;
        cfg.threads = 1;
        cfg.max_attached_threads = 0;
        WorkStealingExecutor pool(cfg);
        try {
            pool.attach();
            BOOST_FAIL("attach() with no reserved place returned");
        } catch (const std::system_error& e) {
            BOOST_TEST((e.code() == std::errc::resource_unavailable_try_again));
            BOOST_TEST(std::string(e.what()).find("max_attached_threads") != std::string::npos);
        }
        BOOST_TEST(pool.spawn([] { return 7; }).get() == 7);  // the pool is unharmed
    }
    WorkStealingConfig cfg;
    cfg.threads = 1;
    cfg.max_attached_threads = 1;
    WorkStealingExecutor pool(cfg);
    Attached first(pool);
    wait_for_threads(pool, 2);
    BOOST_CHECK_THROW(pool.attach(), std::system_error);
    BOOST_TEST(pool.thread_count() == 2u);
    pool.stop();
    first.join();
    // A place is not given back: the pool is stopped anyway, so attach() returns at once.
    pool.attach();
}

BOOST_AUTO_TEST_CASE(max_attached_threads_is_validated) {
    WorkStealingConfig cfg;
    cfg.threads = 1;
    cfg.max_attached_threads = 5000;
    BOOST_CHECK_THROW(WorkStealingExecutor{cfg}, std::invalid_argument);
}
