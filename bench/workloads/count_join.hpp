// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// The join record of the continuation-passing (Asio) versions of uts_binomial and nqueens10:
// Asio has no join, so a parent allocates a record with its count so far and an atomic
// countdown of its children; the last child to report forwards the sum to the grandparent's
// record, and the root's report ends the run (S.result, S.done).

#include <atomic>

#include "harness/sync.hpp"

namespace zuki_bench {

struct CountJoin {
    CountJoin* parent;
    std::atomic<long> count;
    std::atomic<int> pending;
};

/// Report `v` to `j` (nullptr: the root: the run's result).
inline void count_join_report(CountJoin* j, long v) {
    for (;;) {
        if (j == nullptr) {
            S.result.store(v);
            S.done.fire();
            return;
        }
        // relaxed: the acq_rel countdown orders every add before the last reporter's load.
        j->count.fetch_add(v, std::memory_order_relaxed);
        if (j->pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        v = j->count.load(std::memory_order_relaxed);
        CountJoin* p = j->parent;
        delete j;
        j = p;
    }
}

}  // namespace zuki_bench
