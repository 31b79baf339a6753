// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// One figure of the table: the runs of one workload on one backend, summarised as median, min
// and max (each figure of bench_zuki is the median of its R runs, printed with min and max).

#include <cmath>
#include <cstdint>
#include <vector>

namespace zuki_bench {

struct Figure {
    std::vector<double> runs;
    double median = NAN, min = NAN, max = NAN;
};

/// Sets median, min and max from the runs (left NaN when there are none).
void summarise(Figure& f);

/// Nanoseconds per operation for `ops` operations between `t0` and `t1` (ns).
inline double per_op(std::int64_t t0, std::int64_t t1, double ops) {
    return static_cast<double>(t1 - t0) / ops;
}

}  // namespace zuki_bench
