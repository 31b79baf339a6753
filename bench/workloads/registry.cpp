// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// The list of bench_zuki's workloads, in table order (also the order --list prints and the
// order they run in, except idle_cpu, which runs first).

#include "workloads/workload.hpp"

namespace zuki_bench {

Workload& Suite::add(std::string name, std::vector<Row> rows, int reps, std::vector<Backend> bs,
                     std::function<std::vector<double>(Backend)> run) {
    Workload w;
    w.name = std::move(name);
    for (auto& r : rows) w.rows.push_back(add_row(std::move(r)));
    w.reps = reps;
    w.warmup = warm;
    w.backends = std::move(bs);
    w.run = std::move(run);
    workloads.push_back(std::move(w));
    return workloads.back();
}

void add_all_workloads(Suite& s) {
    add_spawn_many_local(s);
    add_spawn_many_remote_idle(s);
    add_spawn_many_remote_busy(s);
    add_starvation(s);
    add_yield_many(s);
    add_deep_await(s);
    add_ping_pong(s);
    add_chained_spawn(s);
    add_fib(s);
    add_skynet(s);
    add_uts_binomial(s);
    add_uts_sha1(s);
    add_nqueens(s);
    add_remote_post(s);
    add_spawn_batch(s);
    add_wake_latency(s);
    add_stranded_child(s);
    add_pool_lifecycle(s);
    add_idle_cpu(s);
}

}  // namespace zuki_bench
