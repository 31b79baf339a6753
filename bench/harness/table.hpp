// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// The table: one row per figure of a workload, one cell per backend, and the ratio of zuki's
// cost to the best anchor's cost with the verdict against the target.
//
// Ratios: every ratio is "zuki's cost / best anchor's cost" (anchors: asio_tp, io_context, tbb),
// so below 1 means zuki is better. For times: zuki_time / best_time; for throughput:
// best_throughput / zuki_throughput.

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "harness/backend.hpp"
#include "harness/stats.hpp"

namespace zuki_bench {

enum class Dir { lower, higher };  // which way is better
enum class TargetKind { none, vs_best, vs_tbb, vs_single, absolute };

struct Row {
    std::string name;
    std::string unit;
    Dir dir = Dir::lower;
    TargetKind kind = TargetKind::none;
    double target = 0;  // for ratio kinds: max allowed cost ratio; absolute: max value
    std::string target_text;
    std::vector<Backend> backends;  // which backends have this figure
    using Cell = Figure;
    Cell cells[std::size(all_backends)];
    Cell& cell(Backend b) { return cells[static_cast<int>(b)]; }
    const Cell& cell(Backend b) const { return cells[static_cast<int>(b)]; }
};

extern std::vector<Row> table;
extern std::vector<Backend> enabled;  // backends in this run
// fib(25) on one thread without a pool: the reference printed under the table and in the CSV.
extern Figure fib_sequential;

// The same computation as a fork-join workload, on one thread without a pool (skynet,
// uts_binomial, uts_sha1, nqueens10): printed under the table with each backend's speed-up over it
// (sequential median / the backend's median on `row`) and written to the CSV as
// `<name>_sequential` and `<name>_speedup` lines.
struct SequentialRef {
    std::string name;
    std::size_t row = 0;  // the row of parallel times (ms) it is compared with
    Figure time;  // ms
};
extern std::vector<SequentialRef> sequential_refs;

/// Registers a sequential reference for `row`; returns its index in `sequential_refs`.
std::size_t add_sequential_ref(std::string name, std::size_t row);
/// Sequential median / the backend's median on the reference's row (NaN when either is missing).
double speedup(const SequentialRef& ref, Backend b);

/// Appends `r` to the table; returns its index.
std::size_t add_row(Row r);
Row make_row(std::string name, std::string unit, Dir dir, TargetKind kind, double target,
             std::string text, std::vector<Backend> bs);

// Cost ratio (< 1: zuki better) of backend b on a row against the best anchor (or oneTBB, or
// zuki's own single submissions). NaN when not defined.
struct RatioInfo {
    double ratio = NAN;
    std::string against;
};
RatioInfo ratio_for(const Row& r, Backend b);
/// "met", "MISSED x<factor>", "n/a", or "" (no target).
std::string verdict_for(const Row& r);

/// A figure with 3 significant digits or so ("-" for NaN).
std::string fmt(double v);

/// The table as Markdown: one line per row with at least one figure.
void print_table(std::FILE* f);

}  // namespace zuki_bench
