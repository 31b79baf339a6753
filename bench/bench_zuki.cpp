// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// bench_zuki: Zuki's WorkStealingExecutor against boost::asio::thread_pool, boost::asio::io_context
// run by N threads, and oneTBB (task_arena + task_group), in the same run on the same machine.
//
//   bench_zuki [--quick] [--threads N] [--out DIR] [--reps R] [--only w1,w2] [--backends b1,b2]
//              [--no-chart] [--timeout S] [--metrics] [--list]
//
// A small harness of its own rather than Google Benchmark: the shapes here (a burst of tasks timed
// from inside the pool, latency percentiles, an idle second of CPU, one pool per backend kept alive
// and runs interleaved across backends so a burst of machine noise hits all of them alike) do not
// fit Google Benchmark's per-iteration model well.
//
// Method (see doc/benchmarks.md for the per-backend idioms):
// - One pool per backend, all created up front and kept alive (idle pools sleep; a 1 ms pause
//   between runs lets the previous one park). Each workload: warm-up runs of every backend, then
//   R rounds; each round runs every backend once, the order rotated each round.
// - Each figure is the median of the R runs, printed with min and max.
// - Ratios: every ratio is "zuki's cost / best anchor's cost" (anchors: asio_tp, io_context, tbb),
//   so below 1 means zuki is better. For times: zuki_time / best_time; for throughput:
//   best_throughput / zuki_throughput.
// - idle_cpu is measured first, with only one pool alive at a time (oneTBB last, since its worker
//   threads outlive its arena).
// - Every wait is bounded: a watchdog aborts the program with a message if a run hangs.
//
// Outputs: the table on stdout, bench_results.csv (every figure) and bench_ratios.csv (the ratio
// columns) in --out DIR (default: the current directory), and bench_ratios.png drawn by gnuplot
// from bench_ratios.csv with bench/bench_chart.gp (skipped with a message if gnuplot is missing).

#include <zuki/zuki.hpp>

#if __has_include(<zuki/asio/executor.hpp>)
#include <zuki/asio/executor.hpp>
#define ZUKI_BENCH_HAVE_ZUKI_ASIO 1
#else
#define ZUKI_BENCH_HAVE_ZUKI_ASIO 0
#endif

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <sys/utsname.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

// =================================================================================================
// Clock, options, watchdog
// =================================================================================================

std::int64_t now_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t process_cpu_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct Options {
    bool quick = false;
    std::size_t threads = 0;
    std::string out_dir = ".";
    int reps_override = 0;
    std::vector<std::string> only;
    std::vector<std::string> backends;
    bool chart = true;
    int timeout_s = 0;  // whole suite; 0 = by mode
    bool metrics = false;
    std::string chart_script;
    int wake_gap_us = 0;  // 0 = by mode
};
Options opt;

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "bench_zuki: %s\n", msg.c_str());
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(3);
}

// One thread that sleeps on a condition variable until the armed deadline (no periodic wake-ups,
// so it costs nothing during idle_cpu). A run that overstays its deadline aborts the program.
class Watchdog {
public:
    Watchdog() : thread_([this] { loop(); }) {}
    ~Watchdog() {
        {
            std::lock_guard l(m_);
            quit_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    void arm(std::string what, double seconds) {
        {
            std::lock_guard l(m_);
            what_ = std::move(what);
            deadline_ = std::chrono::steady_clock::now() +
                        std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6));
            armed_ = true;
        }
        cv_.notify_all();
    }
    void disarm() {
        std::lock_guard l(m_);
        armed_ = false;
    }
    void set_suite_deadline(double seconds) {
        std::lock_guard l(m_);
        suite_deadline_ = std::chrono::steady_clock::now() +
                          std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6));
        suite_seconds_ = seconds;
    }

private:
    void loop() {
        std::unique_lock l(m_);
        for (;;) {
            if (quit_) return;
            auto until = suite_deadline_;
            if (armed_ && deadline_ < until) until = deadline_;
            cv_.wait_until(l, until);
            if (quit_) return;
            const auto now = std::chrono::steady_clock::now();
            if (now >= suite_deadline_)
                die("watchdog: the whole suite exceeded " + std::to_string(int(suite_seconds_)) +
                    " s (during '" + what_ + "'); aborting");
            if (armed_ && now >= deadline_)
                die("watchdog: '" + what_ + "' did not finish in time (a hang?); aborting");
        }
    }
    std::mutex m_;
    std::condition_variable cv_;
    std::string what_ = "start-up";
    std::chrono::steady_clock::time_point deadline_{};
    std::chrono::steady_clock::time_point suite_deadline_ =
        std::chrono::steady_clock::now() + std::chrono::hours(24);
    double suite_seconds_ = 86400;
    bool armed_ = false;
    bool quit_ = false;
    std::thread thread_;
};
Watchdog* watchdog = nullptr;

// Seconds one run (one backend, one repetition) may take before the watchdog fires.
constexpr double run_timeout_s = 60.0;

// =================================================================================================
// Synchronisation used by every backend alike
// =================================================================================================

// Counts down; the last arrival records the time and wakes the (sleeping, never spinning) waiter.
class Latch {
public:
    void reset(long n) {
        remaining_.store(n, std::memory_order_relaxed);
        std::lock_guard l(m_);
        fired_ = false;
        end_ns_ = 0;
    }
    void arrive() noexcept {
        // acq_rel: the last arrival sees every other arrival's writes before it fires.
        if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) fire();
    }
    void fire() noexcept {
        const std::int64_t t = now_ns();
        // Notify under the lock: once the waiter returns, nobody touches this latch any more.
        std::lock_guard l(m_);
        end_ns_ = t;
        fired_ = true;
        cv_.notify_all();
    }
    /// Returns the time of the firing arrival.
    std::int64_t wait(const char* what) {
        std::unique_lock l(m_);
        if (!cv_.wait_for(l, std::chrono::seconds(int(run_timeout_s)), [&] { return fired_; }))
            die(std::string("timed out waiting for ") + what + " (a hang?); aborting");
        return end_ns_;
    }

private:
    std::atomic<long> remaining_{0};
    std::mutex m_;
    std::condition_variable cv_;
    bool fired_ = false;
    std::int64_t end_ns_ = 0;
};

