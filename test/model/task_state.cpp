// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Model check of the task state word: zuki::detail::TaskHeader (include/zuki/task/detail/
// header.hpp) with the real TaskRegistry, the real JoinHandle<int> (its join-waker protocol and
// get(), which parks on the real ThreadParker) and the real Waker, all on Relacy's atomics.
// Only the future and the run queue are the test's: the future counts its polls and keeps its
// state in a Relacy variable, and the run queue (a futex word, like a parked executor's) holds
// the one task and blocks its executors while it is empty.
//
// INVARIANTS (each suite races executors polling the task against wakers, a joiner and a
// canceller on other threads):
//   - never polled concurrently, and each poll sees the previous poll's writes (the future's
//     state is a Relacy variable: an overlap or a missing happens-before edge is a data race);
//   - never queued twice (the queue asserts it is empty when `schedule` is called), and queued
//     only when SCHEDULED and neither RUNNING nor COMPLETE;
//   - never lost: a wake that follows the waker's signal leads to a poll that sees the signal,
//     so the task completes and the joiner's get() returns. A lost wake leaves the executors
//     blocked on the empty queue and the joiner parked: Relacy reports a DEADLOCK;
//   - no poll wasted: polls <= 1 + wakes;
//   - a wake after completion is a no-op (nothing is queued: the queue's assertion);
//   - cancellation: the future is destroyed exactly once (by the ready poll or by the cancel),
//     never polled after, and the task still completes;
//   - the reference count reaches zero exactly once: the task is destroyed once (Relacy also
//     reports a leak or a double free), after the executor's last access to it (a JoinHandle
//     that destroys it as the sole owner decides on a load), after which the queue shuts down
//     and the executors return; the scheduler's own count reaches zero once, when the test
//     drops its reference.
//
// Checked by hand when folding came in: letting to_complete_folding() fold although JOIN_WAKER
// is set (the joiner's waker then never fires) deadlocks the first suite at once.
//
// Planted bug that this program catches (test/model/check_planted_bugs.sh):
//   task_pending_release  run()'s CAS out of RUNNING after a pending poll is acquire instead of
//                         acq_rel: the next poll, on another executor after a wake, does not
//                         see the previous poll's writes (DATA RACE on the future's state).
//   join_sole_owner_acquire  the JoinHandle's sole-owner check (drop_join_handle) loads the
//                         count relaxed: it destroys the task without happens-before from the
//                         executor's drop of the queue reference (DATA RACE on executor_done).
//   first_poll_wake_unmarked  a wake that finds the task SCHEDULED leaves the word as it is (as
//                         before first polls held SCHEDULED): a wake during the first poll is
//                         lost (DEADLOCK: the joiner parked, the executors idle).
//   complete_exclusive_acquire  the load with which a joiner that ran its task itself decides
//                         to complete it without an RMW (TaskState::to_complete_exclusive) is
//                         relaxed: the task is destroyed without happens-before from a waker
//                         holder's last access (DATA RACE on holder_done).

#include <zuki/detail/futex.hpp>
#include <zuki/task/detail/header.hpp>
#include <zuki/task/join_handle.hpp>

#include "model.hpp"

namespace zuki::detail {
// Defined in src/task.cpp, which the model programs do not link.
TaskId next_task_id() noexcept { return TaskId(1); }
}  // namespace zuki::detail

namespace {

using namespace zuki::detail;
using zuki::Context;
using zuki::JoinHandle;
using zuki::TaskPriority;
using zuki::Waker;
using zuki_model::here;

// Everything one run shares: the scheduler, the task's bookkeeping, the wakers' signals.
struct World;

class ModelScheduler final : public Scheduler {
public:
    explicit ModelScheduler(World& w) : world_(w) {}
    ~ModelScheduler() override;

    void schedule(TaskHeader* t) noexcept override;
    void report_exception(std::exception_ptr) noexcept override { RL_ASSERT(false); }
    void task_finished() noexcept override;

    /// Take the task if it is queued, without blocking (a joiner that runs it itself).
    TaskHeader* try_take() noexcept {
        // acquire: as in take().
        std::uint32_t v = queue_.load(std::memory_order_acquire);
        while (v & queued) {
            if (queue_.compare_exchange_weak(v, v & ~queued, std::memory_order_acquire,
                                             std::memory_order_relaxed))
                return task;
        }
        return nullptr;
    }
    /// Executor side: block until the task is queued (then dequeue it) or the queue shut down.
    TaskHeader* take() noexcept {
        for (;;) {
            // acquire: pairs with the release in schedule(), like any run queue's pop.
            std::uint32_t v = queue_.load(std::memory_order_acquire);
            if (v & queued) {
                if (queue_.compare_exchange_weak(v, v & ~queued, std::memory_order_acquire,
                                                 std::memory_order_relaxed))
                    return task;
                continue;
            }
            if (v & closed) return nullptr;
            futex_wait(queue_, v);
        }
    }
    void shut_down() noexcept {
        queue_.fetch_or(closed, std::memory_order_release);
        futex_wake(queue_, 8);
    }

