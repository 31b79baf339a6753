// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki runtime work_stealing_executor batch
#include <boost/test/unit_test.hpp>

// Batches (Batch + spawn_batch): exactly once, empty, cancelled when destroyed unsubmitted (also
// after the executor), rejected by another executor, not waited for by join() before
// submission; detached submission (spawn_detached, push_detached) and invalid priorities.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/drop_counter.hpp"
#include "common/pool_helpers.hpp"
#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::Batch;
using zuki::JoinHandle;
using zuki::TaskPriority;
using zuki::WorkStealingConfig;
using zuki::WorkStealingExecutor;
using zuki::test::call;
using zuki::test::pool_config;
using zuki::test::sanitized;
using zuki::test::stress_scale;

namespace {

void run_batch(WorkStealingExecutor& ex, std::size_t n) {
    auto runs = std::make_unique<std::atomic<int>[]>(n);
    for (std::size_t i = 0; i < n; ++i) runs[i].store(0);
    Batch batch(ex);
    std::vector<JoinHandle<std::size_t>> hs;
    hs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto p = static_cast<TaskPriority>(i % zuki::task_priority_levels);
        hs.push_back(batch.push(call([&runs, i] {
                                    runs[i].fetch_add(1, std::memory_order_relaxed);
                                    return i;
                                }),
                                p));
    }
    BOOST_TEST(batch.size() == n);
    BOOST_TEST(&batch.executor() == &ex);
    // Nothing is shared before the submission: no task ran yet.
    std::this_thread::sleep_for(1ms);
    std::size_t early = 0;
    for (std::size_t i = 0; i < n; ++i) early += runs[i].load();
    BOOST_TEST(early == 0u);
    ex.spawn_batch(std::move(batch));
    BOOST_TEST(batch.empty());  // NOLINT(bugprone-use-after-move): documented moved-from state
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (hs[i].get() != i) ++wrong;
    }
    BOOST_TEST(wrong == 0u);
    for (std::size_t i = 0; i < n; ++i) {
        if (runs[i].load() != 1) {
            BOOST_ERROR("batch task " << i << " ran " << runs[i].load() << " times");
            break;
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(batches_run_every_task_exactly_once) {
    zuki::test::Watchdog w(120s, "batches");
    WorkStealingExecutor ex(4);
    const std::size_t big = (sanitized ? 20'000 : 100'000) * stress_scale();
    for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{1000}, big}) {
        BOOST_TEST_CONTEXT("batch of " << n) { run_batch(ex, n); }
    }
}

BOOST_AUTO_TEST_CASE(an_empty_batch_is_a_no_op) {
    zuki::test::Watchdog w(60s, "empty batch");
    WorkStealingExecutor ex(2);
    Batch batch(ex);
    BOOST_TEST(batch.empty());
    BOOST_CHECK_NO_THROW(ex.spawn_batch(std::move(batch)));
    BOOST_TEST(ex.spawn(zuki::ready(3)).get() == 3);
}

BOOST_AUTO_TEST_CASE(a_batch_destroyed_unsubmitted_cancels_its_tasks) {
    zuki::test::Watchdog w(60s, "batch cancel");
    WorkStealingExecutor ex(2);
    zuki::test::DropRegistry reg(10);
    std::atomic<int> ran{0};
    std::vector<JoinHandle<int>> hs;
    {
        Batch batch(ex);
        for (std::size_t i = 0; i < 10; ++i) {
            hs.push_back(batch.push(call([&ran, d = zuki::test::DropCounter(reg, i)] {
                ran.fetch_add(1);
                return 1;
            })));
        }
    }
    for (auto& h : hs) {
        BOOST_TEST(h.is_finished());
        BOOST_CHECK_THROW(h.get(), zuki::TaskCancelled);
    }
    BOOST_TEST(ran.load() == 0);
    for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(reg.drops(i) == 1);
    // Move-assigning over a batch cancels what it held, too.
    JoinHandle<int> old;
    {
        Batch a(ex);
        old = a.push(zuki::ready(1));
        Batch b(ex);
        auto kept = b.push(zuki::ready(2));
        a = std::move(b);
        BOOST_TEST(old.is_finished());
        ex.spawn_batch(std::move(a));
        BOOST_TEST(kept.get() == 2);
    }
    BOOST_CHECK_THROW(old.get(), zuki::TaskCancelled);
    BOOST_TEST(ex.spawn(zuki::ready(4)).get() == 4);
}

BOOST_AUTO_TEST_CASE(a_batch_that_outlives_its_executor_cancels_its_tasks) {
    zuki::test::Watchdog w(60s, "batch outlives executor");
    zuki::test::DropRegistry reg(3);
    std::vector<JoinHandle<int>> hs;
    std::optional<Batch> batch;
    {
        WorkStealingExecutor ex(2);
        batch.emplace(ex);
        for (std::size_t i = 0; i < 3; ++i)
            hs.push_back(batch->push(call([d = zuki::test::DropCounter(reg, i)] { return 1; })));
    }  // the executor is gone, the batch still holds its tasks
    batch.reset();
    for (auto& h : hs) BOOST_CHECK_THROW(h.get(), zuki::TaskCancelled);
    for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(reg.drops(i) == 1);
}

