// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// The task object both executors run: an intrusive header (state word with reference count,
/// vtable, `next` link, priority, id) in front of a typed cell (cell.hpp) holding the future and
/// then its output.
///
/// ## State word (one 64-bit atomic)
///
///     bit 0 SCHEDULED      in a run queue, or being handed to one (holds one reference)
///     bit 1 RUNNING        being polled by exactly one thread
///     bit 2 NOTIFIED       woken while RUNNING: poll again when this poll returns pending
///     bit 3 COMPLETE       terminal: the output (value, exception or cancellation) is stored
///     bit 4 CANCELLED      cancellation requested (JoinHandle::cancel or executor shutdown)
///     bit 5 JOIN_INTEREST  a JoinHandle still wants the output
///     bit 6 JOIN_WAKER     the join waker slot is set (see JoinHandle)
///     bits 8..63           reference count
///
/// The named states of the design and their transitions (each one CAS on the word):
///
///     idle      ──wake──▶ scheduled        (waker enqueues the task, handing over a reference)
///     scheduled ──run───▶ running          (the executor that dequeued it)
///     running   ──wake──▶ notified         (no enqueue: the poller will see it)
///     running   ──pending─▶ idle           (nobody woke it during the poll)
///     notified  ──pending─▶ scheduled      (the poller re-enqueues it: the wake is not lost)
///     running / notified ──ready or throw──▶ complete
///     idle      ──cancel─▶ running+cancelled ─▶ complete   (the canceller drops the future)
///     scheduled / running ──cancel─▶ same + CANCELLED bit  (the executor drops it next time)
///     complete  ──anything──▶ complete     (wakes and cancels after completion are no-ops)
///
/// Why a task is never queued twice: only the idle→scheduled and notified→scheduled CASes
/// enqueue, and each requires that SCHEDULED was clear. Why no wake is lost: a wake is an RMW on
/// the word (even when it changes nothing) and either finds the task idle (and enqueues it),
/// scheduled (the poller's CAS into RUNNING reads from the wake's RMW or a later one, so the poll
/// sees the wake's writes), or running (it sets NOTIFIED, which the poller's own CAS out of
/// RUNNING must observe, as both are RMWs on the same word). Only COMPLETE, which is terminal, is
/// decided on a plain load. Why never polled concurrently:
/// RUNNING is set only from SCHEDULED, by the one thread that dequeued the task.
///
/// ## References
/// One each for: every Waker clone, the JoinHandle, the run queue entry (SCHEDULED), and the
/// executor's registry (counted from construction until completion). The last release destroys
/// the task.
///
/// ## Registration (lazy)
/// The registry exists for shutdown to find tasks that sit in no queue: idle ones, whose waker
/// is held by someone who may never wake them. A task that is queued or running is found by
/// draining the queues after the workers stopped, so a task enters the registry only when its
/// poll first returns pending, in `run()`, by the one thread polling it (RUNNING), before the
/// CAS that makes it idle: from then on the rules are those of an eager registration. A task
/// that completes in its first poll (a closure, a leaf, most spawned work) never touches the
/// registry, and `finish()` drops the registry's reference in the same RMW that sets COMPLETE.
/// If the insertion cannot allocate, the task is cancelled (it could no longer be found at
/// shutdown) and the `std::bad_alloc` goes to the executor's exception handler.

#include <cassert>
#include <cstdint>
#include <exception>
#include <new>

#include <zuki/core/context.hpp>
#include <zuki/core/task_priority.hpp>
#include <zuki/core/waker.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/task/registry.hpp>

namespace zuki::detail {

class TaskHeader;

/// What an executor implements so its tasks can schedule themselves.
///
/// A scheduler is reference counted by its tasks, so a waker that fires after the executor
/// object is gone still reaches valid memory; the executor closes the scheduler first, after
/// which `schedule` cancels the task instead of queueing it.
///
/// ## Biased reference counting
/// Every task holds a scheduler reference, so a shared counter would cost two contended RMWs
/// per task. A work-stealing executor therefore gives each worker a private `RefBias`: on a
/// worker of this scheduler, `acquire`/`release` only adjust that worker's plain delta. The
/// true count is `refs_ + Σ deltas`. While the executor lives it holds its own reference, so
/// the true count cannot reach zero; `refs_` alone may, so `refs_` carries a FOLDED bit and a
/// release deletes only when it takes `refs_` from FOLDED|1 to FOLDED. After the workers are
/// joined (their deltas frozen) the executor folds Σ deltas into `refs_`, sets FOLDED and drops
/// its own reference in the same RMW (`fold_and_release`). A scheduler without bias starts out
/// FOLDED and behaves like a plain reference count.
class Scheduler {
public:
    /// A worker's private share of the reference count (see the class comment).
    struct RefBias {
        Scheduler* owner = nullptr;
        std::int64_t delta = 0;
    };
    /// The bias of the worker running on this thread, if any.
    static RefBias*& local_bias() noexcept {
        thread_local RefBias* bias = nullptr;
        return bias;
    }

