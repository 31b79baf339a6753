// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Model check of the watcher (concurrent/idle_set.hpp, "The watcher"): a task left in the LIFO
// slot of a worker whose task runs on reaches an idle worker. The real worker loop
// (runtime/work_stealing/worker.hpp: push_lifo, park with try_watch / sleep_watching /
// steal_stranded, hand_off_watch) over the real IdleSet, Parker and deques, on Relacy's atomics
// and futex model (a timed sleep there may end at any point). Relacy threads: 2 workers and one
// submitter. (The other models of the pool run with the watcher too: io_driver.cpp found that a
// watcher giving its role up must sleep in the driver if it is free.)
//
// The submitter spawns a parent task from outside (early, or late: once both workers announced
// parking, so the pool goes from all-parked to busy and the watcher must be asked for). The
// parent writes a payload, spawns a child from inside (into its worker's LIFO slot, which
// notifies nobody), and then runs on: it spins until the child ran, and only then finishes.
// INVARIANTS:
//   - the child runs while the parent still runs (taken from the slot by the watcher): the
//     parent's spin is bounded, and it asserts afterwards that the child ran;
//   - the child reads the parent's payload race-free (the slot's release fill and the
//     watcher's acquire CAS: Relacy reports a DATA RACE otherwise);
//   - every task runs once; the pool stops, nothing is leaked.
//
// Planted bug that this program catches (test/model/check_planted_bugs.sh):
//   lifo_fill_release   the release of the owner's store into an empty LIFO slot weakened to
//                       relaxed: DATA RACE on the payload.

#include "pool.hpp"

namespace {

using namespace zuki_model;

template <bool Late>
struct WatchSuite : rl::test_suite<WatchSuite<Late>, 3> {
    static constexpr std::size_t workers = 2;

    WorkStealingScheduler* pool = nullptr;
    rl::var<int> payload;
    zuki::detail::atomic<bool> child_ran{false};
    int runs[2] = {};  // bookkeeping outside the model (the fibres run one at a time)
    int finished = 0;

    void before() {
        pool = make_pool(workers);
        payload($) = 0;  // initialised: a read without happens-before is then a DATA RACE
        child_ran.store(false, std::memory_order_relaxed);
    }

    void finish() {
        if (++finished == 2) pool->stop();
    }

    ScriptedTask::Body child() {
        return [this](ScriptedTask&, Context&) {
            ++runs[1];
            RL_ASSERT(payload($) == 42);
            // relaxed: the parent's spin needs no ordering, only to see it eventually.
            child_ran.store(true, std::memory_order_relaxed);
            finish();
            return true;
        };
    }

    ScriptedTask::Body parent() {
        return [this](ScriptedTask&, Context&) {
            ++runs[0];
            payload($) = 42;
            spawn(*pool, 1, child());  // into this worker's LIFO slot
            // Run on until the child ran elsewhere (bounded: a lost child fails the assert).
            for (int i = 0; i < 20000 && !child_ran.load(std::memory_order_relaxed); ++i)
                zuki::detail::spin_pause();
            RL_ASSERT(child_ran.load(std::memory_order_relaxed));
            finish();
            return true;
        };
    }

    void thread(unsigned index) {
        if (index < workers) {
            run_worker(*pool, index);
            return;
        }
        if (Late)
            arrive_when([&] {
                for (std::size_t i = 0; i < workers; ++i)
                    if (!pool->idle_set().is_parked(i)) return false;
                return true;
            });
        spawn(*pool, 0, parent());
    }

    void after() {
        RL_ASSERT(runs[0] == 1 && runs[1] == 1);
        destroy_pool(std::exchange(pool, nullptr));
    }
};

}  // namespace

int main() {
    using zuki_model::check;
    bool ok = true;
    ok = ok && check<WatchSuite<false>>("lifo watch: 2 workers, parent spawned early", 20000);
    ok = ok &&
         check<WatchSuite<true>>("lifo watch: 2 workers, parent spawned into an idle pool", 20000);
    return ok ? 0 : 1;
}
