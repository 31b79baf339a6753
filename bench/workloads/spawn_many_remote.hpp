// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// 2. spawn_many_remote_idle: the same 10,000 submitted from this (outside) thread into an idle
//    pool. ns per task, from the first submission to the last task's end.
//
// Shared: spawn_many_remote_busy runs it while the workers spin, spawn_batch_10k(single) is it on
// zuki, and idle_cpu warms every pool up with it.

#include "harness/sync.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {

inline double spawn_many_remote(ZukiImpl z) {
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
inline double spawn_many_remote(TbbImpl t) {
    S.done.reset(spawn_many);
    const auto t0 = now_ns();
    for (int i = 0; i < spawn_many; ++i) t.arena.enqueue([] { arrive(); });
    return per_op(t0, S.done.wait("spawn_many_remote"), spawn_many);
}

}  // namespace zuki_bench
