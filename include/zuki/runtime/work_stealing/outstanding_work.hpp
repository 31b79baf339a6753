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
///     join():   join_waiting_ = true (seq_cst); wake every worker; wait until
///               acks_ == workers && outstanding_ == 0
///     worker:   at its next count or loop turn, if join_waiting_ and not yet folded:
///               outstanding_ += delta (seq_cst); acks_ += 1 (seq_cst); notify if done();
///               from then on count in outstanding_ directly
///     finish:   outstanding_ -= 1 (seq_cst); if it reached zero and join_waiting_: notify if
///               done()
///
/// The acknowledgement or finish that completes the join returns true, and the pool then stops
/// at once (`join()` stops it when the wait ends anyway): the workers exit instead of parking
/// and being woken a second time by the joiner's stop (issue 16: a short-lived pool's join).
///
/// ## Why join() cannot return early
/// - Once every worker acknowledged, each has added its delta and counts globally, so
///   `outstanding_` is exact; the fold's seq_cst RMWs order the fold before the acknowledgement,
///   and `done()` reads `acks_` before `outstanding_` (both seq_cst).
/// - A finish that takes `outstanding_` to zero and the joiner are a Dekker pair: the finisher
///   decrements then reads `join_waiting_`, the joiner sets `join_waiting_` then reads the count
///   (all seq_cst), so one sees the other: either the joiner sees zero, or the finisher sees the
///   joiner and notifies it (`EventCount`, no lost wake-up).
/// - A worker that has not folded when `join()` begins either reads `join_waiting_` at its next
///   count or loop turn, or is parked and woken by `join()` (the caller arranges that wake: a
///   Dekker pair between the parker's re-check of `fold_pending()` and `join()`'s store +
///   `notify_all` of the idle set).
///
/// Who may call what: `started` / `finished` from any thread (with the calling worker's `Local`,
/// or null off the pool); `fold` by the owner of the `Local`; `begin_join` / `wait_done` by
/// joiners (any number).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <zuki/detail/atomic.hpp>
#include <zuki/detail/parker.hpp>

namespace zuki::detail {

class OutstandingWork {
public:
    /// A worker's private share of the count. `delta` is written by its owner only, with
    /// relaxed atomic stores (`add`), so that `count_hint()` may read it from elsewhere.
    struct Local {
        std::int64_t delta = 0;
        bool folded = false;  // counts in outstanding_ directly (after a join began)

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

    /// One unit of work finished (see `started`). True if this finish completed a join (the
    /// joiners were notified): the caller may end the join's work (the pool stops it anyway).
    bool finished(Local* local) noexcept {
        if (local != nullptr && !local->folded) {
            if (!join_waiting_.load(std::memory_order_relaxed)) {  // relaxed: as above
                local->add(-1);
                return false;
            }
            fold(*local);  // (cannot complete the join: our own unit is still counted)
        }
        // seq_cst: a Dekker pair with begin_join(): we decrement then read join_waiting_, the
        // joiner sets join_waiting_ then reads outstanding_; one of us sees the other.
        // (Its release half also publishes the finished work to the joiner's load in done().)
        if (outstanding_.fetch_sub(1, ZUKI_MODEL_WEAKEN(outstanding_finish_order,
                                                        std::memory_order_seq_cst,
                                                        std::memory_order_relaxed)) == 1 &&
            join_waiting_.load(std::memory_order_seq_cst))
            return notify_if_done();
        return false;
    }

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
    /// fold completed the join (see `finished`).
    bool fold(Local& local) noexcept {
        local.folded = true;
        // seq_cst (both): done() reads acks_ then outstanding_; the fold must be visible no
        // later than the acknowledgement.
        const std::int64_t delta = local.read();
        local.add(-delta);
        outstanding_.fetch_add(delta, std::memory_order_seq_cst);
        acks_.fetch_add(1, std::memory_order_seq_cst);
        return notify_if_done();
    }

    /// A worker that will never run (its thread failed to start), before any join: it counts
    /// as folded from the start (its delta is zero), so joins wait for no acknowledgement
    /// from it.
    void vacate(Local& local) noexcept {
        local.folded = true;
        // seq_cst: as a fold's acknowledgement (done() reads acks_).
        acks_.fetch_add(1, std::memory_order_seq_cst);
    }

    /// Joiner: announce the join. The caller then wakes every parked worker (so each folds),
    /// and waits with `wait_done`.
    void begin_join() noexcept { join_waiting_.store(true, std::memory_order_seq_cst); }

    /// True once every worker folded and the count is zero.
    bool done() const noexcept {
        return acks_.load(std::memory_order_seq_cst) == workers_ &&
               outstanding_.load(std::memory_order_seq_cst) == 0;
    }

    /// Joiner: sleep until `done()` or `give_up()` (e.g. the pool was stopped; the caller calls
    /// `notify_joiners()` after making `give_up()` true).
    template <class GiveUp>
    void wait_done(GiveUp&& give_up) noexcept {
        for (;;) {
            const std::uint32_t key = joiners_.prepare_wait();
            if (done() || give_up()) return;
            joiners_.wait(key);
        }
    }
    void notify_joiners() noexcept { joiners_.notify_all(); }

    /// For tests: the shared part of the count (exact once all folded), and how many workers
    /// folded (relaxed: observations only).
    std::int64_t shared_count() const noexcept {
        return outstanding_.load(std::memory_order_relaxed);
    }
    std::size_t folded_workers() const noexcept { return acks_.load(std::memory_order_relaxed); }

private:
    // After a fold's acknowledgement or a finish that took the count to zero: wake the joiners
    // only if the join is done, not at every acknowledgement (each wake is a context switch
    // of a joiner that would find the count not zero yet). No completion goes unnoticed: of
    // the last acknowledgement and the finish that reaches zero, whichever comes second in
    // the seq_cst order sees the other in done() (all four accesses are seq_cst).
    bool notify_if_done() noexcept {
        if (!done()) return false;
        joiners_.notify_all();
        return true;
    }

    alignas(cache_line) atomic<std::int64_t> outstanding_{0};
    atomic<bool> join_waiting_{false};
    atomic<std::size_t> acks_{0};  // workers that folded their delta
    std::size_t workers_ = 0;
    EventCount joiners_;
};

}  // namespace zuki::detail
