// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `TaskState`: the state word of a task and every transition on it, each a named function over
/// one CAS-loop helper (after Tokio's `runtime/task/state.rs`).
///
/// ## The word (one 64-bit atomic)
///
///     bit 0 SCHEDULED      in a run queue, or being handed to one (holds one reference)
///     bit 1 RUNNING        being polled by exactly one thread (from its second poll on; the
///                          first poll holds SCHEDULED instead, see "The first poll")
///     bit 2 NOTIFIED       woken while RUNNING or SCHEDULED: poll again if this poll (or the
///                          first poll, for a wake while queued) returns pending
///     bit 3 COMPLETE       terminal: the output (value, exception or cancellation) is stored
///     bit 4 CANCELLED      cancellation requested (JoinHandle::cancel or executor shutdown)
///     bit 5 JOIN_INTEREST  a JoinHandle still wants the output
///     bit 6 JOIN_WAKER     the join waker slot is set (the WAITING bit of a WakerSlot whose DONE
///                          bit is COMPLETE, see detail/atomic_waker.hpp)
///     bits 8..63           reference count
///
/// ## Transitions
///
///     idle      ──wake──▶ scheduled        to_notified: the waker enqueues the task, handing
///                                          over a reference
///     scheduled ──run───▶ running          to_running: by the executor that dequeued it
///                                          (clears NOTIFIED: this poll sees those wakes)
///     scheduled ──first run──▶ scheduled   no RMW: the first poll holds SCHEDULED
///     running / scheduled ──wake──▶ +notified   to_notified: no enqueue, the poller sees it
///     running / scheduled ──pending─▶ idle      to_idle: nobody woke it
///     +notified ──pending─▶ scheduled      to_idle: the poller re-enqueues it (wake not lost)
///     running / scheduled ──ready or throw──▶ complete     to_complete (to_complete_folding:
///                                          and the executor's reference in the same RMW;
///                                          to_complete_exclusive: a load and a store, when the
///                                          poller runs it for its joiner and no one else holds
///                                          it)
///     idle      ──cancel─▶ running+cancelled ─▶ complete   to_cancelled (the canceller polls
///                                                          the cancellation itself)
///     scheduled / running ──cancel─▶ same + CANCELLED      to_cancelled (the executor drops
///                                                          it the next time it holds it)
///     complete  ──anything──▶ complete     wakes and cancels after completion are no-ops
///
/// Why a task is never queued twice: only idle→scheduled and notified→scheduled enqueue, and
/// each requires that SCHEDULED was clear. Why no wake is lost: a wake is an RMW on the word
/// (even when it changes nothing) and either finds the task idle (and enqueues it), or held by
/// a queue or a poller, RUNNING or SCHEDULED: then it sets NOTIFIED, and either the poller's CAS
/// into RUNNING reads from the wake's RMW or a later one (so the poll sees the wake's writes),
/// or the poller's own RMW out of its poll must observe NOTIFIED (both are RMWs on the same
/// word). Only COMPLETE, which is terminal, is decided on a plain load. Why never polled
/// concurrently: only the holder of the queue reference polls, and that reference exists once
/// (SCHEDULED is set only from idle, and kept, not set again, by a reschedule).
///
/// ## The first poll
/// A task's first poll (most tasks' only one: a leaf, a joined child, an Asio handler) takes no
/// RMW before it: the poller holds SCHEDULED through the poll (`held` = SCHEDULED in to_idle and
/// to_complete) instead of swapping it for RUNNING. Nothing that the poll must see needs the
/// word: the task's maker wrote the future before queueing it, and the queue's release/acquire
/// (or program order, on the maker's own thread) carries that; nobody can have woken it before,
/// as no waker exists before its first poll. A wake during the poll finds SCHEDULED and sets
/// NOTIFIED, which the RMW after the poll observes. The cost of a wake that finds a task
/// SCHEDULED setting NOTIFIED: a later poll returning pending re-polls once if the wake came
/// while the task waited in a queue and the poll was its first; from the second poll on,
/// to_running's CAS clears NOTIFIED, and its acquire lets the poll see the wake's writes.
///
/// Thread safety: any thread may call any transition; each says whose it is.

#include <cassert>
#include <cstdint>

#include <zuki/detail/atomic.hpp>

