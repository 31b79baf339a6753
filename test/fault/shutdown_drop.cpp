// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki fault shutdown_drop
#include <boost/test/unit_test.hpp>

// Destroying a WorkStealingExecutor that still has work, 1,000 times (100 under sanitizers;
// times ZUKI_STRESS_SCALE), with pools of 1 to 4 workers. Each round leaves behind:
//
// - never-ready tasks of three kinds: one keeping its own waker (a reference cycle that only the
//   shutdown sweep breaks), one that dropped its waker, one whose waker is held by the test and
//   woken after the pool is gone;
// - tasks that yield forever (they sit in a worker's yield list or deque);
// - ready tasks queued behind workers held by spinning gates: spawned from outside (global
//   queue), spawned by the gates from inside (local deques), and Asio handlers (posted, and a
//   timer's cancelled completion);
// - JoinHandles kept for about half of them, the rest detached.
//
// The pool is destroyed in one of three ways: after stop() with every worker held (nothing queued
// may run), while another thread releases the workers after a random pause (a race between the
// destructor and running work), or right after releasing them. Then every future and handler
// holding a DropCounter was destroyed exactly once, each task ran at most once and its kept
// JoinHandle agrees (a value iff it ran, TaskCancelled otherwise; never-ready and yielding tasks
// always TaskCancelled), waking the leftover wakers is harmless, and every thread was joined
// (the process' thread count, from /proc/self/status, is back to where it was).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/drop_counter.hpp"
#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::Context;
using zuki::JoinHandle;
using zuki::Poll;
using zuki::WorkStealingConfig;
using zuki::WorkStealingExecutor;
using zuki::test::DropCounter;
using zuki::test::DropRegistry;

