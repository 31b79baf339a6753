// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 1. spawn_many_local: inside one task, spawn 10,000 tasks that each decrement a counter.
//    ns per task, from the root task's start to the last task's end.

#include "harness/sync.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

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

}  // namespace

void add_spawn_many_local(Suite& s) {
    s.add("spawn_many_local",
          {make_row("spawn_many_local", "ns/task", Dir::lower, TargetKind::vs_best, 0.5, "<= 0.5",
                    every_backend())},
          s.reps_short, every_backend(),
          s.single([](auto impl) { return spawn_many_local(impl); }));
}

}  // namespace zuki_bench
