// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki stress exactly_once
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "common/test_env.hpp"
#include "common/watchdog.hpp"

// A million tasks per configuration (scaled; 100,000 under sanitizers), for each one below:
// submitted from 4 outside threads (two spawning one by one, two in batches), and each outside
// task spawns one child from inside the pool. Every task id must run exactly once, on pools of
// 1, 2, 4 and 8 workers (more workers than cores on purpose) with local deques of capacity 2
// (overflow on almost every spawn) and 256.

using zuki::Context;
using zuki::Poll;
using zuki::TaskPriority;
using zuki::WorkStealingConfig;
using zuki::WorkStealingExecutor;

namespace {

#if defined(ZUKI_TSAN) || defined(__SANITIZE_ADDRESS__)
constexpr std::size_t tasks_per_config = 100'000;
#else
constexpr std::size_t tasks_per_config = 1'000'000;
#endif

using zuki::test::stress_scale;

constexpr std::size_t no_child = static_cast<std::size_t>(-1);

// Counts its own run; an outside task also spawns its child (id + 1) from inside the pool.
struct Job {
    WorkStealingExecutor* ex;
    std::atomic<std::uint8_t>* runs;
    std::size_t id;
    std::size_t child;
    Poll<void> poll(Context&) {
        runs[id].fetch_add(1, std::memory_order_relaxed);
        if (child != no_child) {
            const auto p = static_cast<TaskPriority>(child % zuki::task_priority_levels);
            ex->spawn(Job{ex, runs, child, no_child}, p).detach();
        }
        return Poll<void>::ready();
    }
};

void run_config(std::size_t workers, std::size_t capacity, std::size_t tasks) {
    const std::size_t outside = tasks / 2;  // ids 2i (outside) and 2i+1 (its child)
    auto runs = std::make_unique<std::atomic<std::uint8_t>[]>(outside * 2);
    for (std::size_t i = 0; i < outside * 2; ++i) runs[i].store(0, std::memory_order_relaxed);

    WorkStealingConfig cfg;
    cfg.threads = workers;
    cfg.local_queue_capacity = capacity;
    cfg.global_queue_capacity = 64;  // small: exercise the spill list as well
    WorkStealingExecutor ex(cfg);

    const auto t0 = std::chrono::steady_clock::now();
    constexpr std::size_t submitters = 4;
    std::vector<std::thread> ts;
    for (std::size_t k = 0; k < submitters; ++k) {
        ts.emplace_back([&, k] {
            const bool batched = k >= 2;
            zuki::Batch batch(ex);
            for (std::size_t i = k; i < outside; i += submitters) {
                const auto p = static_cast<TaskPriority>(i % zuki::task_priority_levels);
                Job job{&ex, runs.get(), 2 * i, 2 * i + 1};
                if (!batched) {
                    ex.spawn(job, p).detach();
                } else {
                    batch.push(job, p).detach();
                    if (batch.size() == 100) ex.spawn_batch(std::move(batch));
                }
            }
            if (!batch.empty()) ex.spawn_batch(std::move(batch));
        });
    }
    for (auto& t : ts) t.join();
    ex.join();  // every task, children included
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();

    std::size_t wrong = 0;
    for (std::size_t i = 0; i < outside * 2; ++i) {
        const int r = runs[i].load(std::memory_order_relaxed);
        if (r != 1) {
            if (wrong < 10) BOOST_ERROR("task " << i << " ran " << r << " times");
            ++wrong;
        }
    }
    BOOST_TEST(wrong == 0u);
    const zuki::Metrics m = ex.metrics();
    BOOST_TEST(m.total().tasks_run == outside * 2);  // every poll of these ready-at-once tasks
    std::cout << workers << " workers, local capacity " << capacity << ": " << outside * 2
              << " tasks in " << ms << " ms; total " << m.total() << '\n'
              << m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_task_runs_exactly_once_on_every_pool_shape) {
    zuki::test::Watchdog w(std::chrono::seconds(240), "exactly_once");
    const std::size_t per_config = tasks_per_config * stress_scale();
    for (std::size_t workers : {1u, 2u, 4u, 8u}) {
        for (std::size_t capacity : {2u, 256u}) {
            BOOST_TEST_CONTEXT(workers << " workers, local capacity " << capacity) {
                run_config(workers, capacity, per_config);
            }
        }
    }
}
