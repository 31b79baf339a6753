// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/task/handle.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki task handle
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

#include <zuki/core/async.hpp>
#include <zuki/core/yield_now.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>

#include "common/both_executors.hpp"
#include "common/latch_future.hpp"
#include "common/pool_helpers.hpp"
#include "common/watchdog.hpp"

// zuki::Handle, the free zuki::spawn / spawn_detached, and spawning plain invocables, on both
// executors.

using namespace std::chrono_literals;
using zuki::Async;
using zuki::Handle;
using zuki::JoinHandle;
using zuki::SingleThreadedExecutor;
using zuki::WorkStealingExecutor;

static_assert(std::is_nothrow_copy_constructible_v<Handle>);
static_assert(zuki::Spawnable<zuki::Ready<int>>);
static_assert(zuki::Spawnable<int (*)()>);
static_assert(!zuki::Spawnable<int>);
static_assert(!zuki::Spawnable<int (*)(int)>);
static_assert(std::is_same_v<zuki::spawn_output_t<decltype([] { return 1; })>, int>);
static_assert(std::is_same_v<zuki::spawn_output_t<decltype([] {})>, void>);
static_assert(
    std::is_same_v<zuki::spawn_output_t<decltype([]() -> Async<long> { co_return 1; })>, long>);

namespace {

using zuki::test::Executors;
using zuki::test::make_executor;

struct Boom : std::runtime_error {
    Boom() : std::runtime_error("boom") {}
};

// fib written without passing the executor: zuki::spawn finds it.
Async<long> fib(int n) {
    if (n < 2) co_return n;
    JoinHandle<long> left = zuki::spawn(fib(n - 1));
    const long right = co_await fib(n - 2);
    co_return co_await left + right;
}

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(spawn_accepts_plain_invocables, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "spawn_accepts_plain_invocables");
    auto ex = make_executor<Ex>();
    BOOST_TEST(ex->block_on(ex->spawn([] { return 42; })) == 42);

    std::atomic<int> ran{0};
    JoinHandle<void> v = ex->spawn([&ran] { ran.fetch_add(1); });
    ex->block_on(std::move(v));
    BOOST_TEST(ran.load() == 1);

    BOOST_CHECK_THROW(ex->block_on(ex->spawn([]() -> int { throw Boom(); })), Boom);

    // A coroutine lambda: the task keeps the lambda, so its captures outlive every suspension.
    auto s = std::make_shared<std::string>("four");
    JoinHandle<std::size_t> c = ex->spawn([s]() -> Async<std::size_t> {
        co_await zuki::yield_now();
        co_await zuki::yield_now();
        co_return s->size();
    });
    BOOST_TEST(ex->block_on(std::move(c)) == 4u);

    // block_on and spawn_detached take them too.
    BOOST_TEST(ex->block_on([] { return std::string("x"); }) == "x");
    ex->spawn_detached([&ran] { ran.fetch_add(1); });
    ex->block_on([] {});
    BOOST_TEST(zuki::test::wait_until([&] { return ran.load() == 2; }));
}

BOOST_AUTO_TEST_CASE(batch_push_accepts_plain_invocables) {
    WorkStealingExecutor pool(std::size_t{2});
    zuki::Batch batch(pool);
    std::vector<JoinHandle<int>> hs;
    for (int i = 0; i < 100; ++i) hs.push_back(batch.push([i] { return i * 2; }));
    std::atomic<int> detached{0};
    batch.push_detached([&detached] { detached.fetch_add(1); });
    pool.spawn_batch(std::move(batch));
    long sum = 0;
    for (auto& h : hs) sum += h.get();
    BOOST_TEST(sum == 9900);
    pool.join();
    BOOST_TEST(detached.load() == 1);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(free_spawn_uses_the_running_executor, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "free_spawn_uses_the_running_executor");
    auto ex = make_executor<Ex>();
    BOOST_TEST(ex->block_on(fib(15)) == 610);

    std::atomic<int> ran{0};
    ex->block_on([&ran]() -> Async<void> {
        zuki::spawn_detached([&ran] { ran.fetch_add(1); });
        JoinHandle<int> h = zuki::spawn([] { return 7; }, zuki::TaskPriority::High);
        BOOST_TEST(co_await h == 7);
    });
    BOOST_TEST(zuki::test::wait_until([&] { return ran.load() == 1; }));
}

