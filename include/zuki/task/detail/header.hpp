// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `TaskHeader`: the part of a task that every executor and queue sees — the state word
/// (state.hpp), the vtable, the `next` link, priority, id, and the join waker slot — and the
/// operations on it: run (poll once), cancel, finish, wake. A typed cell (cell.hpp,
/// handler_cell.hpp) follows the header with the future and its output.
///
/// ## References
/// One each for: every Waker clone, the JoinHandle, every AbortHandle, the run queue entry
/// (SCHEDULED), and the executor's registry (counted from construction until completion). The
/// last release destroys the task. A task that completes in its first poll may drop the queue's
/// and the registry's references in the RMW that completes it (`run(true)`, finish_folding); a
/// JoinHandle that took the output and finds its reference the only one left destroys the task
/// without an RMW (`drop_join_handle`). A task that the thread awaiting its JoinHandle runs
/// itself (`run(true, joined_here)`: the pool's help_join) completes without an RMW too when
/// the handle is its only other holder (`finish_exclusive`, TaskState::to_complete_exclusive).
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
#include <zuki/core/waker.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/atomic_waker.hpp>
#include <zuki/detail/parker.hpp>
#include <zuki/task/detail/registry.hpp>
#include <zuki/task/detail/scheduler.hpp>
#include <zuki/task/detail/state.hpp>
#include <zuki/task/task_priority.hpp>

namespace zuki::detail {

/// Result of polling a task's future once.
enum class PollOutcome : std::uint8_t { pending, ready, threw };

/// What `TaskHeader::run` tells the executor to do with the queue reference it holds.
enum class RunOutcome : std::uint8_t {
    finished,  ///< completed (or cancelled); the executor drops its reference
    idle,  ///< pending, nobody woke it; the executor drops its reference
    reschedule,  ///< woken during the poll: SCHEDULED again, the executor re-enqueues it
    released,  ///< completed, and `run(true)` dropped the executor's reference itself (in the
               ///< RMW that completed it): the executor must not touch the task again
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

/// A fresh process-unique task id (cheap: ids are handed out to each thread in blocks).
TaskId next_task_id() noexcept;

class TaskHeader {
public:
    /// Intrusive link for run queues and batches; owned by whoever holds the queue reference.
    TaskHeader* next = nullptr;

    /// A new task, SCHEDULED, holding the queue's reference, the JoinHandle's (if
    /// `join_interest`) and the registry's (if `registered`: it is registered lazily, see the
    /// file comment. A run-once Asio handler is always queued or running, so shutdown finds it
    /// by draining the queues and it skips the registry).
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

    TaskPriority priority() const noexcept { return priority_; }
    TaskId id() const noexcept { return id_; }
    Scheduler* scheduler() const noexcept { return scheduler_; }
    std::uint64_t state(std::memory_order o = std::memory_order_acquire) const noexcept {
        return state_.load(o);
    }

    // ---- references -------------------------------------------------------------------
    void ref_inc() noexcept { state_.ref_inc(); }
    void ref_dec() noexcept {
        if (state_.ref_dec()) destroy_self();
    }

