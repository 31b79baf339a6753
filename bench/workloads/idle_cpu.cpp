// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 11. idle_cpu: CPU time the process burns in one idle second with only this pool alive,
//     as a percentage of one core.
//
// Measured first, with only one pool alive at a time (oneTBB last, since its worker threads
// outlive its arena), so it is a row of the table but not a Workload of the interleaved runs.

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "harness/options.hpp"
#include "harness/sync.hpp"
#include "harness/watchdog.hpp"
#include "workloads/spawn_many_remote.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

std::size_t idle_row = 0;  // the table row, added by add_idle_cpu()

double idle_cpu_once() {
    const auto c0 = process_cpu_ns();
    const auto w0 = now_ns();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const auto c1 = process_cpu_ns();
    const auto w1 = now_ns();
    return 100.0 * double(c1 - c0) / double(w1 - w0);
}

}  // namespace

void add_idle_cpu(Suite&) {
    idle_row = add_row(make_row("idle_cpu", "% of a core", Dir::lower, TargetKind::absolute, 0.05,
                                "<= 0.05 %", every_backend()));
}

void run_idle_cpu(Suite& s) {
    std::printf("  %-28s", "idle_cpu");
    std::fflush(stdout);
    const auto start = now_ns();
    for (Backend b : enabled) {
        watchdog->arm(std::string("idle_cpu on ") + name_of(b), run_timeout_s);
        s.pools.create(b);
        // Warm up: every worker has run something; then let the pool settle and park.
        with_backend(b, s.pools, [](auto impl) { return spawn_many_remote(impl); });
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        watchdog->arm(std::string("idle_cpu on ") + name_of(b), run_timeout_s);
        auto& c = table[idle_row].cell(b);
        for (int r = 0; r < (opt.reps_override > 0 ? opt.reps_override : s.reps_idle); ++r)
            c.runs.push_back(idle_cpu_once());
        summarise(c);
        s.pools.destroy(b);
        watchdog->disarm();
    }
    std::printf(" %6.1f s\n", double(now_ns() - start) / 1e9);
}

}  // namespace zuki_bench
