// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Model check of the I/O hand-off (runtime/io_driver.hpp): the real WorkStealingScheduler
// (worker loop, park.hpp's sleep_driving, the driver lock, Parker::park_driving and its
// unpark interrupt, poll_io every round of a search) with a model event source in place of
// Asio's reactor.
//
// The model event source has the contract of the epoll reactor as the driver uses it: `wait()`
// blocks until an event or an interrupt, and an interrupt issued before the wait makes it
// return at once (the eventfd edge stays queued); `poll()` takes what is ready without blocking;
// both deliver ready events as tasks through the pool's IoTaskSink (a poll into the polling
// worker's LIFO slot, as Asio's inline completions of operations posted from outside wake their
// tasks there; a wait into the deque). Its internal state is a Relacy variable that only the
// driver lock's holder may touch. The pool runs with its LIFO watcher, whose looks poll too.
//
// Threads: the workers; an event source thread that (in the "activated late" suites first makes
// the event source active, as the first socket does, and then) produces I/O events after the
// workers went idle (observed without a happens-before edge, as a socket becomes readable whenever
// the network says so); and a submitter that spawns from outside. The last task stops the pool.
//
// INVARIANTS:
//   - no event is left unattended: when every worker is parked, one of them drives (blocks in
//     the event source), so an event wakes it; otherwise the run ends with the event pending
//     and every thread asleep, and Relacy reports a DEADLOCK;
//   - no wake-up is lost between "nothing to do" and "blocked in the event source": a Zuki
//     wake of the driving worker (the submitter's spawn) interrupts it (else DEADLOCK);
//   - every task (I/O and spawned) runs exactly once;
//   - only one thread at a time is inside the event source, and each holder sees the previous
//     one's writes (the Relacy variable: else a DATA RACE).
//
//   - a late activation (the first socket made while the workers park) is driven: the
//     activator's wake and the parkers' reads of `is_active` are a Dekker pair (else DEADLOCK).
//
// Planted bugs that this program catches (test/model/check_planted_bugs.sh):
//   io_lock_release      the driver lock's release store relaxed: the next holder's access to
//                        the event source's state is not ordered after the last one's (DATA RACE).
//   io_activation_fence  the activator's fence relaxed: the last worker to park reads the
//                        source inactive and sleeps on its futex, and the activator reads its
//                        parked bit stale and wakes nobody (DEADLOCK).

#include "pool.hpp"

namespace {

using namespace zuki_model;
using zuki::detail::atomic;
using zuki::detail::IoDriver;
using zuki::detail::IoTaskSink;

// Counts what the tasks did (bookkeeping outside the model).
struct Runs {
    static constexpr int max = 8;
    int io[max] = {};
    int spawned[max] = {};
    int finished = 0;
};

class ModelEventSource final : public IoDriver {
public:
    void bind(WorkStealingScheduler* pool, Runs* runs, int total) {
        pool_ = pool;
        runs_ = runs;
        total_ = total;
        state_(zuki_model::here()) = 0;
    }

    // The first socket or timer made the event source (any thread, any time): the real
    // activation, with the pool's wake of a parked worker.
    void make_active() noexcept { activate(*pool_); }

    // The network: an event becomes ready (any thread, any time).
    void produce() noexcept {
        // release: pairs with the acquire exchanges in take(): the event's data is visible.
        signal_.fetch_add(event_one, std::memory_order_release);
        zuki::detail::futex_wake(signal_, 1);
    }

    // ---- IoDriver --------------------------------------------------------------------------
    // What a poll finds lands in the polling worker's LIFO slot, as with Asio an operation
    // that a thread outside posted is completed inline by the poll and wakes its task there
    // (the watcher's look at ready I/O once missed that: doc/checking.md); what a drive finds
    // lands in the deque.
    std::size_t poll() noexcept override { return deliver(take(), /*inline_completion=*/true); }
    void wait() noexcept override {
        for (;;) {
            const std::uint32_t v = take();
            if (v != 0) {
                deliver(v);
                return;
            }
            zuki::detail::futex_wait(signal_, 0);
        }
    }
    void wait_for(std::chrono::nanoseconds) noexcept override { wait(); }  // no timed park here
    void interrupt() noexcept override {
        // release: as produce().
        signal_.fetch_or(interrupted, std::memory_order_release);
        zuki::detail::futex_wake(signal_, 1);
    }
    void* attach_thread(RegistrationRoom&) override { return nullptr; }
    void detach_thread(void*) noexcept override {}
    void drain_thread(void*) noexcept override {}

private:
    static constexpr std::uint32_t interrupted = 1;
    static constexpr std::uint32_t event_one = 2;

