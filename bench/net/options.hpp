// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// bench_net's command line (`usage()` lists it). The hidden `--serve` mode is not parsed here
// (serve.hpp). `die()` is the harness's (harness/options.hpp); bench_net defines it in
// options.cpp with its own name in the message, and does not link harness/options.cpp.

#include <string>
#include <vector>

namespace zuki_bench::net {

struct NetOptions {
    bool quick = false;
    int rounds = 5;
    int duration_s = 0;  // echo64 / http64 window; 0 = by mode (3 s, --quick 2 s)
    std::string out_dir = ".";
    std::vector<std::string> only;
    bool use_wrk = true;
    int timeout_s = 0;  // the whole run; 0 = by mode
};
extern NetOptions opt;

/// Fills `opt` from the command line. Returns false when the program should exit with status 0
/// (`--help`); dies on a bad argument.
bool parse_options(int argc, char** argv);

void usage();

/// True if `--only` is empty or one of its entries is a prefix of `workload`.
bool selected(const std::string& workload);

}  // namespace zuki_bench::net
