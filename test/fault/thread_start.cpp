// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki fault thread_start
#include <boost/test/unit_test.hpp>

// Worker threads that fail to start, injected through WorkStealingConfig::before_thread_start
// (a throw for index k counts as pthread_create failing for worker k), on a pool of 4:
//
// - every subset of {0, 1, 2, 3} that leaves at least one worker: the pool runs with the others
//   (thread_count, metrics().failed_thread_starts, one metrics entry per running worker), 1000
//   tasks from outside and 1000 spawned from inside complete exactly once, every surviving worker
//   takes part (a barrier of thread_count() tasks is reached), join() returns, and the process is
//   back to its thread count afterwards;
// - all four failing: the constructor throws std::system_error, no thread is left behind and the
//   executor's state is released (a token owned by the config expires);
// - a real pthread_create failure (an impossible stack size), and a hook throwing a non-standard
//   exception, behave the same way;
// - the settings applied when a worker starts: its stack size (WorkStealingConfig::stack_size)
//   and its name (thread_name_prefix + index, "zuki-worker-<i>" by default).
//
// Leaks of memory are ASan's job (detect_leaks=1 in the ASan build); leaks of threads and of the
// executor's state are checked here in every build.

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "common/drop_counter.hpp"
#include "common/gate_future.hpp"
#include "common/pool_helpers.hpp"
#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::Context;
using zuki::JoinHandle;
using zuki::Poll;
using zuki::WorkStealingConfig;
using zuki::WorkStealingExecutor;
using zuki::test::pool_config;
using zuki::test::SpinGate;
using zuki::test::SpinGateState;

namespace {

constexpr std::size_t pool_size = 4;
constexpr std::size_t tasks = 1000;

using zuki::test::process_threads;

using zuki::test::threads_back_to;

std::string subset_name(unsigned mask) {
    std::string s = "{";
    for (std::size_t k = 0; k < pool_size; ++k)
        if (mask & (1u << k)) s += (s.size() > 1 ? "," : "") + std::to_string(k);
    return s + "}";
}

// Counts one run per id; the outside ones (child == true) spawn one child each from inside.
struct Counted {
    WorkStealingExecutor* ex;
    std::atomic<int>* runs;
    std::size_t id;
    bool spawn_child;
    Poll<std::size_t> poll(Context&) {
        runs[id].fetch_add(1, std::memory_order_relaxed);
        if (spawn_child) ex->spawn(Counted{ex, runs, id + tasks, false}).detach();
        return Poll<std::size_t>::ready(id);
    }
};

// Part of a barrier of `expected` tasks: each arrives, then waits (up to 20 s) for the others.
// Only reached if every running worker holds one of them at the same time.
struct BarrierState {
    std::size_t expected = 0;
    std::atomic<std::size_t> arrived{0};
    std::mutex m;
    std::set<std::thread::id> threads;  // guarded by m
};
struct BarrierTask {
    std::shared_ptr<BarrierState> s;
    Poll<bool> poll(Context&) {
        {
            std::lock_guard lock(s->m);
            s->threads.insert(std::this_thread::get_id());
        }
        // acq_rel: each arrival sees the others' (the last one completes the barrier).
        s->arrived.fetch_add(1, std::memory_order_acq_rel);
        const auto until = std::chrono::steady_clock::now() + 20s;
        while (s->arrived.load(std::memory_order_acquire) < s->expected) {
            if (std::chrono::steady_clock::now() > until) return Poll<bool>::ready(false);
            std::this_thread::yield();
        }
        return Poll<bool>::ready(true);
    }
};
// Spawns the barrier's tasks from inside the pool (onto its worker's deque): the others must
// steal them, so a worker that the pool forgot to wake or to index would never get one.
struct SpawnBarrier {
    WorkStealingExecutor* ex;
    std::shared_ptr<BarrierState> s;
    std::vector<JoinHandle<bool>>* out;
    Poll<void> poll(Context&) {
        for (std::size_t i = 0; i < s->expected; ++i) out->push_back(ex->spawn(BarrierTask{s}));
        return Poll<void>::ready();
    }
};

// Counts its run; holds a DropCounter.
struct RunCounter {
    zuki::test::DropCounter d;
    std::atomic<int>* ran;
    Poll<int> poll(Context&) {
        ran->fetch_add(1, std::memory_order_relaxed);
        return Poll<int>::ready(1);
    }
};

// The name of the worker thread that polls it.
struct NameOf {
    Poll<std::string> poll(Context&) {
        char buf[32] = {};
        pthread_getname_np(pthread_self(), buf, sizeof buf);
        return Poll<std::string>::ready(std::string(buf));
    }
};

// The stack size of the worker thread that polls it (0 if unknown).
struct StackSizeOf {
    Poll<std::size_t> poll(Context&) {
        pthread_attr_t attr;
        if (pthread_getattr_np(pthread_self(), &attr) != 0) return Poll<std::size_t>::ready(0);
        std::size_t size = 0;
        pthread_attr_getstacksize(&attr, &size);
        pthread_attr_destroy(&attr);
        return Poll<std::size_t>::ready(size);
    }
};

// Runs the pool through its paces; `expect_threads` workers are expected.
void exercise(WorkStealingExecutor& ex, std::size_t expect_threads) {
    BOOST_TEST(ex.thread_count() == expect_threads);
    const zuki::Metrics m0 = ex.metrics();
    BOOST_TEST(m0.failed_thread_starts == pool_size - expect_threads);
    BOOST_TEST(m0.workers.size() == expect_threads);

    auto runs = std::make_unique<std::atomic<int>[]>(2 * tasks);
    for (std::size_t i = 0; i < 2 * tasks; ++i) runs[i].store(0, std::memory_order_relaxed);
    std::vector<JoinHandle<std::size_t>> hs;
    hs.reserve(tasks);
    for (std::size_t i = 0; i < tasks; ++i)
        hs.push_back(ex.spawn(Counted{&ex, runs.get(), i, true}));
    std::size_t wrong_values = 0;
    for (std::size_t i = 0; i < tasks; ++i) wrong_values += hs[i].get() != i;
    BOOST_TEST(wrong_values == 0u);

    // Every running worker takes part: a barrier of thread_count() tasks spawned from inside.
    auto b = std::make_shared<BarrierState>();
    b->expected = expect_threads;
    std::vector<JoinHandle<bool>> parts;
    parts.reserve(expect_threads);
    ex.spawn(SpawnBarrier{&ex, b, &parts}).get();
    std::size_t reached = 0;
    for (auto& h : parts) reached += h.get();
    BOOST_TEST(reached == expect_threads, "barrier of " << expect_threads << " tasks not reached");
    {
        std::lock_guard lock(b->m);
        BOOST_TEST(b->threads.size() == expect_threads);
    }

    ex.join();  // counts acknowledgements of the started workers only: must return
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < 2 * tasks; ++i) {
        const int r = runs[i].load(std::memory_order_relaxed);
        if (r != 1 && wrong++ < 5) BOOST_ERROR("task " << i << " ran " << r << " times");
    }
    BOOST_TEST(wrong == 0u);
    BOOST_TEST(ex.metrics().workers.size() == expect_threads);
}

