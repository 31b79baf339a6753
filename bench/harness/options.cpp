// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

#include "harness/options.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace zuki_bench {

Options opt;

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "bench_zuki: %s\n", msg.c_str());
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(3);
}

namespace {

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string x; std::getline(ss, x, ',');)
        if (!x.empty()) out.push_back(x);
    return out;
}

}  // namespace

void usage() {
    std::puts(
        "usage: bench_zuki [--quick] [--threads N] [--out DIR] [--reps R] [--only W1,W2]\n"
        "                  [--backends B1,B2] [--no-chart] [--chart-script PATH] [--timeout S]\n"
        "                  [--metrics] [--wake-gap-us US] [--list]\n"
        "  --quick       fewer repetitions (the whole suite in about 2 minutes on 2 cores)\n"
        "  --threads N   workers per pool (default: hardware concurrency)\n"
        "  --out DIR     where bench_results.csv, bench_ratios.csv and bench_ratios.png go\n"
        "  --reps R      measured repetitions of every workload (overrides the mode)\n"
        "  --only        workloads whose name starts with one of these (see --list)\n"
        "  --backends    subset of zuki,zuki_asio,asio_tp,io_context,tbb\n"
        "  --timeout S   abort if the whole suite takes longer (default 900 quick, 3600)\n"
        "  --metrics     print the zuki pool's counters after each workload\n"
        "  --wake-gap-us pause before each wake_latency sample (default 1000)");
}

bool parse_options(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value after " + a);
            return argv[++i];
        };
        if (a == "--quick")
            opt.quick = true;
        else if (a == "--threads")
            opt.threads = std::stoul(value());
        else if (a == "--out")
            opt.out_dir = value();
        else if (a == "--reps")
            opt.reps_override = std::stoi(value());
        else if (a == "--only")
            opt.only = split(value());
        else if (a == "--backends")
            opt.backends = split(value());
        else if (a == "--no-chart")
            opt.chart = false;
        else if (a == "--chart-script")
            opt.chart_script = value();
        else if (a == "--timeout")
            opt.timeout_s = std::stoi(value());
        else if (a == "--metrics")
            opt.metrics = true;
        else if (a == "--list")
            opt.list = true;
        else if (a == "--wake-gap-us")
            opt.wake_gap_us = std::stoi(value());
        else if (a == "--help" || a == "-h") {
            usage();
            return false;
        } else {
            usage();
            die("unknown argument " + a);
        }
    }
    return true;
}

bool selected(const std::string& workload) {
    if (opt.only.empty()) return true;
    for (const auto& o : opt.only)
        if (workload.rfind(o, 0) == 0) return true;
    return false;
}

}  // namespace zuki_bench
