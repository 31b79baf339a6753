// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

#include "harness/stats.hpp"

#include <algorithm>

namespace zuki_bench {

void summarise(Figure& f) {
    if (f.runs.empty()) return;
    std::vector<double> v = f.runs;
    std::sort(v.begin(), v.end());
    f.min = v.front();
    f.max = v.back();
    const std::size_t n = v.size();
    f.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace zuki_bench
