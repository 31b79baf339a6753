// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `OutstandingWork`: the count `WorkStealingExecutor::join()` waits for — tasks and handlers
/// not yet finished plus tracked Asio work — kept without a shared RMW per task.
///
/// ## Algorithm (per-worker deltas folded on demand)
/// `join()` must see the count reach exactly zero, but a shared counter would cost two contended
/// RMWs per task. So, until a `join()` begins, a worker counts its own starts and finishes in a
/// private delta (`Local::delta`, a plain integer), and only threads outside the pool touch the
/// shared `outstanding_`. The true count is `outstanding_ + Σ deltas` (asio's scheduler keeps a
/// per-thread `private_outstanding_work` for the same reason).
///
///     join():   join_waiting_ = true (seq_cst); wake every parked worker; join the threads
///     worker:   at its next count or loop turn, if join_waiting_ and not yet folded:
///               outstanding_ += delta (seq_cst); acks_ += 1 (seq_cst); then done()?
///               From then on it counts in outstanding_ directly.
///     finish:   (folded, or off the pool) outstanding_ -= 1 (seq_cst); if that was the last
///               unit: done()?
///     done():   acks_ == workers (seq_cst), then outstanding_ == 0 (seq_cst)
///
/// The acknowledgement or finish that sees `done()` returns true, and the pool stops (the
/// caller's `end_join`): the workers exit, and `join()`, which waits for them to exit, returns.
/// Nobody sleeps on the count itself: a joiner that waited on it and then stopped the pool cost
/// a short-lived pool one more sleep and wake of the joiner and of every worker (issue 16).
///
/// ## Why the pool cannot stop early
/// `done()` is true only once every worker acknowledged: each then has added its delta and
/// counts in `outstanding_`, so `outstanding_` is the exact count (the fold's RMWs come before
/// its acknowledgement, and `done()` reads `acks_` before `outstanding_`, all seq_cst), and it
/// is zero. Before any join no worker acknowledges, so no finish stops the pool.
///
/// ## Why the pool does stop
/// - Every worker folds: one that has not when the join begins reads `join_waiting_` at its
///   next count or loop turn, or is parked and woken by `join()` (the caller arranges that wake:
///   a Dekker pair between the parker's re-check of `fold_pending_before_park()` and `join()`'s
///   store + `notify_all` of the idle set). A worker that has not entered its loop when the
///   join begins is acknowledged by the joiner (`ack_unstarted`): its delta is zero, as nothing
///   ran there, and a CAS on `Local::entry` decides between the joiner and the worker's
///   `enter`; a worker that loses it counts in `outstanding_` from its first count on. (Without
///   it a short-lived pool whose threads start on one CPU parked its first worker until the
///   second one ran and folded, then woke it to exit: issue 16.)
/// - Someone sees `done()`: take the last acknowledgement A and the finish F that leaves the
///   count at zero for good. Each does an RMW (A on `acks_`, F on `outstanding_`) and then
///   reads the other's variable in `done()`, all seq_cst: a Dekker pair, so whichever comes
///   second in the single total order sees the other's write, and with it `done()`. (If the
///   count is zero when A comes, with no F after it, A sees that zero.) Both may see it: the
///   stop is idempotent.
///
/// Who may call what: `started` / `finished` from any thread (with the calling worker's `Local`,
/// or null off the pool); `fold` by the owner of the `Local`; `vacate` by the pool before the
/// join can begin; `begin_join` by joiners (any number).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <zuki/detail/atomic.hpp>

namespace zuki::detail {

class OutstandingWork {
public:
    /// A worker's private share of the count. `delta` is written by its owner only, with
    /// relaxed atomic stores (`add`), so that `count_hint()` may read it from elsewhere.
    struct Local {
        std::int64_t delta = 0;
        bool folded = false;  // counts in outstanding_ directly (after a join began)
        // Whether the owner entered its loop (`enter`), or a joiner acknowledged for it before
        // it did (`ack_unstarted`): one CAS each, the first wins.
        atomic<std::uint32_t> entry{unstarted};
        static constexpr std::uint32_t unstarted = 0, entered = 1, acked_by_joiner = 2;

        void add(std::int64_t n) noexcept {
            std::atomic_ref<std::int64_t> d(delta);
            d.store(d.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
        }
        std::int64_t read() const noexcept {
            return std::atomic_ref<std::int64_t>(const_cast<std::int64_t&>(delta))
                .load(std::memory_order_relaxed);
        }
    };

    OutstandingWork() noexcept = default;
    OutstandingWork(const OutstandingWork&) = delete;
    OutstandingWork& operator=(const OutstandingWork&) = delete;

    /// How many workers must acknowledge a join (the workers that started).
    void set_workers(std::size_t n) noexcept { workers_ = n; }

    /// `n` units of work started; `local` is the calling worker's share, or null off the pool.
    void started(Local* local, std::int64_t n = 1) noexcept {
        if (local != nullptr && !local->folded) {
            // relaxed: a late view only delays the fold; join() waits for the acknowledgement.
            if (!join_waiting_.load(std::memory_order_relaxed)) {
                local->add(n);
                return;
            }
            fold(*local);
        }
        outstanding_.fetch_add(n, std::memory_order_relaxed);
    }