    // ---- waking -----------------------------------------------------------------------
    /// Wake keeping the caller's reference.
    void wake_by_ref() noexcept {
        if (state_.to_notified(/*consume_ref=*/false) == WakeAction::enqueue)
            scheduler_->schedule(this);
    }
    /// Wake consuming the caller's reference (it becomes the queue's, or is dropped).
    void wake_by_val() noexcept {
        if (state_.to_notified(/*consume_ref=*/true) == WakeAction::enqueue)
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
    /// `release_when_done`: a task that completes in this poll and that nobody needs afterwards
    /// (no join waker to wake, nothing to report, never registered: a leaf task, most spawned
    /// work) gives up the queue reference in the RMW that completes it (RunOutcome::released),
    /// one atomic RMW less per task than completing and then releasing. `joined_here` (with
    /// `release_when_done`): the caller runs the task for a task on this thread that awaits its
    /// JoinHandle (the holder of that handle is suspended below us on this stack, so it cannot
    /// touch the task meanwhile); if nobody else holds a reference, the completion is a load
    /// and a store (RunOutcome::released, the handle's reference the only one left).
    /// A caller that passes `release_when_done` also counts the completion itself (it is the
    /// executor's own thread, which has its counter at hand): `run` does not call
    /// `Scheduler::task_finished()`, and the task completed (or was cancelled) in this call
    /// exactly when the outcome is `finished` or `released`. (Without it, `run` calls
    /// `task_finished()` once on every completion.)
    RunOutcome run(bool release_when_done = false, bool joined_here = false) noexcept {
        // The first poll holds SCHEDULED and takes no RMW before it (state.hpp, "The first
        // poll"); later ones swap SCHEDULED for RUNNING. Only pollers write polled_; the next
        // poller reads it after the RMWs and queue hand-offs that order the polls.
        std::uint64_t held = task_state::running;
        if (!polled_) {
            polled_ = true;
            held = task_state::scheduled;
            // relaxed: a cancellation that this load misses is one that came during the poll.
            if (state_.load(std::memory_order_relaxed) & task_state::cancelled)
                return cancel_running(held, !release_when_done);
        } else if (state_.to_running() & task_state::cancelled) {
            return cancel_running(held, !release_when_done);
        }

        // A borrowed waker: constructed in place and never destroyed, so no reference moves.
        alignas(Waker) unsigned char storage[sizeof(Waker)];
        const Waker* w = ::new (static_cast<void*>(storage)) Waker(this, &waker_vtable);
        Context cx(*w);
        const PollOutcome r = vtable_->poll(this, cx);
        if (r != PollOutcome::pending) {
            if (release_when_done && registry_index_ >= not_yet_registered) {
                if (joined_here && finish_exclusive(held)) return RunOutcome::released;
                return finish_folding(r, held);
            }
            finish(r, held, !release_when_done);
            return RunOutcome::finished;
        }
        // First pending poll: enter the registry before the task can become idle (see the file
        // comment). Only the poller writes registry_index_; the release CAS in to_idle()
        // publishes it to whoever completes or cancels the task later.
        if (registry_index_ == not_yet_registered) [[unlikely]] {
            if (!register_lazily()) return cancel_running(held, !release_when_done);
        }
        switch (state_.to_idle(held)) {
            case IdleAction::idle:
                return RunOutcome::idle;
            case IdleAction::reschedule:
                return RunOutcome::reschedule;
            case IdleAction::cancel:
                break;
        }
        return cancel_running(held, !release_when_done);
    }

    /// Cancel a task that the executor dequeued (SCHEDULED) but will not poll: shutdown drains.
    /// The caller holds the queue reference and drops it afterwards.
    void cancel_scheduled() noexcept {
        state_.to_running_cancelled();
        cancel_running();
    }

    /// Request cancellation (JoinHandle::cancel, shutdown sweep). An idle task is cancelled
    /// right here (its future destroyed on this thread); a scheduled or running one is
    /// cancelled by the executor the next time it holds it. The caller must hold a reference.
    void cancel() noexcept {
        if (state_.to_cancelled()) cancel_running();
    }

    // ---- join side (used by JoinHandle) -------------------------------------------------
    /// True once COMPLETE (the output may be read); otherwise `w` is registered as the join
    /// waker (detail/atomic_waker.hpp over the bits JOIN_WAKER and COMPLETE).
    bool poll_join(const Waker& w) {
        // relaxed: a hint (poll_done decides with its own acquire); COMPLETE is terminal.
        if (!(state_.load(std::memory_order_relaxed) & task_state::complete))
            scheduler_->help_join(*this);
        return join_waker_.poll_done(state_.word(), w);
    }
    /// True once COMPLETE (acquire: pairs with the completion's release, as poll_join).
    bool is_complete() const noexcept {
        return (state_.load(std::memory_order_acquire) & task_state::complete) != 0;
    }
    /// The JoinHandle is going away: drop interest and its reference. `taken` says whether the
    /// handle took the output. A task that threw and completed while its handle was alive did
    /// not report the exception (the handle was to rethrow it); if the handle goes without
    /// taking it, it is reported here, from the dropping thread, so no exception is lost.
    void drop_join_handle(bool taken) noexcept {
        // The sole owner (the common end of a joined task: it completed, the executor's
        // references went in the completing RMW, no waker is left) destroys it without an RMW:
        // nobody else holds a reference, and nobody can make one (only a holder can). acquire:
        // every reference dropped before was a release RMW on the word and every later write to
        // it is an RMW, so reading the final count synchronizes with each of those drops (the
        // release sequences reach it), and the destruction happens after their last accesses.
        if (taken) {
            const std::uint64_t s = state_.load(ZUKI_MODEL_WEAKEN(
                join_sole_owner_acquire, std::memory_order_acquire, std::memory_order_relaxed));
            if ((s & task_state::complete) && task_state::refs(s) == 1) {
                destroy_self();
                return;
            }
        }
        drop_join_handle_shared(taken);
    }

private:
    // drop_join_handle() while others may hold references (out of line: the sole owner's path
    // above is the common one, and stays small).
    [[gnu::noinline]] void drop_join_handle_shared(bool taken) noexcept {
        bool last = false;
        if (!state_.try_drop_join_interest(taken, last)) {
            // COMPLETE, output not taken. Still holding our reference, so the output lives.
            if (std::exception_ptr e = vtable_->exception(this)) scheduler_->report_exception(e);
            last = state_.drop_join_interest_complete();
        }
        if (last) destroy_self();
    }

public:
    /// A task made for `Handle::block_on` that will not be submitted after all: count it as
    /// work (as its cancellation finishes it), cancel it and drop its queue reference. The
    /// caller still holds the JoinHandle's.
    void discard_unsubmitted() noexcept {
        scheduler_->tasks_added(1);
        cancel_scheduled();
        ref_dec();
    }

    /// Record in the scheduler's registry now rather than at the first pending poll (the
    /// registry's reference was counted at construction). For tests; the executors register
    /// lazily. Throws std::bad_alloc.
    void register_task() { registry_index_ = scheduler_->registry.insert(this); }

private:
    bool register_lazily() noexcept {
        try {
            registry_index_ = scheduler_->registry.insert(this);
            return true;
        } catch (...) {  // std::bad_alloc: the registry could not grow
            scheduler_->report_exception(std::current_exception());
            return false;
        }
    }

    // `held`: what the canceller or poller holds, RUNNING (the canceller's claim, shutdown's,
    // a poll after the first) or SCHEDULED (a first poll). `count`: call task_finished() (not
    // when run() was called with release_when_done: that caller counts).
    RunOutcome cancel_running(std::uint64_t held = task_state::running,
                              bool count = true) noexcept {
        vtable_->cancel(this);
        finish(PollOutcome::ready, held, count);
        return RunOutcome::finished;
    }

    void finish(PollOutcome r, std::uint64_t held, bool count = true) noexcept {
        // Never registered (done in its first poll, or cancelled before): the registry's
        // reference goes in the same RMW. The caller still holds the queue's reference, so the
        // count stays above zero.
        const bool unlisted = registry_index_ == not_yet_registered;
        const std::uint64_t prev = state_.to_complete(unlisted ? 1 : 0, held);
        join_waker_.wake_if_waiting(prev);
        if (r == PollOutcome::threw && !(prev & task_state::join_interest))
            scheduler_->report_exception(vtable_->exception(this));
        if (count) scheduler_->task_finished();
        if (registry_index_ < not_yet_registered && scheduler_->registry.remove(registry_index_))
            ref_dec();  // the registry's reference
    }

    // finish() for a task not in the registry (a leaf that completes in its first poll, an Asio
    // handler), folding the queue's reference into the completing
    // RMW when nothing after it needs the task (TaskState::to_complete_folding): then the task
    // is not touched after that RMW. The caller counts the completion (see run()).
    RunOutcome finish_folding(PollOutcome r, std::uint64_t held) noexcept {
        bool folded = false;
        // The registry's reference if it was counted (registered lazily, never was), and, if
        // folded, the queue's.
        const std::uint64_t registry_ref = counted_registry_ref();
        const std::uint64_t prev =
            state_.to_complete_folding(registry_ref, r == PollOutcome::threw, folded, held);
        if (!folded) {
            join_waker_.wake_if_waiting(prev);
            if (r == PollOutcome::threw && !(prev & task_state::join_interest))
                scheduler_->report_exception(vtable_->exception(this));
            return RunOutcome::finished;
        }
        if (task_state::refs(prev) == registry_ref + 1) destroy_self();  // ours were the last
        return RunOutcome::released;
    }

    // The registry's reference if it is counted but the task was never inserted (registered
    // lazily, never was): it goes with the completion.
    std::uint64_t counted_registry_ref() const noexcept {
        return registry_index_ == not_yet_registered ? 1 : 0;
    }

    // finish_folding() for a task run inline for its joiner (TaskState::to_complete_exclusive):
    // false, nothing done, if another thread could reach the task. No exception to report (the
    // JoinHandle takes it).
    bool finish_exclusive(std::uint64_t held) noexcept {
        return state_.to_complete_exclusive(counted_registry_ref() + 1, held);
    }

    // Destroying a task drops what it holds, and that may be another task's last reference
    // (the join waker left in its slot is its parent's; detail/atomic_waker.hpp), whose
    // destruction may drop the next one's: a chain as long as the chain of awaits, which
    // recursion would follow until the stack ran out. So destruction is iterative: one that
    // begins while another is under way on this thread is queued (through `next`, unused once
    // the count is zero: no queue holds the task) and done by the outermost one.
    void destroy_self() noexcept {
        struct Chain {
            bool active = false;
            TaskHeader* queued = nullptr;
        };
        Chain& chain = per_thread<Chain, Chain>();
        if (chain.active) {
            next = chain.queued;
            chain.queued = this;
            return;
        }
        chain.active = true;
        destroy_one(this);
        if (chain.queued != nullptr) [[unlikely]]
            destroy_queued(chain.queued);
        chain.active = false;
    }
    static void destroy_one(TaskHeader* t) noexcept {
        Scheduler* const s = t->scheduler_;
        t->vtable_->destroy(t);
        s->release();
    }
    // The destructions queued while destroy_self() ran (`queued`: the chain's head, refilled
    // by the destructions done here).
    [[gnu::noinline]] static void destroy_queued(TaskHeader*& queued) noexcept {
        while (TaskHeader* t = queued) {
            queued = t->next;
            destroy_one(t);
        }
    }

    static TaskHeader* self(const void* p) noexcept {
        return static_cast<TaskHeader*>(const_cast<void*>(p));
    }
    static const void* waker_clone(const void* p) noexcept {
        self(p)->ref_inc();
        return p;
    }
    static void waker_wake(const void* p) noexcept { self(p)->wake_by_val(); }
    static void waker_wake_by_ref(const void* p) noexcept { self(p)->wake_by_ref(); }
    static void waker_drop(const void* p) noexcept { self(p)->ref_dec(); }

public:
    static constexpr WakerVTable waker_vtable{&waker_clone, &waker_wake, &waker_wake_by_ref,
                                              &waker_drop};

private:
    TaskState state_;
    const TaskVTable* vtable_;
    Scheduler* scheduler_;
    TaskPriority priority_;
    bool polled_ = false;  // a poll began (the next one swaps SCHEDULED for RUNNING)
    static constexpr std::uint32_t unregistered = 0xFFFF'FFFFu;  // never (Asio handlers)
    static constexpr std::uint32_t not_yet_registered = 0xFFFF'FFFEu;  // at the first pending poll
    std::uint32_t registry_index_;
    TaskId id_;
    WakerSlot<std::uint64_t, task_state::join_waker, task_state::complete> join_waker_;
};

/// The default `Handle::block_on`: the executor's own threads run the task while the caller
/// parks until it is COMPLETE (the join waker slot is the caller's: it holds the JoinHandle).
inline void Scheduler::block_on_task(TaskHeader* t) {
    submit_spawned(t);
    ThreadParkerRef parker;
    const Waker w = parker->waker();
    while (!t->poll_join(w)) parker->park();
}

}  // namespace zuki::detail