// A config whose on_unhandled_exception owns `token`: the config lives exactly as long as the
// executor's state, so the token expiring shows the state was released.
WorkStealingConfig config_owning(std::shared_ptr<int> token) {
    WorkStealingConfig cfg;
    cfg.threads = pool_size;
    cfg.on_unhandled_exception = [token = std::move(token)](std::exception_ptr) {};
    return cfg;
}

}  // namespace

BOOST_AUTO_TEST_CASE(each_subset_of_failing_workers_leaves_the_others_running) {
    zuki::test::Watchdog w(240s, "each_subset_of_failing_workers_leaves_the_others_running");
    const int baseline = process_threads();
    BOOST_REQUIRE(baseline > 0);
    // Single indices first (k = 0..3), then every larger subset that leaves someone running.
    std::vector<unsigned> masks;
    for (std::size_t k = 0; k < pool_size; ++k) masks.push_back(1u << k);
    masks.push_back(0);
    for (unsigned mask = 1; mask < (1u << pool_size) - 1; ++mask)
        if ((mask & (mask - 1)) != 0) masks.push_back(mask);

    for (unsigned mask : masks) {
        const std::size_t failing = static_cast<std::size_t>(__builtin_popcount(mask));
        BOOST_TEST_CONTEXT("failing workers " << subset_name(mask)) {
            auto token = std::make_shared<int>(0);
            std::weak_ptr<int> alive = token;
            {
                std::vector<std::size_t> asked;
                WorkStealingConfig cfg = config_owning(std::move(token));
                cfg.before_thread_start = [&asked, mask](std::size_t i) {
                    asked.push_back(i);
                    if (mask & (1u << i))
                        throw std::runtime_error("test: no thread " + std::to_string(i));
                };
                WorkStealingExecutor ex(cfg);
                BOOST_TEST(asked == (std::vector<std::size_t>{0, 1, 2, 3}),
                           boost::test_tools::per_element());
                BOOST_TEST(process_threads() == baseline + static_cast<int>(pool_size - failing));
                exercise(ex, pool_size - failing);
            }
            BOOST_TEST(alive.expired(), "the executor's state was not released");
            BOOST_TEST(threads_back_to(baseline), "threads left: " << process_threads() - baseline);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_pool_with_failed_workers_cancels_its_queued_and_pending_tasks) {
    zuki::test::Watchdog w(60s, "a_pool_with_failed_workers_cancels_its_queued_and_pending_tasks");
    const int baseline = process_threads();
    constexpr std::size_t queued = 100;
    constexpr std::size_t pending = 100;
    for (std::size_t k = 0; k < pool_size; ++k) {
        BOOST_TEST_CONTEXT("worker " << k << " failed") {
            zuki::test::DropRegistry reg(queued + pending);
            std::atomic<int> ran{0};
            std::vector<JoinHandle<int>> hs;
            std::vector<JoinHandle<int>> gates;
            {
                WorkStealingConfig cfg;
                cfg.threads = pool_size;
                cfg.before_thread_start = [k](std::size_t i) {
                    if (i == k) throw std::runtime_error("test: no thread");
                };
                WorkStealingExecutor ex(cfg);
                // Hold every surviving worker, so what follows stays queued.
                auto gate = std::make_shared<SpinGateState>();
                for (std::size_t i = 0; i < ex.thread_count(); ++i)
                    gates.push_back(ex.spawn(SpinGate{gate}));
                const auto until = std::chrono::steady_clock::now() + 20s;
                while (gate->started.load(std::memory_order_acquire) < ex.thread_count() &&
                       std::chrono::steady_clock::now() < until)
                    std::this_thread::sleep_for(100us);
                BOOST_REQUIRE(gate->started.load() == ex.thread_count());
                for (std::size_t i = 0; i < queued; ++i)
                    hs.push_back(ex.spawn(RunCounter{zuki::test::DropCounter(reg, i), &ran}));
                for (std::size_t i = 0; i < pending; ++i)
                    hs.push_back(ex.spawn(zuki::test::Gate<int>(zuki::test::make_gate_state())));
                ex.stop();
                gate->open.store(true, std::memory_order_release);
            }
            BOOST_TEST(ran.load() == 0);
            std::size_t cancelled = 0;
            for (auto& h : hs) {
                try {
                    (void)h.get();
                } catch (const zuki::TaskCancelled&) {
                    ++cancelled;
                }
            }
            BOOST_TEST(cancelled == hs.size());
            for (auto& g : gates) BOOST_TEST(g.get() == 1);
            std::size_t wrong = 0;
            for (std::size_t i = 0; i < queued; ++i) wrong += reg.drops(i) != 1 || reg.live(i) != 0;
            BOOST_TEST(wrong == 0u);
            BOOST_TEST(threads_back_to(baseline));
        }
    }
}

BOOST_AUTO_TEST_CASE(when_no_worker_starts_the_constructor_throws_system_error_and_leaks_nothing) {
    zuki::test::Watchdog w(60s, "when_no_worker_starts_the_constructor_throws_system_error");
    const int baseline = process_threads();
    for (int round = 0; round < 20; ++round) {
        auto token = std::make_shared<int>(0);
        std::weak_ptr<int> alive = token;
        int calls = 0;
        WorkStealingConfig cfg = config_owning(std::move(token));
        cfg.before_thread_start = [&calls](std::size_t) {
            ++calls;
            throw std::runtime_error("test: no threads at all");
        };
        try {
            WorkStealingExecutor ex(cfg);
            BOOST_ERROR("the constructor did not throw");
        } catch (const std::system_error& e) {
            BOOST_TEST((e.code() == std::errc::resource_unavailable_try_again), e.code().message());
        }
        cfg = WorkStealingConfig{};  // drop our copy of the token
        BOOST_TEST(calls == static_cast<int>(pool_size));
        BOOST_TEST(alive.expired(), "the executor's state leaked after a failed constructor");
        BOOST_TEST(threads_back_to(baseline));
    }
}

BOOST_AUTO_TEST_CASE(only_the_last_worker_starting_is_enough) {
    zuki::test::Watchdog w(60s, "only_the_last_worker_starting_is_enough");
    // Threads 0..2 fail, 3 starts: the one survivor runs alone, in its own place (worker 3:
    // the places of the others are left vacant, since it may run before they fail).
    WorkStealingConfig cfg;
    cfg.threads = pool_size;
    cfg.thread_name_prefix = "ts-";
    cfg.before_thread_start = [](std::size_t i) {
        if (i + 1 < pool_size) throw std::runtime_error("test: no thread");
    };
    WorkStealingExecutor ex(cfg);
    BOOST_TEST(ex.thread_count() == 1u);
    std::set<std::string> names;
    for (int i = 0; i < 50; ++i) {
        names.insert(ex.spawn(NameOf{}).get());
    }
    BOOST_TEST(names == (std::set<std::string>{"ts-3"}), boost::test_tools::per_element());
    ex.join();
}

BOOST_AUTO_TEST_CASE(a_hook_throwing_a_non_standard_exception_counts_as_a_failed_start) {
    zuki::test::Watchdog w(60s, "a_hook_throwing_a_non_standard_exception");
    const int baseline = process_threads();
    {
        WorkStealingConfig cfg;
        cfg.threads = pool_size;
        cfg.before_thread_start = [](std::size_t i) {
            if (i % 2 == 0) throw 42;
        };
        WorkStealingExecutor ex(cfg);
        exercise(ex, pool_size / 2);
    }
    BOOST_TEST(threads_back_to(baseline));
}

// pthread_create itself failing (no hook): a stack far larger than the address space. glibc
// rejects it (EINVAL/ENOMEM/EAGAIN); sanitizer runtimes may refuse it the same way.
BOOST_AUTO_TEST_CASE(a_real_pthread_create_failure_is_a_system_error) {
    zuki::test::Watchdog w(60s, "a_real_pthread_create_failure_is_a_system_error");
    const int baseline = process_threads();
    WorkStealingConfig cfg;
    cfg.threads = 2;
    cfg.stack_size = std::size_t{1} << 50;  // 1 PiB
    bool threw = false;
    try {
        WorkStealingExecutor ex(cfg);
    } catch (const std::system_error&) {
        threw = true;
    }
    BOOST_TEST(threw, "a pool whose every pthread_create failed was constructed");
    BOOST_TEST(threads_back_to(baseline));
}

// ---- what a started worker gets ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(workers_get_the_configured_stack_size) {
    zuki::test::Watchdog w(60s, "stack size");
    // 16 MiB is above the usual default (8 MiB, or 2 MiB with an unlimited RLIMIT_STACK), so it
    // shows the setting is really applied. The size reported may exceed the request: glibc
    // reuses a cached stack of an exited thread when it is large enough (up to 4x).
    for (std::size_t size : {std::size_t{1} << 20, std::size_t{4} << 20, std::size_t{16} << 20}) {
        BOOST_TEST_CONTEXT("stack " << size) {
            WorkStealingConfig cfg = pool_config(2);
            cfg.stack_size = size;
            WorkStealingExecutor ex(cfg);
            for (int i = 0; i < 10; ++i) {
                const std::size_t got = ex.spawn(StackSizeOf{}).get();
                BOOST_TEST(got >= size);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(worker_threads_are_named_with_the_prefix) {
    zuki::test::Watchdog w(60s, "thread names");
    {
        WorkStealingConfig cfg = pool_config(2);
        cfg.thread_name_prefix = "wsx-";
        WorkStealingExecutor ex(cfg);
        std::set<std::string> names;
        for (int i = 0; i < 50; ++i) names.insert(ex.spawn(NameOf{}).get());
        for (const auto& name : names) {
            BOOST_TEST(name.rfind("wsx-", 0) == 0u, name);
            BOOST_TEST((name == "wsx-0" || name == "wsx-1"), name);
        }
    }
    {
        WorkStealingExecutor ex(1);
        BOOST_TEST(ex.spawn(NameOf{}).get() == "zuki-worker-0");
    }
}

// The kernel keeps 15 characters: a long prefix is cut, and so are the index's last digits
// (the name is formatted by hand, not by snprintf, and must cut where snprintf would).
BOOST_AUTO_TEST_CASE(worker_names_are_cut_to_fifteen_characters) {
    zuki::test::Watchdog w(60s, "thread names cut");
    {
        WorkStealingConfig cfg = pool_config(1);
        cfg.thread_name_prefix = "a-prefix-longer-than-the-limit-";
        WorkStealingExecutor ex(cfg);
        BOOST_TEST(ex.spawn(NameOf{}).get() == "a-prefix-longer");
    }
    {
        // Workers 0-11 with a 14-character prefix: 0-9 keep their digit, 10 and 11 keep the "1".
        WorkStealingConfig cfg = pool_config(12);
        cfg.thread_name_prefix = "fourteen-chars";
        WorkStealingExecutor ex(cfg);
        const std::string expected[] = {"fourteen-chars0", "fourteen-chars1", "fourteen-chars2",
                                        "fourteen-chars3", "fourteen-chars4", "fourteen-chars5",
                                        "fourteen-chars6", "fourteen-chars7", "fourteen-chars8",
                                        "fourteen-chars9"};
        const std::set<std::string> allowed(std::begin(expected), std::end(expected));
        for (int i = 0; i < 50; ++i) {
            const std::string name = ex.spawn(NameOf{}).get();
            BOOST_TEST(allowed.count(name) == 1u, name);
        }
    }
    {
        WorkStealingConfig cfg = pool_config(1);
        cfg.thread_name_prefix = "";
        WorkStealingExecutor ex(cfg);
        BOOST_TEST(ex.spawn(NameOf{}).get() == "0");
    }
}
