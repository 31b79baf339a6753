// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Unbalanced Tree Search, binomial trees (the UTS benchmark's "T3" shape, smaller): the root has
// 2,000 children; every other node has 4 children with probability q = 0.2495, none otherwise.
// q * 4 = 0.998, so a root child's subtree has 500 nodes on average, with a very long tail: the
// tree is deep (hundreds of levels) and lopsided, work a static split cannot balance. Two trees
// of this shape, two workloads:
//   - uts_binomial: a node is a 64-bit id, its i-th child's id the i-th splitmix64 output seeded
//     with the parent's id (a few ns): the tree is almost nothing but its tasks, so this measures
//     what a spawn + join costs.
//   - uts_sha1: UTS's own splitting function: a child's id is (the first 64 bits of) the SHA-1
//     digest of its parent's id and its index (Boost.UUID's sha1, ~0.33 us a node on the machine
//     of doc/benchmarks.md). The granularity of the reference UTS, and of issue 12's report
//     (~1 M nodes, 337 ms sequentially): the shape its speed-up target is about.
// A node has children when its id (uniform either way) is below q * 2^64. Seeds: the first from
// 0 whose node count is within 2 % of the 1,000,001 expected (splitmix64: 13, 986,641 nodes) or,
// for SHA-1, within 3 % (34, 975,429 nodes; none within 2 % below 40); every run and the
// sequential reference must count exactly that many.
//
// Every node is a task that counts its subtree: it spawns its children, joins them and returns
// 1 + their counts. Two figures per run:
//   - the time (uts_binomial / uts_sha1): milliseconds for the whole tree, from the root's start
//     to its end;
//   - the peak RSS (uts_peak_rss / uts_sha1_peak_rss): the growth of the process's peak resident
//     set over the run, in KiB (harness/memory.hpp). glibc's heap is trimmed before each run,
//     but memory the executors keep from earlier runs (Zuki's RecyclingCache and depot, oneTBB's
//     task pools) is reused without being counted: this is the growth of a warm pool, and it
//     shrinks as the runs go on while those caches fill (seen on 2 cores: zuki's median ~0.3-2
//     MiB over --quick's 1 + 5 runs, ~40 KiB, like tbb's, over the full mode's 3 + 9 and later
//     runs).
//
// After its runs, the workload counts the tree sequentially on this thread, without a pool: the
// reference printed under the table with each backend's speed-up over it.

#include <atomic>
#include <cstdint>
#include <vector>

#include <boost/uuid/detail/sha1.hpp>

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

constexpr int uts_children(std::uint64_t id, int depth) {
    return depth == 0 ? uts_root_children : id < uts_threshold ? uts_m : 0;
}

// The two trees: a name (the workload's and its rows'), the root's id, the node count, and the
// splitting function.
struct SplitmixTree {
    static constexpr const char* name = "uts_binomial";
    static constexpr const char* rss_row = "uts_peak_rss";
    static constexpr std::uint64_t seed = 13;
    static constexpr long nodes = 986'641;
    static constexpr std::uint64_t mix(std::uint64_t z) {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    static constexpr std::uint64_t child(std::uint64_t id, int i) {
        return mix(id + std::uint64_t(i + 1) * 0x9E3779B97F4A7C15ull);
    }
};
struct Sha1Tree {
    static constexpr const char* name = "uts_sha1";
    static constexpr const char* rss_row = "uts_sha1_peak_rss";
    static constexpr std::uint64_t seed = 34;
    static constexpr long nodes = 975'429;
    // SHA-1 of the parent's id and the index, little-endian (8 + 4 bytes): the digest's first
    // two words are the child's id. (Boost.UUID's sha1 is a detail of that library, the one
    // SHA-1 among the dependencies; this is its interface as of Boost 1.81, Debian 12's:
    // the digest as five 32-bit words.)
    static std::uint64_t child(std::uint64_t id, int i) {
        unsigned char in[12];
        for (int b = 0; b < 8; ++b) in[b] = static_cast<unsigned char>(id >> (8 * b));
        for (int b = 0; b < 4; ++b)
            in[8 + b] = static_cast<unsigned char>(static_cast<unsigned>(i) >> (8 * b));
        boost::uuids::detail::sha1 h;
        h.process_bytes(in, sizeof in);
        boost::uuids::detail::sha1::digest_type d;
        h.get_digest(d);
        return (std::uint64_t(d[0]) << 32) | d[1];
    }
};

template <class Tree>
[[gnu::noinline]] long uts_seq(std::uint64_t id, int depth) {
    long count = 1;
    for (int i = 0, k = uts_children(id, depth); i < k; ++i)
        count += uts_seq<Tree>(Tree::child(id, i), depth + 1);
    return count;
}
volatile long uts_sink = 0;  // keeps the sequential reference run from being optimised away

template <class Tree>
double check_uts(double ms) {
    if (S.result.load() != Tree::nodes) die(std::string(Tree::name) + ": wrong node count");
    return ms;
}

// Zuki, the way a user writes it: spawn the children, then co_await their handles.
template <class Tree>
zuki::Async<long> zuki_uts(zuki::WorkStealingExecutor& pool, std::uint64_t id, int depth) {
    const int k = uts_children(id, depth);
    std::vector<zuki::JoinHandle<long>> kids;
    kids.reserve(std::size_t(k));
    for (int i = 0; i < k; ++i)
        kids.push_back(pool.spawn(zuki_uts<Tree>(pool, Tree::child(id, i), depth + 1)));
    long count = 1;
    for (auto& h : kids) count += co_await h;
    co_return count;
}
template <class Tree>
zuki::Async<void> zuki_uts_root(zuki::WorkStealingExecutor& pool) {
    S.t0.store(now_ns(), std::memory_order_relaxed);
    S.result.store(co_await zuki_uts<Tree>(pool, Tree::seed, 0));
    S.done.fire();
}
template <class Tree>
double uts(ZukiImpl z) {
    S.done.reset(1);
    z.pool.spawn_detached(zuki_uts_root<Tree>(z.pool));
    const auto t1 = S.done.wait(Tree::name);
    return check_uts<Tree>(double(t1 - S.t0.load()) / 1e6);
}

// Asio has no join: continuation passing, as in fib25. A node with children allocates a join
// record (its count so far and an atomic countdown) and posts them; the last child to report
// forwards the subtree's count to the parent's record. A leaf reports 1 at once.
template <class Tree, class Ex>
void asio_uts(Ex ex, std::uint64_t id, int depth, CountJoin* parent) {
    const int k = uts_children(id, depth);
    if (k == 0) return count_join_report(parent, 1);
    auto* j = new CountJoin{parent, {1}, {k}};
    for (int i = 0; i < k; ++i)
        boost::asio::post(
            ex, [ex, j, c = Tree::child(id, i), depth] { asio_uts<Tree>(ex, c, depth + 1, j); });
}
template <class Tree, class Ex>
double uts(AsioImpl<Ex> a) {
    S.done.reset(1);
    boost::asio::post(a.ex, [ex = a.ex] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        asio_uts<Tree>(ex, Tree::seed, 0, nullptr);
    });
    const auto t1 = S.done.wait(Tree::name);
    return check_uts<Tree>(double(t1 - S.t0.load()) / 1e6);
}

