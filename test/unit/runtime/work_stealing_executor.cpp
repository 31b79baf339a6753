// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki runtime work_stealing_executor
#include <boost/test/unit_test.hpp>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/drop_counter.hpp"
#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::Batch;
using zuki::Context;
using zuki::JoinHandle;
using zuki::Poll;
using zuki::TaskPriority;
using zuki::WorkStealingConfig;
using zuki::WorkStealingExecutor;

namespace {

using zuki::test::sanitized;

using zuki::test::stress_scale;

WorkStealingConfig threads(std::size_t n) {
    WorkStealingConfig c;
    c.threads = n;
    return c;
}

// A future that calls `fn` once, on its first poll, and is ready with its result.
template <class Fn>
class Call {
public:
    using R = std::invoke_result_t<Fn&>;
    explicit Call(Fn fn) : fn_(std::move(fn)) {}
    Poll<R> poll(Context&) {
        if constexpr (std::is_void_v<R>) {
            fn_();
            return Poll<void>::ready();
        } else {
            return Poll<R>::ready(fn_());
        }
    }

private:
    Fn fn_;
};
template <class Fn>
Call<Fn> call(Fn fn) {
    return Call<Fn>(std::move(fn));
}

// Blocks the worker that polls it until opened (to hold a pool still while the test queues work).
struct SpinGateState {
    std::atomic<int> started{0};
    std::atomic<bool> open{false};
};
class SpinGate {
public:
    explicit SpinGate(std::shared_ptr<SpinGateState> s) : s_(std::move(s)) {}
    Poll<int> poll(Context&) {
        // release: pairs with the test's acquire wait on `started`.
        s_->started.fetch_add(1, std::memory_order_release);
        // acquire: pairs with the test's release store that opens the gate.
        while (!s_->open.load(std::memory_order_acquire)) std::this_thread::yield();
        return Poll<int>::ready(1);
    }

private:
    std::shared_ptr<SpinGateState> s_;
};

// Spin-waits (with yields) up to `limit` for `pred`; true if it held.
template <class Pred>
bool wait_until(Pred pred, std::chrono::steady_clock::duration limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(50us);
    }
    return true;
}

void spin_for(std::chrono::nanoseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {}
}

template <class E, class F>
std::string what_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "<no exception>";
}

}  // namespace

// ---- configuration ---------------------------------------------------------------------------

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

// ---- spawning and results --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(spawn_returns_a_handle_to_the_result) {
    zuki::test::Watchdog w(60s, "spawn");
    WorkStealingExecutor ex(2);
    JoinHandle<int> a = ex.spawn(zuki::ready(21));
    JoinHandle<void> b = ex.spawn(zuki::ready());
    JoinHandle<std::string> c = ex.spawn(call([] { return std::string("hello"); }));
    BOOST_TEST(a.get() == 21);
    BOOST_CHECK_NO_THROW(b.get());
    BOOST_TEST(c.get() == "hello");
    BOOST_TEST(!ex.running_in_this_thread());
    BOOST_TEST(ex.spawn(call([&] { return ex.running_in_this_thread(); })).get());
}

BOOST_AUTO_TEST_CASE(block_on_runs_on_the_pool_and_returns_or_rethrows) {
    zuki::test::Watchdog w(60s, "block_on");
    WorkStealingExecutor ex(2);
    BOOST_TEST(ex.block_on(zuki::ready(5)) == 5);
    const auto caller = std::this_thread::get_id();
    BOOST_TEST((ex.block_on(call([] { return std::this_thread::get_id(); })) != caller));
    BOOST_CHECK_THROW(ex.block_on(call([]() -> int { throw std::out_of_range("x"); })),
                      std::out_of_range);
}

BOOST_AUTO_TEST_CASE(block_on_and_get_from_a_worker_throw_logic_error) {
    zuki::test::Watchdog w(60s, "block_on from a worker");
    WorkStealingExecutor ex(2);
    auto h = ex.spawn(call([&] {
        int failures = 0;
        try {
            (void)ex.block_on(zuki::ready(1));
        } catch (const std::logic_error&) {
            ++failures;
        }
        auto inner = ex.spawn(zuki::ready(2));
        try {
            (void)inner.get();
        } catch (const std::logic_error&) {
            ++failures;
        }
        return failures;
    }));
    BOOST_TEST(h.get() == 2);
}