    /// `t` is SCHEDULED; the caller hands over one reference. Must not throw or block.
    virtual void schedule(TaskHeader* t) noexcept = 0;
    /// An exception escaped a task that no JoinHandle waits for.
    virtual void report_exception(std::exception_ptr e) noexcept = 0;
    /// A task finished (any way): bookkeeping for `join()` and `task_count()`.
    virtual void task_finished() noexcept {}
    /// `n` tasks exist that were not counted as work when they were made and will each call
    /// `task_finished()` (a `Batch` counts its tasks when it is submitted or cancelled).
    virtual void tasks_added(std::size_t n) noexcept { (void)n; }

    void acquire() noexcept {
        if (RefBias* b = local_bias(); b != nullptr && b->owner == this) {
            ++b->delta;
            return;
        }
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept {
        if (RefBias* b = local_bias(); b != nullptr && b->owner == this) {
            --b->delta;  // the executor's own reference keeps the true count above zero
            return;
        }
        // acq_rel: the last release must see every other holder's writes before deleting.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == (folded | 1)) delete this;
    }
    /// The executor's final release, after its workers stopped: fold their deltas in.
    void fold_and_release(std::int64_t total_delta) noexcept {
        const std::uint64_t add = folded + static_cast<std::uint64_t>(total_delta) - 1;
        // acq_rel: as in release().
        if (refs_.fetch_add(add, std::memory_order_acq_rel) + add == folded) delete this;
    }

    TaskRegistry registry;

protected:
    /// `biased`: deltas will be folded in by `fold_and_release` (not yet FOLDED).
    explicit Scheduler(bool biased = false) noexcept : refs_(biased ? 1 : (folded | 1)) {}
    virtual ~Scheduler() = default;

private:
    static constexpr std::uint64_t folded = std::uint64_t{1} << 62;
    atomic<std::uint64_t> refs_;  // the executor's own reference (+ FOLDED if unbiased)
};

/// Result of polling a task's future once.
enum class PollOutcome : std::uint8_t { pending, ready, threw };

/// What `TaskHeader::run` tells the executor to do with the queue reference it holds.
enum class RunOutcome : std::uint8_t {
    finished,  ///< completed (or cancelled); the executor drops its reference
    idle,  ///< pending, nobody woke it; the executor drops its reference
    reschedule,  ///< woken during the poll: SCHEDULED again, the executor re-enqueues it
};

struct TaskVTable {
    /// Poll the future; on ready/threw the output is stored and the future destroyed.
    PollOutcome (*poll)(TaskHeader*, Context&) noexcept;
    /// Destroy the future (if still there) and store "cancelled".
    void (*cancel)(TaskHeader*) noexcept;
    /// The stored exception (only after `threw`).
    std::exception_ptr (*exception)(TaskHeader*) noexcept;
    /// Free the whole cell.
    void (*destroy)(TaskHeader*) noexcept;
};

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
inline std::uint64_t refs(std::uint64_t s) noexcept { return s >> 8; }
}  // namespace task_state

/// A fresh process-unique task id (cheap: ids are handed out to each thread in blocks).
TaskId next_task_id() noexcept;

class TaskHeader {
public:
    /// Intrusive link for run queues and batches; owned by whoever holds the queue reference.
    TaskHeader* next = nullptr;

    /// A new task, SCHEDULED, holding the queue's reference, the JoinHandle's (if
    /// `join_interest`) and the registry's (if `registered`: it is registered lazily, see the
    /// file comment, or at once by `register_task()`. A run-once Asio handler is always queued
    /// or running, so shutdown finds it by draining the queues and it skips the registry).
    TaskHeader(const TaskVTable* vt, Scheduler* s, TaskPriority p, bool join_interest,
               bool registered = true) noexcept
        : state_(task_state::scheduled | (join_interest ? task_state::join_interest : 0) |
                 task_state::ref_one * (1 + (join_interest ? 1 : 0) + (registered ? 1 : 0))),
          vtable_(vt), scheduler_(s), priority_(p),
          registry_index_(registered ? not_yet_registered : unregistered), id_(next_task_id()) {
        s->acquire();
    }
    TaskHeader(const TaskHeader&) = delete;
    TaskHeader& operator=(const TaskHeader&) = delete;