// oneTBB: a task_group per node with children, a run() per child, wait().
template <class Tree>
long tbb_uts(std::uint64_t id, int depth) {
    const int k = uts_children(id, depth);
    if (k == 0) return 1;
    std::vector<long> counts(std::size_t(k), 0);
    tbb::task_group tg;
    for (int i = 0; i < k; ++i)
        tg.run([&counts, i, c = Tree::child(id, i), depth] {
            counts[std::size_t(i)] = tbb_uts<Tree>(c, depth + 1);
        });
    tg.wait();
    long count = 1;
    for (long x : counts) count += x;
    return count;
}
template <class Tree>
double uts(TbbImpl t) {
    S.done.reset(1);
    t.arena.enqueue([] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        S.result.store(tbb_uts<Tree>(Tree::seed, 0));
        S.done.fire();
    });
    const auto t1 = S.done.wait(Tree::name);
    return check_uts<Tree>(double(t1 - S.t0.load()) / 1e6);
}

// One run: the time, and the peak RSS growth over it.
template <class Tree, class Impl>
std::vector<double> uts_run(Impl impl) {
    PeakRssProbe rss;
    rss.start();
    const double ms = uts<Tree>(impl);
    return {ms, rss.growth_kib()};
}

// The tree on this thread, no pool, as many times as the workload's measured runs.
template <class Tree>
void time_uts_sequential(std::size_t ref, int reps) {
    Figure& f = sequential_refs[ref].time;
    for (int r = 0; r < (opt.reps_override > 0 ? opt.reps_override : reps); ++r) {
        const auto t0 = now_ns();
        uts_sink = uts_seq<Tree>(Tree::seed, 0);
        f.runs.push_back(double(now_ns() - t0) / 1e6);
        if (uts_sink != Tree::nodes) die(std::string(Tree::name) + ": wrong sequential node count");
    }
    summarise(f);
}

template <class Tree>
void add_uts(Suite& s) {
    Workload& w =
        s.add(Tree::name,
              {make_row(Tree::name, "ms", Dir::lower, TargetKind::vs_tbb, 1.0, "<= 1.0 vs tbb",
                        every_backend()),
               make_row(Tree::rss_row, "KiB", Dir::lower, TargetKind::vs_tbb, 1.5, "<= 1.5 vs tbb",
                        every_backend())},
              s.reps_heavy, every_backend(), [p = &s.pools](Backend b) {
                  return with_backend(b, *p, [](auto impl) { return uts_run<Tree>(impl); });
              });
    const std::size_t ref = add_sequential_ref(Tree::name, w.rows[0]);
    w.after = [ref, reps = s.reps_heavy] { time_uts_sequential<Tree>(ref, reps); };
}

}  // namespace

void add_uts_binomial(Suite& s) { add_uts<SplitmixTree>(s); }
void add_uts_sha1(Suite& s) { add_uts<Sha1Tree>(s); }

}  // namespace zuki_bench