BOOST_AUTO_TEST_CASE(spawn_high_and_spawn_low_run_with_their_priority) {
    zuki::test::Watchdog w(60s, "spawn_high/low");
    WorkStealingExecutor ex(2);
    auto hi = ex.spawn_high(zuki::ready(1));
    auto lo = ex.spawn_low(zuki::ready(2));
    auto cr = ex.spawn(zuki::ready(3), TaskPriority::Critical);
    BOOST_TEST(hi.priority() == TaskPriority::High);
    BOOST_TEST(lo.priority() == TaskPriority::Low);
    BOOST_TEST(cr.priority() == TaskPriority::Critical);
    BOOST_TEST(hi.get() + lo.get() + cr.get() == 6);
}

BOOST_AUTO_TEST_CASE(queued_critical_and_high_work_runs_before_normal_and_low) {
    zuki::test::Watchdog w(60s, "priority");
    WorkStealingExecutor ex(1);
    auto gate = std::make_shared<SpinGateState>();
    auto g = ex.spawn(SpinGate(gate));
    BOOST_REQUIRE(wait_until([&] { return gate->started.load(std::memory_order_acquire) == 1; }));

    std::mutex m;
    std::vector<TaskPriority> order;
    std::vector<JoinHandle<void>> hs;
    const TaskPriority submit[] = {TaskPriority::Low, TaskPriority::Normal, TaskPriority::High,
                                   TaskPriority::Critical};
    for (int round = 0; round < 3; ++round) {
        for (TaskPriority p : submit) {
            hs.push_back(ex.spawn(call([&m, &order, p] {
                                      std::lock_guard lock(m);
                                      order.push_back(p);
                                  }),
                                  p));
        }
    }
    gate->open.store(true, std::memory_order_release);
    BOOST_TEST(g.get() == 1);
    for (auto& h : hs) h.get();

    BOOST_REQUIRE(order.size() == 12u);
    std::size_t last_urgent = 0, first_relaxed = order.size();
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (order[i] >= TaskPriority::High)
            last_urgent = i;
        else
            first_relaxed = std::min(first_relaxed, i);
    }
    BOOST_TEST(last_urgent < first_relaxed, "Critical and High before Normal and Low");
    // One worker, single-task submissions: it always takes the highest non-empty lane.
    BOOST_TEST(std::is_sorted(order.begin(), order.end(), std::greater<>()));
}

BOOST_AUTO_TEST_CASE(idle_workers_steal_from_a_busy_one) {
    zuki::test::Watchdog w(120s, "stealing");
    constexpr std::size_t n = 10'000;
    WorkStealingExecutor ex(4);
    std::vector<std::thread::id> who(n);
    auto runs = std::make_unique<std::atomic<int>[]>(n);
    for (std::size_t i = 0; i < n; ++i) runs[i].store(0);
    std::atomic<std::size_t> done{0};
    auto spawner = ex.spawn(call([&] {
        for (std::size_t i = 0; i < n; ++i) {
            ex.spawn(call([&, i] {
                  spin_for(2us);
                  who[i] = std::this_thread::get_id();
                  runs[i].fetch_add(1, std::memory_order_relaxed);
                  // release: pairs with the acquire load below (publishes who[i]).
                  done.fetch_add(1, std::memory_order_release);
              }))
                .detach();
        }
        return std::this_thread::get_id();
    }));
    const std::thread::id spawner_thread = spawner.get();
    BOOST_REQUIRE(wait_until([&] { return done.load(std::memory_order_acquire) == n; }, 60s));

    std::set<std::thread::id> threads(who.begin(), who.end());
    std::size_t off_spawner = 0;
    for (auto& id : who) off_spawner += id != spawner_thread;
    for (std::size_t i = 0; i < n; ++i) BOOST_REQUIRE(runs[i].load() == 1);
    const zuki::Metrics m = ex.metrics();
    std::cout << "stealing: " << threads.size() << " threads ran tasks, " << off_spawner
              << " off the spawner's thread\n"
              << m;
    BOOST_TEST(m.total().steals > 0u);
    BOOST_TEST(m.total().tasks_stolen > 0u);
    BOOST_TEST(m.total().tasks_stolen >= m.total().steals);
    BOOST_TEST(threads.size() > 1u);
    BOOST_TEST(m.total().tasks_run >= n + 1);
}

// ---- batches ---------------------------------------------------------------------------------

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
    WorkStealingConfig cfg = threads(2);
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

// ---- idle and wake-up ------------------------------------------------------------------------

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

// ---- shutdown --------------------------------------------------------------------------------

