// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Model check of shutdown racing a wake and a submission: the close/drain protocol of
// WsScheduler (src/work_stealing_executor.cpp: push_global() and close_and_drain(), transcribed
// here step by step because src/ is not built under the model checker) on the real TaskHeader
// (cancel, cancel_scheduled, wake) and the real TaskRegistry (drain racing remove).
//
//   pusher (schedule -> push_global):  push to the global queue; fence(seq_cst);
//                                       if closed: drain the global queue
//   closer (close_and_drain):           closed = true (seq_cst); fence(seq_cst);
//                                       drain the global queue; drain the registry
//                                       (cancel each task, drop the registry's reference)
//
// INVARIANT: nothing is left behind. Every task, whether it was queued before the close, woken
// by a foreign thread during the close (the Dekker pair above decides who drains it), or
// submitted from outside during the close, is cancelled exactly once (its future destroyed
// once), destroyed exactly once, and the global queue is empty at the end. The scheduler
// outlives the executor's own reference while a waker still holds a task, and is deleted
// exactly once, by whoever drops the last reference. (A task left in the queue is also a
// Relacy MEMORY LEAK.)
//
// The global queue is a lock-free stack here (push: release CAS; the drain takes the whole
// list with an acquire exchange), standing in for the Boost.Lockfree injection queue: what the
// protocol needs from it is only that a push is a write ordered before the pusher's fence and
// that the drain reads it after the closer's fence.
//
// Planted bugs that this program catches (test/model/check_planted_bugs.sh):
//   shutdown_push_fence    the pusher's fence removed: the pusher reads closed == false while
//                          the closer's drain misses the push (a task is left in the queue).
//   shutdown_close_fence   the closer's fence removed (a seq_cst store followed by a load is
//                          not a StoreLoad barrier for a relaxed load on the other side).

#include <zuki/detail/task/header.hpp>

#include "model.hpp"

namespace zuki::detail {
// Defined in src/task.cpp, which the model programs do not link.
TaskId next_task_id() noexcept { return TaskId(1); }
}  // namespace zuki::detail

namespace {

using namespace zuki::detail;
using zuki::Context;
using zuki::TaskPriority;
using zuki::Waker;
using zuki_model::here;

constexpr int task_count = 3;

struct World {
    // Bookkeeping outside the model (the fibres run one at a time).
    int polls[task_count] = {}, cancels[task_count] = {}, destroyed[task_count] = {};
    int finished = 0;
    bool scheduler_deleted = false;
};

class ShutdownScheduler final : public Scheduler {
public:
    explicit ShutdownScheduler(World& w) : world_(w) {}
    ~ShutdownScheduler() override {
        RL_ASSERT(!world_.scheduler_deleted);
        world_.scheduler_deleted = true;
        RL_ASSERT(head_.load(std::memory_order_relaxed) == nullptr);  // nothing left behind
    }

    void schedule(TaskHeader* t) noexcept override { push_global(t); }
    void report_exception(std::exception_ptr) noexcept override { RL_ASSERT(false); }
    void task_finished() noexcept override { ++world_.finished; }

    // WsScheduler::push_global (without the idle notification).
    void push_global(TaskHeader* t) noexcept {
        push(t);
        // seq_cst fence: our push must be ordered before reading closed_ (Dekker with
        // close_and_drain(), which stores closed_ and then drains).
        fence(ZUKI_MODEL_WEAKEN(shutdown_push_fence, std::memory_order_seq_cst,
                                std::memory_order_relaxed));
        if (closed_.load(std::memory_order_relaxed)) drain_global();
    }

    // WsScheduler::close_and_drain (the workers were joined before: their deques are empty).
    void close_and_drain() noexcept {
        // seq_cst: Dekker with push_global(): after this store, a pusher either sees closed_
        // and drains itself, or its push is visible to our drain below.
        closed_.store(true, std::memory_order_seq_cst);
        fence(ZUKI_MODEL_WEAKEN(shutdown_close_fence, std::memory_order_seq_cst,
                                std::memory_order_relaxed));
        drain_global();
        registry.drain([](TaskHeader* t) {
            t->cancel();
            t->ref_dec();  // the registry's reference
        });
    }

private:
    void push(TaskHeader* t) noexcept {
        TaskHeader* h = head_.load(std::memory_order_relaxed);
        do {
            t->next = h;
            // release: publishes t (and its next link) to the drain's acquire.
        } while (!head_.compare_exchange_weak(h, t, std::memory_order_release,
                                              std::memory_order_relaxed));
    }
    void drain_global() noexcept {
        // acquire: pairs with the release CAS in push().
        for (TaskHeader* t = head_.exchange(nullptr, std::memory_order_acquire); t != nullptr;) {
            TaskHeader* next = t->next;
            t->cancel_scheduled();  // WsScheduler::cancel_queued
            t->ref_dec();  // the queue's reference
            t = next;
        }
    }