// Start gate for producer threads (they sleep until opened).
class Gate {
public:
    void open() {
        std::lock_guard l(m_);
        open_ = true;
        cv_.notify_all();
    }
    void wait() {
        std::unique_lock l(m_);
        cv_.wait(l, [&] { return open_; });
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool open_ = false;
};

// State of the run in progress. One instance for the whole program (runs are sequential), so a
// late straggler of a finished run never touches freed memory.
struct Shared {
    Latch done;  // the measured work finished
    Latch aux;  // spinners started / stopped
    std::atomic<std::int64_t> t0{0};
    std::atomic<std::int64_t> t1{0};
    std::atomic<bool> stop{false};
    std::atomic<long> result{0};
};
Shared S;

void arrive() noexcept { S.done.arrive(); }

// Sizes from the issue.
constexpr int spawn_many = 10'000;
constexpr int yield_tasks = 200;
constexpr int yields_per_task = 1'000;
constexpr int ping_pairs = 1'000;
constexpr int chain_length = 1'000;
constexpr int fib_n = 25;
constexpr int posts_per_producer = 200'000;
constexpr int batch_size = 10'000;
constexpr int wake_samples = 2'000;

// =================================================================================================
// Pools
// =================================================================================================

enum class Backend { zuki, zuki_asio, asio_tp, io_context, tbb };
constexpr Backend all_backends[] = {Backend::zuki, Backend::zuki_asio, Backend::asio_tp,
                                    Backend::io_context, Backend::tbb};
const char* name_of(Backend b) {
    switch (b) {
        case Backend::zuki:
            return "zuki";
        case Backend::zuki_asio:
            return "zuki_asio";
        case Backend::asio_tp:
            return "asio_tp";
        case Backend::io_context:
            return "io_context";
        case Backend::tbb:
            return "tbb";
    }
    return "?";
}
bool is_anchor(Backend b) {
    return b == Backend::asio_tp || b == Backend::io_context || b == Backend::tbb;
}

class IoContextPool {
public:
    explicit IoContextPool(std::size_t n)
        : ioc_(static_cast<int>(n)), guard_(boost::asio::make_work_guard(ioc_)) {
        for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this] { ioc_.run(); });
    }
    ~IoContextPool() {
        guard_.reset();
        ioc_.stop();
        for (auto& t : threads_) t.join();
    }
    boost::asio::io_context::executor_type get_executor() noexcept { return ioc_.get_executor(); }

private:
    boost::asio::io_context ioc_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::vector<std::thread> threads_;
};

// oneTBB with N worker threads: the market has N workers (global_control N+1: TBB counts the
// external thread), the arena has N slots, none reserved for external threads, so work enqueued
// from outside runs on N workers, like the other pools.
class TbbPool {
public:
    explicit TbbPool(std::size_t n)
        : gc_(tbb::global_control::max_allowed_parallelism, n + 1), arena_(static_cast<int>(n), 0) {
        arena_.initialize();
    }
    tbb::task_arena& arena() noexcept { return arena_; }

private:
    tbb::global_control gc_;
    tbb::task_arena arena_;
};

struct Pools {
    std::size_t n = 1;
    std::unique_ptr<zuki::WorkStealingExecutor> zuki;
    std::unique_ptr<zuki::WorkStealingExecutor> zuki_asio;
    std::unique_ptr<boost::asio::thread_pool> asio_tp;
    std::unique_ptr<IoContextPool> io_context;
    std::unique_ptr<TbbPool> tbb;

    void create(Backend b) {
        switch (b) {
            case Backend::zuki:
                zuki = std::make_unique<zuki::WorkStealingExecutor>(n);
                break;
            case Backend::zuki_asio:
                zuki_asio = std::make_unique<zuki::WorkStealingExecutor>(n);
                break;
            case Backend::asio_tp:
                asio_tp = std::make_unique<boost::asio::thread_pool>(n);
                break;
            case Backend::io_context:
                io_context = std::make_unique<IoContextPool>(n);
                break;
            case Backend::tbb:
                tbb = std::make_unique<TbbPool>(n);
                break;
        }
    }
    void destroy(Backend b) {
        switch (b) {
            case Backend::zuki:
                zuki.reset();
                break;
            case Backend::zuki_asio:
                zuki_asio.reset();
                break;
            case Backend::asio_tp:
                asio_tp.reset();
                break;
            case Backend::io_context:
                io_context.reset();
                break;
            case Backend::tbb:
                tbb.reset();
                break;
        }
    }
};

// The three ways of driving a pool: Zuki tasks, Asio handlers on some executor, oneTBB.
struct ZukiImpl {
    zuki::WorkStealingExecutor& pool;
};
template <class Ex>
struct AsioImpl {
    Ex ex;
};
struct TbbImpl {
    tbb::task_arena& arena;
};

template <class Fn>
auto with_backend(Backend b, Pools& p, Fn&& fn) {
    switch (b) {
        case Backend::zuki:
            return fn(ZukiImpl{*p.zuki});
#if ZUKI_BENCH_HAVE_ZUKI_ASIO
        case Backend::zuki_asio:
            return fn(AsioImpl<decltype(p.zuki_asio->get_executor())>{p.zuki_asio->get_executor()});
#else
        case Backend::zuki_asio:
            break;
#endif
        case Backend::asio_tp:
            return fn(AsioImpl<boost::asio::thread_pool::executor_type>{p.asio_tp->get_executor()});
        case Backend::io_context:
            return fn(
                AsioImpl<boost::asio::io_context::executor_type>{p.io_context->get_executor()});
        case Backend::tbb:
            return fn(TbbImpl{p.tbb->arena()});
    }
    die("backend not available");
}

// A Zuki task that runs a closure once: the "spawn a closure" idiom with the public API.
template <class F>
auto closure(F f) {
    return zuki::map(zuki::ready(), std::move(f));
}

template <class F>
void zspawn(zuki::WorkStealingExecutor& pool, F f) {
    pool.spawn_detached(closure(std::move(f)));
}

double per_op(std::int64_t t0, std::int64_t t1, double ops) {
    return static_cast<double>(t1 - t0) / ops;
}

// =================================================================================================
// 1. spawn_many_local: inside one task, spawn 10,000 tasks that each decrement a counter.
//    ns per task, from the root task's start to the last task's end.
// =================================================================================================

zuki::Async<void> spawn_many_root(zuki::WorkStealingExecutor& pool) {
    S.t0.store(now_ns(), std::memory_order_relaxed);
    for (int i = 0; i < spawn_many; ++i) zspawn(pool, [] { arrive(); });
    co_return;
}

double spawn_many_local(ZukiImpl z) {
    S.done.reset(spawn_many);
    z.pool.spawn_detached(spawn_many_root(z.pool));
    const auto t1 = S.done.wait("spawn_many_local");
    return per_op(S.t0.load(), t1, spawn_many);
}
template <class Ex>
double spawn_many_local(AsioImpl<Ex> a) {
    S.done.reset(spawn_many);
    boost::asio::post(a.ex, [ex = a.ex] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        for (int i = 0; i < spawn_many; ++i) boost::asio::post(ex, [] { arrive(); });
    });
    const auto t1 = S.done.wait("spawn_many_local");
    return per_op(S.t0.load(), t1, spawn_many);
}
double spawn_many_local(TbbImpl t) {
    S.done.reset(spawn_many);
    t.arena.enqueue([] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        tbb::task_group tg;
        for (int i = 0; i < spawn_many; ++i) tg.run([] { arrive(); });
        tg.wait();
    });
    const auto t1 = S.done.wait("spawn_many_local");
    return per_op(S.t0.load(), t1, spawn_many);
}

// =================================================================================================
// 2. spawn_many_remote_idle: the same 10,000 submitted from this (outside) thread into an idle
//    pool. ns per task, from the first submission to the last task's end.
// =================================================================================================

double spawn_many_remote(ZukiImpl z) {
    S.done.reset(spawn_many);
    const auto t0 = now_ns();
    for (int i = 0; i < spawn_many; ++i) zspawn(z.pool, [] { arrive(); });
    return per_op(t0, S.done.wait("spawn_many_remote"), spawn_many);
}
template <class Ex>
double spawn_many_remote(AsioImpl<Ex> a) {
    S.done.reset(spawn_many);
    const auto t0 = now_ns();
    for (int i = 0; i < spawn_many; ++i) boost::asio::post(a.ex, [] { arrive(); });
    return per_op(t0, S.done.wait("spawn_many_remote"), spawn_many);
}
double spawn_many_remote(TbbImpl t) {
    S.done.reset(spawn_many);
    const auto t0 = now_ns();
    for (int i = 0; i < spawn_many; ++i) t.arena.enqueue([] { arrive(); });
    return per_op(t0, S.done.wait("spawn_many_remote"), spawn_many);
}