namespace {

#if defined(ZUKI_TSAN) || defined(__SANITIZE_ADDRESS__)
constexpr std::size_t rounds = 100;
#else
constexpr std::size_t rounds = 1000;
#endif

using zuki::test::stress_scale;

using zuki::test::process_threads;
using zuki::test::threads_back_to;

// What one round's futures report to.
struct Round {
    explicit Round(std::size_t ids) : reg(ids), runs(std::make_unique<std::atomic<int>[]>(ids)) {
        for (std::size_t i = 0; i < ids; ++i) runs[i].store(0, std::memory_order_relaxed);
    }
    DropRegistry reg;
    std::unique_ptr<std::atomic<int>[]> runs;
    std::mutex m;
    std::vector<zuki::Waker> held;  // wakers of HeldOutside tasks, guarded by m
    std::atomic<std::size_t> first_polls{0};
    // Gates
    std::atomic<std::size_t> gates_started{0};
    std::atomic<bool> open{false};
};

// Ready at its first poll; counts the run.
struct Work {
    DropCounter d;
    Round* r;
    Poll<std::size_t> poll(Context&) {
        r->runs[d.id()].fetch_add(1, std::memory_order_relaxed);
        return Poll<std::size_t>::ready(d.id());
    }
};

enum class Kind { self_held, forgotten, held_outside };

// Never ready.
struct NeverReady {
    DropCounter d;
    Round* r;
    Kind kind;
    std::optional<zuki::Waker> own;
    bool polled = false;
    Poll<std::size_t> poll(Context& cx) {
        r->runs[d.id()].fetch_add(1, std::memory_order_relaxed);  // polls, for never-ready ones
        switch (kind) {
            case Kind::self_held:
                own.emplace(cx.waker());
                break;
            case Kind::forgotten:
                break;
            case Kind::held_outside: {
                std::lock_guard lock(r->m);
                r->held.push_back(cx.waker());
                break;
            }
        }
        if (!polled) {
            polled = true;
            r->first_polls.fetch_add(1, std::memory_order_release);
        }
        return Poll<std::size_t>::pending();
    }
};

// Wakes itself on every poll: always queued somewhere (a yield list or a deque).
struct Yielder {
    DropCounter d;
    Poll<std::size_t> poll(Context& cx) {
        cx.waker().wake_by_ref();
        return Poll<std::size_t>::pending();
    }
};

// Spawns `children` ready tasks from inside (onto its worker's deque), then holds its worker
// until the round opens the gates.
struct Gate {
    WorkStealingExecutor* ex;
    Round* r;
    std::size_t first_child;
    std::size_t children;
    Poll<int> poll(Context&) {
        for (std::size_t i = 0; i < children; ++i)
            ex->spawn(Work{DropCounter(r->reg, first_child + i), r}).detach();
        // release: pairs with the test's acquire wait.
        r->gates_started.fetch_add(1, std::memory_order_release);
        while (!r->open.load(std::memory_order_acquire)) std::this_thread::yield();
        return Poll<int>::ready(0);
    }
};

enum class Ending { stop_then_release, release_racing_the_destructor, release_then_destroy };

// Id layout of a round.
constexpr std::size_t never_ready = 12;  // ids [0, 12): 4 of each kind
constexpr std::size_t yielders = 2;  // [12, 14)
constexpr std::size_t queued = 16;  // [14, 30): spawned from outside behind the gates
constexpr std::size_t handlers = 4;  // [30, 34): Asio posts behind the gates
constexpr std::size_t timer_id = 34;  // a cancelled timer's completion handler
constexpr std::size_t local_per_gate = 4;
constexpr std::size_t first_local = 35;  // [35, 35 + 4 * workers): spawned by the gates
constexpr std::size_t max_ids = first_local + 4 * local_per_gate;

// One round; reports what was wrong.
void one_round(std::size_t round, std::mt19937& rng, int baseline) {
    const std::size_t workers = 1 + round % 4;
    const auto ending = static_cast<Ending>((round / 4) % 3);
    const bool with_timer = round % 5 == 0;
    Round r(max_ids);
    std::vector<std::pair<std::size_t, JoinHandle<std::size_t>>> kept;  // (id, handle)
    std::bernoulli_distribution keep(0.5);
    std::optional<std::thread> releaser;
    {
        WorkStealingConfig cfg;
        cfg.threads = workers;
        cfg.local_queue_capacity = (round % 2 == 0) ? 2 : 256;  // 2: the gates' children overflow
        WorkStealingExecutor ex(cfg);
        auto submit = [&](std::size_t id, auto future) {
            auto h = ex.spawn(std::move(future));
            if (keep(rng))
                kept.emplace_back(id, std::move(h));
            else
                h.detach();
        };
        for (std::size_t i = 0; i < never_ready; ++i)
            submit(i, NeverReady{DropCounter(r.reg, i), &r, static_cast<Kind>(i % 3), {}});
        for (std::size_t i = never_ready; i < never_ready + yielders; ++i)
            submit(i, Yielder{DropCounter(r.reg, i)});
        // Every never-ready task polled once (idle now, or its waker somewhere).
        const auto until = std::chrono::steady_clock::now() + 30s;
        while (r.first_polls.load(std::memory_order_acquire) < never_ready &&
               std::chrono::steady_clock::now() < until)
            std::this_thread::yield();
        BOOST_REQUIRE(r.first_polls.load() == never_ready);
        // Hold every worker.
        std::vector<JoinHandle<int>> gates;
        for (std::size_t g = 0; g < workers; ++g)
            gates.push_back(
                ex.spawn(Gate{&ex, &r, first_local + g * local_per_gate, local_per_gate}));
        while (r.gates_started.load(std::memory_order_acquire) < workers &&
               std::chrono::steady_clock::now() < until)
            std::this_thread::yield();
        if (r.gates_started.load() != workers) {
            const zuki::Metrics m = ex.metrics();
            std::ostringstream os;
            os << "round " << round << ": " << r.gates_started.load() << " of " << workers
               << " gates started; global queued " << m.global_queued[0] << '/'
               << m.global_queued[1] << '/' << m.global_queued[2] << '/' << m.global_queued[3];
            for (const auto& w : m.workers)
                os << "; worker: run " << w.tasks_run << " parks " << w.parks << " unparks "
                   << w.unparks << " local " << w.local_queued << " takes " << w.global_takes
                   << " steals " << w.steals;
            BOOST_FAIL(os.str());
        }
        // Queue work behind them.
        for (std::size_t i = never_ready + yielders; i < never_ready + yielders + queued; ++i)
            submit(i, Work{DropCounter(r.reg, i), &r});
        for (std::size_t i = 30; i < 30 + handlers; ++i)
            boost::asio::post(ex, [d = DropCounter(r.reg, i), rp = &r] {
                rp->runs[d.id()].fetch_add(1, std::memory_order_relaxed);
            });
        if (with_timer) {
            // Cancelled by its destruction: its completion (operation_aborted) is queued too.
            boost::asio::steady_timer timer(ex.get_executor(), 1h);
            timer.async_wait(
                [d = DropCounter(r.reg, timer_id), rp = &r](boost::system::error_code) {
                    rp->runs[d.id()].fetch_add(1, std::memory_order_relaxed);
                });
        }
        switch (ending) {
            case Ending::stop_then_release:
                ex.stop();
                r.open.store(true, std::memory_order_release);
                break;
            case Ending::release_racing_the_destructor: {
                const auto pause =
                    std::chrono::microseconds(std::uniform_int_distribution<int>(0, 200)(rng));
                releaser.emplace([&r, pause] {
                    std::this_thread::sleep_for(pause);
                    r.open.store(true, std::memory_order_release);
                });
                break;
            }
            case Ending::release_then_destroy:
                r.open.store(true, std::memory_order_release);
                break;
        }
        for (auto& g : gates) g.detach();
    }  // ~WorkStealingExecutor
    if (releaser) releaser->join();

    // Leftover wakers: waking tasks of a destroyed pool does nothing; then they are released.
    {
        std::lock_guard lock(r.m);
        for (auto& w : r.held) w.wake_by_ref();
        for (auto& w : r.held) w.wake();
        r.held.clear();
    }

    const std::size_t ids = first_local + workers * local_per_gate;
    std::size_t wrong = 0;
    auto fail = [&](std::size_t id, const char* what) {
        if (wrong++ < 5)
            BOOST_ERROR("round " << round << " (" << workers << " workers, ending "
                                 << static_cast<int>(ending) << "), id " << id << ": " << what
                                 << " (runs " << r.runs[id].load() << ", created "
                                 << r.reg.created(id) << ", dropped " << r.reg.drops(id) << ")");
    };
    for (std::size_t id = 0; id < ids; ++id) {
        if (id == timer_id && !with_timer) continue;
        if (r.reg.created(id) != 1 || r.reg.drops(id) != 1) fail(id, "not destroyed exactly once");
        const int runs = r.runs[id].load(std::memory_order_relaxed);
        if (id < never_ready && runs != 1)
            fail(id, "a never-ready task was not polled exactly once");
        if (id < never_ready + yielders) continue;  // polls, not runs
        if (runs > 1) fail(id, "ran more than once");
        const bool behind_gates =
            id >= never_ready + yielders && id < first_local && id != timer_id;
        if (ending == Ending::stop_then_release && behind_gates && runs != 0)
            fail(id, "ran after stop()");
    }
    for (auto& [id, h] : kept) {
        bool cancelled = false;
        std::size_t value = SIZE_MAX;
        try {
            value = h.get();
        } catch (const zuki::TaskCancelled&) {
            cancelled = true;
        }
        const int runs = r.runs[id].load(std::memory_order_relaxed);
        if (id < never_ready + yielders) {
            if (!cancelled) fail(id, "a never-ready task's handle did not say TaskCancelled");
        } else if (cancelled ? runs != 0 : (runs != 1 || value != id)) {
            fail(id, cancelled ? "cancelled, but it ran" : "has a value, but did not run once");
        }
    }
    BOOST_TEST(wrong == 0u);
    if (!threads_back_to(baseline))
        BOOST_ERROR("round " << round << ": " << process_threads() - baseline
                             << " thread(s) not joined");
}

}  // namespace

BOOST_AUTO_TEST_CASE(destruction_with_pending_and_queued_work_drops_everything_exactly_once) {
    zuki::test::Watchdog w(240s, "destruction_with_pending_and_queued_work");
    const int baseline = process_threads();
    BOOST_REQUIRE(baseline > 0);
    const std::size_t n = rounds * stress_scale();
    std::mt19937 rng(20260611);
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t round = 0; round < n; ++round) one_round(round, rng, baseline);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    BOOST_TEST_MESSAGE(n << " rounds in " << ms.count() << " ms");
    BOOST_TEST(process_threads() == baseline);
}