BOOST_AUTO_TEST_CASE(free_spawn_outside_any_executor_is_a_clear_error) {
    const std::string what =
        zuki::test::what_of<std::logic_error>([] { (void)zuki::spawn(fib(3)); });
    BOOST_TEST(what.find("zuki::spawn") != std::string::npos);
    BOOST_TEST(what.find("no current executor") != std::string::npos);
    BOOST_CHECK_THROW(zuki::spawn_detached([] {}), std::logic_error);
    BOOST_CHECK_THROW(Handle::current(), std::logic_error);
    BOOST_TEST(!Handle::try_current().valid());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(current_is_the_executor_running_the_task, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "current_is_the_executor_running_the_task");
    auto ex = make_executor<Ex>();
    const Handle mine = ex->handle();
    BOOST_TEST(mine.valid());
    BOOST_TEST((mine == ex->handle()));
    const bool same = ex->block_on([&] { return Handle::current() == mine; });
    BOOST_TEST(same);
    // Through the handle, from inside a task: the same executor's spawn.
    const int v = ex->block_on([]() -> Async<int> {
        Handle h = Handle::current();
        co_return co_await h.spawn([] { return 5; }) + co_await h.spawn_low(zuki::ready(1));
    });
    BOOST_TEST(v == 6);
    // Another executor's handle differs.
    auto other = make_executor<Ex>();
    BOOST_TEST(!(other->handle() == mine));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(current_inside_an_asio_handler, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "current_inside_an_asio_handler");
    auto ex = make_executor<Ex>();
    std::atomic<int> state{0};  // 1: current matched and the spawned task ran
    JoinHandle<int> spawned;
    boost::asio::post(ex->get_executor(), [&] {
        if (Handle::current() == ex->handle()) {
            spawned = zuki::spawn([] { return 3; });
            state.store(1);
        } else {
            state.store(2);
        }
    });
    if constexpr (std::is_same_v<Ex, SingleThreadedExecutor>) {
        ex->run();
        BOOST_TEST(state.load() == 1);
        BOOST_TEST(ex->block_on(std::move(spawned)) == 3);
    } else {
        BOOST_TEST(zuki::test::wait_until([&] { return state.load() != 0; }));
        BOOST_TEST(state.load() == 1);
        BOOST_TEST(spawned.get() == 3);
    }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(handle_block_on_from_outside, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "handle_block_on_from_outside");
    auto ex = make_executor<Ex>();
    Handle h = ex->handle();
    BOOST_TEST(h.block_on(fib(12)) == 144);
    BOOST_CHECK_THROW(h.block_on([]() -> int { throw Boom(); }), Boom);
    h.block_on([] {});
    // Inside a task: refused, nothing spawned.
    const std::string what = ex->block_on(
        [h] { return zuki::test::what_of<std::logic_error>([&] { h.block_on(zuki::ready(1)); }); });
    BOOST_TEST(what.find("zuki::Handle::block_on") != std::string::npos);
    if constexpr (std::is_same_v<Ex, SingleThreadedExecutor>) BOOST_TEST(ex->task_count() == 0u);
}

BOOST_AUTO_TEST_CASE(handle_block_on_while_another_thread_drives_a_single_threaded_executor) {
    zuki::test::Watchdog dog(60s, "handle_block_on_while_another_thread_drives");
    SingleThreadedExecutor ex;
    auto latch = zuki::test::make_latch();
    std::thread driver([&] { ex.block_on(zuki::test::Latch(latch)); });
    BOOST_TEST(zuki::test::wait_until([&] { return latch->polls.load() >= 1; }));
    BOOST_CHECK_THROW(ex.handle().block_on(zuki::ready(1)), std::logic_error);
    BOOST_TEST(ex.task_count() == 1u);  // only the driver's task: the refused one left nothing
    latch->release(1);
    driver.join();
    BOOST_TEST(ex.task_count() == 0u);
    BOOST_TEST(ex.handle().block_on(zuki::ready(2)) == 2);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_handle_outlives_its_executor, Ex, Executors) {
    Handle h;
    BOOST_TEST(!h.valid());
    BOOST_CHECK_THROW((void)h.spawn(zuki::ready(1)), std::logic_error);
    {
        auto ex = make_executor<Ex>();
        h = ex->handle();
        Handle copy = h;
        BOOST_TEST(copy.block_on(zuki::ready(9)) == 9);
    }
    BOOST_CHECK_THROW((void)h.spawn(zuki::ready(1)), zuki::ExecutorStopped);
    BOOST_CHECK_THROW(h.spawn_detached([] {}), zuki::ExecutorStopped);
}

BOOST_AUTO_TEST_CASE(a_stopped_pool_refuses_spawns_through_its_handle) {
    WorkStealingExecutor pool(std::size_t{2});
    Handle h = pool.handle();
    pool.join();
    BOOST_CHECK_THROW((void)h.spawn([] { return 1; }), zuki::ExecutorStopped);
}

BOOST_AUTO_TEST_CASE(handles_copied_across_threads) {
    // Handles copied and dropped on workers and on outside threads, concurrently (the
    // scheduler's reference count is biased on workers): TSan and ASan watch this one.
    zuki::test::Watchdog dog(60s, "handles_copied_across_threads");
    WorkStealingExecutor pool(std::size_t{2});
    std::vector<JoinHandle<Handle>> hs;
    for (int i = 0; i < 200; ++i) hs.push_back(pool.spawn([] { return Handle::current(); }));
    std::vector<std::thread> ts;
    std::atomic<int> ok{0};
    for (int t = 0; t < 2; ++t)
        ts.emplace_back([&, t] {
            for (std::size_t i = static_cast<std::size_t>(t); i < hs.size(); i += 2) {
                Handle h = hs[i].get();
                if (h.spawn([] { return 1; }).get() == 1) ok.fetch_add(1);
            }
        });
    for (auto& t : ts) t.join();
    BOOST_TEST(ok.load() == 200);
}