// =================================================================================================
// 3. spawn_many_remote_busy: the same while every worker runs a task that keeps re-submitting
//    itself (one spinner per worker).
// =================================================================================================

zuki::Async<void> zuki_spinner() {
    S.aux.arrive();  // started
    while (!S.stop.load(std::memory_order_relaxed)) co_await zuki::yield_now();
    S.aux.arrive();  // stopped
}
template <class Ex>
struct AsioSpinner {
    Ex ex;
    bool started = false;
    void operator()() {
        if (!started) {
            started = true;
            S.aux.arrive();
        }
        if (S.stop.load(std::memory_order_relaxed)) {
            S.aux.arrive();
            return;
        }
        boost::asio::post(ex, std::move(*this));
    }
};
struct TbbSpinner {
    tbb::task_arena* arena;
    bool started = false;
    void operator()() const {
        if (!started) S.aux.arrive();
        if (S.stop.load(std::memory_order_relaxed)) {
            S.aux.arrive();
            return;
        }
        arena->enqueue(TbbSpinner{arena, true});
    }
};

template <class Impl, class StartOne>
double remote_busy(Impl impl, std::size_t workers, StartOne start_one) {
    S.stop.store(false);
    S.aux.reset(static_cast<long>(workers));
    for (std::size_t i = 0; i < workers; ++i) start_one();
    S.aux.wait("spinners to start");
    S.aux.reset(static_cast<long>(workers));
    const double r = spawn_many_remote(impl);
    S.stop.store(true);
    S.aux.wait("spinners to stop");
    return r;
}
double spawn_many_remote_busy(ZukiImpl z, std::size_t n) {
    return remote_busy(z, n, [&] { z.pool.spawn_detached(zuki_spinner()); });
}
template <class Ex>
double spawn_many_remote_busy(AsioImpl<Ex> a, std::size_t n) {
    return remote_busy(a, n, [&] { boost::asio::post(a.ex, AsioSpinner<Ex>{a.ex}); });
}
double spawn_many_remote_busy(TbbImpl t, std::size_t n) {
    return remote_busy(t, n, [&] { t.arena.enqueue(TbbSpinner{&t.arena}); });
}

// =================================================================================================
// 4. yield_many: 200 tasks each yielding 1,000 times. ns per yield.
// =================================================================================================

zuki::Async<void> zuki_yielder() {
    for (int i = 0; i < yields_per_task; ++i) co_await zuki::yield_now();
    arrive();
}
double yield_many(ZukiImpl z) {
    S.done.reset(yield_tasks);
    const auto t0 = now_ns();
    for (int i = 0; i < yield_tasks; ++i) z.pool.spawn_detached(zuki_yielder());
    return per_op(t0, S.done.wait("yield_many"), double(yield_tasks) * yields_per_task);
}
template <class Ex>
struct AsioYielder {  // "yield" = re-post itself
    Ex ex;
    int left;
    void operator()() {
        if (left-- == 0) return arrive();
        boost::asio::post(ex, std::move(*this));
    }
};
template <class Ex>
double yield_many(AsioImpl<Ex> a) {
    S.done.reset(yield_tasks);
    const auto t0 = now_ns();
    for (int i = 0; i < yield_tasks; ++i)
        boost::asio::post(a.ex, AsioYielder<Ex>{a.ex, yields_per_task});
    return per_op(t0, S.done.wait("yield_many"), double(yield_tasks) * yields_per_task);
}
struct TbbYielder {  // "yield" = re-enqueue itself (FIFO, so the others run first)
    tbb::task_arena* arena;
    int left;
    void operator()() const {
        if (left == 0) return arrive();
        arena->enqueue(TbbYielder{arena, left - 1});
    }
};
double yield_many(TbbImpl t) {
    S.done.reset(yield_tasks);
    const auto t0 = now_ns();
    for (int i = 0; i < yield_tasks; ++i) t.arena.enqueue(TbbYielder{&t.arena, yields_per_task});
    return per_op(t0, S.done.wait("yield_many"), double(yield_tasks) * yields_per_task);
}

// =================================================================================================
// 5. ping_pong: 1,000 concurrent pairs exchanging one message each way. ns per round trip, from
//    the root task's start to the last pair's end.
// =================================================================================================

// A single-use channel for Zuki futures (Zuki has none yet; Tokio's oneshot in 40 lines).
class Oneshot {
public:
    void send() noexcept {
        // acq_rel: release publishes the message; acquire sees the waker the receiver stored.
        if (state_.exchange(sent, std::memory_order_acq_rel) == waiting) waker_.wake();
    }
    zuki::Poll<void> poll_recv(zuki::Context& cx) {
        int s = state_.load(std::memory_order_acquire);
        if (s == sent) return zuki::Poll<void>::ready();
        if (s == waiting) {
            if (waker_.will_wake(cx.waker())) return zuki::Poll<void>::pending();
            // Take the slot back to replace the waker; fails if the message arrived.
            if (!state_.compare_exchange_strong(s, empty, std::memory_order_acq_rel))
                return zuki::Poll<void>::ready();
        }
        waker_ = cx.waker();
        int e = empty;
        // release: publishes waker_ to the sender's exchange.
        if (state_.compare_exchange_strong(e, waiting, std::memory_order_acq_rel))
            return zuki::Poll<void>::pending();
        return zuki::Poll<void>::ready();
    }

private:
    static constexpr int empty = 0, waiting = 1, sent = 2;
    std::atomic<int> state_{empty};
    zuki::Waker waker_ = zuki::Waker::noop();
};
// Both directions of a pair in one allocation, shared by ping and pong.
struct PingPair {
    Oneshot to_pong;
    Oneshot to_ping;
};
struct Recv {
    std::shared_ptr<PingPair> pair;
    Oneshot* ch;
    zuki::Poll<void> poll(zuki::Context& cx) { return ch->poll_recv(cx); }
};
// Await recv(...), not Recv{...}: GCC 12 destroys an aggregate-initialised temporary operand of
// co_await twice (once at a wrong address); a prvalue returned by a function is fine.
Recv recv(std::shared_ptr<PingPair> pair, Oneshot* ch) { return Recv{std::move(pair), ch}; }
zuki::Async<void> zuki_pong(std::shared_ptr<PingPair> p) {
    co_await recv(p, &p->to_pong);
    p->to_ping.send();
}
zuki::Async<void> zuki_ping(zuki::WorkStealingExecutor& pool) {
    auto p = std::make_shared<PingPair>();
    pool.spawn_detached(zuki_pong(p));
    p->to_pong.send();
    co_await recv(p, &p->to_ping);
    arrive();
}
zuki::Async<void> zuki_ping_root(zuki::WorkStealingExecutor& pool) {
    S.t0.store(now_ns(), std::memory_order_relaxed);
    for (int i = 0; i < ping_pairs; ++i) pool.spawn_detached(zuki_ping(pool));
    co_return;
}
double ping_pong(ZukiImpl z) {
    S.done.reset(ping_pairs);
    z.pool.spawn_detached(zuki_ping_root(z.pool));
    const auto t1 = S.done.wait("ping_pong");
    return per_op(S.t0.load(), t1, ping_pairs);
}
template <class Ex>
double ping_pong(AsioImpl<Ex> a) {  // ping posts pong (the message), pong posts the reply
    S.done.reset(ping_pairs);
    boost::asio::post(a.ex, [ex = a.ex] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        for (int i = 0; i < ping_pairs; ++i)
            boost::asio::post(ex, [ex] {
                boost::asio::post(ex, [ex] { boost::asio::post(ex, [] { arrive(); }); });
            });
    });
    const auto t1 = S.done.wait("ping_pong");
    return per_op(S.t0.load(), t1, ping_pairs);
}
double ping_pong(TbbImpl t) {  // the same three task spawns per pair, with task_group::run
    S.done.reset(ping_pairs);
    t.arena.enqueue([] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        tbb::task_group tg;
        for (int i = 0; i < ping_pairs; ++i)
            tg.run([&tg] { tg.run([&tg] { tg.run([] { arrive(); }); }); });
        tg.wait();
    });
    const auto t1 = S.done.wait("ping_pong");
    return per_op(S.t0.load(), t1, ping_pairs);
}

