// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// uts_binomial: an Unbalanced Tree Search binomial tree (the UTS benchmark's "T3" shape, smaller):
// the root has 2,000 children; every other node has 4 children with probability q = 0.2495, none
// otherwise. q * 4 = 0.998, so a root child's subtree has 500 nodes on average, with a very long
// tail: the tree is deep (816 levels) and lopsided, work a static split cannot balance.
//
// The tree is the same on every backend: a node is a 64-bit id, its i-th child's id is the i-th
// splitmix64 output seeded with the parent's id, and a node has children when its id (itself a
// splitmix64 output, uniform) is below q * 2^64. Seed 13 (the root's id) gives 986,641 nodes,
// near the 1,000,001 expected (the first seed from 0 within 2 % of it); every run and the
// sequential reference must count exactly that many.
//
// Every node is a task that counts its subtree: it spawns its children, joins them and returns
// 1 + their counts. Two figures per run:
//   - uts_binomial: milliseconds for the whole tree, from the root's start to its end;
//   - uts_peak_rss: the growth of the process's peak resident set over the run, in KiB
//     (harness/memory.hpp). glibc's heap is trimmed before each run, but memory the executors
//     keep from earlier runs (Zuki's RecyclingCache and depot, oneTBB's task pools) is reused
//     without being counted: this is the growth of a warm pool, and it shrinks as the runs go on
//     while those caches fill (seen on 2 cores: zuki's median ~0.3-2 MiB over --quick's 1 + 5
//     runs, ~40 KiB, like tbb's, over the full mode's 3 + 9 and later runs).
//
// After its runs, the workload counts the tree sequentially on this thread, without a pool: the
// reference printed under the table with each backend's speed-up over it.

#include <atomic>
#include <cstdint>
#include <vector>

#include "harness/memory.hpp"
#include "harness/options.hpp"
#include "harness/sync.hpp"
#include "workloads/count_join.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

constexpr int uts_root_children = 2'000;
constexpr int uts_m = 4;  // children of a non-root node that has any
constexpr double uts_q = 0.2495;  // probability that a non-root node has children
constexpr std::uint64_t uts_threshold = std::uint64_t(uts_q * 18446744073709551616.0);  // q * 2^64
constexpr std::uint64_t uts_seed = 13;  // the root's id
constexpr long uts_nodes = 986'641;

constexpr std::uint64_t splitmix64_mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
constexpr std::uint64_t uts_child(std::uint64_t id, int i) {
    return splitmix64_mix(id + std::uint64_t(i + 1) * 0x9E3779B97F4A7C15ull);
}
constexpr int uts_children(std::uint64_t id, int depth) {
    return depth == 0 ? uts_root_children : id < uts_threshold ? uts_m : 0;
}

[[gnu::noinline]] long uts_seq(std::uint64_t id, int depth) {
    long count = 1;
    for (int i = 0, k = uts_children(id, depth); i < k; ++i)
        count += uts_seq(uts_child(id, i), depth + 1);
    return count;
}
volatile long uts_sink = 0;  // keeps the sequential reference run from being optimised away

double check_uts(double ms) {
    if (S.result.load() != uts_nodes) die("uts_binomial: wrong node count");
    return ms;
}

// Zuki, the way a user writes it: spawn the children, then co_await their handles.
zuki::Async<long> zuki_uts(zuki::WorkStealingExecutor& pool, std::uint64_t id, int depth) {
    const int k = uts_children(id, depth);
    std::vector<zuki::JoinHandle<long>> kids;
    kids.reserve(std::size_t(k));
    for (int i = 0; i < k; ++i)
        kids.push_back(pool.spawn(zuki_uts(pool, uts_child(id, i), depth + 1)));
    long count = 1;
    for (auto& h : kids) count += co_await h;
    co_return count;
}
zuki::Async<void> zuki_uts_root(zuki::WorkStealingExecutor& pool) {
    S.t0.store(now_ns(), std::memory_order_relaxed);
    S.result.store(co_await zuki_uts(pool, uts_seed, 0));
    S.done.fire();
}
double uts(ZukiImpl z) {
    S.done.reset(1);
    z.pool.spawn_detached(zuki_uts_root(z.pool));
    const auto t1 = S.done.wait("uts_binomial");
    return check_uts(double(t1 - S.t0.load()) / 1e6);
}