    World& world_;
    atomic<TaskHeader*> head_{nullptr};
    atomic<bool> closed_{false};
};

class ModelTask final : public TaskHeader {
public:
    ModelTask(World& w, Scheduler* s, int id, bool registered)
        : TaskHeader(&vtable, s, TaskPriority::Normal, /*join_interest=*/false, registered),
          world_(w), id_(id) {
        state_(here()) = 0;
    }

    static PollOutcome poll_fn(TaskHeader* h, Context&) noexcept {
        auto& self = *static_cast<ModelTask*>(h);
        ++self.world_.polls[self.id_];
        self.state_(here()) = 1;
        return PollOutcome::pending;  // waits for a wake that shutdown races
    }
    static void cancel_fn(TaskHeader* h) noexcept {
        auto& self = *static_cast<ModelTask*>(h);
        RL_ASSERT(self.world_.cancels[self.id_] == 0);  // the future is destroyed once
        ++self.world_.cancels[self.id_];
        self.state_(here()) = -1;
    }
    static std::exception_ptr exception_fn(TaskHeader*) noexcept { return {}; }
    static void destroy_fn(TaskHeader* h) noexcept {
        auto* self = static_cast<ModelTask*>(h);
        RL_ASSERT(self->world_.destroyed[self->id_] == 0);  // destroyed exactly once
        ++self->world_.destroyed[self->id_];
        delete self;
    }
    static constexpr TaskVTable vtable{&poll_fn, &cancel_fn, &exception_fn, &destroy_fn};

private:
    World& world_;
    int id_;
    rl::var<int> state_;
};

// Thread 0 closes the executor, then drops its own reference to the scheduler.
// Thread 1 holds a waker of task 0 (idle: polled once, pending) and wakes it.
// Thread 2 submits task 2 from outside (an unregistered run-once handler, like asio::post).
// Task 1 sits in the global queue when the close begins.
struct ShutdownRacesWakeAndSubmit : rl::test_suite<ShutdownRacesWakeAndSubmit, 3> {
    World w;
    ShutdownScheduler* sched = nullptr;
    ModelTask* submitted = nullptr;
    Waker waker = Waker::noop();

    void before() {
        sched = new ShutdownScheduler(w);
        // Task 0: spawned, polled once (pending), its waker held by thread 1.
        auto* t0 = new ModelTask(w, sched, 0, /*registered=*/true);
        t0->register_task();
        RL_ASSERT(t0->run() == RunOutcome::idle);
        waker = t0->make_waker();
        t0->ref_dec();  // the queue's reference, dropped by the executor after the poll
        // Task 1: queued in the global queue.
        auto* t1 = new ModelTask(w, sched, 1, /*registered=*/true);
        t1->register_task();
        sched->push_global(t1);
        // Task 2: built by the submitter, not yet pushed.
        submitted = new ModelTask(w, sched, 2, /*registered=*/false);
    }

    void thread(unsigned i) {
        if (i == 0) {
            sched->close_and_drain();
            sched->release();  // the executor's own reference (WsScheduler::final_release)
        } else if (i == 1) {
            waker.wake();  // a foreign thread wakes task 0 during the close
        } else {
            sched->push_global(submitted);  // a submission from outside during the close
        }
    }

    void after() {
        for (int id = 0; id < task_count; ++id) {
            RL_ASSERT(w.cancels[id] == 1);  // every future dropped, once
            RL_ASSERT(w.destroyed[id] == 1);  // every task destroyed, once
        }
        RL_ASSERT(w.polls[0] == 1 && w.polls[1] == 0 && w.polls[2] == 0);
        RL_ASSERT(w.finished == task_count);
        RL_ASSERT(w.scheduler_deleted);  // the last reference went with the last task
    }
};

}  // namespace

int main() {
    using zuki_model::check;
    bool ok = true;
    // (An exhaustive search with one preemption takes 3.2 million runs, about 50 s here: too
    // long for every CI run; ZUKI_MODEL_SCALE scales the random search instead.)
    ok = ok && check<ShutdownRacesWakeAndSubmit>("shutdown racing a wake and a submission", 500000);
    return ok ? 0 : 1;
}