namespace zuki::detail {

namespace task_state {
inline constexpr std::uint64_t scheduled = 1u << 0;
inline constexpr std::uint64_t running = 1u << 1;
inline constexpr std::uint64_t notified = 1u << 2;
inline constexpr std::uint64_t complete = 1u << 3;
inline constexpr std::uint64_t cancelled = 1u << 4;
inline constexpr std::uint64_t join_interest = 1u << 5;
inline constexpr std::uint64_t join_waker = 1u << 6;
inline constexpr std::uint64_t ref_one = 1u << 8;
inline constexpr std::uint64_t flag_mask = ref_one - 1;
inline constexpr std::uint64_t refs(std::uint64_t s) noexcept { return s >> 8; }
}  // namespace task_state

/// What a wake must do (`TaskState::to_notified`).
enum class WakeAction : std::uint8_t {
    none,  ///< complete, already scheduled, or running (NOTIFIED set): nothing to enqueue
    enqueue,  ///< it was idle: now SCHEDULED, the caller enqueues it
};

/// What a pending poll leaves (`TaskState::to_idle`).
enum class IdleAction : std::uint8_t {
    idle,  ///< nobody woke it: idle, the executor drops its queue reference
    reschedule,  ///< it was NOTIFIED: SCHEDULED again, the executor re-enqueues it
    cancel,  ///< CANCELLED was requested meanwhile: still RUNNING, the executor cancels it
};

class TaskState {
public:
    explicit TaskState(std::uint64_t initial) noexcept : word_(initial) {}
    TaskState(const TaskState&) = delete;
    TaskState& operator=(const TaskState&) = delete;

    std::uint64_t load(std::memory_order o = std::memory_order_acquire) const noexcept {
        return word_.load(o);
    }
    /// The word itself, for the join-waker `WakerSlot` (bits JOIN_WAKER / COMPLETE).
    atomic<std::uint64_t>& word() noexcept { return word_; }

    // ---- references -------------------------------------------------------------------------
    void ref_inc() noexcept { word_.fetch_add(task_state::ref_one, std::memory_order_relaxed); }
    /// Drop one reference; true if it was the last (the caller destroys the task).
    bool ref_dec() noexcept {
        // acq_rel: the last release must see all writes by other holders before destroying.
        const std::uint64_t prev = word_.fetch_sub(task_state::ref_one, std::memory_order_acq_rel);
        assert(task_state::refs(prev) >= 1);
        return task_state::refs(prev) == 1;
    }

    // ---- executor side ----------------------------------------------------------------------
    /// SCHEDULED → RUNNING, by the executor that dequeued the task for a poll after its first
    /// (see "The first poll"); clears NOTIFIED (wakes while it was queued: this poll sees
    /// them). Returns the previous value (check CANCELLED in it).
    std::uint64_t to_running() noexcept {
        using namespace task_state;
        std::uint64_t s = word_.load(std::memory_order_relaxed);
        // acquire: pairs with the release RMW that made the task SCHEDULED (a waker or the
        // previous poller) or found it so (a later waker) so this poll sees the future as the
        // last poll and the wakers left it; the queue's own acquire/release carries the first.
        update(s, std::memory_order_acquire, [](std::uint64_t v) {
            assert((v & scheduled) && !(v & (running | complete)));
            return (v & ~(scheduled | notified)) | running;
        });
        return s;
    }
    /// SCHEDULED → RUNNING + CANCELLED: shutdown dequeued a task it will not poll.
    void to_running_cancelled() noexcept {
        using namespace task_state;
        std::uint64_t s = word_.load(std::memory_order_relaxed);
        update(s, std::memory_order_acquire, [](std::uint64_t v) {  // acquire: as to_running()
            assert(v & scheduled);
            return (v & ~(scheduled | notified)) | running | cancelled;
        });
    }
    /// The poll returned pending: `held` (RUNNING, or SCHEDULED in a first poll) → idle, or →
    /// SCHEDULED if NOTIFIED (see IdleAction).
    IdleAction to_idle(std::uint64_t held = task_state::running) noexcept {
        using namespace task_state;
        std::uint64_t s = word_.load(std::memory_order_relaxed);
        bool cancel = false;
        // acq_rel: release publishes the future's state to the next poller (who acquires in
        // to_running() via the waker's CAS); acquire sees the writes of a waker that set
        // NOTIFIED.
        update(
            s,
            ZUKI_MODEL_WEAKEN(task_pending_release, std::memory_order_acq_rel,
                              std::memory_order_acquire),
            [&](std::uint64_t v) -> std::uint64_t {
                assert(v & held);
                if (v & cancelled) {
                    cancel = true;
                    return v;  // no change: the executor cancels it (still held)
                }
                return (v & notified) ? ((v & ~(held | notified)) | scheduled) : (v & ~held);
            },
            /*stop_on_unchanged=*/true);
        if (cancel) return IdleAction::cancel;
        return (s & notified) ? IdleAction::reschedule : IdleAction::idle;
    }
    /// `held` (RUNNING, or SCHEDULED in a first poll) → COMPLETE, dropping `drop_refs`
    /// references in the same RMW. Returns the previous value (JOIN_WAKER / JOIN_INTEREST tell
    /// the caller whom to tell).
    std::uint64_t to_complete(std::uint64_t drop_refs,
                              std::uint64_t held = task_state::running) noexcept {
        using namespace task_state;
        // acq_rel: release publishes the stored output to JoinHandle's acquire load of
        // COMPLETE; acquire sees the join waker written before JOIN_WAKER was set.
        // held -> COMPLETE (unsigned wrap-around: adding the difference is the subtraction). A
        // NOTIFIED left set is of no consequence: nothing reads it after COMPLETE.
        const std::uint64_t prev =
            word_.fetch_add(complete - held - drop_refs * ref_one, std::memory_order_acq_rel);
        assert((prev & held) && !(prev & complete));
        assert(refs(prev) > drop_refs);
        return prev;
    }