// =================================================================================================
// 6. chained_spawn: a chain of 1,000 tasks, each spawning the next. ns per hop.
// =================================================================================================

void zuki_hop(zuki::WorkStealingExecutor& pool, int left) {
    if (left == 0) return arrive();
    zspawn(pool, [&pool, left] { zuki_hop(pool, left - 1); });
}
double chained_spawn(ZukiImpl z) {
    S.done.reset(1);
    zspawn(z.pool, [&pool = z.pool] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        zuki_hop(pool, chain_length - 1);
    });
    const auto t1 = S.done.wait("chained_spawn");
    return per_op(S.t0.load(), t1, chain_length - 1);
}
template <class Ex>
void asio_hop(Ex ex, int left) {
    if (left == 0) return arrive();
    boost::asio::post(ex, [ex, left] { asio_hop(ex, left - 1); });
}
template <class Ex>
double chained_spawn(AsioImpl<Ex> a) {
    S.done.reset(1);
    boost::asio::post(a.ex, [ex = a.ex] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        asio_hop(ex, chain_length - 1);
    });
    const auto t1 = S.done.wait("chained_spawn");
    return per_op(S.t0.load(), t1, chain_length - 1);
}
void tbb_hop(tbb::task_group& tg, int left) {
    if (left == 0) return arrive();
    tg.run([&tg, left] { tbb_hop(tg, left - 1); });
}
double chained_spawn(TbbImpl t) {
    S.done.reset(1);
    t.arena.enqueue([] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        tbb::task_group tg;
        tbb_hop(tg, chain_length - 1);
        tg.wait();
    });
    const auto t1 = S.done.wait("chained_spawn");
    return per_op(S.t0.load(), t1, chain_length - 1);
}

// =================================================================================================
// 7. fib(25) fork-join, a task per call: spawn fib(n-1), compute fib(n-2) in place, join.
//    Milliseconds for the whole tree, from the root's start to its end.
// =================================================================================================

[[gnu::noinline]] long fib_seq(int n) { return n < 2 ? n : fib_seq(n - 1) + fib_seq(n - 2); }
volatile long fib_sink = 0;  // keeps the sequential reference run from being optimised away

zuki::Async<long> zuki_fib(zuki::WorkStealingExecutor& pool, int n) {
    if (n < 2) co_return n;
    zuki::JoinHandle<long> left = pool.spawn(zuki_fib(pool, n - 1));
    const long right = co_await zuki_fib(pool, n - 2);
    co_return co_await left + right;
}
zuki::Async<void> zuki_fib_root(zuki::WorkStealingExecutor& pool) {
    S.t0.store(now_ns(), std::memory_order_relaxed);
    S.result.store(co_await zuki_fib(pool, fib_n));
    S.done.fire();
}
double check_fib(double ms) {
    if (S.result.load() != fib_seq(fib_n)) die("fib: wrong result");
    return ms;
}
double fib(ZukiImpl z) {
    S.done.reset(1);
    z.pool.spawn_detached(zuki_fib_root(z.pool));
    const auto t1 = S.done.wait("fib");
    return check_fib(double(t1 - S.t0.load()) / 1e6);
}

// Asio has no join: continuation passing. Each fork allocates a join record; the second child to
// report (an atomic countdown) reports the sum to the parent's record.
struct FibJoin {
    FibJoin* parent;
    int slot;  // which of the parent's two values this one fills
    long value[2] = {0, 0};
    std::atomic<int> pending{2};
};
void fib_report(FibJoin* j, int slot, long v) {
    for (;;) {
        if (j == nullptr) {
            S.result.store(v);
            S.done.fire();
            return;
        }
        j->value[slot] = v;
        // acq_rel: the second reporter sees the first one's value.
        if (j->pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        v = j->value[0] + j->value[1];
        FibJoin* p = j->parent;
        slot = j->slot;
        delete j;
        j = p;
    }
}
template <class Ex>
void asio_fib(Ex ex, int n, FibJoin* parent, int slot) {
    while (n >= 2) {
        auto* j = new FibJoin{parent, slot};
        boost::asio::post(ex, [ex, n, j] { asio_fib(ex, n - 1, j, 0); });
        parent = j;  // the n-2 child runs here
        slot = 1;
        n -= 2;
    }
    fib_report(parent, slot, n);
}
template <class Ex>
double fib(AsioImpl<Ex> a) {
    S.done.reset(1);
    boost::asio::post(a.ex, [ex = a.ex] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        asio_fib(ex, fib_n, nullptr, 0);
    });
    const auto t1 = S.done.wait("fib");
    return check_fib(double(t1 - S.t0.load()) / 1e6);
}
long tbb_fib(int n) {  // the task_group example of the oneTBB documentation
    if (n < 2) return n;
    long x = 0;
    tbb::task_group tg;
    tg.run([&] { x = tbb_fib(n - 1); });
    const long y = tbb_fib(n - 2);
    tg.wait();
    return x + y;
}
double fib(TbbImpl t) {
    S.done.reset(1);
    t.arena.enqueue([] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        S.result.store(tbb_fib(fib_n));
        S.done.fire();
    });
    const auto t1 = S.done.wait("fib");
    return check_fib(double(t1 - S.t0.load()) / 1e6);
}

// =================================================================================================
// 8. remote_post_throughput: P outside producers post 200,000 empty handlers each (each handler
//    decrements the completion counter, for every backend alike). Million handlers per second.
// =================================================================================================

template <class PostOne>
double remote_post(int producers, PostOne post_one) {
    const long total = long(producers) * posts_per_producer;
    S.done.reset(total);
    Gate gate;
    std::vector<std::thread> ts;
    for (int p = 0; p < producers; ++p)
        ts.emplace_back([&] {
            gate.wait();
            for (int i = 0; i < posts_per_producer; ++i) post_one();
        });
    const auto t0 = now_ns();
    gate.open();
    const auto t1 = S.done.wait("remote_post");
    for (auto& t : ts) t.join();
    return double(total) / (double(t1 - t0) / 1e9) / 1e6;
}
double remote_post(ZukiImpl z, int producers) {
    return remote_post(producers, [&] { zspawn(z.pool, [] { arrive(); }); });
}
template <class Ex>
double remote_post(AsioImpl<Ex> a, int producers) {
    return remote_post(producers, [&] { boost::asio::post(a.ex, [] { arrive(); }); });
}
double remote_post(TbbImpl t, int producers) {
    return remote_post(producers, [&] { t.arena.enqueue([] { arrive(); }); });
}

