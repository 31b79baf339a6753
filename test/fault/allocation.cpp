// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki fault allocation
#include <boost/test/unit_test.hpp>

// Allocation failure swept over every allocation of a scenario.
//
// This test binary replaces the global operator new (all forms) with one that can be told to
// fail "the n-th allocation from now" on the calling thread only (a thread_local countdown), so
// the workers, the watchdog and Asio's threads are unaffected unless a scenario arms the
// countdown on them (the nested-spawn scenario arms it on a worker, inside a task). Each scenario
// is run with n = 1, 2, 3, ... until a run completes without reaching the n-th allocation. In
// every run, each operation either throws std::bad_alloc — and then the future (or handler)
// passed in was destroyed exactly once by the time it threw, nothing of it runs, and join()
// still returns (the outstanding-work count is right) — or succeeds, and then the task runs
// exactly once. Only one allocation fails per run: later operations of the same run succeed,
// which checks that a failure leaves the executor usable.
//
// Scenarios: spawn from outside (with every priority, and a future too big for the recycling
// cache), Asio post from outside and from a worker, nested spawns and a batch from inside a
// task, Batch::push + spawn_batch (submitted, and dropped unsubmitted), SingleThreadedExecutor
// construct/spawn/run/destroy (from its driver thread and from another thread), destruction of
// a pool with pending and queued tasks, and WorkStealingExecutor construction (last: see
// construct_a_pool below).
//
// Besides the sweep: a future whose move constructor throws std::bad_alloc (an allocation
// failure inside the future, not in operator new) refused by spawn and Batch::push, leaving the
// pool usable and the executor's state not leaked.
//
// Sanitizers: the replacement calls malloc/posix_memalign and free, which ASan and TSan
// intercept, so both still see every allocation (ASan's alloc/dealloc pairing stays consistent
// because every form of new and delete is replaced together). Under ASan, Zuki's recycling
// cache is off (every task goes to operator new); in the other builds a task may come from the
// calling thread's cache, so each scenario's armed part runs on a fresh thread (empty cache).

#include <zuki/runtime/single_threaded_executor.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

#include <boost/asio/defer.hpp>
#include <boost/asio/post.hpp>

#include "common/drop_counter.hpp"
#include "common/gate_future.hpp"
#include "common/pool_helpers.hpp"
#include "common/test_env.hpp"
#include "common/watchdog.hpp"

// ---- the failing operator new ------------------------------------------------------------------

namespace fault {

// > 0: the countdown-th allocation from now on this thread throws std::bad_alloc (once).
thread_local long countdown = 0;
// Set when the armed failure was thrown.
thread_local bool fired = false;
// Pause before throwing the armed failure (lets threads started just before it settle).
thread_local bool pause_before_failure = false;

void* allocate(std::size_t n, std::size_t align) {
    if (countdown > 0 && --countdown == 0) {
        fired = true;
        if (pause_before_failure) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        throw std::bad_alloc();
    }
    if (n == 0) n = 1;
    void* p = nullptr;
    if (align <= alignof(std::max_align_t)) {
        p = std::malloc(n);
    } else if (posix_memalign(&p, align, n) != 0) {
        p = nullptr;
    }
    if (p == nullptr) throw std::bad_alloc();
    return p;
}
void* allocate_nothrow(std::size_t n, std::size_t align) noexcept {
    try {
        return allocate(n, align);
    } catch (...) {
        return nullptr;
    }
}

// Arms the countdown on the calling thread for its lifetime.
class Armed {
public:
    explicit Armed(long n) noexcept {
        fired = false;
        countdown = n;
    }
    Armed(const Armed&) = delete;
    Armed& operator=(const Armed&) = delete;
    ~Armed() { disarm(); }
    static void disarm() noexcept { countdown = 0; }
};

}  // namespace fault

