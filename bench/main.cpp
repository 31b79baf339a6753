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
//
// Where things are: bench/harness/ (options, watchdog, latch and gate, statistics, the table, the
// CSVs and chart), bench/backends.hpp (the pools and how each is driven), bench/workloads/ (one
// file per workload; registry.cpp lists them), and this driver.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "backends.hpp"
#include "harness/clock.hpp"
#include "harness/options.hpp"
#include "harness/outputs.hpp"
#include "harness/stats.hpp"
#include "harness/sync.hpp"
#include "harness/table.hpp"
#include "harness/watchdog.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

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
        for (auto& c : table[i].cells) summarise(c);
    std::printf(" %6.1f s\n", double(now_ns() - start) / 1e9);
}

void print_metrics(const zuki::WorkerMetrics& m0, const zuki::WorkerMetrics& m1) {
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

int run(int argc, char** argv) {
    if (!parse_options(argc, argv)) return 0;
    const std::size_t n =
        opt.threads ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
    if (n == 0 || n > 1024) die("--threads must be in 1..1024");

    for (Backend b : all_backends) {
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
    Pools pools;
    pools.n = n;
    // Repetitions: short workloads / heavy workloads / latency (2,000 samples each) / idle second.
    Suite suite{.pools = pools,
                .workers = n,
                .reps_short = q ? 11 : 21,
                .reps_heavy = q ? 5 : 9,
                .reps_latency = q ? 2 : 5,
                .reps_idle = q ? 2 : 5,
                .warm = q ? 1 : 3,
                .workloads = {}};
    add_all_workloads(suite);

    if (opt.list) {
        for (auto& w : suite.workloads) std::printf("%s\n", w.name.c_str());
        std::printf("idle_cpu\n");
        return 0;
    }

    std::printf("bench_zuki: %zu workers per pool, %s mode; backends:", n,
                opt.quick ? "quick" : "full");
    for (Backend b : enabled) std::printf(" %s", name_of(b));
    const std::string machine = machine_line();  // date and load at the start
    std::printf("\n  machine: %s\n", machine.c_str());
    std::fflush(stdout);
    const auto suite_start = now_ns();

    // ---- 11. idle_cpu first, one pool alive at a time, oneTBB last --------------------------
    if (selected("idle_cpu")) run_idle_cpu(suite);

    // ---- everything else, all pools alive, runs interleaved ---------------------------------
    for (Backend b : enabled) pools.create(b);
    for (auto& w : suite.workloads) {
        if (!selected(w.name)) continue;
        const auto m0 = zuki_totals(pools);
        run_workload(w);
        if (w.after) w.after();
        if (opt.metrics && pools.zuki) print_metrics(m0, zuki_totals(pools));
    }
    for (Backend b : enabled) pools.destroy(b);

    std::printf("\nsuite: %.0f s. Each cell: median (min-max) of the runs. Ratio = zuki's cost / "
                "best anchor's cost\n(anchors: asio_tp, io_context, tbb; times: zuki/best, "
                "throughput: best/zuki): below 1 = zuki better.\nspawn_batch: Batch vs zuki's own "
                "single submissions. fib25, skynet, uts_*, and nqueens10 "
                "verdicts against tbb. idle_cpu target is absolute.\n\n",
                double(now_ns() - suite_start) / 1e9);
    print_table(stdout);
    if (!fib_sequential.runs.empty())
        std::printf("\nfib(%d) sequential, one thread, no pool: %s ms (%s-%s)\n", fib_n,
                    fmt(fib_sequential.median).c_str(), fmt(fib_sequential.min).c_str(),
                    fmt(fib_sequential.max).c_str());
    bool gap = !fib_sequential.runs.empty();  // a blank line under the table, once
    for (const SequentialRef& ref : sequential_refs) {
        if (ref.time.runs.empty()) continue;
        if (!gap) std::printf("\n");
        gap = true;
        std::printf("%s sequential, one thread, no pool: %s ms (%s-%s); speed-up (sequential / "
                    "median):",
                    ref.name.c_str(), fmt(ref.time.median).c_str(), fmt(ref.time.min).c_str(),
                    fmt(ref.time.max).c_str());
        for (Backend b : enabled)
            if (const double x = speedup(ref, b); !std::isnan(x))
                std::printf(" %s %sx", name_of(b), fmt(x).c_str());
        std::printf("\n");
    }
    char hdr[256];
    std::snprintf(hdr, sizeof hdr, "%zu workers, %s mode, %s", n, opt.quick ? "quick" : "full",
                  machine.c_str());
    write_outputs(hdr);
    watchdog = nullptr;
    return 0;
}

}  // namespace
}  // namespace zuki_bench

int main(int argc, char** argv) { return zuki_bench::run(argc, argv); }
