// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::Metrics`: counters of a `WorkStealingExecutor`, always on.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <vector>

namespace zuki {

/// Counters of one worker. Each is written by its worker only (a relaxed load and store, no
/// RMW), so keeping them on costs a few plain increments per task.
///
/// Every counter is listed once, in `fields`: the snapshot, `Metrics::total()` and the stream
/// output iterate over that table, so a new counter is one member and one table entry.
struct WorkerMetrics {
    std::uint64_t tasks_run = 0;  ///< polls of tasks (and Asio handlers run)
    std::uint64_t steals = 0;  ///< successful steal operations
    std::uint64_t tasks_stolen = 0;  ///< tasks taken by those steals
    std::uint64_t overflows = 0;  ///< times the local deque was full (half moved to global)
    std::uint64_t global_takes = 0;  ///< chunks taken from the global queue
    std::uint64_t parks = 0;  ///< times the worker went to sleep
    std::uint64_t unparks = 0;  ///< times it was woken (or cancelled its park)
    /// Pauses (a `sched_yield`) between two rounds of a search for work that found none: the
    /// spinning before a park. A worker that is the only one awake, with no reactor in use,
    /// parks after one round instead (nobody can make work for it to steal).
    std::uint64_t back_offs = 0;
    /// Ready I/O operations (socket and timer completions) this worker took from the reactor
    /// and queued as tasks (0 on the fallback build, where Asio's own thread delivers them).
    std::uint64_t io_events = 0;
    /// Nanoseconds this worker spent busy: from the first task after it slept until it went to
    /// sleep again (polling tasks, the scheduling between them, and the short search for more
    /// work before sleeping; not the sleep). Utilisation over a period is the difference of two
    /// readings over the period's length.
    std::uint64_t busy_ns = 0;
    /// Tasks in this worker's deque now (a gauge, not a counter; its LIFO slot not counted).
    std::uint64_t local_queued = 0;

    /// One counter: its name and where it is.
    struct Field {
        const char* name;
        std::uint64_t WorkerMetrics::*member;
    };
    static constexpr std::array<Field, 11> fields{{
        {"tasks_run", &WorkerMetrics::tasks_run},
        {"steals", &WorkerMetrics::steals},
        {"tasks_stolen", &WorkerMetrics::tasks_stolen},
        {"overflows", &WorkerMetrics::overflows},
        {"global_takes", &WorkerMetrics::global_takes},
        {"parks", &WorkerMetrics::parks},
        {"unparks", &WorkerMetrics::unparks},
        {"back_offs", &WorkerMetrics::back_offs},
        {"io_events", &WorkerMetrics::io_events},
        {"busy_ns", &WorkerMetrics::busy_ns},
        {"local_queued", &WorkerMetrics::local_queued},
    }};

    WorkerMetrics& operator+=(const WorkerMetrics& o) noexcept {
        for (const Field& f : fields) this->*f.member += o.*f.member;
        return *this;
    }
};

/// A snapshot of a pool's counters (`WorkStealingExecutor::metrics()`). Counters read while the
/// pool runs are each exact at some recent moment, not a consistent cut.
struct Metrics {
    /// One entry per worker thread, then one per place taken by a thread that called
    /// `WorkStealingExecutor::attach()` (the last `attached_threads` entries).
    std::vector<WorkerMetrics> workers;
    /// Places taken by `attach()` so far (a place is not given back: a thread leaves it only
    /// when the pool stops).
    std::size_t attached_threads = 0;
    /// Worker threads that failed to start (each was also reported to the unhandled-exception
    /// handler as a `std::system_error`).
    std::size_t failed_thread_starts = 0;
    /// Exceptions thrown by the unhandled-exception handler itself (they are dropped).
    std::uint64_t handler_failures = 0;
    /// Tasks and Asio handlers submitted and not finished yet, plus tracked Asio work (work
    /// guards, pending operations): what `join()` waits for.
    std::int64_t tasks_alive = 0;
    /// Tasks waiting in the global queue, by `TaskPriority` (index 0: Low ... 3: Critical).
    std::array<std::int64_t, 4> global_queued{};
    /// The blocking pool (`spawn_blocking`): threads alive, of which idle, and calls queued
    /// for a thread.
    std::size_t blocking_threads = 0;
    std::size_t blocking_idle = 0;
    std::size_t blocking_queued = 0;

    /// Sum over all workers.
    WorkerMetrics total() const noexcept {
        WorkerMetrics t;
        for (const auto& w : workers) t += w;
        return t;
    }
};

inline std::ostream& operator<<(std::ostream& os, const WorkerMetrics& m) {
    const char* sep = "";
    for (const auto& f : WorkerMetrics::fields) {
        os << sep << f.name << '=' << m.*f.member;
        sep = " ";
    }
    return os;
}
inline std::ostream& operator<<(std::ostream& os, const Metrics& m) {
    for (std::size_t i = 0; i < m.workers.size(); ++i)
        os << "worker " << i << ": " << m.workers[i] << '\n';
    if (m.attached_threads != 0)
        os << "(the last " << m.attached_threads << " are attached threads)\n";
    os << "tasks alive: " << m.tasks_alive << ", global queue (low..critical):";
    for (std::int64_t q : m.global_queued) os << ' ' << q;
    os << '\n';
    return os << "failed thread starts: " << m.failed_thread_starts
              << ", handler failures: " << m.handler_failures
              << ", blocking threads: " << m.blocking_threads << " (" << m.blocking_idle
              << " idle, " << m.blocking_queued << " calls queued)\n";
}

namespace detail {
/// The owner's increment of one of its counters (single writer: no RMW). Readers load with
/// `read_counter` (relaxed: each counter is exact at some moment, see `Metrics`).
inline void bump(std::uint64_t& counter, std::uint64_t n = 1) noexcept {
    std::atomic_ref<std::uint64_t> c(counter);
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline std::uint64_t read_counter(std::uint64_t& counter) noexcept {
    return std::atomic_ref<std::uint64_t>(counter).load(std::memory_order_relaxed);
}
/// A snapshot of `live` (a worker's counters, being bumped concurrently).
inline WorkerMetrics snapshot(WorkerMetrics& live) noexcept {
    WorkerMetrics m;
    for (const auto& f : WorkerMetrics::fields) m.*f.member = read_counter(live.*f.member);
    return m;
}
}  // namespace detail

}  // namespace zuki
