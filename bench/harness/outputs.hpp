// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// What bench_zuki leaves behind besides the table on stdout: bench_results.csv (every figure),
// bench_ratios.csv (the ratio columns) and bench_ratios.png, drawn by gnuplot from
// bench_ratios.csv with bench/bench_chart.gp (skipped with a message if gnuplot is missing).

#include <string>

namespace zuki_bench {

/// CPU model, logical CPUs, kernel, date and 1-minute load, for the header and the chart.
std::string machine_line();

/// Writes the two CSVs and the chart into --out DIR; `header_comment` heads bench_ratios.csv
/// and is the chart's subtitle.
void write_outputs(const std::string& header_comment);

}  // namespace zuki_bench
