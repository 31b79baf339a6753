// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

#include "net/options.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "harness/options.hpp"  // die(), declared there, defined below for this program

namespace zuki_bench {

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "bench_net: %s\n", msg.c_str());
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(3);
}

}  // namespace zuki_bench

namespace zuki_bench::net {

NetOptions opt;

namespace {

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string x; std::getline(ss, x, ',');)
        if (!x.empty()) out.push_back(x);
    return out;
}

int to_int(const std::string& flag, const std::string& v, int lo, int hi) {
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (end == v.c_str() || *end != '\0' || n < lo || n > hi)
        die(flag + " needs an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
    return static_cast<int>(n);
}

}  // namespace

void usage() {
    std::puts(
        "usage: bench_net [--quick] [--rounds N] [--duration S] [--out DIR] [--only W1,W2]\n"
        "                 [--no-wrk] [--timeout S]\n"
        "Networking servers on zuki::WorkStealingExecutor(2) against io_context run by 2\n"
        "threads, 2 io_contexts of one thread each, and asio::thread_pool(2); the server runs\n"
        "in a child process, the load in this one. Workloads: echo64, http64 (wrk if on PATH),\n"
        "timers10k (10,000 timers re-armed for 0-2 ms), latency_pingpong and latency_timer0\n"
        "(zuki(1), zuki(2) against io_context(1)).\n"
        "  --quick       2 s windows instead of 3 s, shorter latency runs\n"
        "  --rounds N    rounds, each running every backend once in a rotated order (default 5)\n"
        "  --duration S  measured window of echo64 and http64, whole seconds\n"
        "  --out DIR     where net_results.csv goes (default: the current directory)\n"
        "  --only        workloads whose name starts with one of these (e.g. echo,latency)\n"
        "  --no-wrk      the built-in HTTP client even if wrk is on PATH\n"
        "  --timeout S   abort if the whole run takes longer (default 900 quick, 1800)");
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
        else if (a == "--rounds")
            opt.rounds = to_int(a, value(), 1, 1000);
        else if (a == "--duration")
            opt.duration_s = to_int(a, value(), 1, 3600);
        else if (a == "--out")
            opt.out_dir = value();
        else if (a == "--only")
            opt.only = split(value());
        else if (a == "--no-wrk")
            opt.use_wrk = false;
        else if (a == "--timeout")
            opt.timeout_s = to_int(a, value(), 1, 1'000'000);
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

}  // namespace zuki_bench::net