void* operator new(std::size_t n) { return fault::allocate(n, 0); }
void* operator new[](std::size_t n) { return fault::allocate(n, 0); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return fault::allocate_nothrow(n, 0);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return fault::allocate_nothrow(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a) {
    return fault::allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return fault::allocate(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return fault::allocate_nothrow(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return fault::allocate_nothrow(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

// ---- helpers
// -------------------------------------------------------------------------------------

using namespace std::chrono_literals;
using zuki::Batch;
using zuki::Context;
using zuki::JoinHandle;
using zuki::Poll;
using zuki::SingleThreadedExecutor;
using zuki::TaskPriority;
using zuki::WorkStealingConfig;
using zuki::WorkStealingExecutor;
using zuki::test::DropCounter;
using zuki::test::DropRegistry;
using zuki::test::pool_config;
using zuki::test::SpinGate;
using zuki::test::SpinGateState;

namespace {

// A sweep stops here even if the scenario still hits its failure (it would be a runaway).
constexpr long max_sweep = 2000;

// Counts its runs per id; holds a DropCounter of the same id.
struct Job {
    DropCounter d;
    std::atomic<int>* runs;
    Poll<std::size_t> poll(Context&) {
        runs[d.id()].fetch_add(1, std::memory_order_relaxed);
        return Poll<std::size_t>::ready(d.id());
    }
};
// The same, too big for the recycling cache (over 1 KiB: straight to operator new).
struct BigJob {
    Job job;
    std::array<char, 2048> payload{};
    Poll<std::size_t> poll(Context& cx) { return job.poll(cx); }
};

// What one run of a scenario did with each of its k operations.
struct Outcome {
    explicit Outcome(std::size_t k) : accepted(k, -1), drops_at_throw(k, -1) {}
    std::vector<int> accepted;  // 1 accepted, 0 refused (bad_alloc), -1 not tried
    std::vector<std::int64_t> drops_at_throw;  // drops of a refused id when the call threw
    bool fired = false;  // the armed failure was thrown
    bool spurious = false;  // bad_alloc that the countdown did not throw
    std::string unexpected;  // any other exception
};

// Records the exception of a refused operation `i` (call from a catch block).
void refuse(Outcome& o, std::size_t i, const DropRegistry& reg) {
    const bool ours = fault::fired;
    fault::Armed::disarm();  // what follows may allocate (strings)
    try {
        throw;
    } catch (const std::bad_alloc&) {
        o.accepted[i] = 0;
        o.drops_at_throw[i] = reg.drops(i);
        if (!ours) o.spurious = true;
    } catch (const std::exception& e) {
        o.unexpected = std::string(typeid(e).name()) + ": " + e.what();
    } catch (...) {
        o.unexpected = "unknown exception";
    }
}

// Each accepted id ran exactly once and was dropped once; each refused id never ran, and its
// future was destroyed exactly once, already when the call threw.
void check(const Outcome& o, const DropRegistry& reg, const std::atomic<int>* runs) {
    BOOST_TEST(o.unexpected.empty(), o.unexpected);
    BOOST_TEST(!o.spurious, "a bad_alloc that the countdown did not throw");
    std::size_t bad = 0;
    for (std::size_t i = 0; i < o.accepted.size(); ++i) {
        if (o.accepted[i] < 0) continue;
        const int r = runs[i].load(std::memory_order_relaxed);
        const bool ok = o.accepted[i] == 1 ? (r == 1 && reg.created(i) == 1 && reg.drops(i) == 1)
                                           : (r == 0 && reg.created(i) == 1 && reg.drops(i) == 1 &&
                                              o.drops_at_throw[i] == 1);
        if (!ok && bad++ < 5)
            BOOST_ERROR("id " << i << (o.accepted[i] == 1 ? " accepted" : " refused") << ": ran "
                              << r << " times, created " << reg.created(i) << ", dropped "
                              << reg.drops(i) << " (" << o.drops_at_throw[i]
                              << " when the call threw)");
    }
    BOOST_TEST(bad == 0u);
}

// Runs `scenario(n)` (which returns whether the armed failure fired) for n = 1, 2, ... until it
// completes without reaching its n-th allocation. Returns the number of runs that failed.
template <class Scenario>
long sweep(const char* name, Scenario&& scenario) {
    long n = 1;
    for (;; ++n) {
        bool fired = false;
        BOOST_TEST_CONTEXT(name << ", allocation " << n << " failing") { fired = scenario(n); }
        if (!fired) break;
        if (n == max_sweep) {
            BOOST_ERROR(name << ": still failing after " << max_sweep << " allocations");
            break;
        }
    }
    BOOST_TEST_MESSAGE(name << ": " << n - 1 << " allocations swept");
    return n - 1;
}

// Runs `f` on a fresh thread (an empty recycling cache) and waits for it.
template <class F>
void on_fresh_thread(F&& f) {
    std::thread t(std::forward<F>(f));
    t.join();
}

std::unique_ptr<std::atomic<int>[]> zeroed(std::size_t n) {
    auto r = std::make_unique<std::atomic<int>[]>(n);
    for (std::size_t i = 0; i < n; ++i) r[i].store(0, std::memory_order_relaxed);
    return r;
}

using zuki::test::process_threads;
using zuki::test::threads_back_to;

WorkStealingConfig small_pool() {
    WorkStealingConfig cfg;
    cfg.threads = 2;
    cfg.local_queue_capacity = 2;  // overflow on the third local spawn
    cfg.global_queue_capacity = 1;  // spill on the second global chunk
    return cfg;
}

constexpr TaskPriority priorities[] = {TaskPriority::Normal, TaskPriority::High,
                                       TaskPriority::Critical, TaskPriority::Low};

}  // namespace

// ---- scenarios
// -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(spawn_from_outside) {
    zuki::test::Watchdog w(120s, "spawn_from_outside");
    constexpr std::size_t k = 6;
    const long swept = sweep("spawn from outside", [&](long n) {
        DropRegistry reg(k);
        auto runs = zeroed(k);
        Outcome o(k);
        std::vector<JoinHandle<std::size_t>> hs(k);
        std::size_t get_failures = 0;
        WorkStealingExecutor ex(small_pool());
        on_fresh_thread([&] {
            fault::Armed armed(n);
            for (std::size_t i = 0; i < k; ++i) {
                try {
                    if (i == k - 1)
                        hs[i] = ex.spawn(BigJob{Job{DropCounter(reg, i), runs.get()}});
                    else
                        hs[i] = ex.spawn(Job{DropCounter(reg, i), runs.get()}, priorities[i % 4]);
                    o.accepted[i] = 1;
                } catch (...) {
                    refuse(o, i, reg);
                }
            }
            // get() allocates a parker: a failure there leaves the handle usable.
            for (std::size_t i = 0; i < k; ++i) {
                if (o.accepted[i] != 1) continue;
                try {
                    (void)hs[i].get();
                    hs[i] = {};
                } catch (const std::bad_alloc&) {
                    ++get_failures;
                }
            }
            o.fired = fault::fired;
        });
        for (auto& h : hs)
            if (h.valid()) (void)h.get();  // the ones whose get() failed
        ex.join();  // the outstanding-work count is right: returns
        check(o, reg, runs.get());
        std::size_t accepted = 0;
        for (int a : o.accepted) accepted += a == 1;
        BOOST_TEST(ex.metrics().total().tasks_run == accepted);  // nothing refused was enqueued
        BOOST_TEST(get_failures <= 1u);
        return o.fired;
    });
    BOOST_TEST(swept >= static_cast<long>(k));  // at least every task allocation was failed once
}

BOOST_AUTO_TEST_CASE(asio_post_from_outside_and_from_a_worker) {
    zuki::test::Watchdog w(120s, "asio_post_from_outside_and_from_a_worker");
    constexpr std::size_t k = 4;
    sweep("asio post from outside", [&](long n) {
        DropRegistry reg(k);
        auto runs = zeroed(k);
        Outcome o(k);
        WorkStealingExecutor ex(small_pool());
        on_fresh_thread([&] {
            fault::Armed armed(n);
            for (std::size_t i = 0; i < k; ++i) {
                try {
                    boost::asio::post(ex, [d = DropCounter(reg, i), r = runs.get()] {
                        r[d.id()].fetch_add(1, std::memory_order_relaxed);
                    });
                    o.accepted[i] = 1;
                } catch (...) {
                    refuse(o, i, reg);
                }
            }
            o.fired = fault::fired;
        });
        ex.join();
        check(o, reg, runs.get());
        return o.fired;
    });
    sweep("asio post from a worker", [&](long n) {
        DropRegistry reg(k);
        auto runs = zeroed(k);
        Outcome o(k);
        WorkStealingExecutor ex(small_pool());
        boost::asio::post(ex, [&] {
            fault::Armed armed(n);
            for (std::size_t i = 0; i < k; ++i) {
                try {
                    if (i % 2 == 0) {
                        boost::asio::post(ex, [d = DropCounter(reg, i), r = runs.get()] {
                            r[d.id()].fetch_add(1, std::memory_order_relaxed);
                        });
                    } else {
                        boost::asio::defer(ex, [d = DropCounter(reg, i), r = runs.get()] {
                            r[d.id()].fetch_add(1, std::memory_order_relaxed);
                        });
                    }
                    o.accepted[i] = 1;
                } catch (...) {
                    refuse(o, i, reg);
                }
            }
            o.fired = fault::fired;
        });
        ex.join();  // also orders the worker's writes to `o` before the checks
        check(o, reg, runs.get());
        return o.fired;
    });
}

namespace {

// Spawns k children from inside the pool under an armed countdown: plain spawns at every
// priority (Normal/Low to the worker's deque, overflowing at capacity 2; High/Critical to the
// global queue), then the last two through a Batch submitted from inside. It keeps the
// children's handles (in `hs`, sized k beforehand) until after the armed part: a child that
// another worker ran before its handle was dropped would be freed here, to this thread's
// recycling cache, and the next spawn would take that block instead of calling operator new
// (one allocation fewer to fail, depending on timing).
struct NestedSpawner {
    WorkStealingExecutor* ex;
    DropRegistry* reg;
    std::atomic<int>* runs;
    Outcome* o;
    std::vector<JoinHandle<std::size_t>>* hs;
    long n;
    Poll<void> poll(Context&) {
        const std::size_t k = o->accepted.size();
        fault::Armed armed(n);
        for (std::size_t i = 0; i + 2 < k; ++i) {
            try {
                (*hs)[i] = ex->spawn(Job{DropCounter(*reg, i), runs}, priorities[i % 4]);
                o->accepted[i] = 1;
            } catch (...) {
                refuse(*o, i, *reg);
            }
        }
        Batch b(*ex);
        for (std::size_t i = k - 2; i < k; ++i) {
            try {
                (*hs)[i] = b.push(Job{DropCounter(*reg, i), runs});
                o->accepted[i] = 1;
            } catch (...) {
                refuse(*o, i, *reg);
            }
        }
        try {
            ex->spawn_batch(std::move(b));
        } catch (...) {
            fault::Armed::disarm();
            o->unexpected = "spawn_batch threw";
        }
        o->fired = fault::fired;
        return Poll<void>::ready();
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(nested_spawns_from_inside_a_task) {
    zuki::test::Watchdog w(120s, "nested_spawns_from_inside_a_task");
    constexpr std::size_t k = 8;
    const long swept = sweep("nested spawns", [&](long n) {
        DropRegistry reg(k);
        auto runs = zeroed(k);
        Outcome o(k);
        std::vector<JoinHandle<std::size_t>> hs(k);
        WorkStealingExecutor ex(small_pool());
        ex.spawn(NestedSpawner{&ex, &reg, runs.get(), &o, &hs, n}).get();
        ex.join();
        for (std::size_t i = 0; i < k; ++i) {
            if (o.accepted[i] == 1) BOOST_TEST(hs[i].get() == i);
        }
        hs.clear();
        check(o, reg, runs.get());
        return o.fired;
    });
    BOOST_TEST(swept >= static_cast<long>(k));
}

BOOST_AUTO_TEST_CASE(batch_push_and_spawn_batch) {
    zuki::test::Watchdog w(120s, "batch_push_and_spawn_batch");
    constexpr std::size_t k = 6;
    for (const bool submit : {true, false}) {
        sweep(submit ? "batch submitted" : "batch dropped unsubmitted", [&](long n) {
            DropRegistry reg(k);
            auto runs = zeroed(k);
            Outcome o(k);
            std::vector<JoinHandle<std::size_t>> hs(k);
            std::vector<std::size_t> sizes(k, 0);
            WorkStealingExecutor ex(small_pool());
            on_fresh_thread([&] {
                fault::Armed armed(n);
                Batch b(ex);
                for (std::size_t i = 0; i < k; ++i) {
                    try {
                        hs[i] = b.push(Job{DropCounter(reg, i), runs.get()}, priorities[i % 4]);
                        o.accepted[i] = 1;
                    } catch (...) {
                        refuse(o, i, reg);
                    }
                    sizes[i] = b.size();
                }
                if (submit) {
                    try {
                        ex.spawn_batch(std::move(b));
                    } catch (...) {
                        fault::Armed::disarm();
                        o.unexpected = "spawn_batch threw";
                    }
                }
                o.fired = fault::fired;
            });  // an unsubmitted batch was destroyed at the end of the lambda: cancelled
            ex.join();
            // A failed push left the batch as it was.
            std::size_t expect = 0;
            for (std::size_t i = 0; i < k; ++i) {
                expect += o.accepted[i] == 1;
                BOOST_TEST(sizes[i] == expect, "batch size after push " << i);
            }
            if (submit) {
                check(o, reg, runs.get());
                for (std::size_t i = 0; i < k; ++i)
                    if (o.accepted[i] == 1) BOOST_TEST(hs[i].get() == i);
            } else {
                // Nothing ran; every future, accepted or not, was destroyed once; every accepted
                // handle resolves to TaskCancelled.
                BOOST_TEST(o.unexpected.empty(), o.unexpected);
                for (std::size_t i = 0; i < k; ++i) {
                    BOOST_TEST(runs[i].load() == 0);
                    BOOST_TEST(reg.drops(i) == 1);
                    BOOST_TEST(reg.live(i) == 0);
                    if (o.accepted[i] == 1)
                        BOOST_CHECK_THROW((void)hs[i].get(), zuki::TaskCancelled);
                }
                BOOST_TEST(ex.metrics().total().tasks_run == 0u);
            }
            return o.fired;
        });
    }
}

BOOST_AUTO_TEST_CASE(single_threaded_executor_construct_spawn_run_destroy) {
    zuki::test::Watchdog w(120s, "single_threaded_executor_construct_spawn_run_destroy");
    constexpr std::size_t k = 6;
    // Everything on one armed thread: constructor, spawns (every level), run(), destructor.
    sweep("SingleThreadedExecutor on its driver thread", [&](long n) {
        DropRegistry reg(k);
        auto runs = zeroed(k);
        Outcome o(k);
        auto token = std::make_shared<int>(0);
        std::weak_ptr<int> alive = token;
        bool constructed = false;
        bool ran = false;
        on_fresh_thread([&] {
            fault::Armed armed(n);
            try {
                SingleThreadedExecutor ex([t = std::move(token)](std::exception_ptr) {});
                constructed = true;
                for (std::size_t i = 0; i < k; ++i) {
                    try {
                        auto job = Job{DropCounter(reg, i), runs.get()};
                        switch (i % 3) {
                            case 0:
                                ex.spawn(std::move(job)).detach();
                                break;
                            case 1:
                                ex.spawn_high(std::move(job)).detach();
                                break;
                            default:
                                ex.spawn_low(std::move(job)).detach();
                                break;
                        }
                        o.accepted[i] = 1;
                    } catch (...) {
                        refuse(o, i, reg);
                    }
                }
                ex.run();
                ran = true;
            } catch (const std::bad_alloc&) {
                fault::Armed::disarm();
                if (constructed) o.unexpected = "bad_alloc from run()";
            } catch (const std::exception& e) {
                fault::Armed::disarm();
                o.unexpected = e.what();
            }
            o.fired = fault::fired;
        });
        if (constructed) {
            BOOST_TEST(ran);
            check(o, reg, runs.get());
        }
        BOOST_TEST(alive.expired(), "the executor's state outlived it");
        return o.fired;
    });
    // Spawns from another thread (the inbox) while the executor is idle, then run() drains them.
    sweep("SingleThreadedExecutor, spawns from another thread", [&](long n) {
        DropRegistry reg(k);
        auto runs = zeroed(k);
        Outcome o(k);
        SingleThreadedExecutor ex;
        ex.spawn(zuki::ready()).detach();
        ex.run();  // the driver thread is known; the next spawns come from elsewhere
        on_fresh_thread([&] {
            fault::Armed armed(n);
            for (std::size_t i = 0; i < k; ++i) {
                try {
                    ex.spawn(Job{DropCounter(reg, i), runs.get()}, priorities[i % 4]).detach();
                    o.accepted[i] = 1;
                } catch (...) {
                    refuse(o, i, reg);
                }
            }
            o.fired = fault::fired;
        });
        ex.restart();  // run() ran out of work above (io_context's semantics)
        ex.run();
        check(o, reg, runs.get());
        BOOST_TEST(ex.is_empty());
        return o.fired;
    });
}

namespace {

// Pending forever; keeps its own waker (a reference cycle only the shutdown sweep breaks).
struct SelfWaking {
    DropCounter d;
    std::optional<zuki::Waker> w;
    Poll<std::size_t> poll(Context& cx) {
        w = cx.waker();
        return Poll<std::size_t>::pending();
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(shutdown_with_pending_and_queued_tasks) {
    zuki::test::Watchdog w(120s, "shutdown_with_pending_and_queued_tasks");
    constexpr std::size_t pending = 8;
    constexpr std::size_t queued = 8;
    constexpr std::size_t k = pending + queued;
    // The destructor is noexcept: if it allocated, a failure would terminate the process. The
    // sweep shows it does not allocate (it ends at n = 1), or lets the failure surface.
    const long swept = sweep("destructor with pending and queued tasks", [&](long n) {
        DropRegistry reg(k);
        auto runs = zeroed(k);
        std::vector<JoinHandle<std::size_t>> hs;
        auto ex = std::make_unique<WorkStealingExecutor>(small_pool());
        for (std::size_t i = 0; i < pending; ++i)
            hs.push_back(ex->spawn(SelfWaking{DropCounter(reg, i), {}}));
        auto gate = std::make_shared<SpinGateState>();
        auto g1 = ex->spawn(SpinGate(gate));
        auto g2 = ex->spawn(SpinGate(gate));
        while (gate->started.load(std::memory_order_acquire) < 2) std::this_thread::yield();
        for (std::size_t i = pending; i < k; ++i)
            hs.push_back(ex->spawn(Job{DropCounter(reg, i), runs.get()}, priorities[i % 4]));
        ex->stop();
        gate->open.store(true, std::memory_order_release);
        bool fired = false;
        on_fresh_thread([&] {
            fault::Armed armed(n);
            ex.reset();
            fired = fault::fired;
        });
        for (std::size_t i = 0; i < k; ++i) {
            BOOST_CHECK_THROW((void)hs[i].get(), zuki::TaskCancelled);
            BOOST_TEST(runs[i].load() == 0);
            BOOST_TEST(reg.drops(i) == 1);
            BOOST_TEST(reg.live(i) == 0);
        }
        return fired;
    });
    BOOST_TEST(swept == 0, "the destructor allocated " << swept << " times");
}

// ---- a future whose move constructor throws ----------------------------------------------------

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
        WorkStealingConfig cfg = pool_config(2);
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
        WorkStealingConfig cfg = pool_config(2);
        cfg.on_unhandled_exception = [token = std::move(token)](std::exception_ptr) {};
        WorkStealingExecutor ex(cfg);
        BOOST_TEST(ex.spawn(zuki::ready(1)).get() == 1);
        BOOST_TEST(!alive.expired());
    }
    BOOST_TEST(alive.expired());
}

// Last, because a failure here may leave a worker thread behind, blocked on the gate of a
// scheduler that the failed constructor deleted (the sweep then stops at the first such run).
BOOST_AUTO_TEST_CASE(construct_a_pool) {
    zuki::test::Watchdog w(120s, "construct_a_pool");
    const int baseline = process_threads();
    const long swept = sweep("WorkStealingExecutor constructor", [&](long n) {
        auto token = std::make_shared<int>(0);
        std::weak_ptr<int> alive = token;
        WorkStealingConfig cfg = small_pool();
        cfg.on_unhandled_exception = [t = std::move(token)](std::exception_ptr) {};
        bool constructed = false;
        bool fired = false;
        std::string unexpected;
        on_fresh_thread([&] {
            // A worker started just before the failing allocation reaches its start gate and
            // waits there before the failure is thrown: what happens to it is then the same in
            // every run (it must be released and joined before the constructor throws).
            fault::pause_before_failure = true;
            try {
                fault::Armed armed(n);
                WorkStealingExecutor ex(cfg);
                fault::Armed::disarm();
                constructed = true;
                fired = fault::fired;
                if (ex.spawn(zuki::ready(5)).get() != 5) unexpected = "wrong value";
                ex.join();
            } catch (const std::bad_alloc&) {
                fired = fault::fired;
            } catch (const std::exception& e) {
                fault::Armed::disarm();
                unexpected = e.what();
            }
        });
        cfg = WorkStealingConfig{};  // drop our copy of the token
        BOOST_TEST(unexpected.empty(), unexpected);
        BOOST_TEST(alive.expired(), "the executor's state outlived a constructor that threw");
        // A thread left behind waits on the gate of a deleted scheduler; the next run would
        // likely allocate its scheduler at the same address and wake it: stop at the first.
        BOOST_REQUIRE_MESSAGE(threads_back_to(baseline),
                              (constructed ? "after a constructed pool, "
                                           : "after a constructor that threw bad_alloc, ")
                                  << process_threads() - baseline
                                  << " worker thread(s) left running");
        return fired;
    });
    BOOST_TEST(swept > 0);
}
