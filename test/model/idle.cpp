// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Model check of zuki::concurrent::IdleSet (include/zuki/concurrent/idle_set.hpp), the real
// header on Relacy's atomics and futex model (detail/futex.hpp parks the fibre in a Relacy wait
// set, so a worker that is never woken stays blocked).
//
// INVARIANT: no submission is ever left with every worker asleep. If a wake-up were lost, the
// run would end with work queued, the submitters finished and every worker parked on its futex
// token: Relacy reports that as a DEADLOCK. The workers follow WsScheduler::run_worker and
// WsScheduler::park step by step (look for work; become a searcher if allowed; search; announce
// parking with prepare_park; re-check the queue and the stop flag; cancel_park or park; wake as
// a searcher; the last searcher to find work notifies once more if work is left); submitters
// publish work, then call notify_one, from outside the pool and from inside (a task that spawns
// another, as push_local does). The last task to finish stops the pool like WsScheduler::stop
// (store the flag, notify_all), so a correct run ends with every thread finished. Also checked:
//   - every task runs exactly once;
//   - at every step: searching <= awake (Relacy's invariant hook);
//   - at the end: every worker awake, no parked bit left, and the searching count equals the
//     number of workers that stopped while searching (the counters did not drift).
//
// The queue is one counter (publish = fetch_add, like the injection queue's length; take = CAS
// decrement; the re-check reads it relaxed after the fence, like has_work()).
//
// Planted bugs that this program catches (test/model/check_planted_bugs.sh):
//   idle_notify_fence   the seq_cst fence in notify_one() removed (Tokio #1788: the submitter
//                       reads stale counters, the parker reads a stale queue): DEADLOCK.
//   idle_park_fence     the seq_cst fence in prepare_park() removed: DEADLOCK.

#include <zuki/concurrent/idle_set.hpp>

#include "model.hpp"

namespace {

using zuki::concurrent::IdleSet;
using zuki::detail::atomic;

// Workers: pool size. Outside: how many tasks the outside thread submits. Spawning: whether
// task 0 spawns one more task from inside the pool when it runs.
template <std::size_t Workers, int Outside, bool Spawning>
struct IdleSuite : rl::test_suite<IdleSuite<Workers, Outside, Spawning>, Workers + 1> {
    static constexpr std::size_t workers = Workers;
    static constexpr int total = Outside + (Spawning ? 1 : 0);

    IdleSet idle{Workers};
    atomic<int> queued{0};  // tasks published and not yet taken
    atomic<int> next_id{0};  // ids in order of taking (the queue is a counter)
    atomic<int> finished{0};  // tasks run
    atomic<bool> stopping{false};
    int runs[total] = {};  // bookkeeping outside the model
    bool stopped_searching[Workers] = {};

    void publish() {
        queued.fetch_add(1, std::memory_order_relaxed);  // like InjectionQueue's len
        idle.notify_one();
    }
    bool take() {
        int q = queued.load(std::memory_order_relaxed);
        while (q > 0) {
            if (queued.compare_exchange_weak(q, q - 1, std::memory_order_acquire,
                                             std::memory_order_relaxed))
                return true;
        }
        return false;
    }
    bool has_work() const { return queued.load(std::memory_order_relaxed) > 0; }

    void run_task() {
        const int id = next_id.fetch_add(1, std::memory_order_relaxed);
        RL_ASSERT(id < total);
        if (id < total) ++runs[id];
        if (Spawning && id == 0) publish();  // a spawn from inside the pool (push_local)
        if (finished.fetch_add(1, std::memory_order_acq_rel) + 1 == total) {
            // WsScheduler::stop()
            stopping.store(true, std::memory_order_release);
            idle.notify_all();
        }
    }

    void run_worker(std::size_t i) {
        bool searching = false;
        for (;;) {
            if (stopping.load(std::memory_order_acquire)) break;
            bool got = take();
            if (!got) {
                if (!searching) searching = idle.try_begin_search();
                if (searching) got = take();
                if (!got) {
                    // WsScheduler::park()
                    idle.prepare_park(i, searching);
                    if (has_work() || stopping.load(std::memory_order_acquire))
                        idle.cancel_park(i);
                    else
                        idle.park(i);
                    searching = true;  // a woken worker searches
                    continue;
                }
            }
            if (searching) {
                searching = false;
                // The last searcher passes the baton if work is left (WsScheduler::
                // pass_the_baton): fence, re-check, notify without a second fence.
                if (idle.end_search()) {
                    zuki::detail::fence(std::memory_order_seq_cst);
                    if (has_work()) idle.notify_one_fenced();
                }
            }
            run_task();
        }
        stopped_searching[i] = searching;
    }

    void thread(unsigned index) {
        if (index < workers) {
            run_worker(index);
        } else {
            for (int k = 0; k < Outside; ++k) publish();  // submissions from outside
        }
    }

    // `awake` may exceed the worker count for a moment: prepare_park() sets the parked bit
    // before it decrements `awake`, and a notifier may claim the bit (adding one) in between.
    void invariant() { RL_ASSERT(idle.searching_count() <= idle.awake_count()); }

    void after() {
        for (int id = 0; id < total; ++id) RL_ASSERT(runs[id] == 1);
        RL_ASSERT(idle.awake_count() == workers);
        std::size_t searching = 0;
        for (std::size_t i = 0; i < workers; ++i) {
            RL_ASSERT(!idle.is_parked(i));
            searching += stopped_searching[i] ? 1 : 0;
        }
        RL_ASSERT(idle.searching_count() == searching);
    }
};

}  // namespace

int main() {
    using zuki_model::check;
    bool ok = true;
    ok = ok && check<IdleSuite<2, 1, false>>("idle: 2 workers, 1 submission from outside", 300000);
    ok = ok && check<IdleSuite<2, 2, false>>("idle: 2 workers, 2 submissions from outside", 300000);
    ok = ok && check<IdleSuite<2, 1, true>>("idle: 2 workers, outside + inside submission", 300000);
    ok = ok && check<IdleSuite<3, 1, true>>("idle: 3 workers, outside + inside submission", 200000);
    ok = ok && check<IdleSuite<2, 1, false>>("idle: 2 workers, 1 submission, exhaustive", 0,
                                             rl::sched_bound, 2);
    ok = ok && check<IdleSuite<2, 1, true>>("idle: 2 workers, outside + inside, exhaustive", 0,
                                            rl::sched_bound, 2);
    return ok ? 0 : 1;
}
