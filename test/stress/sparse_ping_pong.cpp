// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki stress sparse_ping_pong
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "common/test_env.hpp"
#include "common/watchdog.hpp"

// Sparse work is where lost wake-ups hide: post one task from outside, wait for it, pause a
// random 0-200 us so the workers go back to sleep, repeat. If a submission ever fails to wake a
// worker, the task sits in the queue while everyone sleeps: after 10 s the test prints the
// metrics and fails (and a watchdog turns anything worse into an abort).

using zuki::Context;
using zuki::Poll;
using zuki::WorkStealingExecutor;

namespace {

#if defined(ZUKI_TSAN) || defined(__SANITIZE_ADDRESS__)
constexpr std::size_t iterations = 3'000;
#else
constexpr std::size_t iterations = 10'000;
#endif

using zuki::test::stress_scale;

struct Signal {
    std::mutex m;
    std::condition_variable cv;
    std::size_t done = 0;  // guarded by m: iterations completed
    std::atomic<std::uint32_t> runs{0};
};

struct Ping {
    std::shared_ptr<Signal> s;
    std::size_t iteration;
    Poll<void> poll(Context&) {
        s->runs.fetch_add(1, std::memory_order_relaxed);
        {
            std::lock_guard lock(s->m);
            s->done = iteration + 1;
        }
        s->cv.notify_one();
        return Poll<void>::ready();
    }
};

void ping_pong(std::size_t workers, std::size_t n) {
    WorkStealingExecutor ex(workers);
    auto sig = std::make_shared<Signal>();
    std::mt19937 rng(static_cast<unsigned>(workers));
    std::uniform_int_distribution<int> pause_us(0, 200);
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < n; ++i) {
        ex.spawn(Ping{sig, i}).detach();
        std::unique_lock lock(sig->m);
        if (!sig->cv.wait_for(lock, std::chrono::seconds(10), [&] { return sig->done == i + 1; })) {
            lock.unlock();
            std::cerr << "iteration " << i << " of " << n << " (" << workers
                      << " workers): the task did not run within 10 s\n"
                      << ex.metrics();
            BOOST_FAIL("lost wake-up: a task posted to an idle pool did not run");
        }
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::microseconds(pause_us(rng)));
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    BOOST_TEST(sig->runs.load() == n);  // each posted task ran once
    const zuki::Metrics m = ex.metrics();
    BOOST_TEST(m.total().tasks_run == n);
    BOOST_TEST(m.total().parks > 0u);  // the workers did go to sleep in between
    std::cout << workers << " workers, " << n << " sparse submissions in " << ms << " ms\n" << m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_task_posted_to_an_idle_pool_always_runs) {
    zuki::test::Watchdog w(std::chrono::seconds(240), "sparse_ping_pong");
    const std::size_t n = iterations * stress_scale();
    for (std::size_t workers : {1u, 2u, 4u}) BOOST_TEST_CONTEXT(workers << " workers") {
            ping_pong(workers, n / 3);
        }
}