namespace {

// Spawns two children until `depth` reaches 0; counts every task.
struct Tree {
    WorkStealingExecutor* ex;
    std::atomic<std::size_t>* count;
    int depth;
    Poll<void> poll(Context&) {
        if (depth > 0) {
            ex->spawn(Tree{ex, count, depth - 1}).detach();
            ex->spawn(Tree{ex, count, depth - 1}).detach();
        }
        count->fetch_add(1, std::memory_order_relaxed);
        return Poll<void>::ready();
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(join_waits_for_all_work_including_tasks_spawned_by_tasks) {
    zuki::test::Watchdog w(120s, "join");
    const int depth = sanitized ? 11 : 14;
    for (std::size_t n : {1u, 3u}) {
        BOOST_TEST_CONTEXT(n << " workers") {
            std::atomic<std::size_t> count{0};
            WorkStealingExecutor ex(n);
            ex.spawn(Tree{&ex, &count, depth}).detach();
            ex.join();
            BOOST_TEST(count.load() == (std::size_t{1} << (depth + 1)) - 1);
            BOOST_TEST(ex.stopped());
            BOOST_CHECK_THROW((void)ex.spawn(zuki::ready(1)), zuki::ExecutorStopped);
            ex.join();  // a second join is harmless
        }
    }
}

BOOST_AUTO_TEST_CASE(spawn_after_stop_throws_executor_stopped) {
    zuki::test::Watchdog w(60s, "spawn_after_stop_throws_executor_stopped");
    WorkStealingExecutor ex(2);
    BOOST_TEST(!ex.stopped());
    ex.stop();
    BOOST_TEST(ex.stopped());
    BOOST_CHECK_THROW((void)ex.spawn(zuki::ready(1)), zuki::ExecutorStopped);
    BOOST_CHECK_THROW((void)ex.spawn_high(zuki::ready(1)), zuki::ExecutorStopped);
    Batch b(ex);
    BOOST_CHECK_THROW((void)b.push(zuki::ready(1)), zuki::ExecutorStopped);
    BOOST_TEST(b.empty());
}

BOOST_AUTO_TEST_CASE(stop_then_destroy_cancels_queued_tasks) {
    zuki::test::Watchdog w(60s, "stop with queued tasks");
    constexpr std::size_t n = 1000;
    zuki::test::DropRegistry reg(n);
    std::atomic<int> ran{0};
    std::vector<JoinHandle<int>> hs;
    JoinHandle<int> g;
    {
        WorkStealingExecutor ex(1);
        auto gate = std::make_shared<SpinGateState>();
        g = ex.spawn(SpinGate(gate));
        BOOST_REQUIRE(
            wait_until([&] { return gate->started.load(std::memory_order_acquire) == 1; }));
        for (std::size_t i = 0; i < n; ++i) {
            hs.push_back(ex.spawn(call(
                [&ran, d = zuki::test::DropCounter(reg, i)] { return ran.fetch_add(1) + 1; })));
        }
        ex.stop();
        gate->open.store(true, std::memory_order_release);
    }  // destroyed with 1000 queued tasks
    BOOST_TEST(g.get() == 1);  // it was running: it completed
    BOOST_TEST(ran.load() == 0);
    std::size_t cancelled = 0;
    for (auto& h : hs) {
        BOOST_TEST(h.is_finished());
        try {
            (void)h.get();
        } catch (const zuki::TaskCancelled&) {
            ++cancelled;
        }
    }
    BOOST_TEST(cancelled == n);
    for (std::size_t i = 0; i < n; ++i) BOOST_REQUIRE(reg.drops(i) == 1);
}

BOOST_AUTO_TEST_CASE(a_thread_blocked_in_get_wakes_with_task_cancelled_on_destruction) {
    zuki::test::Watchdog w(60s, "blocked get during destruction");
    std::atomic<int> outcome{0};  // 1: TaskCancelled, 2: a value, 3: another exception
    std::thread waiter;
    {
        WorkStealingExecutor ex(1);
        auto gate = std::make_shared<SpinGateState>();
        auto g = ex.spawn(SpinGate(gate));
        BOOST_REQUIRE(
            wait_until([&] { return gate->started.load(std::memory_order_acquire) == 1; }));
        JoinHandle<int> queued = ex.spawn(zuki::ready(5));
        waiter = std::thread([&outcome, h = std::move(queued)]() mutable {
            try {
                (void)h.get();
                outcome.store(2);
            } catch (const zuki::TaskCancelled&) {
                outcome.store(1);
            } catch (...) {
                outcome.store(3);
            }
        });
        std::this_thread::sleep_for(20ms);  // let it block
        ex.stop();
        gate->open.store(true, std::memory_order_release);
    }
    waiter.join();
    BOOST_TEST(outcome.load() == 1);
}

namespace {

// Wakes itself on every poll until told to stop (or after 30 s, a safety net): a cooperative
// loop that always has more to do.
struct Yielder {
    std::atomic<int>* polls;
    std::atomic<bool>* stop;
    std::chrono::steady_clock::time_point give_up;
    Poll<int> poll(Context& cx) {
        const int n = polls->fetch_add(1, std::memory_order_relaxed) + 1;
        if (stop->load(std::memory_order_relaxed) ||
            (n % 1024 == 0 && std::chrono::steady_clock::now() > give_up))
            return Poll<int>::ready(n);
        cx.waker().wake_by_ref();
        return Poll<int>::pending();
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_task_that_keeps_yielding_does_not_starve_outside_submissions) {
    zuki::test::Watchdog w(120s, "yield fairness");
    WorkStealingExecutor ex(1);
    std::atomic<int> polls{0};
    std::atomic<bool> stop{false};
    auto y = ex.spawn(Yielder{&polls, &stop, std::chrono::steady_clock::now() + 30s});
    BOOST_REQUIRE(wait_until([&] { return polls.load() > 10; }));
    // The only worker is busy re-polling the yielder; outside tasks must still get turns.
    for (int i = 0; i < 20; ++i) {
        auto h = ex.spawn(call([&] { return !stop.load(); }));
        BOOST_REQUIRE(h.get());
        BOOST_REQUIRE_MESSAGE(!y.is_finished(),
                              "an outside task ran only after the yielding task gave up");
    }
    stop.store(true);
    BOOST_TEST(y.get() > 20);
}

// ---- LIFO slot --------------------------------------------------------------------------------

namespace {

// Spawns the next hop (until `left` reaches 0), recording the thread each hop ran on.
struct Hop {
    WorkStealingExecutor* ex;
    std::vector<std::thread::id>* where;
    std::atomic<int>* done;
    int left;
    Poll<void> poll(Context&) {
        where->push_back(std::this_thread::get_id());  // hops run one after another
        if (left > 0)
            ex->spawn(Hop{ex, where, done, left - 1}).detach();
        else
            done->store(1, std::memory_order_release);  // pairs with the test's acquire wait
        return Poll<void>::ready();
    }
};

// Two of these wake each other forever (each wake from a running task goes to the LIFO slot),
// until `stop`; the first one polled spawns its partner.
struct PingPongState {
    std::mutex m;
    std::optional<zuki::Waker> waiting[2];
    std::atomic<bool> stop{false};
    std::atomic<long> wakes{0};
};
struct Bouncer {
    WorkStealingExecutor* ex;
    std::shared_ptr<PingPongState> st;
    int side;
    bool spawn_partner;
    Poll<void> poll(Context& cx) {
        if (st->stop.load(std::memory_order_acquire)) return Poll<void>::ready();
        if (std::exchange(spawn_partner, false))
            ex->spawn(Bouncer{ex, st, 1 - side, false}).detach();
        std::optional<zuki::Waker> other;
        {
            std::lock_guard lock(st->m);
            st->waiting[side] = cx.waker();
            other.swap(st->waiting[1 - side]);
        }
        if (other) {
            st->wakes.fetch_add(1, std::memory_order_relaxed);
            other->wake();
        }
        return Poll<void>::pending();
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_task_spawned_by_a_task_runs_next_on_the_same_worker) {
    zuki::test::Watchdog w(120s, "lifo slot");
    WorkStealingExecutor ex(2);
    std::vector<std::thread::id> where;
    std::atomic<int> done{0};
    // Three hops: the first comes from the global queue, the next two from the LIFO slot
    // (within the bound of 3 in a row), which no other worker can take.
    ex.spawn(Hop{&ex, &where, &done, 2}).detach();
    BOOST_REQUIRE(wait_until([&] { return done.load(std::memory_order_acquire) == 1; }));
    BOOST_REQUIRE(where.size() == 3u);
    BOOST_TEST((where[1] == where[0] && where[2] == where[0]));
    ex.join();
}

BOOST_AUTO_TEST_CASE(tasks_waking_each_other_cannot_starve_the_deque) {
    zuki::test::Watchdog w(120s, "lifo starvation");
    WorkStealingExecutor ex(1);
    auto st = std::make_shared<PingPongState>();
    std::atomic<bool> ran{false};
    auto root = ex.spawn(call([&] {
        // The flag task is displaced from the LIFO slot into the deque by the bouncer, which
        // then keeps itself and its partner in the slot by waking each other.
        ex.spawn(call([&] {
              ran.store(true, std::memory_order_release);
              st->stop.store(true, std::memory_order_release);
          }))
            .detach();
        ex.spawn(Bouncer{&ex, st, 0, true}).detach();
    }));
    root.get();
    BOOST_REQUIRE_MESSAGE(wait_until([&] { return ran.load(std::memory_order_acquire); }),
                          "the queued task never ran while two tasks bounced in the LIFO slot");
    // Both bouncers see `stop` at their next poll; wake whoever waits so they finish.
    for (int i = 0; i < 2; ++i) {
        std::optional<zuki::Waker> wk;
        {
            std::lock_guard lock(st->m);
            wk.swap(st->waiting[i]);
        }
        if (wk) wk->wake();
    }
    ex.join();
}

BOOST_AUTO_TEST_CASE(a_yielding_task_still_runs_while_local_work_never_runs_out) {
    zuki::test::Watchdog w(120s, "yield vs local work");
    WorkStealingExecutor ex(1);
    std::atomic<int> polls{0};
    std::atomic<bool> stop{false};
    auto y = ex.spawn(Yielder{&polls, &stop, std::chrono::steady_clock::now() + 30s});
    BOOST_REQUIRE(wait_until([&] { return polls.load() > 0; }));
    // Three endless chains of local spawns (each hop spawns the next): a constant amount of
    // work, but the worker's LIFO slot and deque never run dry.
    struct Chain {
        WorkStealingExecutor* ex;
        std::atomic<bool>* stop;
        std::atomic<long>* hops;
        Poll<void> poll(Context&) {
            hops->fetch_add(1, std::memory_order_relaxed);
            if (!stop->load(std::memory_order_relaxed)) ex->spawn(Chain{ex, stop, hops}).detach();
            return Poll<void>::ready();
        }
    };
    std::atomic<long> hops{0};
    const int before = polls.load();
    ex.spawn(call([&] {
          for (int i = 0; i < 3; ++i) ex.spawn(Chain{&ex, &stop, &hops}).detach();
      }))
        .detach();
    BOOST_REQUIRE(wait_until([&] { return hops.load() > 10'000; }));
    const int during = polls.load();
    BOOST_TEST_MESSAGE("yielder polls while the chain ran: " << during - before);
    BOOST_TEST(during - before > 10);  // yielded tasks re-enter at least every 61 tasks
    stop.store(true);
    BOOST_TEST(y.get() > 10);
    ex.join();
}

namespace {

// Pending forever after counting its first poll.
struct PendingForever {
    zuki::test::DropCounter d;
    std::atomic<std::size_t>* polled;
    bool counted = false;
    Poll<int> poll(Context&) {
        if (!counted) {
            counted = true;
            // release: pairs with the test's acquire wait.
            polled->fetch_add(1, std::memory_order_release);
        }
        return Poll<int>::pending();
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(destructor_cancels_pending_and_queued_tasks_without_leaks) {
    zuki::test::Watchdog w(120s, "destructor with pending tasks");
    const std::size_t n = (sanitized ? 20'000 : 100'000) * stress_scale();
    const std::size_t half = n / 2;
    zuki::test::DropRegistry reg(n);
    std::atomic<std::size_t> polled{0};
    std::atomic<std::size_t> ran{0};
    std::vector<JoinHandle<int>> hs;
    hs.reserve(n);
    {
        WorkStealingExecutor ex(2);
        // Half never complete: polled once, then idle with nobody holding their waker...
        for (std::size_t i = 0; i < half; ++i)
            hs.push_back(ex.spawn(PendingForever{zuki::test::DropCounter(reg, i), &polled}));
        // ... and one more that is idle as zuki::pending<int>() (no DropCounter).
        auto plain = ex.spawn(zuki::pending<int>());
        BOOST_REQUIRE(
            wait_until([&] { return polled.load(std::memory_order_acquire) == half; }, 60s));
        // Both workers held by gates; the other half stays queued.
        auto gate = std::make_shared<SpinGateState>();
        auto g1 = ex.spawn(SpinGate(gate));
        auto g2 = ex.spawn(SpinGate(gate));
        BOOST_REQUIRE(
            wait_until([&] { return gate->started.load(std::memory_order_acquire) == 2; }));
        for (std::size_t i = half; i < n; ++i) {
            hs.push_back(ex.spawn(call([&ran, d = zuki::test::DropCounter(reg, i)] {
                return static_cast<int>(ran.fetch_add(1));
            })));
        }
        ex.stop();
        gate->open.store(true, std::memory_order_release);
        hs.push_back(std::move(plain));
    }
    BOOST_TEST(ran.load() == 0u);
    std::size_t cancelled = 0;
    for (auto& h : hs) {
        try {
            (void)h.get();
        } catch (const zuki::TaskCancelled&) {
            ++cancelled;
        }
    }
    BOOST_TEST(cancelled == n + 1);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i) wrong += reg.drops(i) != 1 || reg.live(i) != 0;
    BOOST_TEST(wrong == 0u, wrong << " futures not destroyed exactly once");
}

// ---- exceptions ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_throwing_tasks_handle_rethrows) {
    zuki::test::Watchdog w(60s, "throwing task");
    WorkStealingExecutor ex(2);
    auto h = ex.spawn(call([]() -> int { throw std::runtime_error("boom"); }));
    const std::string what = what_of<std::runtime_error>([&] { (void)h.get(); });
    BOOST_TEST(what == "boom");
}

BOOST_AUTO_TEST_CASE(a_detached_throwing_task_reaches_the_handler_and_the_worker_goes_on) {
    zuki::test::Watchdog w(60s, "detached throwing task");
    std::mutex m;
    std::vector<std::string> seen;
    std::atomic<int> calls{0};
    WorkStealingConfig cfg = threads(1);
    cfg.on_unhandled_exception = [&](std::exception_ptr e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            std::lock_guard lock(m);
            seen.emplace_back(ex.what());
        }
        calls.fetch_add(1, std::memory_order_release);
    };
    WorkStealingExecutor ex(cfg);
    {
        // Detached before it can run (a batch publishes nothing until submitted).
        Batch b(ex);
        b.push(call([]() -> int { throw std::runtime_error("detached boom"); })).detach();
        b.push(call([]() -> int { throw std::logic_error("second"); })).detach();
        ex.spawn_batch(std::move(b));
    }
    BOOST_REQUIRE(wait_until([&] { return calls.load(std::memory_order_acquire) == 2; }));
    {
        std::lock_guard lock(m);
        BOOST_TEST(seen.size() == 2u);
        BOOST_TEST((std::find(seen.begin(), seen.end(), "detached boom") != seen.end()));
        BOOST_TEST((std::find(seen.begin(), seen.end(), "second") != seen.end()));
    }
    // The single worker survived and runs more work.
    for (int i = 0; i < 100; ++i) BOOST_REQUIRE(ex.spawn(zuki::ready(i)).get() == i);
    BOOST_TEST(ex.thread_count() == 1u);
    BOOST_TEST(calls.load() == 2);
}

// ---- thread start --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_worker_that_fails_to_start_leaves_the_others_running) {
    zuki::test::Watchdog w(60s, "thread start failure");
    std::vector<std::size_t> asked;
    WorkStealingConfig cfg = threads(3);
    cfg.before_thread_start = [&](std::size_t i) {
        asked.push_back(i);
        if (i == 1) throw std::runtime_error("test: no thread 1");
    };
    WorkStealingExecutor ex(cfg);
    BOOST_TEST(asked == (std::vector<std::size_t>{0, 1, 2}), boost::test_tools::per_element());
    BOOST_TEST(ex.thread_count() == 2u);
    const zuki::Metrics m = ex.metrics();
    BOOST_TEST(m.failed_thread_starts == 1u);
    BOOST_TEST(m.workers.size() == 2u);
    std::vector<JoinHandle<int>> hs;
    for (int i = 0; i < 1000; ++i) hs.push_back(ex.spawn(zuki::ready(i)));
    int sum = 0;
    for (auto& h : hs) sum += h.get();
    BOOST_TEST(sum == 999 * 1000 / 2);
    ex.join();
}

BOOST_AUTO_TEST_CASE(no_worker_starting_is_a_system_error) {
    zuki::test::Watchdog w(60s, "no_worker_starting_is_a_system_error");
    WorkStealingConfig cfg = threads(3);
    int calls = 0;
    cfg.before_thread_start = [&](std::size_t) {
        ++calls;
        throw std::runtime_error("test: no threads at all");
    };
    BOOST_CHECK_THROW(WorkStealingExecutor{cfg}, std::system_error);
    BOOST_TEST(calls == 3);
}

namespace {

std::size_t current_stack_size() {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return 0;
    std::size_t size = 0;
    pthread_attr_getstacksize(&attr, &size);
    pthread_attr_destroy(&attr);
    return size;
}

std::string current_thread_name() {
    char buf[32] = {};
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    return buf;
}

}  // namespace

BOOST_AUTO_TEST_CASE(workers_get_the_configured_stack_size) {
    zuki::test::Watchdog w(60s, "stack size");
    // 16 MiB is above the usual default (8 MiB, or 2 MiB with an unlimited RLIMIT_STACK), so it
    // shows the setting is really applied. The size reported may exceed the request: glibc
    // reuses a cached stack of an exited thread when it is large enough (up to 4x).
    for (std::size_t size : {std::size_t{1} << 20, std::size_t{4} << 20, std::size_t{16} << 20}) {
        BOOST_TEST_CONTEXT("stack " << size) {
            WorkStealingConfig cfg = threads(2);
            cfg.stack_size = size;
            WorkStealingExecutor ex(cfg);
            for (int i = 0; i < 10; ++i) {
                const std::size_t got = ex.spawn(call([] { return current_stack_size(); })).get();
                BOOST_TEST(got >= size);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(worker_threads_are_named_with_the_prefix) {
    zuki::test::Watchdog w(60s, "thread names");
    {
        WorkStealingConfig cfg = threads(2);
        cfg.thread_name_prefix = "wsx-";
        WorkStealingExecutor ex(cfg);
        std::set<std::string> names;
        for (int i = 0; i < 50; ++i)
            names.insert(ex.spawn(call([] { return current_thread_name(); })).get());
        for (const auto& name : names) {
            BOOST_TEST(name.rfind("wsx-", 0) == 0u, name);
            BOOST_TEST((name == "wsx-0" || name == "wsx-1"), name);
        }
    }
    {
        WorkStealingExecutor ex(1);
        BOOST_TEST(ex.spawn(call([] { return current_thread_name(); })).get() == "zuki-worker-0");
    }
}

// ---- wake storms -----------------------------------------------------------------------------

namespace {

struct StormState {
    std::atomic<bool> in_poll{false};
    std::atomic<int> overlaps{0};
    std::atomic<std::uint64_t> polls{0};
    std::atomic<bool> finish{false};
    std::mutex m;
    std::optional<zuki::Waker> waker;  // guarded by m
    std::atomic<bool> have_waker{false};
};

class StormFuture {
public:
    explicit StormFuture(std::shared_ptr<StormState> s) : s_(std::move(s)) {}
    Poll<std::uint64_t> poll(Context& cx) {
        // acq_rel: an overlapping poll on another thread would see `true` here.
        if (s_->in_poll.exchange(true, std::memory_order_acq_rel))
            s_->overlaps.fetch_add(1, std::memory_order_relaxed);
        const std::uint64_t n = s_->polls.fetch_add(1, std::memory_order_relaxed) + 1;
        spin_for(1us);  // widen the window for wakes that arrive while running
        if (!s_->have_waker.load(std::memory_order_relaxed)) {
            std::lock_guard lock(s_->m);
            s_->waker.emplace(cx.waker());
            // release: pairs with the storm threads' acquire load.
            s_->have_waker.store(true, std::memory_order_release);
        }
        // acquire: pairs with the release store of the final flag.
        const bool fin = s_->finish.load(std::memory_order_acquire);
        // release: pairs with the exchange above on the next poll.
        s_->in_poll.store(false, std::memory_order_release);
        if (fin) return Poll<std::uint64_t>::ready(n);
        return Poll<std::uint64_t>::pending();
    }

private:
    std::shared_ptr<StormState> s_;
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_wake_storm_never_polls_a_task_concurrently) {
    zuki::test::Watchdog w(120s, "wake storm");
    const int per_thread = (sanitized ? 2'000 : 10'000) * static_cast<int>(stress_scale());
    WorkStealingExecutor ex(4);
    auto s = std::make_shared<StormState>();
    auto h = ex.spawn(StormFuture(s));
    std::vector<std::thread> storm;
    for (int k = 0; k < 4; ++k) {
        storm.emplace_back([&, k] {
            while (!s->have_waker.load(std::memory_order_acquire)) std::this_thread::yield();
            zuki::Waker mine = [&] {
                std::lock_guard lock(s->m);
                return *s->waker;  // a clone
            }();
            for (int i = 0; i < per_thread; ++i) {
                if ((i + k) % 2 == 0) {
                    mine.wake_by_ref();
                } else {
                    zuki::Waker c = mine;  // clone, wake by value
                    c.wake();
                }
                if (i % 16 == 15) {
                    // Let polls interleave with the storm: wait (briefly) for the next poll, so
                    // wakes land while the task is idle, queued and running alike.
                    const std::uint64_t p = s->polls.load(std::memory_order_relaxed);
                    const auto until = std::chrono::steady_clock::now() + 2ms;
                    while (s->polls.load(std::memory_order_relaxed) == p &&
                           std::chrono::steady_clock::now() < until)
                        std::this_thread::yield();
                }
            }
        });
    }
    for (auto& t : storm) t.join();
    BOOST_TEST(!h.is_finished());
    s->finish.store(true, std::memory_order_release);
    {
        std::lock_guard lock(s->m);
        s->waker->wake_by_ref();
    }
    const std::uint64_t polls = h.get();
    BOOST_TEST(s->overlaps.load() == 0);
    BOOST_TEST(polls >= 2u);
    BOOST_TEST(polls <= static_cast<std::uint64_t>(4 * per_thread + 2));
    std::cout << "wake storm: " << 4 * per_thread << " wakes, " << polls << " polls\n";
    {
        std::lock_guard lock(s->m);
        s->waker.reset();
    }
}

// ---- allocation failure ----------------------------------------------------------------------

namespace {

std::atomic<bool> fail_next_move{false};

// A future whose move constructor throws std::bad_alloc once when armed.
class FragileFuture {
public:
    explicit FragileFuture(std::atomic<int>* polls) : polls_(polls) {}
    FragileFuture(FragileFuture&& o) : polls_(o.polls_) {
        if (fail_next_move.exchange(false)) throw std::bad_alloc();
    }
    FragileFuture& operator=(FragileFuture&&) = delete;
    Poll<int> poll(Context&) {
        polls_->fetch_add(1, std::memory_order_relaxed);
        return Poll<int>::ready(7);
    }

private:
    std::atomic<int>* polls_;
};

}  // namespace

BOOST_AUTO_TEST_CASE(allocation_failure_in_spawn_leaves_the_pool_usable) {
    zuki::test::Watchdog w(60s, "bad_alloc in spawn");
    std::atomic<int> polls{0};
    WorkStealingExecutor ex(2);

    fail_next_move.store(true);
    BOOST_CHECK_THROW((void)ex.spawn(FragileFuture(&polls)), std::bad_alloc);
    fail_next_move.store(true);
    BOOST_CHECK_THROW((void)ex.spawn(FragileFuture(&polls), TaskPriority::Critical),
                      std::bad_alloc);
    {
        Batch b(ex);
        auto kept = b.push(FragileFuture(&polls));
        fail_next_move.store(true);
        BOOST_CHECK_THROW((void)b.push(FragileFuture(&polls)), std::bad_alloc);
        BOOST_TEST(b.size() == 1u);  // unchanged
        ex.spawn_batch(std::move(b));
        BOOST_TEST(kept.get() == 7);
    }
    BOOST_TEST(polls.load() == 1);  // only the batch's surviving task ran

    std::vector<JoinHandle<int>> hs;
    for (int i = 0; i < 1000; ++i) hs.push_back(ex.spawn(FragileFuture(&polls)));
    int sum = 0;
    for (auto& h : hs) sum += h.get();
    BOOST_TEST(sum == 7000);
    BOOST_TEST(polls.load() == 1001);
    BOOST_TEST(ex.metrics().total().tasks_run == 1001u);
    ex.join();  // the outstanding-work count stayed right: returns
}

// Regression: TaskCell's constructor took a scheduler reference in its base and leaked it when
// the future's move constructor threw, so the executor's state was never freed.
BOOST_AUTO_TEST_CASE(a_future_whose_move_throws_does_not_leak_the_executor_state) {
    zuki::test::Watchdog w(60s, "bad_alloc leak");
    auto token = std::make_shared<int>(0);
    std::weak_ptr<int> alive = token;
    {
        WorkStealingConfig cfg = threads(2);
        // The config (and so this token) lives exactly as long as the executor's state.
        cfg.on_unhandled_exception = [token = std::move(token)](std::exception_ptr) {};
        WorkStealingExecutor ex(cfg);
        std::atomic<int> polls{0};
        for (int i = 0; i < 3; ++i) {
            fail_next_move.store(true);
            BOOST_CHECK_THROW((void)ex.spawn(FragileFuture(&polls)), std::bad_alloc);
        }
        BOOST_TEST(ex.spawn(FragileFuture(&polls)).get() == 7);
    }
    BOOST_TEST(alive.expired(), "the executor's state leaked after a failed spawn");
}

BOOST_AUTO_TEST_CASE(the_executor_releases_its_state_when_destroyed) {
    zuki::test::Watchdog w(60s, "the_executor_releases_its_state_when_destroyed");
    // Control for the test above: the token is a valid probe.
    auto token = std::make_shared<int>(0);
    std::weak_ptr<int> alive = token;
    {
        WorkStealingConfig cfg = threads(2);
        cfg.on_unhandled_exception = [token = std::move(token)](std::exception_ptr) {};
        WorkStealingExecutor ex(cfg);
        BOOST_TEST(ex.spawn(zuki::ready(1)).get() == 1);
        BOOST_TEST(!alive.expired());
    }
    BOOST_TEST(alive.expired());
}