// =================================================================================================
// 9. spawn_batch (zuki only): 10,000 tasks as one Batch vs 10,000 single outside submissions.
//    ns per task, from the first push/spawn to the last task's end.
// =================================================================================================

double zuki_batch(zuki::WorkStealingExecutor& pool) {
    S.done.reset(batch_size);
    const auto t0 = now_ns();
    zuki::Batch batch(pool);
    for (int i = 0; i < batch_size; ++i) batch.push_detached(closure([] { arrive(); }));
    pool.spawn_batch(std::move(batch));
    return per_op(t0, S.done.wait("spawn_batch"), batch_size);
}

// =================================================================================================
// 10. wake_latency: idle pool, outside post -> task start. Microseconds, p50 and p99 of 2,000.
// =================================================================================================

void record_start() noexcept {
    S.t1.store(now_ns(), std::memory_order_relaxed);
    S.done.fire();
}
template <class Submit>
std::vector<double> wake_latency(std::chrono::microseconds gap, Submit submit) {
    std::vector<double> us;
    us.reserve(wake_samples);
    for (int i = 0; i < wake_samples; ++i) {
        std::this_thread::sleep_for(gap);  // let the pool go idle (park)
        S.done.reset(1);
        const auto t0 = now_ns();
        submit();
        S.done.wait("wake_latency");
        us.push_back(double(S.t1.load() - t0) / 1e3);
    }
    std::sort(us.begin(), us.end());
    auto pct = [&](double p) { return us[std::min(us.size() - 1, std::size_t(p * us.size()))]; };
    return {pct(0.50), pct(0.99)};
}
std::chrono::microseconds wake_gap() {
    if (opt.wake_gap_us > 0) return std::chrono::microseconds(opt.wake_gap_us);
    return std::chrono::microseconds(1000);  // > the time any pool spins before sleeping
}
std::vector<double> wake_latency(ZukiImpl z) {
    return wake_latency(wake_gap(), [&] { zspawn(z.pool, [] { record_start(); }); });
}
template <class Ex>
std::vector<double> wake_latency(AsioImpl<Ex> a) {
    return wake_latency(wake_gap(), [&] { boost::asio::post(a.ex, [] { record_start(); }); });
}
std::vector<double> wake_latency(TbbImpl t) {
    return wake_latency(wake_gap(), [&] { t.arena.enqueue([] { record_start(); }); });
}

// =================================================================================================
// 11. idle_cpu: CPU time the process burns in one idle second with only this pool alive,
//     as a percentage of one core.
// =================================================================================================

double idle_cpu_once() {
    const auto c0 = process_cpu_ns();
    const auto w0 = now_ns();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const auto c1 = process_cpu_ns();
    const auto w1 = now_ns();
    return 100.0 * double(c1 - c0) / double(w1 - w0);
}

// =================================================================================================
// The table
// =================================================================================================

enum class Dir { lower, higher };  // which way is better
enum class TargetKind { none, vs_best, vs_tbb, vs_single, absolute };

struct Row {
    std::string name;
    std::string unit;
    Dir dir = Dir::lower;
    TargetKind kind = TargetKind::none;
    double target = 0;  // for ratio kinds: max allowed cost ratio; absolute: max value
    std::string target_text;
    std::vector<Backend> backends;  // which backends have this figure
    struct Cell {
        std::vector<double> runs;
        double median = NAN, min = NAN, max = NAN;
    };
    Cell cells[std::size(all_backends)];
    Cell& cell(Backend b) { return cells[static_cast<int>(b)]; }
    const Cell& cell(Backend b) const { return cells[static_cast<int>(b)]; }
};

struct Workload {
    std::string name;
    std::vector<std::size_t> rows;  // indices into the table
    int reps = 5;
    int warmup = 1;
    std::vector<Backend> backends;
    // One run on one backend: the figure of each of `rows`, in order.
    std::function<std::vector<double>(Backend)> run;
};

std::vector<Row> table;
std::vector<Backend> enabled;  // backends in this run
struct SeqFigure {
    std::vector<double> runs;
    double median = NAN, min = NAN, max = NAN;
} fib_sequential;