    TaskHeader* task = nullptr;

private:
    static constexpr std::uint32_t queued = 1, closed = 2;
    World& world_;
    atomic<std::uint32_t> queue_{queued};  // the task starts queued, as after a spawn
};

struct World {
    ModelScheduler* sched = nullptr;
    atomic<int> signal_a{0}, signal_b{0};  // set by the wakers before they wake
    int signals_needed = 1;  // the future is ready once it saw this many
    // Bookkeeping outside the model (the fibres run one at a time).
    int polls = 0, wakes = 0, enqueues = 1, finished = 0, destroyed = 0;
    bool in_poll = false, future_alive = true, cancelled = false, scheduler_deleted = false;
};

ModelScheduler::~ModelScheduler() { world_.scheduler_deleted = true; }

void ModelScheduler::schedule(TaskHeader* t) noexcept {
    RL_ASSERT(t == task);
    const std::uint64_t s = t->state(std::memory_order_relaxed);
    RL_ASSERT((s & task_state::scheduled) && !(s & (task_state::running | task_state::complete)));
    ++world_.enqueues;
    // release: publishes the task (and what the waker wrote) to take()'s acquire.
    const std::uint32_t prev = queue_.fetch_or(queued, std::memory_order_release);
    RL_ASSERT(!(prev & queued));  // never queued twice
    RL_ASSERT(!(prev & closed));
    futex_wake(queue_, 1);
}

void ModelScheduler::task_finished() noexcept { ++world_.finished; }

// The task: the real header and output cell, the test's future.
class ModelTask final : public TaskOutputCell<int> {
public:
    ModelTask(World& w)
        : TaskOutputCell<int>(&vtable, w.sched, TaskPriority::Normal, /*join_interest=*/true),
          world_(w) {
        state_(here()) = 0;
        executor_done(here()) = 0;
        holder_done(here()) = 0;
    }

    static PollOutcome poll_fn(TaskHeader* h, Context&) noexcept {
        auto& self = *static_cast<ModelTask*>(h);
        World& w = self.world_;
        RL_ASSERT(!w.in_poll);  // never polled concurrently
        RL_ASSERT(w.future_alive);
        w.in_poll = true;
        ++w.polls;
        const int round = self.state_(here());  // the previous poll's write must be visible
        self.state_(here()) = round + 1;
        // acquire: pairs with the wakers' release stores (the future's own synchronisation).
        const int seen =
            w.signal_a.load(std::memory_order_acquire) + w.signal_b.load(std::memory_order_acquire);
        w.in_poll = false;
        if (seen < w.signals_needed) return PollOutcome::pending;
        self.output.emplace<1>(42);
        w.future_alive = false;
        return PollOutcome::ready;
    }
    static void cancel_fn(TaskHeader* h) noexcept {
        auto& self = *static_cast<ModelTask*>(h);
        World& w = self.world_;
        RL_ASSERT(w.future_alive && !w.in_poll);  // destroyed once, never while polled
        self.state_(here()) = -1;
        w.future_alive = false;
        w.cancelled = true;
        self.output.emplace<3>();
    }
    static std::exception_ptr exception_fn(TaskHeader*) noexcept { return {}; }
    static void destroy_fn(TaskHeader* h) noexcept {
        auto* self = static_cast<ModelTask*>(h);
        World& w = self->world_;
        RL_ASSERT(w.destroyed == 0);  // the count reached zero exactly once
        ++w.destroyed;
        RL_ASSERT(!w.future_alive);  // a task is destroyed only after it completed
        (void)int(self->executor_done(here()));  // after the executor's last access (run_executor)
        (void)int(self->holder_done(here()));  // and after a waker holder's (JoinedHere)
        w.sched->shut_down();  // the executors may return now
        delete self;
    }
    static constexpr TaskVTable vtable{&poll_fn, &cancel_fn, &exception_fn, &destroy_fn};