    /// As `to_complete(drop_refs)`, and in the same RMW also drop the caller's own (queue)
    /// reference when nobody needs the task after it: no join waker is waiting to be woken from
    /// its slot, and it did not throw with no JoinHandle to take the exception (`threw`), which
    /// the caller would report from the task. `folded` says whether it did; if so the caller
    /// must not touch the task again (unless the previous count shows it held the last
    /// references). A CAS loop: a joiner setting JOIN_WAKER meanwhile makes it retry and not
    /// fold.
    std::uint64_t to_complete_folding(std::uint64_t drop_refs, bool threw, bool& folded,
                                      std::uint64_t held = task_state::running) noexcept {
        using namespace task_state;
        std::uint64_t s = word_.load(std::memory_order_relaxed);
        // acq_rel: as to_complete(); the release half is also the release of the dropped
        // reference (whoever drops the last one acquires before destroying).
        update(s, std::memory_order_acq_rel, [&](std::uint64_t v) {
            assert((v & held) && !(v & complete));
            folded = !(v & join_waker) && !(threw && !(v & join_interest));
            const std::uint64_t drop = drop_refs + (folded ? 1 : 0);
            assert(refs(v) >= drop && (folded || refs(v) > drop));
            return v + complete - held - drop * ref_one;
        });
        return s;
    }

    /// The poller completes a task that no other thread can reach (TaskHeader::run's
    /// `joined_here`): it runs the task inline for the task that awaits its JoinHandle, which is
    /// suspended below it on this stack. Done with a load and a store if the word shows the
    /// poller's references (`drop_refs`: the queue's, and the registry's if counted) and the
    /// JoinHandle's only, join interest and no join waker or cancellation: then no waker, abort
    /// handle or registry entry exists that another thread could use, and the handle's holder
    /// waits for us (a JoinHandle is used by one thread at a time), so nothing writes the word
    /// between the load and the store; the JoinHandle's reference is then the only one. Returns
    /// false, having changed nothing, otherwise (the caller completes with an RMW).
    bool to_complete_exclusive(std::uint64_t drop_refs, std::uint64_t held) noexcept {
        using namespace task_state;
        // acquire: a reference dropped on another thread before (a waker clone) was a release
        // RMW; reading the count it left synchronises with it, so its accesses happen before
        // the handle destroys the task (after our store, on this thread).
        const std::uint64_t s = word_.load(ZUKI_MODEL_WEAKEN(
            complete_exclusive_acquire, std::memory_order_acquire, std::memory_order_relaxed));
        if ((s & (join_waker | cancelled)) || !(s & join_interest) || refs(s) != drop_refs + 1)
            return false;
        assert((s & held) && !(s & complete));
        // release: publishes the stored output to the JoinHandle's acquire loads of COMPLETE
        // (poll_join's, drop_join_handle's), as to_complete()'s RMW does; here they run on
        // this thread, after us, so the release only keeps every completion alike.
        word_.store(s + complete - held - drop_refs * ref_one, std::memory_order_release);
        return true;
    }