// Asio has no join: continuation passing, as in fib25. A node with children allocates a join
// record (its count so far and an atomic countdown) and posts them; the last child to report
// forwards the subtree's count to the parent's record. A leaf reports 1 at once.
template <class Ex>
void asio_uts(Ex ex, std::uint64_t id, int depth, CountJoin* parent) {
    const int k = uts_children(id, depth);
    if (k == 0) return count_join_report(parent, 1);
    auto* j = new CountJoin{parent, {1}, {k}};
    for (int i = 0; i < k; ++i)
        boost::asio::post(ex,
                          [ex, j, c = uts_child(id, i), depth] { asio_uts(ex, c, depth + 1, j); });
}
template <class Ex>
double uts(AsioImpl<Ex> a) {
    S.done.reset(1);
    boost::asio::post(a.ex, [ex = a.ex] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        asio_uts(ex, uts_seed, 0, nullptr);
    });
    const auto t1 = S.done.wait("uts_binomial");
    return check_uts(double(t1 - S.t0.load()) / 1e6);
}

// oneTBB: a task_group per node with children, a run() per child, wait().
long tbb_uts(std::uint64_t id, int depth) {
    const int k = uts_children(id, depth);
    if (k == 0) return 1;
    std::vector<long> counts(std::size_t(k), 0);
    tbb::task_group tg;
    for (int i = 0; i < k; ++i)
        tg.run([&counts, i, c = uts_child(id, i), depth] {
            counts[std::size_t(i)] = tbb_uts(c, depth + 1);
        });
    tg.wait();
    long count = 1;
    for (long x : counts) count += x;
    return count;
}
double uts(TbbImpl t) {
    S.done.reset(1);
    t.arena.enqueue([] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        S.result.store(tbb_uts(uts_seed, 0));
        S.done.fire();
    });
    const auto t1 = S.done.wait("uts_binomial");
    return check_uts(double(t1 - S.t0.load()) / 1e6);
}

// One run: the time, and the peak RSS growth over it.
template <class Impl>
std::vector<double> uts_run(Impl impl) {
    PeakRssProbe rss;
    rss.start();
    const double ms = uts(impl);
    return {ms, rss.growth_kib()};
}

// The tree on this thread, no pool, as many times as the workload's measured runs.
void time_uts_sequential(std::size_t ref, int reps) {
    Figure& f = sequential_refs[ref].time;
    for (int r = 0; r < (opt.reps_override > 0 ? opt.reps_override : reps); ++r) {
        const auto t0 = now_ns();
        uts_sink = uts_seq(uts_seed, 0);
        f.runs.push_back(double(now_ns() - t0) / 1e6);
        if (uts_sink != uts_nodes) die("uts_binomial: wrong sequential node count");
    }
    summarise(f);
}

}  // namespace

void add_uts_binomial(Suite& s) {
    Workload& w = s.add("uts_binomial",
                        {make_row("uts_binomial", "ms", Dir::lower, TargetKind::vs_tbb, 1.0,
                                  "<= 1.0 vs tbb", every_backend()),
                         make_row("uts_peak_rss", "KiB", Dir::lower, TargetKind::vs_tbb, 1.5,
                                  "<= 1.5 vs tbb", every_backend())},
                        s.reps_heavy, every_backend(), [p = &s.pools](Backend b) {
                            return with_backend(b, *p, [](auto impl) { return uts_run(impl); });
                        });
    const std::size_t ref = add_sequential_ref("uts_binomial", w.rows[0]);
    w.after = [ref, reps = s.reps_heavy] { time_uts_sequential(ref, reps); };
}

}  // namespace zuki_bench
