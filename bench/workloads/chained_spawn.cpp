// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 6. chained_spawn: a chain of 1,000 tasks, each spawning the next. ns per hop.

#include "harness/sync.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

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

}  // namespace

void add_chained_spawn(Suite& s) {
    s.add("chained_spawn",
          {make_row("chained_spawn", "ns/hop", Dir::lower, TargetKind::vs_best, 0.5, "<= 0.5",
                    every_backend())},
          s.reps_short, every_backend(), s.single([](auto impl) { return chained_spawn(impl); }));
}

}  // namespace zuki_bench
