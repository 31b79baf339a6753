// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// bench_zuki's command line (`usage()` lists it), and `die()`, the one way out on an error.

#include <cstddef>
#include <string>
#include <vector>

namespace zuki_bench {

struct Options {
    bool quick = false;
    std::size_t threads = 0;
    std::string out_dir = ".";
    int reps_override = 0;
    std::vector<std::string> only;
    std::vector<std::string> backends;
    bool chart = true;
    int timeout_s = 0;  // whole suite; 0 = by mode
    bool metrics = false;
    std::string chart_script;
    int wake_gap_us = 0;  // 0 = by mode
    bool list = false;
};
extern Options opt;

/// Print `msg` and end the program at once (status 3), whatever other threads are doing.
[[noreturn]] void die(const std::string& msg);

/// Fill `opt` from the command line. Returns false when the program should exit with status 0
/// (`--help`); dies on an unknown argument.
bool parse_options(int argc, char** argv);

void usage();

/// True if `--only` is empty or one of its entries is a prefix of `workload`.
bool selected(const std::string& workload);

}  // namespace zuki_bench
