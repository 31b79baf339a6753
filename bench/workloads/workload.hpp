// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// A workload of bench_zuki: a name (what --only and --list see), the table rows it fills, how
// many times it runs, on which backends, and one run on one backend. Each file of
// bench/workloads/ measures one shape (or one family: remote_post_{1,2,4}p) and adds its
// workloads with `add_<name>(Suite&)`; registry.cpp lists them all, in table order.

#include <cstddef>
#include <functional>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "backends.hpp"
#include "harness/table.hpp"

namespace zuki_bench {

// Sizes from the issue.
inline constexpr int spawn_many = 10'000;
inline constexpr int yield_tasks = 200;
inline constexpr int yields_per_task = 1'000;
inline constexpr int ping_pairs = 1'000;
inline constexpr int chain_length = 1'000;
inline constexpr int fib_n = 25;
inline constexpr int posts_per_producer = 200'000;
inline constexpr int batch_size = 10'000;
inline constexpr int wake_samples = 2'000;

struct Workload {
    std::string name;
    std::vector<std::size_t> rows;  // indices into the table
    int reps = 5;
    int warmup = 1;
    std::vector<Backend> backends;
    // One run on one backend: the figure of each of `rows`, in order.
    std::function<std::vector<double>(Backend)> run;
    // Runs once after the workload's measured runs, when set (fib25, skynet, uts_binomial,
    // uts_sha1, nqueens10: the sequential reference).
    std::function<void()> after;
};

// What the workload files register into: the pools, the workers per pool, the repetitions of
// this mode, and the workloads (in table order; their rows are added to the table as they come).
struct Suite {
    Pools& pools;
    std::size_t workers;
    // Repetitions: short workloads / heavy workloads / latency (2,000 samples each) / idle second.
    int reps_short, reps_heavy, reps_latency, reps_idle, warm;
    std::vector<Workload> workloads;

    /// Adds a workload (warm-up: `warm`) and its rows; returns it for adjustments.
    Workload& add(std::string name, std::vector<Row> rows, int reps, std::vector<Backend> bs,
                  std::function<std::vector<double>(Backend)> run);

    /// A run with one figure: `fn(impl)` on the pool of the backend.
    template <class Fn>
    std::function<std::vector<double>(Backend)> single(Fn fn) {
        return [p = &pools, fn](Backend b) { return std::vector<double>{with_backend(b, *p, fn)}; };
    }
};

/// Every backend, for the rows and workloads that run on all of them.
inline std::vector<Backend> every_backend() {
    return {std::begin(all_backends), std::end(all_backends)};
}

// One per file of bench/workloads/, in table order.
void add_spawn_many_local(Suite& s);
void add_spawn_many_remote_idle(Suite& s);
void add_spawn_many_remote_busy(Suite& s);
void add_starvation(Suite& s);
void add_yield_many(Suite& s);
void add_deep_await(Suite& s);
void add_ping_pong(Suite& s);
void add_chained_spawn(Suite& s);
void add_fib(Suite& s);
void add_skynet(Suite& s);
void add_uts_binomial(Suite& s);
void add_uts_sha1(Suite& s);
void add_nqueens(Suite& s);
void add_remote_post(Suite& s);
void add_spawn_batch(Suite& s);
void add_wake_latency(Suite& s);
void add_stranded_child(Suite& s);
void add_pool_lifecycle(Suite& s);
void add_idle_cpu(Suite& s);  // a row only: idle_cpu runs apart, see run_idle_cpu()

/// All of the above, in this order (registry.cpp).
void add_all_workloads(Suite& s);

/// idle_cpu: measured first, with only one pool alive at a time (idle_cpu.cpp).
void run_idle_cpu(Suite& s);

}  // namespace zuki_bench
