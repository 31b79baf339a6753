// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Model check of the idle protocol in the real pool: WorkStealingScheduler's worker loop
// (runtime/work_stealing/worker.hpp: next_task, search, park via park.hpp, pass_the_baton) over
// the real IdleSet, Parker, ChaseLevDeque and InjectionQueue, on Relacy's atomics and futex
// model. Relacy threads are the pool's workers (each runs run_worker) plus one submitter.
//
// INVARIANT: no submission is ever left with every worker asleep. The submitter spawns tasks
// from outside the pool and ends; one task spawns two more from inside (the second displaces
// the first from the LIFO slot into the deque, which notifies); the last task to finish stops
// the pool (WorkStealingScheduler::stop). If a wake-up were lost, the run would end with work
// queued and every worker asleep on its parker: Relacy reports a DEADLOCK. (The submitter does
// not join: join() wakes every parked worker, which would mask a lost wake-up; the join is
// test/model/outstanding_work.cpp's subject.) Also checked:
//   - every task runs exactly once;
//   - at every step: searching <= awake (Relacy's invariant hook);
//   - at the end: every worker awake and no parked bit left; the destructor's drain finds
//     nothing and the scheduler is freed (Relacy reports leaks).
//
// Planted bugs that this program catches (test/model/check_planted_bugs.sh):
//   idle_park_fence       the seq_cst fence in IdleSet::prepare_park() removed: DEADLOCK.
//   shutdown_push_fence   the fence after an outside push (shutdown.hpp), which is also the
//                         idle protocol's step (b) for outside submissions, removed: DEADLOCK.
// (IdleSet::notify_one's own fence serves the notifications from inside the pool — a task
// spawning, a worker sharing a global chunk — whose loss only costs parallelism: the notifying
// worker re-checks its own deque before it parks. So its removal is not a liveness failure and
// is not planted.)

#include "pool.hpp"

namespace {

using namespace zuki_model;

// Workers: pool size. Outside: submissions from outside. Spawning: task 0 spawns two tasks from
// inside. Late: the last outside submission waits until every worker announced parking
// (arrive_when in pool.hpp: relaxed observations, no happens-before edge).
template <std::size_t Workers, int Outside, bool Spawning, bool Late>
struct IdleSuite : rl::test_suite<IdleSuite<Workers, Outside, Spawning, Late>, Workers + 1> {
    static constexpr int total = Outside + (Spawning ? 2 : 0);

    WorkStealingScheduler* pool = nullptr;
    int runs[total] = {};  // bookkeeping outside the model (the fibres run one at a time)
    int finished = 0;

    void before() { pool = make_pool(Workers); }

    ScriptedTask::Body body() {
        return [this](ScriptedTask& t, Context&) {
            ++runs[t.id];
            if (Spawning && t.id == 0) {  // two spawns from inside the pool
                spawn(*pool, Outside, body());
                spawn(*pool, Outside + 1, body());
            }
            if (++finished == total) pool->stop();
            return true;
        };
    }

    void thread(unsigned index) {
        if (index < Workers) {
            run_worker(*pool, index);
        } else {
            for (int k = 0; k < Outside; ++k) {
                if (Late && k == Outside - 1) wait_until_all_parked();
                spawn(*pool, k, body());
            }
        }
    }

    void wait_until_all_parked() {
        arrive_when([&] {
            for (std::size_t i = 0; i < Workers; ++i)
                if (!pool->idle_set().is_parked(i)) return false;
            return true;
        });
    }

    // `awake` may exceed the worker count for a moment: prepare_park() sets the parked bit
    // before it decrements `awake`, and a notifier may claim the bit (adding one) in between.
    void invariant() {
        if (pool != nullptr)
            RL_ASSERT(pool->idle_set().searching_count() <= pool->idle_set().awake_count());
    }

    void after() {
        for (int id = 0; id < total; ++id) RL_ASSERT(runs[id] == 1);
        RL_ASSERT(pool->idle_set().awake_count() == Workers);
        for (std::size_t i = 0; i < Workers; ++i) RL_ASSERT(!pool->idle_set().is_parked(i));
        destroy_pool(std::exchange(pool, nullptr));
    }
};

}  // namespace

int main() {
    using zuki_model::check;
    bool ok = true;
    // (An exhaustive search, even bounded to one preemption, runs far over 10 minutes: the real
    // loop has many more steps than a transcription. ZUKI_MODEL_SCALE scales these instead.)
    ok = ok && check<IdleSuite<1, 1, false, true>>("idle: 1 worker, a late submission", 50000);
    ok = ok && check<IdleSuite<2, 1, false, false>>("idle: 2 workers, 1 submission", 100000);
    ok = ok && check<IdleSuite<2, 1, false, true>>("idle: 2 workers, a late submission", 50000);
    ok = ok &&
         check<IdleSuite<2, 2, false, true>>("idle: 2 workers, early + late submissions", 50000);
    ok = ok &&
         check<IdleSuite<2, 1, true, true>>("idle: 2 workers, late + inside submissions", 50000);
    ok = ok && check<IdleSuite<3, 1, true, false>>("idle: 3 workers, outside + inside submissions",
                                                   30000);
    return ok ? 0 : 1;
}