void finish_cell(std::vector<double>& runs, double& med, double& mn, double& mx) {
    if (runs.empty()) return;
    std::vector<double> v = runs;
    std::sort(v.begin(), v.end());
    mn = v.front();
    mx = v.back();
    const std::size_t n = v.size();
    med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Cost ratio (< 1: zuki better) of backend b on a row against the best anchor (or oneTBB, or
// zuki's own single submissions). NaN when not defined.
struct RatioInfo {
    double ratio = NAN;
    std::string against;
};
double cost_ratio(const Row& r, double mine, double theirs) {
    if (!(mine > 0) && !(theirs > 0)) return NAN;
    if (r.dir == Dir::lower) return theirs > 0 ? mine / theirs : NAN;
    return mine > 0 ? theirs / mine : NAN;
}
std::optional<Backend> best_anchor(const Row& r) {
    std::optional<Backend> best;
    for (Backend b : r.backends) {
        if (!is_anchor(b)) continue;
        const double v = r.cell(b).median;
        if (std::isnan(v)) continue;
        if (!best || (r.dir == Dir::lower ? v < r.cell(*best).median : v > r.cell(*best).median))
            best = b;
    }
    return best;
}
RatioInfo ratio_for(const Row& r, Backend b) {
    RatioInfo out;
    const double mine = r.cell(b).median;
    if (std::isnan(mine)) return out;
    if (r.kind == TargetKind::vs_single) {
        // the single-submission figure is the next row
        const Row& single = table[static_cast<std::size_t>(&r - table.data()) + 1];
        out.ratio = cost_ratio(r, mine, single.cell(b).median);
        out.against = "zuki single";
        return out;
    }
    if (auto best = best_anchor(r)) {
        out.ratio = cost_ratio(r, mine, r.cell(*best).median);
        out.against = name_of(*best);
    }
    return out;
}
std::string verdict_for(const Row& r) {
    const double z = r.cell(Backend::zuki).median;
    if (r.kind == TargetKind::none || std::isnan(z)) return "";
    double ratio = NAN;
    switch (r.kind) {
        case TargetKind::absolute:
            return z <= r.target ? "met" : "MISSED x" + [&] {
                char b[32];
                std::snprintf(b, sizeof b, "%.0f", z / r.target);
                return std::string(b);
            }();
        case TargetKind::vs_tbb:
            ratio = cost_ratio(r, z, r.cell(Backend::tbb).median);
            break;
        default:
            ratio = ratio_for(r, Backend::zuki).ratio;
            break;
    }
    if (std::isnan(ratio)) return "n/a";
    if (ratio <= r.target) return "met";
    char b[48];
    std::snprintf(b, sizeof b, "MISSED x%.2f", ratio / r.target);
    return b;
}

std::string fmt(double v) {
    if (std::isnan(v)) return "-";
    char b[32];
    const double a = std::fabs(v);
    if (a >= 100)
        std::snprintf(b, sizeof b, "%.0f", v);
    else if (a >= 10)
        std::snprintf(b, sizeof b, "%.1f", v);
    else if (a >= 1)
        std::snprintf(b, sizeof b, "%.2f", v);
    else if (a >= 0.01)
        std::snprintf(b, sizeof b, "%.3f", v);
    else if (a == 0)
        std::snprintf(b, sizeof b, "0");
    else
        std::snprintf(b, sizeof b, "%.4f", v);
    return b;
}
std::string fmt_ratio(double v) {
    if (std::isnan(v) || std::isinf(v)) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", v);
    return b;
}
std::string cell_text(const Row::Cell& c) {
    if (std::isnan(c.median)) return "";
    return fmt(c.median) + " (" + fmt(c.min) + "-" + fmt(c.max) + ")";
}

void print_table(std::FILE* f) {
    std::vector<std::string> head = {"workload", "unit"};
    for (Backend b : enabled) head.push_back(name_of(b));
    head.push_back("best anchor");
    head.push_back("zuki ratio");
    const bool zasio =
        std::find(enabled.begin(), enabled.end(), Backend::zuki_asio) != enabled.end();
    if (zasio) head.push_back("zuki_asio ratio");
    head.push_back("target (ratio)");
    head.push_back("zuki verdict");

    std::vector<std::vector<std::string>> rows;
    for (const Row& r : table) {
        bool any = false;
        for (Backend b : enabled) any |= !std::isnan(r.cell(b).median);
        if (!any) continue;
        std::vector<std::string> line = {r.name, r.unit};
        for (Backend b : enabled) line.push_back(cell_text(r.cell(b)));
        const auto best = best_anchor(r);
        line.push_back(r.kind == TargetKind::vs_single ? "zuki single"
                       : best                          ? name_of(*best)
                                                       : "-");
        line.push_back(fmt_ratio(ratio_for(r, Backend::zuki).ratio));
        if (zasio) line.push_back(fmt_ratio(ratio_for(r, Backend::zuki_asio).ratio));
        line.push_back(r.target_text);
        line.push_back(verdict_for(r));
        rows.push_back(std::move(line));
    }
    std::vector<std::size_t> w(head.size());
    for (std::size_t i = 0; i < head.size(); ++i) w[i] = head[i].size();
    for (auto& l : rows)
        for (std::size_t i = 0; i < l.size(); ++i) w[i] = std::max(w[i], l[i].size());
    auto print_line = [&](const std::vector<std::string>& l) {
        std::fputs("|", f);
        for (std::size_t i = 0; i < l.size(); ++i) {
            const bool left = i < 2;
            std::fprintf(f, left ? " %-*s |" : " %*s |", int(w[i]), l[i].c_str());
        }
        std::fputs("\n", f);
    };
    print_line(head);
    std::fputs("|", f);
    for (std::size_t i = 0; i < head.size(); ++i)
        std::fprintf(f, "%s%s|", std::string(w[i] + 1, '-').c_str(), i < 2 ? "-" : ":");
    std::fputs("\n", f);
    for (auto& l : rows) print_line(l);
}

// =================================================================================================
// CSV and chart
// =================================================================================================

std::string csv_num(double v) {
    if (std::isnan(v) || std::isinf(v)) return "";
    char b[40];
    std::snprintf(b, sizeof b, "%.6g", v);
    return b;
}

void write_outputs(const std::string& header_comment) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(opt.out_dir, ec);
    const fs::path dir(opt.out_dir);
    const fs::path results = dir / "bench_results.csv";
    const fs::path ratios = dir / "bench_ratios.csv";
    const fs::path png = dir / "bench_ratios.png";
    {
        std::ofstream o(results);
        if (!o) die("cannot write " + results.string());
        o << "workload,unit,backend,median,min,max,runs,ratio,ratio_against,target,verdict\n";
        for (const Row& r : table) {
            for (Backend b : enabled) {
                const auto& c = r.cell(b);
                if (std::isnan(c.median)) continue;
                RatioInfo ri;
                if (b == Backend::zuki || b == Backend::zuki_asio) ri = ratio_for(r, b);
                o << r.name << ',' << r.unit << ',' << name_of(b) << ',' << csv_num(c.median) << ','
                  << csv_num(c.min) << ',' << csv_num(c.max) << ',' << c.runs.size() << ','
                  << csv_num(ri.ratio) << ',' << ri.against << ','
                  << (b == Backend::zuki ? r.target_text : "") << ','
                  << (b == Backend::zuki ? verdict_for(r) : "") << '\n';
            }
        }
        if (!fib_sequential.runs.empty())
            o << "fib25_sequential,ms,sequential," << csv_num(fib_sequential.median) << ','
              << csv_num(fib_sequential.min) << ',' << csv_num(fib_sequential.max) << ','
              << fib_sequential.runs.size() << ",,,,\n";
    }
    {
        // For the chart: one line per workload with a defined zuki ratio. The target is the
        // largest cost ratio that meets it (empty: no target on that row).
        std::ofstream o(ratios);
        if (!o) die("cannot write " + ratios.string());
        o << "# " << header_comment << '\n';
        o << "workload,zuki,zuki_asio,target\n";
        for (const Row& r : table) {
            const double z = ratio_for(r, Backend::zuki).ratio;
            if (std::isnan(z) || std::isinf(z) || !(z > 0)) continue;
            const double za = ratio_for(r, Backend::zuki_asio).ratio;
            double t = NAN;
            if (r.kind == TargetKind::vs_best || r.kind == TargetKind::vs_single ||
                r.kind == TargetKind::vs_tbb)
                t = r.target;
            o << r.name << ',' << csv_num(z) << ',' << csv_num(za > 0 ? za : NAN) << ','
              << csv_num(t) << '\n';
        }
    }
    std::printf("\nwrote %s and %s\n", results.c_str(), ratios.c_str());

    if (!opt.chart) return;
    if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
        std::printf("gnuplot not found: no PNG chart (scripts/deps.sh installs gnuplot-nox)\n");
        return;
    }
    fs::path script = opt.chart_script;
    if (script.empty()) script = fs::path(__FILE__).parent_path() / "bench_chart.gp";
    if (!fs::exists(script)) {
        std::printf("chart script %s not found (use --chart-script PATH): no PNG chart\n",
                    script.c_str());
        return;
    }
    std::string sanitized = header_comment;
    for (char& ch : sanitized)
        if (ch == '\'' || ch == '"' || ch == '\\' || ch == '$' || ch == '`') ch = ' ';
    for (const auto* p : {&ratios, &png})
        if (p->string().find('\'') != std::string::npos) {
            std::printf("output path contains a quote: no PNG chart\n");
            return;
        }
    const std::string cmd = "gnuplot -e \"csv='" + ratios.string() + "'; png='" + png.string() +
                            "'; subtitle='" + sanitized +
                            "'; have_asio=" + (ZUKI_BENCH_HAVE_ZUKI_ASIO ? "1" : "0") + "\" '" +
                            script.string() + "' 2>&1";
    std::FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) {
        std::printf("could not run gnuplot: no PNG chart\n");
        return;
    }
    char buf[512];
    std::string output;
    while (std::fgets(buf, sizeof buf, p)) output += buf;
    const int rc = pclose(p);
    if (rc != 0 || !fs::exists(png))
        std::printf("gnuplot failed (status %d): no PNG chart\n%s", rc, output.c_str());
    else
        std::printf("wrote %s\n", png.c_str());
}