    // ---- waking and cancelling (any thread) --------------------------------------------------
    /// A wake. `consume_ref`: the caller's reference becomes the queue's if the task is
    /// enqueued (else the caller still holds it); otherwise a new one is added for the queue.
    WakeAction to_notified(bool consume_ref) noexcept {
        using namespace task_state;
        std::uint64_t s = word_.load(std::memory_order_relaxed);
        // Even a wake that changes nothing (NOTIFIED already set) must decide
        // on an RMW, never on the load above: the load may be stale (the task may already be
        // RUNNING, its poll reading the waker's data from before the wake), and even a current
        // value would not order the waker's writes before the coming poll (store buffering: the
        // waker writes its data then reads the state, the poller writes the state then reads
        // the data; both may read the old values). Found by test/model/task_state.cpp. acq_rel:
        // acquire pairs with the poller's release when it went idle (so the executor that
        // dequeues sees its writes through us); release publishes the waker's own writes (e.g.
        // the data it signalled) to the next poll, whose CAS into RUNNING, or the RMW after it
        // (a first poll's), reads from ours or a later RMW.
        // A complete task is terminal: nothing will be polled again (decided on the load).
        const bool changed = update(
            s, std::memory_order_acq_rel,
            [&](std::uint64_t v) {
                // Held by a poller (RUNNING, or SCHEDULED in a first poll) or a queue: the
                // poller's RMW after the poll, or to_running's before the next one, sees it.
                if (v & running) return v | notified;
                if (v & scheduled)
                    return ZUKI_MODEL_PLANTED(first_poll_wake_unmarked) ? v : v | notified;
                // `+`, not `|`: the queue's reference is added to the count (bits 8..63).
                return (v | scheduled) + (consume_ref ? 0 : ref_one);
            },
            /*stop_on_unchanged=*/false, /*stop_on=*/complete);
        if (!changed) return WakeAction::none;
        return (s & (running | scheduled)) ? WakeAction::none : WakeAction::enqueue;
    }
    /// A cancellation request. Returns true if the task was idle: the caller then owns it as
    /// its poller (RUNNING + CANCELLED) and must cancel it. A complete task, or one whose
    /// cancellation was already requested, is left as it is.
    bool to_cancelled() noexcept {
        using namespace task_state;
        std::uint64_t s = word_.load(std::memory_order_relaxed);
        bool idle = false;
        // acq_rel: when claiming an idle task we become its poller (acquire, as in
        // to_running()); release makes the request visible to the executor's CAS out of RUNNING.
        const bool changed = update(
            s, std::memory_order_acq_rel,
            [&](std::uint64_t v) {
                idle = !(v & (scheduled | running));
                if (!idle && (v & cancelled)) return v;
                return v | cancelled | (idle ? running : 0);
            },
            /*stop_on_unchanged=*/true, /*stop_on=*/complete);
        return changed && idle;
    }

    // ---- join side --------------------------------------------------------------------------
    /// The JoinHandle goes: clear JOIN_INTEREST and drop its reference in one RMW, unless the
    /// task is COMPLETE and the handle did not take the output (`taken`): then returns false
    /// with nothing changed and the reference still held (the caller reports an exception
    /// first, then calls `drop_join_interest_complete`). `last` tells whether the reference was
    /// the last one.
    bool try_drop_join_interest(bool taken, bool& last) noexcept {
        using namespace task_state;
        // acquire: if COMPLETE, the output (the exception) is visible (pairs with to_complete).
        std::uint64_t s = word_.load(std::memory_order_acquire);
        // acq_rel as in ref_dec(); acquire on failure as the load above. A CAS rather than
        // fetch_sub: if the task completes meanwhile the CAS fails and the loop sees COMPLETE
        // while the reference is still held.
        const bool dropped = update(
            s, std::memory_order_acq_rel,
            [](std::uint64_t v) {
                assert((v & join_interest) && refs(v) >= 1);
                return v - ref_one - join_interest;
            },
            /*stop_on_unchanged=*/false, /*stop_on=*/taken ? 0 : complete,
            std::memory_order_acquire);
        last = dropped && refs(s) == 1;
        return dropped;
    }
    /// The JoinHandle goes from a COMPLETE task. Returns true if it was the last reference.
    bool drop_join_interest_complete() noexcept {
        using namespace task_state;
        // acq_rel as in ref_dec().
        const std::uint64_t prev =
            word_.fetch_sub(ref_one | join_interest, std::memory_order_acq_rel);
        return refs(prev) == 1;
    }

private:
    // The one CAS loop: replace `s` by next(s) until the CAS succeeds. Stops (returns false)
    // without writing when `s` has a bit of `stop_on`, or, with `stop_on_unchanged`, when
    // next(s) == s. On return `s` is the value the decision was made on.
    template <class Next>
    bool update(std::uint64_t& s, std::memory_order success, Next next,
                bool stop_on_unchanged = false, std::uint64_t stop_on = 0,
                std::memory_order failure = std::memory_order_relaxed) noexcept {
        for (;;) {
            if (s & stop_on) return false;
            const std::uint64_t n = next(s);
            if (stop_on_unchanged && n == s) return false;
            if (word_.compare_exchange_weak(s, n, success, failure)) return true;
        }
    }

    atomic<std::uint64_t> word_;
};

}  // namespace zuki::detail
