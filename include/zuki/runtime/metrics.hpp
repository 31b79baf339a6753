// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::Metrics`: counters of a `WorkStealingExecutor`, always on.

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <vector>

namespace zuki {

/// Counters of one worker. Each is written by its worker only (a relaxed store, no RMW), so
/// keeping them on costs a few plain increments per task.
struct WorkerMetrics {
    std::uint64_t tasks_run = 0;  ///< polls of tasks (and Asio handlers run)
    std::uint64_t steals = 0;  ///< successful steal operations
    std::uint64_t tasks_stolen = 0;  ///< tasks taken by those steals
    std::uint64_t overflows = 0;  ///< times the local deque was full (half moved to global)
    std::uint64_t global_takes = 0;  ///< chunks taken from the global queue
    std::uint64_t parks = 0;  ///< times the worker went to sleep
    std::uint64_t unparks = 0;  ///< times it was woken (or cancelled its park)
};

/// A snapshot of every worker's counters (`WorkStealingExecutor::metrics()`). Counters read while
/// the pool runs are each exact at some recent moment, not a consistent cut.
struct Metrics {
    std::vector<WorkerMetrics> workers;
    /// Worker threads that failed to start.
    std::size_t failed_thread_starts = 0;

    /// Sum over all workers.
    WorkerMetrics total() const noexcept {
        WorkerMetrics t;
        for (const auto& w : workers) {
            t.tasks_run += w.tasks_run;
            t.steals += w.steals;
            t.tasks_stolen += w.tasks_stolen;
            t.overflows += w.overflows;
            t.global_takes += w.global_takes;
            t.parks += w.parks;
            t.unparks += w.unparks;
        }
        return t;
    }
};

inline std::ostream& operator<<(std::ostream& os, const WorkerMetrics& m) {
    return os << "run=" << m.tasks_run << " steals=" << m.steals << " stolen=" << m.tasks_stolen
              << " overflows=" << m.overflows << " global=" << m.global_takes
              << " parks=" << m.parks << " unparks=" << m.unparks;
}
inline std::ostream& operator<<(std::ostream& os, const Metrics& m) {
    for (std::size_t i = 0; i < m.workers.size(); ++i)
        os << "worker " << i << ": " << m.workers[i] << '\n';
    return os << "failed thread starts: " << m.failed_thread_starts << '\n';
}

}  // namespace zuki