// =================================================================================================
// Driver
// =================================================================================================

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string x; std::getline(ss, x, ',');)
        if (!x.empty()) out.push_back(x);
    return out;
}

bool selected(const std::string& workload) {
    if (opt.only.empty()) return true;
    for (const auto& o : opt.only)
        if (workload.rfind(o, 0) == 0) return true;
    return false;
}

std::size_t add_row(Row r) {
    table.push_back(std::move(r));
    return table.size() - 1;
}

Row make_row(std::string name, std::string unit, Dir dir, TargetKind kind, double target,
             std::string text, std::vector<Backend> bs) {
    Row r;
    r.name = std::move(name);
    r.unit = std::move(unit);
    r.dir = dir;
    r.kind = kind;
    r.target = target;
    r.target_text = std::move(text);
    r.backends = std::move(bs);
    return r;
}

void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(1)); }

zuki::WorkerMetrics zuki_totals(Pools& p) {
    return p.zuki ? p.zuki->metrics().total() : zuki::WorkerMetrics{};
}

void run_workload(Workload& w) {
    std::printf("  %-28s", w.name.c_str());
    std::fflush(stdout);
    const auto start = now_ns();
    std::vector<Backend> bs;
    for (Backend b : w.backends)
        if (std::find(enabled.begin(), enabled.end(), b) != enabled.end()) bs.push_back(b);
    auto one = [&](Backend b, bool keep) {
        watchdog->arm(w.name + " on " + name_of(b), run_timeout_s);
        const std::vector<double> v = w.run(b);
        watchdog->disarm();
        if (keep)
            for (std::size_t i = 0; i < w.rows.size() && i < v.size(); ++i)
                if (!std::isnan(v[i])) table[w.rows[i]].cell(b).runs.push_back(v[i]);
        settle();
    };
    for (int i = 0; i < w.warmup; ++i)
        for (Backend b : bs) one(b, false);
    const int reps = opt.reps_override > 0 ? opt.reps_override : w.reps;
    for (int r = 0; r < reps; ++r)
        for (std::size_t k = 0; k < bs.size(); ++k) one(bs[(k + std::size_t(r)) % bs.size()], true);
    for (std::size_t i : w.rows)
        for (auto& c : table[i].cells) finish_cell(c.runs, c.median, c.min, c.max);
    std::printf(" %6.1f s\n", double(now_ns() - start) / 1e9);
}

std::string machine_line() {
    std::string model = "unknown CPU";
    std::ifstream cpu("/proc/cpuinfo");
    for (std::string line; std::getline(cpu, line);)
        if (line.rfind("model name", 0) == 0) {
            model = line.substr(line.find(':') + 2);
            break;
        }
    utsname u{};
    uname(&u);
    char date[64];
    const std::time_t t = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M", std::localtime(&t));
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s, %u logical CPUs, %s %s, %s, load %.2f", model.c_str(),
                  std::thread::hardware_concurrency(), u.sysname, u.release, date, load[0]);
    return buf;
}

void usage() {
    std::puts(
        "usage: bench_zuki [--quick] [--threads N] [--out DIR] [--reps R] [--only W1,W2]\n"
        "                  [--backends B1,B2] [--no-chart] [--chart-script PATH] [--timeout S]\n"
        "                  [--metrics] [--wake-gap-us US] [--list]\n"
        "  --quick       fewer repetitions (the whole suite in about 2 minutes on 2 cores)\n"
        "  --threads N   workers per pool (default: hardware concurrency)\n"
        "  --out DIR     where bench_results.csv, bench_ratios.csv and bench_ratios.png go\n"
        "  --reps R      measured repetitions of every workload (overrides the mode)\n"
        "  --only        workloads whose name starts with one of these (see --list)\n"
        "  --backends    subset of zuki,zuki_asio,asio_tp,io_context,tbb\n"
        "  --timeout S   abort if the whole suite takes longer (default 900 quick, 3600)\n"
        "  --metrics     print the zuki pool's counters after each workload\n"
        "  --wake-gap-us pause before each wake_latency sample (default 1000)");
}

}  // namespace

