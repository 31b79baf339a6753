// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Model check of shutdown racing wakes, on the real pool: the destructor's
// WorkStealingScheduler::close_and_drain (runtime/work_stealing/worker.hpp, over the Shutdown
// handshake of runtime/work_stealing/shutdown.hpp) against the real path by which a foreign
// thread's wake pushes onto the global queue (Scheduler::schedule, which holds a scheduler
// reference across the push), with the real TaskHeader, TaskRegistry and InjectionQueue. The
// workers have returned (as after join_threads()); their queues are empty.
//
// Wakes are what may legitimately race the destructor: a Waker outlives its executor. A spawn
// or an asio::post racing the destructor is a use of a destroyed object (as for any Asio
// execution context); posts made by Asio's services happen in shutdown(), before the close.
//
// INVARIANT: nothing is left behind. Every task, whether it was queued before the close or
// woken by a foreign thread during it (the Dekker pair of shutdown.hpp decides who drains it),
// is cancelled exactly once (its future destroyed once), destroyed exactly once, and the
// scheduler is freed exactly once, by whoever drops the last reference (Relacy reports a leak,
// a double free or an access to freed memory otherwise).
//
// Planted bugs that this program catches (test/model/check_planted_bugs.sh):
//   shutdown_push_fence    the pusher's fence removed: the pusher reads closed == false while
//                          the closer's drain misses the push (a task is left in the queue).
//   shutdown_close_fence   the closer's fence removed (a seq_cst store followed by a load is
//                          not a StoreLoad barrier for a relaxed load on the other side).

#include "pool.hpp"

namespace {

using namespace zuki_model;
using zuki::Waker;

constexpr int task_count = 3;

// Thread 0 destroys the executor (close_and_drain, then its own reference).
// Threads 1 and 2 each hold the waker of an idle task (0 and 2: polled once, pending) and wake
// it during the close.
// Task 1 sits in the global queue when the close begins.
struct ShutdownRacesWakes : rl::test_suite<ShutdownRacesWakes, 3> {
    Tally tally;
    WorkStealingScheduler* pool = nullptr;
    Waker wakers[task_count] = {Waker::noop(), Waker::noop(), Waker::noop()};

    // Spawned, polled once (pending: registered at that poll), its waker kept; the executor
    // dropped its queue reference after the poll.
    void make_idle(int id) {
        auto* t = new ScriptedTask(
            pool, id, [](ScriptedTask&, Context&) { return false; }, &tally);
        pool->work_started();
        RL_ASSERT(t->run() == zuki::detail::RunOutcome::idle);
        wakers[id] = t->make_waker();
        t->ref_dec();
    }

    void before() {
        pool = make_pool(1);
        make_idle(0);
        make_idle(2);
        pool->submit_new(new ScriptedTask(
            pool, 1, [](ScriptedTask&, Context&) { return false; }, &tally));
    }

    void thread(unsigned i) {
        if (i == 0)
            destroy_pool(pool);
        else
            wakers[i == 1 ? 0 : 2].wake();  // a foreign thread wakes an idle task
    }

    void after() {
        for (int id = 0; id < task_count; ++id) {
            RL_ASSERT(tally.cancels[id] == 1);  // every future dropped, once
            RL_ASSERT(tally.destroyed[id] == 1);  // every task destroyed, once
        }
        RL_ASSERT(tally.polls[0] == 1 && tally.polls[1] == 0 && tally.polls[2] == 1);
    }
};

}  // namespace

int main() {
    using zuki_model::check;
    bool ok = true;
    ok = ok && check<ShutdownRacesWakes>("shutdown racing two foreign wakes", 200000);
    return ok ? 0 : 1;
}