BOOST_AUTO_TEST_CASE(a_batch_of_another_executor_is_rejected) {
    zuki::test::Watchdog w(60s, "foreign batch");
    WorkStealingExecutor a(1);
    WorkStealingExecutor b(1);
    std::atomic<int> ran{0};
    JoinHandle<int> h;
    {
        Batch batch(b);
        h = batch.push(call([&] { return ran.fetch_add(1) + 1; }));
        BOOST_CHECK_THROW(a.spawn_batch(std::move(batch)), std::invalid_argument);
        // Still b's, still whole: b accepts it.
        BOOST_TEST(batch.size() == 1u);
        b.spawn_batch(std::move(batch));
    }
    BOOST_TEST(h.get() == 1);
    BOOST_TEST(ran.load() == 1);
}

BOOST_AUTO_TEST_CASE(join_does_not_wait_for_a_batch_that_was_never_submitted) {
    zuki::test::Watchdog w(60s, "join vs unsubmitted batch");
    WorkStealingExecutor ex(2);
    std::atomic<int> ran{0};
    Batch batch(ex);
    JoinHandle<int> h = batch.push(call([&] { return ran.fetch_add(1) + 1; }));
    batch.push_detached(call([&] { ran.fetch_add(1); }));
    ex.spawn(call([&] { ran.fetch_add(1); })).detach();
    ex.join();  // the batch's tasks are not work yet: this returns
    BOOST_TEST(ran.load() == 1);
    BOOST_TEST(batch.size() == 2u);
    batch = Batch(ex);  // the old contents are cancelled, never run
    BOOST_CHECK_THROW(h.get(), zuki::TaskCancelled);
    BOOST_TEST(ran.load() == 1);
}

BOOST_AUTO_TEST_CASE(spawn_detached_and_push_detached_run_once_and_report_exceptions) {
    zuki::test::Watchdog w(60s, "detached");
    std::mutex m;
    std::vector<std::string> reported;
    WorkStealingConfig cfg = pool_config(2);
    cfg.on_unhandled_exception = [&](std::exception_ptr e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            std::lock_guard lock(m);
            reported.push_back(x.what());
        }
    };
    WorkStealingExecutor ex(cfg);
    constexpr int n = 1000;
    auto runs = std::make_unique<std::atomic<int>[]>(2 * n);
    for (int i = 0; i < 2 * n; ++i) runs[i].store(0);
    Batch batch(ex);
    for (int i = 0; i < n; ++i) {
        ex.spawn_detached(call([&, i] { runs[i].fetch_add(1); }));
        batch.push_detached(call([&, i] { runs[n + i].fetch_add(1); }),
                            i % 2 ? TaskPriority::High : TaskPriority::Normal);
    }
    ex.spawn_detached(call([]() -> int { throw std::runtime_error("from spawn_detached"); }));
    batch.push_detached(call([]() -> int { throw std::runtime_error("from push_detached"); }));
    BOOST_TEST(batch.size() == static_cast<std::size_t>(n + 1));
    ex.spawn_batch(std::move(batch));
    ex.join();
    for (int i = 0; i < 2 * n; ++i) BOOST_REQUIRE(runs[i].load() == 1);
    std::sort(reported.begin(), reported.end());
    BOOST_TEST(reported == (std::vector<std::string>{"from push_detached", "from spawn_detached"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_invalid_priority_is_rejected_with_nothing_queued) {
    zuki::test::Watchdog w(60s, "invalid priority");
    WorkStealingExecutor ex(1);
    const auto bad = static_cast<TaskPriority>(4);
    BOOST_CHECK_THROW((void)ex.spawn(zuki::ready(1), bad), std::invalid_argument);
    BOOST_CHECK_THROW(ex.spawn_detached(zuki::ready(1), bad), std::invalid_argument);
    Batch batch(ex);
    BOOST_CHECK_THROW((void)batch.push(zuki::ready(1), bad), std::invalid_argument);
    BOOST_TEST(batch.empty());
    ex.join();  // nothing was counted as work
}

BOOST_AUTO_TEST_CASE(spawn_batch_after_stop_or_join_throws_and_cancels_the_batch) {
    // It used to be accepted, and its tasks never ran: their get() blocked until the executor
    // was destroyed.
    zuki::test::Watchdog w(60s, "late batch");
    for (const bool use_join : {false, true}) {
        WorkStealingExecutor ex(2);
        Batch batch(ex);
        std::vector<JoinHandle<int>> hs;
        for (int i = 0; i < 10; ++i) hs.push_back(batch.push(zuki::ready(i)));
        if (use_join)
            ex.join();
        else
            ex.stop();
        BOOST_CHECK_THROW(ex.spawn_batch(std::move(batch)), zuki::ExecutorStopped);
        for (auto& h : hs) BOOST_CHECK_THROW(h.get(), zuki::TaskCancelled);
    }
}