    /// Record in the scheduler's registry now rather than at the first pending poll (the
    /// registry's reference was counted at construction). Tests and the model checker use it;
    /// the executors register lazily. Throws std::bad_alloc; then the caller destroys the task
    /// with `destroy_unregistered()`.
    void register_task() { registry_index_ = scheduler_->registry.insert(this); }
    /// Undo a construction whose registration failed.
    void destroy_unregistered() noexcept {
        scheduler_->release();
        vtable_->destroy(this);
    }

    TaskPriority priority() const noexcept { return priority_; }
    TaskId id() const noexcept { return id_; }
    Scheduler* scheduler() const noexcept { return scheduler_; }
    std::uint64_t state(std::memory_order o = std::memory_order_acquire) const noexcept {
        return state_.load(o);
    }

    // ---- references -------------------------------------------------------------------
    void ref_inc() noexcept { state_.fetch_add(task_state::ref_one, std::memory_order_relaxed); }
    void ref_dec() noexcept {
        // acq_rel: the last release must see all writes by other holders before destroying.
        const std::uint64_t prev = state_.fetch_sub(task_state::ref_one, std::memory_order_acq_rel);
        assert(task_state::refs(prev) >= 1);
        if (task_state::refs(prev) == 1) destroy_self();
    }

    // ---- waking -----------------------------------------------------------------------
    /// Wake keeping the caller's reference.
    void wake_by_ref() noexcept {
        if (transition_to_notified(/*consume_ref=*/false)) scheduler_->schedule(this);
    }
    /// Wake consuming the caller's reference (it becomes the queue's, or is dropped).
    void wake_by_val() noexcept {
        if (transition_to_notified(/*consume_ref=*/true))
            scheduler_->schedule(this);
        else
            ref_dec();
    }

    /// A Waker for this task (adds a reference).
    Waker make_waker() noexcept {
        ref_inc();
        return Waker(this, &waker_vtable);
    }

    // ---- running (executor side) ---------------------------------------------------------
    /// Poll once. Precondition: the caller dequeued the task (it is SCHEDULED) and holds the
    /// queue reference. See RunOutcome for what to do with that reference afterwards.
    RunOutcome run() noexcept {
        using namespace task_state;
        std::uint64_t s = state_.load(std::memory_order_relaxed);
        for (;;) {
            assert((s & scheduled) && !(s & (running | complete)));
            const std::uint64_t n = (s & ~scheduled) | running;
            // acquire: pairs with the release CAS that made the task SCHEDULED (a waker or the
            // previous poller) so this poll sees the future as the last poll and the waker left
            // it; the queue's own acquire/release carries the same edge.
            if (state_.compare_exchange_weak(s, n, std::memory_order_acquire,
                                             std::memory_order_relaxed))
                break;
        }
        if (s & cancelled) return cancel_running();

        // A borrowed waker: constructed in place and never destroyed, so no reference moves.
        alignas(Waker) unsigned char storage[sizeof(Waker)];
        const Waker* w = ::new (static_cast<void*>(storage)) Waker(this, &waker_vtable);
        Context cx(*w);
        const PollOutcome r = vtable_->poll(this, cx);
        if (r != PollOutcome::pending) {
            finish(r);
            return RunOutcome::finished;
        }
        // First pending poll: enter the registry before the task can become idle (see the file
        // comment). Only the poller writes registry_index_; the release CAS below publishes it
        // to whoever completes or cancels the task later.
        if (registry_index_ == not_yet_registered) [[unlikely]] {
            if (!register_lazily()) return cancel_running();
        }
        s = state_.load(std::memory_order_relaxed);
        for (;;) {
            assert(s & running);
            if (s & cancelled) return cancel_running();
            const std::uint64_t n =
                (s & notified) ? ((s & ~(running | notified)) | scheduled) : (s & ~running);
            // acq_rel: release publishes the future's state to the next poller (who acquires
            // in the CAS above via the waker's CAS); acquire sees the writes of a waker that
            // set NOTIFIED.
            if (state_.compare_exchange_weak(s, n,
                                             ZUKI_MODEL_WEAKEN(task_pending_release,
                                                               std::memory_order_acq_rel,
                                                               std::memory_order_acquire),
                                             std::memory_order_relaxed))
                return (s & notified) ? RunOutcome::reschedule : RunOutcome::idle;
        }
    }

