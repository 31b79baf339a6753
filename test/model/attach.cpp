// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Model check of a thread that attaches to the real pool (WorkStealingScheduler::attach in
// runtime/work_stealing/worker.hpp): it takes a reserved place, which the idle set counted as an
// always-busy worker until then (concurrent/idle_set.hpp), and runs the real worker loop there,
// stealing, parking and being woken like the pool's own worker; a joiner waits for it to leave
// (wait_attached_threads, join_threads' second half) while the last task stops the pool.
// Relacy threads: worker 0, the attaching thread, and a submitter that spawns from outside and
// then waits for attached threads to leave.
//
// INVARIANTS:
//   - no submission is left with both places asleep (a lost wake-up ends the run in DEADLOCK),
//     whether the thread attached before, during or after the submissions, or not at all (the
//     joiner closed attaching first);
//   - the joiner returns only after the attached thread left its loop, and the attached thread's
//     last accesses (the leave, its scheduler reference) come after that without a data race;
//   - every task runs exactly once; searching <= awake at every step;
//   - at the end both places count awake with no parked bit, the destructor's drain finds
//     nothing, and the scheduler is freed (Relacy reports leaks).
// Planted bug (test/model/check_planted_bugs.sh): idle_park_fence (the seq_cst fence in
// IdleSet::prepare_park) removed: DEADLOCK.

#include "pool.hpp"

namespace {

using namespace zuki_model;

// Outside: submissions. Late: the last submission waits until both places announced parking.
template <int Outside, bool Late>
struct AttachSuite : rl::test_suite<AttachSuite<Outside, Late>, 3> {
    WorkStealingScheduler* pool = nullptr;
    int runs[Outside] = {};  // bookkeeping outside the model (the fibres run one at a time)
    int finished = 0;
    bool attach_returned = false;

    void before() { pool = make_pool(1, 4, 2, /*attach_places=*/1); }

    ScriptedTask::Body body() {
        return [this](ScriptedTask& t, Context&) {
            ++runs[t.id];
            if (++finished == Outside) pool->stop();
            return true;
        };
    }

    void thread(unsigned index) {
        if (index == 0) {
            run_worker(*pool, 0);
        } else if (index == 1) {
            pool->attach();
            attach_returned = true;
        } else {
            for (int k = 0; k < Outside; ++k) {
                if (Late && k == Outside - 1)
                    arrive_when([&] {
                        return pool->idle_set().is_parked(0) && pool->idle_set().is_parked(1);
                    });
                spawn(*pool, k, body());
            }
            pool->wait_attached_threads();
            // The attached thread, if it came in, left its loop: its place's worker is done.
            RL_ASSERT(pool->thread_count() == 1);
        }
    }

    void invariant() {
        if (pool != nullptr)
            RL_ASSERT(pool->idle_set().searching_count() <= pool->idle_set().awake_count());
    }

    void after() {
        RL_ASSERT(attach_returned);
        for (int id = 0; id < Outside; ++id) RL_ASSERT(runs[id] == 1);
        RL_ASSERT(pool->idle_set().awake_count() == 2);
        RL_ASSERT(!pool->idle_set().is_parked(0));
        RL_ASSERT(!pool->idle_set().is_parked(1));
        destroy_pool(std::exchange(pool, nullptr));
    }
};

}  // namespace

int main() {
    using zuki_model::check;
    bool ok = true;
    ok = ok && check<AttachSuite<1, false>>("attach: 1 worker + attached, 1 submission", 50000);
    ok = ok && check<AttachSuite<2, false>>("attach: 1 worker + attached, 2 submissions", 50000);
    ok = ok && check<AttachSuite<2, true>>("attach: 1 worker + attached, a late submission", 50000);
    return ok ? 0 : 1;
}