int main(int argc, char** argv) {
    bool list = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value after " + a);
            return argv[++i];
        };
        if (a == "--quick")
            opt.quick = true;
        else if (a == "--threads")
            opt.threads = std::stoul(value());
        else if (a == "--out")
            opt.out_dir = value();
        else if (a == "--reps")
            opt.reps_override = std::stoi(value());
        else if (a == "--only")
            opt.only = split(value());
        else if (a == "--backends")
            opt.backends = split(value());
        else if (a == "--no-chart")
            opt.chart = false;
        else if (a == "--chart-script")
            opt.chart_script = value();
        else if (a == "--timeout")
            opt.timeout_s = std::stoi(value());
        else if (a == "--metrics")
            opt.metrics = true;
        else if (a == "--list")
            list = true;
        else if (a == "--wake-gap-us")
            opt.wake_gap_us = std::stoi(value());
        else if (a == "--help" || a == "-h") {
            usage();
            return 0;
        } else {
            usage();
            die("unknown argument " + a);
        }
    }
    const std::size_t n =
        opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
    if (n == 0 || n > 1024) die("--threads must be in 1..1024");

    for (Backend b : all_backends) {
        if (b == Backend::zuki_asio && !ZUKI_BENCH_HAVE_ZUKI_ASIO) continue;
        if (!opt.backends.empty() &&
            std::find(opt.backends.begin(), opt.backends.end(), name_of(b)) == opt.backends.end())
            continue;
        enabled.push_back(b);
    }
    if (enabled.empty()) die("no backend selected");

    Watchdog wd;
    watchdog = &wd;
    wd.set_suite_deadline(opt.timeout_s > 0 ? opt.timeout_s : (opt.quick ? 900 : 3600));

    const bool q = opt.quick;
    // Repetitions: short workloads / heavy workloads / latency (2,000 samples each) / idle second.
    const int reps_short = q ? 11 : 21, reps_heavy = q ? 5 : 9, reps_latency = q ? 2 : 5,
              reps_idle = q ? 2 : 5, warm = q ? 1 : 3;

    const std::vector<Backend> all(std::begin(all_backends), std::end(all_backends));
    const std::vector<Backend> zuki_only = {Backend::zuki};
    const std::string half = "<= 0.5";

    Pools pools;
    pools.n = n;

    std::vector<Workload> ws;
    auto add = [&](std::string name, std::vector<Row> rows, int reps, std::vector<Backend> bs,
                   std::function<std::vector<double>(Backend)> run) {
        Workload w;
        w.name = std::move(name);
        for (auto& r : rows) w.rows.push_back(add_row(std::move(r)));
        w.reps = reps;
        w.warmup = warm;
        w.backends = std::move(bs);
        w.run = std::move(run);
        ws.push_back(std::move(w));
    };
    auto single = [&](auto fn) {
        return [&pools, fn](Backend b) { return std::vector<double>{with_backend(b, pools, fn)}; };
    };

    add("spawn_many_local",
        {make_row("spawn_many_local", "ns/task", Dir::lower, TargetKind::vs_best, 0.5, half, all)},
        reps_short, all, single([](auto impl) { return spawn_many_local(impl); }));
    add("spawn_many_remote_idle",
        {make_row("spawn_many_remote_idle", "ns/task", Dir::lower, TargetKind::vs_best, 0.5, half,
                  all)},
        reps_short, all, single([](auto impl) { return spawn_many_remote(impl); }));
    add("spawn_many_remote_busy",
        {make_row("spawn_many_remote_busy", "ns/task", Dir::lower, TargetKind::vs_best, 0.5, half,
                  all)},
        reps_short, all, single([n](auto impl) { return spawn_many_remote_busy(impl, n); }));
    add("yield_many",
        {make_row("yield_many", "ns/yield", Dir::lower, TargetKind::vs_best, 0.5, half, all)},
        reps_short, all, single([](auto impl) { return yield_many(impl); }));
    add("ping_pong",
        {make_row("ping_pong", "ns/round trip", Dir::lower, TargetKind::vs_best, 0.5, half, all)},
        reps_short, all, single([](auto impl) { return ping_pong(impl); }));
    add("chained_spawn",
        {make_row("chained_spawn", "ns/hop", Dir::lower, TargetKind::vs_best, 0.5, half, all)},
        reps_short, all, single([](auto impl) { return chained_spawn(impl); }));
    add("fib25",
        {make_row("fib25_forkjoin", "ms", Dir::lower, TargetKind::vs_tbb, 1.0, "<= 1.0 vs tbb",
                  all)},
        reps_short, all, single([](auto impl) { return fib(impl); }));
    for (int p : {1, 2, 4}) {
        const std::string name = "remote_post_" + std::to_string(p) + "p";
        add(name,
            {make_row(name, "Mhandlers/s", Dir::higher,
                      p == 4 ? TargetKind::vs_best : TargetKind::none, 0.4,
                      p == 4 ? "<= 0.4 (2.5x)" : "", all)},
            reps_heavy, all, single([p](auto impl) { return remote_post(impl, p); }));
    }
    add("spawn_batch_10k",
        {make_row("spawn_batch_10k(batch)", "ns/task", Dir::lower, TargetKind::vs_single, 1.0 / 3.0,
                  "<= 0.33 vs single", zuki_only),
         make_row("spawn_batch_10k(single)", "ns/task", Dir::lower, TargetKind::none, 0, "",
                  zuki_only)},
        reps_short, zuki_only, [&pools](Backend) {
            double batch = zuki_batch(*pools.zuki);
            settle();
            double single_ = spawn_many_remote(ZukiImpl{*pools.zuki});
            return std::vector<double>{batch, single_};
        });
    add("wake_latency",
        {make_row("wake_latency_p50", "us", Dir::lower, TargetKind::vs_best, 1.0, "<= 1.0", all),
         make_row("wake_latency_p99", "us", Dir::lower, TargetKind::vs_best, 1.5, "<= 1.5", all)},
        reps_latency, all, [&pools](Backend b) {
            return with_backend(b, pools, [](auto impl) { return wake_latency(impl); });
        });
    ws.back().warmup = 1;  // one warm-up pass of 2,000 samples is plenty
    const std::size_t idle_row = add_row(make_row("idle_cpu", "% of a core", Dir::lower,
                                                  TargetKind::absolute, 0.05, "<= 0.05 %", all));

    if (list) {
        for (auto& w : ws) std::printf("%s\n", w.name.c_str());
        std::printf("idle_cpu\n");
        return 0;
    }

    std::printf("bench_zuki: %zu workers per pool, %s mode; backends:", n,
                opt.quick ? "quick" : "full");
    for (Backend b : enabled) std::printf(" %s", name_of(b));
    const std::string machine = machine_line();  // date and load at the start
    std::printf("\n  machine: %s\n", machine.c_str());
    if (!ZUKI_BENCH_HAVE_ZUKI_ASIO)
        std::printf("  (zuki_asio skipped: <zuki/asio/executor.hpp> not available yet)\n");
    std::fflush(stdout);
    const auto suite_start = now_ns();

    // ---- 11. idle_cpu first, one pool alive at a time, oneTBB last --------------------------
    if (selected("idle_cpu")) {
        std::printf("  %-28s", "idle_cpu");
        std::fflush(stdout);
        const auto start = now_ns();
        for (Backend b : enabled) {
            watchdog->arm(std::string("idle_cpu on ") + name_of(b), run_timeout_s);
            pools.create(b);
            // Warm up: every worker has run something; then let the pool settle and park.
            with_backend(b, pools, [](auto impl) { return spawn_many_remote(impl); });
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            watchdog->arm(std::string("idle_cpu on ") + name_of(b), run_timeout_s);
            auto& c = table[idle_row].cell(b);
            for (int r = 0; r < (opt.reps_override > 0 ? opt.reps_override : reps_idle); ++r)
                c.runs.push_back(idle_cpu_once());
            finish_cell(c.runs, c.median, c.min, c.max);
            pools.destroy(b);
            watchdog->disarm();
        }
        std::printf(" %6.1f s\n", double(now_ns() - start) / 1e9);
    }

    // ---- everything else, all pools alive, runs interleaved ---------------------------------
    for (Backend b : enabled) pools.create(b);
    for (auto& w : ws) {
        if (!selected(w.name)) continue;
        const auto m0 = zuki_totals(pools);
        run_workload(w);
        if (w.name == "fib25") {
            for (int r = 0; r < (opt.reps_override > 0 ? opt.reps_override : reps_short); ++r) {
                const auto t0 = now_ns();
                fib_sink = fib_seq(fib_n);
                fib_sequential.runs.push_back(double(now_ns() - t0) / 1e6);
            }
            finish_cell(fib_sequential.runs, fib_sequential.median, fib_sequential.min,
                        fib_sequential.max);
        }
        if (opt.metrics && pools.zuki) {
            const auto m1 = zuki_totals(pools);
            std::printf("      zuki pool: run=%llu steals=%llu stolen=%llu overflows=%llu "
                        "global_takes=%llu parks=%llu unparks=%llu\n",
                        (unsigned long long)(m1.tasks_run - m0.tasks_run),
                        (unsigned long long)(m1.steals - m0.steals),
                        (unsigned long long)(m1.tasks_stolen - m0.tasks_stolen),
                        (unsigned long long)(m1.overflows - m0.overflows),
                        (unsigned long long)(m1.global_takes - m0.global_takes),
                        (unsigned long long)(m1.parks - m0.parks),
                        (unsigned long long)(m1.unparks - m0.unparks));
        }
    }
    for (Backend b : enabled) pools.destroy(b);

    std::printf("\nsuite: %.0f s. Each cell: median (min-max) of the runs. Ratio = zuki's cost / "
                "best anchor's cost\n(anchors: asio_tp, io_context, tbb; times: zuki/best, "
                "throughput: best/zuki): below 1 = zuki better.\nspawn_batch: Batch vs zuki's own "
                "single submissions. fib25 verdict against tbb. idle_cpu target is absolute.\n\n",
                double(now_ns() - suite_start) / 1e9);
    print_table(stdout);
    if (!fib_sequential.runs.empty())
        std::printf("\nfib(%d) sequential, one thread, no pool: %s ms (%s-%s)\n", fib_n,
                    fmt(fib_sequential.median).c_str(), fmt(fib_sequential.min).c_str(),
                    fmt(fib_sequential.max).c_str());
    char hdr[256];
    std::snprintf(hdr, sizeof hdr, "%zu workers, %s mode, %s", n, opt.quick ? "quick" : "full",
                  machine.c_str());
    write_outputs(hdr);
    watchdog = nullptr;
    return 0;
}
