// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 7. fib(25) fork-join, a task per call: spawn fib(n-1), compute fib(n-2) in place, join.
//    Milliseconds for the whole tree, from the root's start to its end.
//
// After its runs, the workload times fib(25) sequentially on this thread, without a pool: the
// reference printed under the table (fib_sequential).

#include <atomic>

#include "harness/options.hpp"
#include "harness/sync.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

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

// fib(25) on this thread, no pool, as many times as the workload's measured runs.
void time_fib_sequential(int reps) {
    for (int r = 0; r < (opt.reps_override > 0 ? opt.reps_override : reps); ++r) {
        const auto t0 = now_ns();
        fib_sink = fib_seq(fib_n);
        fib_sequential.runs.push_back(double(now_ns() - t0) / 1e6);
    }
    summarise(fib_sequential);
}

}  // namespace

void add_fib(Suite& s) {
    Workload& w =
        s.add("fib25",
              {make_row("fib25_forkjoin", "ms", Dir::lower, TargetKind::vs_tbb, 1.0,
                        "<= 1.0 vs tbb", every_backend())},
              s.reps_short, every_backend(), s.single([](auto impl) { return fib(impl); }));
    w.after = [reps = s.reps_short] { time_fib_sequential(reps); };
}

}  // namespace zuki_bench