    // Written by an executor after run() finished the task, before it drops its reference.
    rl::var<int> executor_done;
    // Written by a waker's holder before it drops the waker (its last access to the task).
    rl::var<int> holder_done;

private:
    World& world_;
    rl::var<int> state_;  // the future's own memory
};

// One run of the task by an executor, and what it does with the queue's reference after.
// `joined_here`: run by the thread that then joins it (the pool's help_join).
inline void run_once(World& w, TaskHeader* t, bool joined_here = false) {
    // release_when_done, as the pool runs its tasks: the completing RMW may drop the queue's
    // reference too (TaskState::to_complete_folding), racing the joiner; run for its joiner, it
    // may complete with a load and a store (TaskState::to_complete_exclusive).
    // (run(true) leaves the count of a completion to its caller, as the pool's workers do.)
    switch (t->run(/*release_when_done=*/true, joined_here)) {
        case RunOutcome::finished:
            w.sched->task_finished();
            // The executor's last access before it lets go: destroy_fn reads it, so a
            // destruction not ordered after this reference's drop is a DATA RACE (the
            // JoinHandle's sole-owner path decides on a load, TaskHeader::drop_join_handle).
            static_cast<ModelTask*>(t)->executor_done(here()) = 1;
            t->ref_dec();  // the queue's reference
            break;
        case RunOutcome::idle:
            t->ref_dec();  // the queue's reference
            break;
        case RunOutcome::released:
            w.sched->task_finished();
            break;
        case RunOutcome::reschedule:  // woken during the poll
            w.sched->schedule(t);
            break;
    }
}

// The executor loop of both executors, reduced to one task and this queue.
inline void run_executor(World& w) {
    while (TaskHeader* t = w.sched->take()) run_once(w, t);
}

// Common set-up and final checks. Threads: Executors executors, then the suite's own roles.
template <class Derived, int Threads>
struct TaskSuite : rl::test_suite<Derived, Threads> {
    World w;
    ModelTask* task = nullptr;
    JoinHandle<int> handle;
    Waker waker_a = Waker::noop(), waker_b = Waker::noop();

    void before() {
        ++model_execution();  // per-thread values (destroy_self's chain) start fresh
        w.sched = new ModelScheduler(w);
        task = new ModelTask(w);
        w.sched->task = task;
        // Registered lazily, as the executors do: the first poll that returns pending inserts
        // it (run()), and completion removes it, or drops the unused registry reference in the
        // same RMW that sets COMPLETE when the first poll was already ready.
        handle = make_join_handle<int>(task);
        // Wakers the future handed out in an earlier poll (each holds a reference).
        waker_a = task->make_waker();
        waker_b = task->make_waker();
    }
    void wake(atomic<int>& signal, Waker& waker, bool by_ref) {
        // release: the future's own synchronisation (its poll acquires the signal).
        signal.store(1, std::memory_order_release);
        ++w.wakes;
        if (by_ref) {
            waker.wake_by_ref();
            waker = Waker::noop();  // drop it
        } else {
            waker.wake();
        }
    }
    void join() {
        const int v = handle.get();  // parks on a ThreadParker until the join waker fires
        RL_ASSERT(v == 42);
        handle = JoinHandle<int>();  // drop it
    }
    void after() {
        RL_ASSERT(w.destroyed == 1);
        RL_ASSERT(w.finished == 1);
        RL_ASSERT(w.polls <= 1 + w.wakes);  // no poll without a reason
        RL_ASSERT(w.enqueues <= 1 + w.wakes);
        RL_ASSERT(!w.scheduler_deleted);
        w.sched->release();  // the executor's own reference: the last one
        RL_ASSERT(w.scheduler_deleted);
    }
};

// Two executors, one waker (by value), one joiner blocked in get().
struct WakeRacesPoll : TaskSuite<WakeRacesPoll, 4> {
    void before() {
        TaskSuite::before();
        waker_b = Waker::noop();  // only one waker here
    }
    void thread(unsigned i) {
        if (i < 2)
            run_executor(w);
        else if (i == 2)
            wake(w.signal_a, waker_a, /*by_ref=*/false);
        else
            join();
    }
};

// One executor, two wakers (one by reference then dropped, one by value): the future needs
// both signals. Wakes coalesce (never queued twice) and the last one is never lost; the late
// one often finds the task complete (a no-op).
struct TwoWakersRacePoll : TaskSuite<TwoWakersRacePoll, 4> {
    void before() {
        TaskSuite::before();
        w.signals_needed = 2;
    }
    void thread(unsigned i) {
        if (i == 0)
            run_executor(w);
        else if (i == 1)
            wake(w.signal_a, waker_a, /*by_ref=*/true);
        else if (i == 2)
            wake(w.signal_b, waker_b, /*by_ref=*/false);
        else
            join();
    }
};

// One executor, one waker, and the JoinHandle's owner cancelling then dropping the handle:
// cancel lands on a queued, running, idle (cancelled on the canceller's thread) or completed
// task.
struct CancelRacesPollAndWake : TaskSuite<CancelRacesPollAndWake, 3> {
    void before() {
        TaskSuite::before();
        waker_b = Waker::noop();
    }
    void thread(unsigned i) {
        if (i == 0) {
            run_executor(w);
        } else if (i == 1) {
            wake(w.signal_a, waker_a, /*by_ref=*/false);
        } else {
            handle.cancel();
            RL_ASSERT(!handle.is_finished() || !w.future_alive);
            handle = JoinHandle<int>();  // drop it
        }
    }
    void after() {
        RL_ASSERT(!w.future_alive);  // dropped once: by the ready poll or by the cancel
        RL_ASSERT(w.cancelled || w.polls >= 1);
        TaskSuite::after();
    }
};

// The joiner runs the task itself if it finds it queued (the pool's help_join: a task awaiting
// a JoinHandle runs the child inline), racing an executor for it, a waker's holder that wakes
// with it, and another holder that touches the task and drops its waker. When nobody else holds
// a reference the joiner completes it with a load and a store (TaskState::
// to_complete_exclusive) and then, as the handle's sole owner, destroys it on another load:
// both must come after the holders' last accesses (holder_done, executor_done).
// `Signals`: the signals the future needs (0: the first poll is ready, so the joiner's run
// decides between the exclusive store and the RMW more often).
template <int Signals>
struct JoinedHere : TaskSuite<JoinedHere<Signals>, 4> {
    using Base = TaskSuite<JoinedHere<Signals>, 4>;
    using Base::join;
    using Base::task;
    using Base::w;
    using Base::wake;
    using Base::waker_a;
    using Base::waker_b;
    void before() {
        Base::before();
        w.signals_needed = Signals;
    }
    void thread(unsigned i) {
        if (i == 0) {
            run_executor(w);
        } else if (i == 1) {
            if (TaskHeader* t = w.sched->try_take()) run_once(w, t, /*joined_here=*/true);
            join();
        } else if (i == 2) {
            wake(w.signal_a, waker_a, /*by_ref=*/false);
        } else {
            // A holder's last access, then its drop: nothing but the drop orders the two
            // before the task's destruction.
            task->holder_done(here()) = 1;
            waker_b = Waker::noop();
        }
    }
};

}  // namespace