    /// One unit of work finished (see `started`). True if this finish completed a join: the
    /// caller stops the pool.
    bool finished(Local* local) noexcept {
        if (local != nullptr && !local->folded &&
            !join_waiting_.load(std::memory_order_relaxed)) {  // relaxed: as above
            local->add(-1);
            return false;
        }
        return finished_shared(local);
    }

private:
    // finished() once the unit goes to the shared count (off the pool, or a join began): out
    // of line, so that the per-task path above stays small.
    [[gnu::noinline]] bool finished_shared(Local* local) noexcept {
        if (local != nullptr && !local->folded)
            fold(*local);  // (cannot complete the join: our own unit is still counted)
        // seq_cst: the finisher's half of the Dekker pair with the last acknowledgement (see
        // "Why the pool does stop"). Its release half also publishes the finished work to
        // whoever reads the count in done() and then stops the pool.
        if (outstanding_.fetch_sub(1, ZUKI_MODEL_WEAKEN(outstanding_finish_order,
                                                        std::memory_order_seq_cst,
                                                        std::memory_order_relaxed)) == 1)
            return done();  // (see "Why the pool does stop")
        return false;
    }

public:
    /// True if the owner of `local` must fold now (a join began and it has not folded).
    bool fold_pending(const Local& local) const noexcept {
        // relaxed: a late view only delays the fold (see the file comment).
        return !local.folded && join_waiting_.load(std::memory_order_relaxed);
    }
    /// Like `fold_pending`, for a worker about to park: seq_cst, the parker's half of the
    /// Dekker pair with begin_join() + the idle set's notify_all (see the file comment).
    bool fold_pending_before_park(const Local& local) const noexcept {
        return !local.folded && join_waiting_.load(std::memory_order_seq_cst);
    }

    /// Owner of `local`: switch to global counting (once, after a join began). True if this
    /// fold completed the join: the caller stops the pool.
    bool fold(Local& local) noexcept {
        local.folded = true;
        // seq_cst (both): done() reads acks_ then outstanding_; the fold must be visible no
        // later than the acknowledgement.
        const std::int64_t delta = local.read();
        local.add(-delta);
        outstanding_.fetch_add(delta, std::memory_order_seq_cst);
        acks_.fetch_add(1, std::memory_order_seq_cst);
        return done();  // (see "Why the pool does stop")
    }

    /// Owner of `local`, as its loop begins, before it counts anything: if a joiner already
    /// acknowledged for it (`ack_unstarted`), it counts in the shared counter from here on.
    void enter(Local& local) noexcept {
        if (ZUKI_MODEL_PLANTED(outstanding_enter_blind)) {  // the model checks' planted bug
            local.entry.store(Local::entered, std::memory_order_relaxed);
            return;
        }
        std::uint32_t expected = Local::unstarted;
        // relaxed: only the RMW's atomicity decides who acknowledges; the worker reads nothing
        // the joiner wrote (a loser counts in outstanding_ with its own seq_cst RMWs).
        if (!local.entry.compare_exchange_strong(expected, Local::entered,
                                                 std::memory_order_relaxed))
            local.folded = true;
    }
    /// Joiner, after `begin_join`: acknowledge for a worker that has not entered its loop (its
    /// delta is zero: nothing ran there), so the join need not wait for it to run (a short-lived
    /// pool's second worker would otherwise only run once the first parked, and have to wake
    /// it; issue 16). True if this acknowledgement completed the join: the caller stops the
    /// pool.
    bool ack_unstarted(Local& local) noexcept {
        std::uint32_t expected = Local::unstarted;
        // relaxed: as in enter(); the acknowledgement itself is the seq_cst RMW below.
        if (!local.entry.compare_exchange_strong(expected, Local::acked_by_joiner,
                                                 std::memory_order_relaxed))
            return false;
        // seq_cst: as a fold's acknowledgement (done() reads acks_).
        acks_.fetch_add(1, std::memory_order_seq_cst);
        return done();
    }

    /// A worker that will never run (its thread failed to start), before any join: it counts
    /// as folded from the start (its delta is zero), so joins wait for no acknowledgement
    /// from it.
    void vacate(Local& local) noexcept {
        local.folded = true;
        local.entry.store(Local::entered, std::memory_order_relaxed);  // before any join
        // seq_cst: as a fold's acknowledgement (done() reads acks_).
        acks_.fetch_add(1, std::memory_order_seq_cst);
    }

    /// Joiner: announce the join. The caller then wakes every parked worker (so each folds);
    /// the fold or finish that completes the count returns true to its caller.
    void begin_join() noexcept { join_waiting_.store(true, std::memory_order_seq_cst); }

    /// True once every worker folded and the count is zero (seq_cst loads: see "Why the pool
    /// does stop").
    bool done() const noexcept {
        return acks_.load(std::memory_order_seq_cst) == workers_ &&
               outstanding_.load(std::memory_order_seq_cst) == 0;
    }

    /// For tests: the shared part of the count (exact once all folded), and how many workers
    /// folded (relaxed: observations only).
    std::int64_t shared_count() const noexcept {
        return outstanding_.load(std::memory_order_relaxed);
    }
    std::size_t folded_workers() const noexcept { return acks_.load(std::memory_order_relaxed); }

private:
    alignas(cache_line) atomic<std::int64_t> outstanding_{0};
    atomic<bool> join_waiting_{false};
    atomic<std::size_t> acks_{0};  // workers that folded their delta
    std::size_t workers_ = 0;
};

}  // namespace zuki::detail
