// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Model check of join() on the real pool: WorkStealingScheduler::begin_join and end_join
// (runtime/work_stealing/worker.hpp) over the OutstandingWork fold protocol
// (runtime/work_stealing/outstanding_work.hpp): the workers count privately until the join
// begins, then fold their deltas at their next count or loop turn, or when the join's
// notify_all wakes them from their parkers, and count in the shared counter from then on (a
// worker that has not entered its loop when the join begins is acknowledged for by the joiner,
// OutstandingWork::ack_unstarted, and counts in the shared counter from its first count); the
// fold or finish that completes the count stops the pool, and the workers exit (which the real
// join() waits for with pthread_join).
//
// Relacy threads: the pool's workers (run_worker), a joiner, a foreign thread that wakes an
// idle task, and one that ends a unit of tracked Asio work (an executor_work_guard reset
// outside the pool). Work: task A, spawned from outside by the joiner, which spawns task C from
// inside the pool (counted in its worker's private delta); task B, spawned and polled once
// before the run (pending) and woken by the foreign thread; and the guard's unit. The foreign
// threads arrive after every worker folded (observed without a happens-before edge), so B
// finishes on a worker that counts in the shared counter, and the guard's decrement, from
// outside the pool, may be the one that ends the join.
//
// INVARIANTS:
//   - the pool stops only when everything finished, and the stop carries what the work did:
//     each task writes a Relacy variable that the joiner reads once it sees the pool stopped
//     (a missing happens-before edge is a DATA RACE); the guard was released;
//   - it does stop: a completion that neither the last fold nor the last finish noticed leaves
//     every worker parked, which Relacy reports as a DEADLOCK (nobody else stops the pool);
//   - at the end every worker folded exactly once and the shared count is exactly zero.
//
// Planted bug that this program catches (test/model/check_planted_bugs.sh):
//   outstanding_finish_order  a folded worker's decrement relaxed instead of seq_cst: the stop
//                             comes without a happens-before edge from the last task's
//                             completion (DATA RACE on what the task wrote), or the Dekker pair
//                             with the last fold breaks and nobody stops the pool (DEADLOCK).
//   outstanding_enter_blind   a worker enters its loop with a plain store instead of the CAS
//                             that decides against the joiner's ack_unstarted: when the join
//                             began first, the worker is acknowledged for but counts privately,
//                             and the completion of its last task goes unnoticed (DEADLOCK).

#include "pool.hpp"

namespace {

using namespace zuki_model;
using zuki::Waker;

template <std::size_t Workers>
struct JoinSuite : rl::test_suite<JoinSuite<Workers>, Workers + 3> {
    static constexpr unsigned joiner = Workers;
    static constexpr unsigned waker = Workers + 1;
    enum { task_a, task_b, task_c, tasks };

    Tally tally;
    WorkStealingScheduler* pool = nullptr;
    Waker waker_b = Waker::noop();
    rl::var<int> completed[tasks];  // written by each task, read by the joiner after the join
    bool joined = false;

    ScriptedTask::Body completes(int after_polls = 1) {
        return [this, after_polls](ScriptedTask& t, Context&) {
            if (tally.polls[t.id] < after_polls) return false;
            completed[t.id](here()) = 1;
            return true;
        };
    }

    void before() {
        for (auto& c : completed) c(here()) = 0;
        pool = make_pool(Workers);
        // Task B: spawned, polled once (pending), its waker with the foreign thread.
        auto* b = new ScriptedTask(pool, task_b, completes(2), &tally);
        pool->work_started();
        RL_ASSERT(b->run() == zuki::detail::RunOutcome::idle);
        waker_b = b->make_waker();
        b->ref_dec();
        pool->work_started();  // the guard thread's unit of work
    }

    bool all_folded() const { return pool->outstanding_work().folded_workers() == Workers; }

    void thread(unsigned i) {
        if (i < Workers) {
            run_worker(*pool, i);
        } else if (i == joiner) {
            spawn(
                *pool, task_a,
                [this](ScriptedTask& t, Context& cx) {
                    spawn(*pool, task_c, completes(), &tally);
                    return completes()(t, cx);
                },
                &tally);
            // join() without its pthread_join: the pool stops by itself once the count is
            // zero (a missed completion leaves every worker parked: DEADLOCK), and a stop seen
            // (acquire) comes after everything the work did.
            pool->begin_join();
            arrive_when([&] { return pool->stopped(); });
            if (pool->stopped())
                for (auto& c : completed) RL_ASSERT(c(here()) == 1);
            joined = true;
        } else if (i == waker) {
            arrive_when([&] { return all_folded(); });
            waker_b.wake();
        } else {
            arrive_when([&] { return all_folded(); });
            pool->work_finished();  // the guard is released outside the pool
        }
    }

    void after() {
        RL_ASSERT(joined);
        RL_ASSERT(pool->stopped());  // nobody else stops it
        for (auto& c : completed) RL_ASSERT(c(here()) == 1);
        RL_ASSERT(all_folded());
        RL_ASSERT(pool->outstanding_work().shared_count() == 0);
        destroy_pool(std::exchange(pool, nullptr));
    }
};

}  // namespace

int main() {
    using zuki_model::check;
    bool ok = true;
    ok = ok && check<JoinSuite<1>>("join: 1 worker, a wake and a guard from outside", 100000);
    ok = ok && check<JoinSuite<2>>("join: 2 workers, a wake and a guard from outside", 100000);
    return ok ? 0 : 1;
}