    /// Cancel a task that the executor dequeued (SCHEDULED) but will not poll: shutdown drains.
    /// The caller holds the queue reference and drops it afterwards.
    void cancel_scheduled() noexcept {
        using namespace task_state;
        std::uint64_t s = state_.load(std::memory_order_relaxed);
        for (;;) {
            assert(s & scheduled);
            const std::uint64_t n = (s & ~scheduled) | running | cancelled;
            // acquire: as in run().
            if (state_.compare_exchange_weak(s, n, std::memory_order_acquire,
                                             std::memory_order_relaxed))
                break;
        }
        cancel_running();
    }

    /// Request cancellation (JoinHandle::cancel, shutdown sweep). An idle task is cancelled
    /// right here (its future destroyed on this thread); a scheduled or running one is
    /// cancelled by the executor the next time it holds it. The caller must hold a reference.
    void cancel() noexcept {
        using namespace task_state;
        std::uint64_t s = state_.load(std::memory_order_relaxed);
        for (;;) {
            if (s & complete) return;
            const bool idle = !(s & (scheduled | running));
            if (!idle && (s & cancelled)) return;
            const std::uint64_t n = s | cancelled | (idle ? running : 0);
            // acq_rel: when claiming an idle task we become its poller (acquire, as in run());
            // release makes the request visible to the executor's CAS out of RUNNING.
            if (state_.compare_exchange_weak(s, n, std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
                if (idle) cancel_running();
                return;
            }
        }
    }

    // ---- join side (used by JoinHandle) -------------------------------------------------
    Waker& join_waker_slot() noexcept { return join_waker_; }
    /// Try to set or clear JOIN_WAKER; fails (returns false) once COMPLETE.
    bool set_join_waker_bit(bool on) noexcept {
        using namespace task_state;
        std::uint64_t s = state_.load(std::memory_order_acquire);
        for (;;) {
            if (s & complete) return false;
            const std::uint64_t n = on ? (s | join_waker) : (s & ~join_waker);
            // release (setting): publishes the waker written into the slot to the completer's
            // acquire; acquire (both): if we fail on COMPLETE we read the output next.
            if (state_.compare_exchange_weak(s, n, std::memory_order_acq_rel,
                                             std::memory_order_acquire))
                return true;
        }
    }
    /// The JoinHandle is going away: drop interest and its reference. `taken` says whether the
    /// handle took the output. A task that threw and completed while its handle was alive did
    /// not report the exception (the handle was to rethrow it); if the handle goes without
    /// taking it, it is reported here, from the dropping thread, so no exception is lost.
    void drop_join_handle(bool taken) noexcept {
        using namespace task_state;
        // acquire: if COMPLETE, the output (the exception) is visible (pairs with finish()).
        std::uint64_t s = state_.load(std::memory_order_acquire);
        for (;;) {
            assert((s & join_interest) && refs(s) >= 1);
            if ((s & complete) && !taken) {
                // Still holding our reference, so the task (and its output) stays alive.
                if (std::exception_ptr e = vtable_->exception(this))
                    scheduler_->report_exception(e);
                break;
            }
            // One RMW clears JOIN_INTEREST (set exactly until now) and drops the handle's
            // reference. acq_rel as in ref_dec(); acquire on failure as the load above. A CAS
            // rather than fetch_sub: if the task completes meanwhile the CAS fails and the loop
            // sees COMPLETE while the reference is still held.
            if (state_.compare_exchange_weak(s, s - ref_one - join_interest,
                                             std::memory_order_acq_rel,
                                             std::memory_order_acquire)) {
                if (refs(s) == 1) destroy_self();
                return;
            }
        }
        // COMPLETE is terminal: no competing transition is left but reference counting.
        // acq_rel as in ref_dec().
        const std::uint64_t prev =
            state_.fetch_sub(ref_one | join_interest, std::memory_order_acq_rel);
        if (refs(prev) == 1) destroy_self();
    }

private:
    bool transition_to_notified(bool consume_ref) noexcept {
        using namespace task_state;
        std::uint64_t s = state_.load(std::memory_order_relaxed);
        for (;;) {
            std::uint64_t n;
            if (s & complete) return false;  // terminal: nothing will be polled again
            if (s & running)
                n = s | notified;
            else if (s & scheduled)
                n = s;
            else
                // `+`, not `|`: the queue's reference is added to the count (bits 8..63).
                n = (s | scheduled) + (consume_ref ? 0 : ref_one);
            // Even a wake that changes nothing (already SCHEDULED, or RUNNING|NOTIFIED) must
            // decide on an RMW, never on the load above: the load may be stale (the task may
            // already be RUNNING, its poll reading the waker's data from before the wake), and
            // even a current value would not order the waker's writes before the coming poll
            // (store buffering: the waker writes its data then reads the state, the poller
            // writes the state then reads the data; both may read the old values). Found by
            // test/model/task_state.cpp. acq_rel: acquire pairs with the poller's release when
            // it went idle (so the executor that dequeues sees its writes through us); release
            // publishes the waker's own writes (e.g. the data it signalled) to the next poll,
            // whose CAS into RUNNING, or out of it, reads from ours or a later RMW.
            if (state_.compare_exchange_weak(s, n, std::memory_order_acq_rel,
                                             std::memory_order_relaxed))
                return !(s & (running | scheduled));
        }
    }

    bool register_lazily() noexcept {
        try {
            registry_index_ = scheduler_->registry.insert(this);
            return true;
        } catch (...) {  // std::bad_alloc: the registry could not grow
            scheduler_->report_exception(std::current_exception());
            return false;
        }
    }

    RunOutcome cancel_running() noexcept {
        vtable_->cancel(this);
        finish(PollOutcome::ready);
        return RunOutcome::finished;
    }

    void finish(PollOutcome r) noexcept {
        using namespace task_state;
        // Never registered (done in its first poll, or cancelled before): the registry's
        // reference goes in the same RMW. The caller still holds the queue's reference, so the
        // count stays above zero.
        const bool unlisted = registry_index_ == not_yet_registered;
        // acq_rel: release publishes the stored output to JoinHandle's acquire load of
        // COMPLETE; acquire sees the join waker written before JOIN_WAKER was set.
        // RUNNING -> COMPLETE (unsigned wrap-around: adding the difference is the subtraction).
        const std::uint64_t prev = state_.fetch_add(complete - running - (unlisted ? ref_one : 0),
                                                    std::memory_order_acq_rel);
        assert((prev & running) && !(prev & complete));
        assert(!unlisted || refs(prev) >= 2);
        if (prev & join_waker) join_waker_.wake_by_ref();
        if (r == PollOutcome::threw && !(prev & join_interest))
            scheduler_->report_exception(vtable_->exception(this));
        scheduler_->task_finished();
        if (registry_index_ < not_yet_registered && scheduler_->registry.remove(registry_index_))
            ref_dec();  // the registry's reference
    }

    void destroy_self() noexcept {
        Scheduler* s = scheduler_;
        vtable_->destroy(this);
        s->release();
    }

    static const void* waker_clone(const void* p) noexcept {
        static_cast<TaskHeader*>(const_cast<void*>(p))->ref_inc();
        return p;
    }
    static void waker_wake(const void* p) noexcept {
        static_cast<TaskHeader*>(const_cast<void*>(p))->wake_by_val();
    }
    static void waker_wake_by_ref(const void* p) noexcept {
        static_cast<TaskHeader*>(const_cast<void*>(p))->wake_by_ref();
    }
    static void waker_drop(const void* p) noexcept {
        static_cast<TaskHeader*>(const_cast<void*>(p))->ref_dec();
    }

public:
    static constexpr WakerVTable waker_vtable{&waker_clone, &waker_wake, &waker_wake_by_ref,
                                              &waker_drop};

private:
    atomic<std::uint64_t> state_;
    const TaskVTable* vtable_;
    Scheduler* scheduler_;
    TaskPriority priority_;
    static constexpr std::uint32_t unregistered = 0xFFFF'FFFFu;  // never (Asio handlers)
    static constexpr std::uint32_t not_yet_registered = 0xFFFF'FFFEu;  // at the first pending poll
    std::uint32_t registry_index_;
    TaskId id_;
    Waker join_waker_ = Waker::noop();
};

}  // namespace zuki::detail