    // Everything pending (events and an interrupt), as one epoll_wait takes it.
    std::uint32_t take() noexcept {
        // The lock holder's state: a data race if two holders are not ordered.
        state_(zuki_model::here()) = state_(zuki_model::here()) + 1;
        // acquire: pairs with the release RMWs in produce() / interrupt().
        return signal_.exchange(0, std::memory_order_acquire);
    }

    // Each event becomes a task that the pool's sink queues on this worker.
    std::size_t deliver(std::uint32_t v, bool inline_completion = false) noexcept {
        const std::size_t events = v / event_one;
        TaskHeader* head = nullptr;
        TaskHeader* tail = nullptr;
        for (std::size_t k = 0; k < events; ++k) {
            auto* t = new ScriptedTask(pool_, next_id_++, [this](ScriptedTask& task, Context&) {
                ++runs_->io[task.id];
                if (++runs_->finished == total_) pool_->stop();
                return true;
            });
            t->next = nullptr;
            (tail != nullptr ? tail->next : head) = t;
            tail = t;
        }
        if (events != 0) {
            pool_->tasks_added(events);
            static_cast<IoTaskSink*>(pool_)->io_ready(head, events, inline_completion);
        }
        return events;
    }

    atomic<std::uint32_t> signal_{0};
    rl::var<int> state_;
    WorkStealingScheduler* pool_ = nullptr;
    Runs* runs_ = nullptr;
    int total_ = 0;
    int next_id_ = 0;
};

// Workers; Events: I/O events produced after the workers went idle; Spawns: tasks spawned from
// outside (a Zuki wake of a parked worker, possibly the driving one); Late: the event source
// becomes active only when the event thread runs, while the workers go idle (else before the
// workers start).
template <std::size_t Workers, int Events, int Spawns, bool Late = false>
struct IoSuite : rl::test_suite<IoSuite<Workers, Events, Spawns, Late>, Workers + 2> {
    static constexpr unsigned source = Workers;
    static constexpr unsigned submitter = Workers + 1;
    static constexpr int total = Events + Spawns;

    Runs runs;
    ModelEventSource io;
    WorkStealingScheduler* pool = nullptr;

    void before() {
        pool = make_pool(Workers);
        io.bind(pool, &runs, total);
        pool->set_io_driver(&io, nullptr);
        if (!Late) io.make_active();
    }

    void wait_until_all_parked() {
        arrive_when([&] {
            for (std::size_t i = 0; i < Workers; ++i)
                if (!pool->idle_set().is_parked(i)) return false;
            return true;
        });
    }

    void thread(unsigned i) {
        if (i < Workers) {
            run_worker(*pool, i);
        } else if (i == source) {
            if (Late) {
                // While the workers park: some asleep on their futexes, some on the way.
                arrive_when([&] { return pool->idle_set().is_parked(0); });
                io.make_active();
            }
            for (int e = 0; e < Events; ++e) {
                wait_until_all_parked();
                io.produce();
            }
        } else {
            for (int k = 0; k < Spawns; ++k) {
                wait_until_all_parked();
                spawn(*pool, k, [this](ScriptedTask& t, Context&) {
                    ++runs.spawned[t.id];
                    if (++runs.finished == total) pool->stop();
                    return true;
                });
            }
        }
    }

    void after() {
        for (int e = 0; e < Events; ++e) RL_ASSERT(runs.io[e] == 1);
        for (int k = 0; k < Spawns; ++k) RL_ASSERT(runs.spawned[k] == 1);
        for (std::size_t w = 0; w < Workers; ++w) RL_ASSERT(!pool->idle_set().is_parked(w));
        destroy_pool(std::exchange(pool, nullptr));
    }
};

}  // namespace

int main() {
    using zuki_model::check;
    bool ok = true;
    ok = ok && check<IoSuite<1, 1, 1>>("io: 1 worker, an event and a spawn", 100000);
    ok = ok && check<IoSuite<2, 1, 0>>("io: 2 workers, an event", 100000);
    ok = ok && check<IoSuite<2, 1, 1>>("io: 2 workers, an event and a spawn", 100000);
    ok = ok && check<IoSuite<2, 2, 1>>("io: 2 workers, two events and a spawn", 50000);
    ok = ok && check<IoSuite<3, 1, 1>>("io: 3 workers, an event and a spawn", 30000);
    ok = ok && check<IoSuite<1, 1, 0, true>>("io activated late: 1 worker, an event", 100000);
    ok = ok && check<IoSuite<2, 1, 0, true>>("io activated late: 2 workers, an event", 100000);
    ok = ok &&
         check<IoSuite<2, 1, 1, true>>("io activated late: 2 workers, an event and a spawn", 50000);
    return ok ? 0 : 1;
}