// The first poll is ready: the executor completes the task with run(true), which may fold its
// queue reference into the completing RMW (TaskState::to_complete_folding), racing the joiner
// registering its join waker (then it must not fold: the waker is taken from the task after
// COMPLETE) and a thread dropping the wakers (their references). The count reaches zero once.
struct FirstPollReadyRacesJoiner : TaskSuite<FirstPollReadyRacesJoiner, 3> {
    void before() {
        TaskSuite::before();
        w.signals_needed = 0;
    }
    void thread(unsigned i) {
        if (i == 0) {
            run_executor(w);
        } else if (i == 1) {
            join();
        } else {
            waker_a = Waker::noop();
            waker_b = Waker::noop();
        }
    }
};

int main() {
    using zuki_model::check;
    bool ok = true;
    // The first two are named after what broke: before the fix in transition_to_notified(),
    // both found a lost wake-up (see doc/checking.md).
    ok = ok && check<WakeRacesPoll>(
                   "task state: a wake racing a poll is not lost (2 executors, a joiner)", 300000);
    ok = ok && check<TwoWakersRacePoll>(
                   "task state: a wake that finds the task scheduled is not lost (2 wakes, a "
                   "joiner)",
                   300000);
    ok = ok && check<CancelRacesPollAndWake>("task state: cancel racing a poll and a wake", 200000);
    ok = ok &&
         check<FirstPollReadyRacesJoiner>(
             "task state: completing with the queue reference folded races the joiner", 200000);
    ok = ok && check<FirstPollReadyRacesJoiner>("task state: folding races the joiner, exhaustive",
                                                0, rl::sched_bound, 2);
    ok = ok && check<JoinedHere<1>>(
                   "task state: a joiner that runs its task completes it without an RMW only "
                   "when it alone holds it",
                   300000);
    ok = ok && check<JoinedHere<0>>("task state: a joiner that runs its task, the first poll ready",
                                    300000);
    ok = ok &&
         check<CancelRacesPollAndWake>("task state: cancel racing a poll and a wake, exhaustive", 0,
                                       rl::sched_bound, 1);
    return ok ? 0 : 1;
}
