// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// skynet: the "skynet" fork-join benchmark. A root task with 10 children, each with 10 children,
// six levels down: 1,111,111 tasks, of which the 1,000,000 leaves return their number
// (0..999,999) and every other task returns the sum of its children's (499,999,500,000 at the
// root). Every task but the root is spawned; each parent joins all 10 children. Milliseconds for
// the whole tree, from the root's start to its end.
//
// After its runs, the workload sums the same tree sequentially on this thread, without a pool:
// the reference printed under the table with each backend's speed-up over it.

#include <array>
#include <atomic>

#include "harness/options.hpp"
#include "harness/sync.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

constexpr int skynet_fanout = 10;
constexpr long skynet_leaves = 1'000'000;  // 10^6: six levels below the root
constexpr long skynet_sum = skynet_leaves * (skynet_leaves - 1) / 2;

[[gnu::noinline]] long skynet_seq(long num, long size) {
    if (size == 1) return num;
    const long child = size / skynet_fanout;
    long sum = 0;
    for (int i = 0; i < skynet_fanout; ++i) sum += skynet_seq(num + i * child, child);
    return sum;
}
volatile long skynet_sink = 0;  // keeps the sequential reference run from being optimised away

double check_skynet(double ms) {
    if (S.result.load() != skynet_sum) die("skynet: wrong sum");
    return ms;
}

// Zuki, the way a user writes it: spawn the 10 children, then co_await their handles.
zuki::Async<long> zuki_skynet(zuki::WorkStealingExecutor& pool, long num, long size) {
    if (size == 1) co_return num;
    const long child = size / skynet_fanout;
    std::array<zuki::JoinHandle<long>, skynet_fanout> kids;
    for (int i = 0; i < skynet_fanout; ++i)
        kids[i] = pool.spawn(zuki_skynet(pool, num + i * child, child));
    long sum = 0;
    for (auto& k : kids) sum += co_await k;
    co_return sum;
}
zuki::Async<void> zuki_skynet_root(zuki::WorkStealingExecutor& pool) {
    S.t0.store(now_ns(), std::memory_order_relaxed);
    S.result.store(co_await zuki_skynet(pool, 0, skynet_leaves));
    S.done.fire();
}
double skynet(ZukiImpl z) {
    S.done.reset(1);
    z.pool.spawn_detached(zuki_skynet_root(z.pool));
    const auto t1 = S.done.wait("skynet");
    return check_skynet(double(t1 - S.t0.load()) / 1e6);
}

// Asio has no join: continuation passing, as in fib25. Each parent allocates a join record with
// a slot per child and an atomic countdown, and posts its 10 children; the last child to report
// sums the slots and reports to the grandparent's record.
struct SkynetJoin {
    SkynetJoin* parent;
    int slot;  // which of the parent's slots this one fills
    long value[skynet_fanout] = {};
    std::atomic<int> pending{skynet_fanout};
};
void skynet_report(SkynetJoin* j, int slot, long v) {
    for (;;) {
        if (j == nullptr) {
            S.result.store(v);
            S.done.fire();
            return;
        }
        j->value[slot] = v;
        // acq_rel: the last reporter sees every other reporter's value.
        if (j->pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        v = 0;
        for (long x : j->value) v += x;
        SkynetJoin* p = j->parent;
        slot = j->slot;
        delete j;
        j = p;
    }
}
template <class Ex>
void asio_skynet(Ex ex, long num, long size, SkynetJoin* parent, int slot) {
    if (size == 1) return skynet_report(parent, slot, num);
    const long child = size / skynet_fanout;
    auto* j = new SkynetJoin{parent, slot};
    for (int i = 0; i < skynet_fanout; ++i)
        boost::asio::post(
            ex, [ex, j, i, n = num + i * child, child] { asio_skynet(ex, n, child, j, i); });
}
template <class Ex>
double skynet(AsioImpl<Ex> a) {
    S.done.reset(1);
    boost::asio::post(a.ex, [ex = a.ex] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        asio_skynet(ex, 0, skynet_leaves, nullptr, 0);
    });
    const auto t1 = S.done.wait("skynet");
    return check_skynet(double(t1 - S.t0.load()) / 1e6);
}

// oneTBB: a task_group per parent, 10 run()s, wait().
long tbb_skynet(long num, long size) {
    if (size == 1) return num;
    const long child = size / skynet_fanout;
    std::array<long, skynet_fanout> sums{};
    tbb::task_group tg;
    for (int i = 0; i < skynet_fanout; ++i)
        tg.run([&sums, i, num, child] { sums[i] = tbb_skynet(num + i * child, child); });
    tg.wait();
    long sum = 0;
    for (long x : sums) sum += x;
    return sum;
}
double skynet(TbbImpl t) {
    S.done.reset(1);
    t.arena.enqueue([] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        S.result.store(tbb_skynet(0, skynet_leaves));
        S.done.fire();
    });
    const auto t1 = S.done.wait("skynet");
    return check_skynet(double(t1 - S.t0.load()) / 1e6);
}

// The tree on this thread, no pool, as many times as the workload's measured runs.
void time_skynet_sequential(std::size_t ref, int reps) {
    Figure& f = sequential_refs[ref].time;
    for (int r = 0; r < (opt.reps_override > 0 ? opt.reps_override : reps); ++r) {
        const auto t0 = now_ns();
        skynet_sink = skynet_seq(0, skynet_leaves);
        f.runs.push_back(double(now_ns() - t0) / 1e6);
        if (skynet_sink != skynet_sum) die("skynet: wrong sequential sum");
    }
    summarise(f);
}

}  // namespace

void add_skynet(Suite& s) {
    Workload& w =
        s.add("skynet",
              {make_row("skynet", "ms", Dir::lower, TargetKind::vs_tbb, 1.0, "<= 1.0 vs tbb",
                        every_backend())},
              s.reps_heavy, every_backend(), s.single([](auto impl) { return skynet(impl); }));
    const std::size_t ref = add_sequential_ref("skynet", w.rows[0]);
    w.after = [ref, reps = s.reps_heavy] { time_skynet_sequential(ref, reps); };
}

}  // namespace zuki_bench
