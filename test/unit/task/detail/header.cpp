// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/task/detail/cell.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki task detail header
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <zuki/task/errors.hpp>
#include <zuki/task/join_handle.hpp>

#include "common/counting_waker.hpp"
#include "common/drop_counter.hpp"
#include "common/watchdog.hpp"

// The task node driven by hand: the tests play the executor (pop, run, drop or re-queue) against a
// Scheduler that records every call and checks the queueing invariants.

namespace zuki::detail {
// For Boost.Test's messages.
inline std::ostream& operator<<(std::ostream& os, RunOutcome r) {
    switch (r) {
        case RunOutcome::finished:
            return os << "finished";
        case RunOutcome::idle:
            return os << "idle";
        case RunOutcome::released:
            return os << "released";
        case RunOutcome::reschedule:
            return os << "reschedule";
    }
    return os << "RunOutcome(?)";
}
}  // namespace zuki::detail

using zuki::Context;
using zuki::JoinHandle;
using zuki::Poll;
using zuki::TaskPriority;
using zuki::Waker;
using zuki::detail::RunOutcome;
using zuki::detail::TaskHeader;
namespace ts = zuki::detail::task_state;

namespace {

int stress_scale() {
    const char* s = std::getenv("ZUKI_STRESS_SCALE");
    const int v = s ? std::atoi(s) : 1;
    return v > 0 ? v : 1;
}

/// A Scheduler that queues tasks in a deque (thread-safe) and counts calls. A schedule() of a
/// task that is not SCHEDULED, or is already queued, is recorded as a violation.
class TestScheduler final : public zuki::detail::Scheduler {
public:
    static TestScheduler* make() { return new TestScheduler(); }

    void schedule(TaskHeader* t) noexcept override {
        std::lock_guard<std::mutex> lock(mutex_);
        check_and_push(t);
        schedule_calls.fetch_add(1, std::memory_order_relaxed);
    }
    void report_exception(std::exception_ptr e) noexcept override {
        std::lock_guard<std::mutex> lock(mutex_);
        reported.push_back(std::move(e));
    }
    void task_finished() noexcept override { finished.fetch_add(1, std::memory_order_relaxed); }

    /// The executor re-queues a task after RunOutcome::reschedule (not a schedule() call).
    void requeue(TaskHeader* t) {
        std::lock_guard<std::mutex> lock(mutex_);
        check_and_push(t);
    }
    TaskHeader* try_pop() {
        std::lock_guard<std::mutex> lock(mutex_);
        return pop_locked();
    }
    TaskHeader* pop_for(std::chrono::milliseconds d) {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait_for(lock, d, [&] { return !queue_.empty(); });
        return pop_locked();
    }
    std::size_t queued() {
        std::lock_guard<std::mutex> lock(mutex_);
        return queue_.size();
    }

    std::atomic<int> schedule_calls{0};
    std::atomic<int> finished{0};
    std::atomic<int> violations{0};
    std::vector<std::exception_ptr> reported;  // guarded by mutex_ (read after joins)

    static inline std::atomic<int> alive{0};

private:
    TestScheduler() { alive.fetch_add(1); }
    ~TestScheduler() override { alive.fetch_sub(1); }

    void check_and_push(TaskHeader* t) {
        if (!(t->state(std::memory_order_acquire) & ts::scheduled)) violations.fetch_add(1);
        if (std::find(queue_.begin(), queue_.end(), t) != queue_.end()) violations.fetch_add(1);
        queue_.push_back(t);
        cv_.notify_one();
    }
    TaskHeader* pop_locked() {
        if (queue_.empty()) return nullptr;
        TaskHeader* t = queue_.front();
        queue_.pop_front();
        return t;
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<TaskHeader*> queue_;
};

/// Owns the executor's reference on a TestScheduler for one test.
struct SchedulerFixture {
    TestScheduler* sched = TestScheduler::make();
    ~SchedulerFixture() { sched->release(); }
};

/// Make a task the way an executor does; the caller holds the queue reference (not queued).
template <class F>
zuki::detail::TaskCell<F>* make_task(zuki::detail::Scheduler* s, F f, bool join_interest = true,
                                     TaskPriority p = TaskPriority::Normal) {
    auto* t = new zuki::detail::TaskCell<F>(std::move(f), s, p, join_interest);
    t->register_task();
    return t;
}

std::uint64_t refs(const TaskHeader* t) { return ts::refs(t->state(std::memory_order_acquire)); }
std::uint64_t flags(const TaskHeader* t) {
    return t->state(std::memory_order_acquire) & ts::flag_mask;
}

/// The executor's handling of a run() outcome.
void finish_run(TestScheduler* s, TaskHeader* t, RunOutcome r) {
    if (r == RunOutcome::reschedule)
        s->requeue(t);
    else
        t->ref_dec();
}

/// A future the test controls: pending until `state->ready`, keeps the latest waker, counts polls
/// and is tracked by a DropCounter.
struct Shared {
    bool ready = false;
    int value = 0;
    bool wake_self_by_ref = false;  // wake_by_ref during the next poll
    int wakes_in_poll = 1;
    bool throw_next = false;
    int polls = 0;
    std::thread::id dropped_on;
    std::optional<Waker> waker;
    std::function<void()> during_poll;
};

struct Controlled {
    std::shared_ptr<Shared> s;
    zuki::test::DropCounter token;
    Controlled(std::shared_ptr<Shared> sh, zuki::test::DropCounter t)
        : s(std::move(sh)), token(std::move(t)) {}
    Controlled(Controlled&&) noexcept = default;
    ~Controlled() {
        if (token.is_live() && s) s->dropped_on = std::this_thread::get_id();
    }
    Poll<int> poll(Context& cx) {
        ++s->polls;
        if (s->during_poll) s->during_poll();
        if (s->throw_next) throw std::runtime_error("boom");
        if (s->wake_self_by_ref) {
            s->wake_self_by_ref = false;
            for (int i = 0; i < s->wakes_in_poll; ++i) cx.waker().wake_by_ref();
        }
        if (s->ready) return s->value;
        if (!s->waker || !s->waker->will_wake(cx.waker())) s->waker = cx.waker();
        return Poll<int>::pending();
    }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
/// A Controlled task (join interest, registered) polled once to idle, the executor's reference
/// dropped: registry + handle + the future's waker clone hold it.
struct IdleTaskFixture : SchedulerFixture {
    zuki::test::DropRegistry drops{1};
    std::shared_ptr<Shared> sh = std::make_shared<Shared>();
    TaskHeader* t = make_task(sched, Controlled(sh, zuki::test::DropCounter(drops, 0)));
    JoinHandle<int> h =
        zuki::detail::make_join_handle<int>(static_cast<zuki::detail::TaskOutputCell<int>*>(t));
    IdleTaskFixture() {
        BOOST_TEST(t->run() == RunOutcome::idle);
        t->ref_dec();
    }
};

BOOST_AUTO_TEST_CASE(a_new_task_is_scheduled_with_queue_registry_and_join_references) {
    SchedulerFixture fx;
    auto* t = make_task(fx.sched, zuki::ready(1));
    BOOST_TEST(flags(t) == (ts::scheduled | ts::join_interest));
    BOOST_TEST(refs(t) == 3u);
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    BOOST_TEST(fx.sched->finished.load() == 1);
    BOOST_TEST(refs(t) == 1u);  // only the handle
    BOOST_TEST(h.get() == 1);
}

BOOST_AUTO_TEST_CASE(idle_to_scheduled_on_wake_exactly_one_schedule_for_many_wakes) {
    SchedulerFixture fx;
    zuki::test::DropRegistry drops(1);
    auto sh = std::make_shared<Shared>();
    auto* t = make_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)));
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);

    BOOST_TEST(t->run() == RunOutcome::idle);
    t->ref_dec();
    BOOST_TEST(flags(t) == ts::join_interest);  // idle
    BOOST_TEST(refs(t) == 3u);  // registry + handle + the future's waker clone

    for (int i = 0; i < 10; ++i) sh->waker->wake_by_ref();
    BOOST_TEST(fx.sched->schedule_calls.load() == 1);
    BOOST_TEST((flags(t) & ts::scheduled) != 0);
    BOOST_TEST(refs(t) == 4u);  // + the queue's
    BOOST_TEST(fx.sched->violations.load() == 0);

    sh->ready = true;
    sh->value = 5;
    TaskHeader* popped = fx.sched->try_pop();
    BOOST_TEST(popped == static_cast<TaskHeader*>(t));
    BOOST_TEST(popped->run() == RunOutcome::finished);
    popped->ref_dec();
    BOOST_TEST(drops.drops(0) == 1);  // the future is destroyed at completion
    BOOST_TEST(h.get() == 5);
}

// Regression: idle -> scheduled by wake_by_ref used `state | ref_one`, which adds the queue's
// reference only when the count is even; with an odd count the task was freed while queued.
BOOST_FIXTURE_TEST_CASE(wake_by_ref_on_an_odd_reference_count_takes_a_queue_reference,
                        IdleTaskFixture) {
    Waker extra = t->make_waker();  // registry + handle + future's clone + extra = 4
    Waker extra2 = extra;  // 5: odd
    BOOST_TEST(refs(t) == 5u);
    extra.wake_by_ref();
    BOOST_TEST(refs(t) == 6u);
    BOOST_TEST(sched->try_pop() == static_cast<TaskHeader*>(t));
    sh->ready = true;
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    BOOST_TEST(refs(t) == 4u);  // handle + extra + extra2 + the clone kept in `sh`
    BOOST_TEST(h.get() == 0);
}

BOOST_AUTO_TEST_CASE(running_to_notified_to_rescheduled_without_a_schedule_call) {
    SchedulerFixture fx;
    auto sh = std::make_shared<Shared>();
    zuki::test::DropRegistry drops(1);
    auto* t = make_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)));
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);

    sh->wake_self_by_ref = true;
    sh->wakes_in_poll = 3;  // held -> notified, then notified stays notified
    std::uint64_t seen_in_poll = 0;
    sh->during_poll = [&] { seen_in_poll = flags(t); };
    // The first poll holds SCHEDULED, no RUNNING (state.hpp, "The first poll").
    BOOST_TEST(t->run() == RunOutcome::reschedule);
    BOOST_TEST((seen_in_poll & (ts::scheduled | ts::running)) == ts::scheduled);
    BOOST_TEST((flags(t) & (ts::scheduled | ts::running | ts::notified)) == ts::scheduled);
    BOOST_TEST(fx.sched->schedule_calls.load() == 0);  // the poller re-queues, not the waker
    BOOST_TEST(refs(t) == 4u);  // queue ref kept + the future's clone

    // The second poll swaps SCHEDULED for RUNNING; the same wakes reschedule it again.
    sh->wake_self_by_ref = true;
    BOOST_TEST(t->run() == RunOutcome::reschedule);
    BOOST_TEST((seen_in_poll & (ts::scheduled | ts::running)) == ts::running);
    BOOST_TEST((flags(t) & (ts::scheduled | ts::running | ts::notified)) == ts::scheduled);
    BOOST_TEST(fx.sched->schedule_calls.load() == 0);

    sh->during_poll = nullptr;
    sh->ready = true;
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    BOOST_TEST(h.get() == 0);
}

// A wake that finds the task queued (SCHEDULED) marks it NOTIFIED and enqueues nothing; the
// next poll's CAS into RUNNING clears the mark, so a pending poll then leaves it idle, not
// re-polled for a wake it already saw.
BOOST_FIXTURE_TEST_CASE(wakes_while_queued_are_seen_by_the_next_poll_and_cost_no_second_one,
                        IdleTaskFixture) {
    sh->waker->wake_by_ref();  // idle -> scheduled, enqueued
    sh->waker->wake_by_ref();  // queued: NOTIFIED
    BOOST_TEST(sched->schedule_calls.load() == 1);
    BOOST_TEST((flags(t) & (ts::scheduled | ts::notified)) == (ts::scheduled | ts::notified));
    BOOST_TEST(sched->try_pop() == static_cast<TaskHeader*>(t));
    BOOST_TEST(t->run() == RunOutcome::idle);  // pending, and no reschedule
    t->ref_dec();
    BOOST_TEST((flags(t) & (ts::scheduled | ts::running | ts::notified)) == 0u);
    sh->ready = true;
    sh->waker->wake_by_ref();
    BOOST_TEST(sched->try_pop() == static_cast<TaskHeader*>(t));
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    BOOST_TEST(h.get() == 0);
}

BOOST_FIXTURE_TEST_CASE(a_wake_during_the_poll_from_a_stored_waker_also_notifies, IdleTaskFixture) {
    sh->waker->wake_by_ref();
    BOOST_TEST(sched->try_pop() == static_cast<TaskHeader*>(t));
    sh->during_poll = [&] { Waker(*sh->waker).wake(); };  // a clone woken by value mid-poll
    BOOST_TEST(t->run() == RunOutcome::reschedule);
    BOOST_TEST(sched->schedule_calls.load() == 1);
    sh->during_poll = nullptr;
    sh->ready = true;
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    BOOST_TEST(h.get() == 0);
}

BOOST_AUTO_TEST_CASE(a_wake_after_completion_is_a_no_op) {
    SchedulerFixture fx;
    auto* t = make_task(fx.sched, zuki::ready(3));
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    Waker w = t->make_waker();
    Waker w2 = w;
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    const auto before = refs(t);
    w.wake_by_ref();
    BOOST_TEST(refs(t) == before);
    w2.wake();  // by value: only drops its reference
    BOOST_TEST(refs(t) == before - 1);
    BOOST_TEST(fx.sched->schedule_calls.load() == 0);
    BOOST_TEST(fx.sched->queued() == 0u);
    BOOST_TEST(h.get() == 3);
}

BOOST_FIXTURE_TEST_CASE(cancel_idle_destroys_the_future_on_the_calling_thread, IdleTaskFixture) {

    std::thread other([&] { h.cancel(); });
    const auto other_id = other.get_id();
    other.join();
    BOOST_TEST(drops.drops(0) == 1);
    BOOST_TEST((sh->dropped_on == other_id));
    BOOST_TEST((flags(t) & ts::complete) != 0);
    BOOST_TEST(sched->finished.load() == 1);
    sh->waker.reset();  // the future's waker clone (the future is gone; this is the test's copy)
    BOOST_CHECK_THROW(h.get(), zuki::TaskCancelled);
    BOOST_TEST(h.is_finished());
}

BOOST_AUTO_TEST_CASE(cancel_scheduled_on_drain) {
    SchedulerFixture fx;
    zuki::test::DropRegistry drops(1);
    auto sh = std::make_shared<Shared>();
    auto* t = make_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)));
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    // An executor shutting down: the task is dequeued (SCHEDULED) but will not be polled.
    t->cancel_scheduled();
    t->ref_dec();
    BOOST_TEST(sh->polls == 0);
    BOOST_TEST(drops.drops(0) == 1);
    BOOST_TEST(fx.sched->finished.load() == 1);
    BOOST_CHECK_THROW(h.get(), zuki::TaskCancelled);
}

BOOST_AUTO_TEST_CASE(cancel_a_scheduled_task_marks_it_and_run_completes_it_as_cancelled) {
    SchedulerFixture fx;
    zuki::test::DropRegistry drops(1);
    auto sh = std::make_shared<Shared>();
    auto* t = make_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)));
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    h.cancel();
    BOOST_TEST((flags(t) & (ts::scheduled | ts::cancelled)) == (ts::scheduled | ts::cancelled));
    BOOST_TEST(drops.drops(0) == 0);  // the executor drops it the next time it holds it
    h.cancel();  // idempotent
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    BOOST_TEST(sh->polls == 0);
    BOOST_TEST(drops.drops(0) == 1);
    BOOST_CHECK_THROW(h.get(), zuki::TaskCancelled);
}

BOOST_AUTO_TEST_CASE(cancel_while_running_is_seen_after_a_pending_poll) {
    SchedulerFixture fx;
    zuki::test::DropRegistry drops(1);
    auto sh = std::make_shared<Shared>();
    auto* t = make_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)));
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    sh->during_poll = [&] { h.cancel(); };
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    BOOST_TEST(sh->polls == 1);
    BOOST_TEST(drops.drops(0) == 1);
    sh->waker.reset();
    BOOST_CHECK_THROW(h.get(), zuki::TaskCancelled);
}

BOOST_AUTO_TEST_CASE(cancel_while_running_then_a_ready_poll_keeps_its_value) {
    SchedulerFixture fx;
    zuki::test::DropRegistry drops(1);
    auto sh = std::make_shared<Shared>();
    auto* t = make_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)));
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    sh->during_poll = [&] { h.cancel(); };
    sh->ready = true;
    sh->value = 7;
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    BOOST_TEST(h.get() == 7);
    h.cancel();  // after completion (and after get): no effect
}

BOOST_AUTO_TEST_CASE(cancel_after_completion_keeps_the_result) {
    SchedulerFixture fx;
    auto* t = make_task(fx.sched, zuki::ready(9));
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    h.cancel();
    BOOST_TEST(h.get() == 9);
}

namespace {
/// An output type that reports its destruction.
struct Out {
    zuki::test::DropCounter token;
};
struct MakesOut {
    zuki::test::DropRegistry* reg;
    std::shared_ptr<Shared> s;
    Poll<Out> poll(Context& cx) {
        if (!s->ready) {
            s->waker = cx.waker();
            return Poll<Out>::pending();
        }
        return Out{zuki::test::DropCounter(*reg, 0)};
    }
};
}  // namespace

BOOST_AUTO_TEST_CASE(wake_by_val_and_wake_by_ref_reference_accounting) {
    SchedulerFixture fx;
    zuki::test::DropRegistry out_drops(1);
    auto sh = std::make_shared<Shared>();
    auto* t = make_task(fx.sched, MakesOut{&out_drops, sh});
    {
        JoinHandle<Out> h = zuki::detail::make_join_handle<Out>(t);
        BOOST_TEST(t->run() == RunOutcome::idle);
        t->ref_dec();
        BOOST_TEST(refs(t) == 3u);  // registry, handle, future's waker

        Waker a = t->make_waker();  // 4
        Waker b = a;  // 5
        BOOST_TEST(refs(t) == 5u);
        a.wake_by_ref();  // idle -> scheduled: + queue reference
        BOOST_TEST(refs(t) == 6u);
        b.wake();  // already scheduled: b's reference is dropped
        BOOST_TEST(refs(t) == 5u);
        BOOST_TEST(!b.will_wake(a));  // b is a no-op waker now

        TaskHeader* q = fx.sched->try_pop();
        BOOST_TEST(q->run() == RunOutcome::idle);
        q->ref_dec();
        BOOST_TEST(refs(t) == 4u);  // registry, handle, future's (re-cloned) waker, a

        Waker c = a;  // 5
        c.wake();  // idle -> scheduled: c's reference becomes the queue's
        BOOST_TEST(refs(t) == 5u);
        BOOST_TEST(fx.sched->schedule_calls.load() == 2);

        sh->ready = true;
        q = fx.sched->try_pop();
        BOOST_TEST(q->run() == RunOutcome::finished);  // future (and its waker) destroyed
        q->ref_dec();
        BOOST_TEST(refs(t) == 3u);  // handle + a + the clone kept in `sh`
        sh->waker.reset();
        BOOST_TEST(refs(t) == 2u);
        BOOST_TEST(out_drops.live(0) == 1);
        a = Waker::noop();
        BOOST_TEST(refs(t) == 1u);
        BOOST_TEST(out_drops.live(0) == 1);  // the handle keeps the output alive
    }  // the handle's reference was the last: the task and its output are destroyed
    BOOST_TEST(out_drops.drops(0) == 1);
}

BOOST_AUTO_TEST_CASE(the_last_reference_destroys_the_task_and_the_scheduler_outlives_it) {
    zuki::test::DropRegistry drops(1);
    const int before = TestScheduler::alive.load();
    auto* sched = TestScheduler::make();
    auto sh = std::make_shared<Shared>();
    auto* t = make_task(sched, Controlled(sh, zuki::test::DropCounter(drops, 0)),
                        /*join_interest=*/false);
    BOOST_TEST(refs(t) == 2u);  // queue + registry
    BOOST_TEST(t->run() == RunOutcome::idle);
    t->ref_dec();
    sched->release();  // the executor goes away; the task keeps the scheduler alive
    BOOST_TEST(TestScheduler::alive.load() == before + 1);
    Waker w = std::move(*sh->waker);
    sh->waker.reset();
    // Shutdown sweep by hand: cancel the idle task through the registry.
    sched->registry.drain([](TaskHeader* x) {
        x->cancel();
        x->ref_dec();
    });
    BOOST_TEST(drops.drops(0) == 1);
    w.wake_by_ref();  // completed: no-op
    BOOST_TEST(TestScheduler::alive.load() == before + 1);
    w = Waker::noop();  // last reference: task destroyed, then the scheduler
    BOOST_TEST(TestScheduler::alive.load() == before);
}

// ---- lazy registration ------------------------------------------------------------------------
namespace {
/// Make a task the way the executors do: registered lazily, at its first pending poll.
template <class F>
zuki::detail::TaskCell<F>* make_lazy_task(zuki::detail::Scheduler* s, F f, bool join_interest) {
    return new zuki::detail::TaskCell<F>(std::move(f), s, TaskPriority::Normal, join_interest);
}
/// Sweeps the registry as shutdown does; returns how many tasks it held.
int sweep(zuki::detail::Scheduler* s) {
    int n = 0;
    s->registry.drain([&](TaskHeader* x) {
        ++n;
        x->cancel();
        x->ref_dec();
    });
    return n;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_task_done_in_its_first_poll_never_enters_the_registry) {
    SchedulerFixture fx;
    auto* t = make_lazy_task(fx.sched, zuki::ready(7), /*join_interest=*/true);
    BOOST_TEST(refs(t) == 3u);  // queue + registry (counted from construction) + handle
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    BOOST_TEST(t->run() == RunOutcome::finished);
    BOOST_TEST(refs(t) == 2u);  // the registry's reference went with COMPLETE
    t->ref_dec();  // the queue's
    BOOST_TEST(refs(t) == 1u);
    BOOST_TEST(sweep(fx.sched) == 0);
    BOOST_TEST(h.get() == 7);
}

BOOST_AUTO_TEST_CASE(a_task_enters_the_registry_at_its_first_pending_poll) {
    SchedulerFixture fx;
    zuki::test::DropRegistry drops(1);
    auto sh = std::make_shared<Shared>();
    auto* t = make_lazy_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)),
                             /*join_interest=*/false);
    BOOST_TEST(refs(t) == 2u);  // queue + registry
    BOOST_TEST(t->run() == RunOutcome::idle);
    t->ref_dec();
    BOOST_TEST(refs(t) == 2u);  // registry + the future's stored waker
    // The idle task is found by the shutdown sweep, which destroys its future.
    BOOST_TEST(sweep(fx.sched) == 1);
    BOOST_TEST(drops.drops(0) == 1);
    sh->waker.reset();  // the last reference
}

BOOST_AUTO_TEST_CASE(a_registered_task_leaves_the_registry_when_it_completes) {
    SchedulerFixture fx;
    zuki::test::DropRegistry drops(1);
    auto sh = std::make_shared<Shared>();
    auto* t = make_lazy_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)),
                             /*join_interest=*/true);
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    BOOST_TEST(t->run() == RunOutcome::idle);
    t->ref_dec();
    sh->ready = true;
    sh->value = 5;
    std::exchange(sh->waker, std::nullopt)->wake();  // queued again (TestScheduler)
    TaskHeader* q = fx.sched->try_pop();
    BOOST_REQUIRE(q == t);
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    BOOST_TEST(sweep(fx.sched) == 0);
    BOOST_TEST(h.get() == 5);
}

BOOST_AUTO_TEST_CASE(a_failed_task_whose_handle_is_dropped_unread_reports_its_exception) {
    SchedulerFixture fx;
    zuki::test::DropRegistry drops(1);
    auto sh = std::make_shared<Shared>();
    sh->throw_next = true;
    auto* t = make_lazy_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)),
                             /*join_interest=*/true);
    {
        JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
        BOOST_TEST(t->run() == RunOutcome::finished);
        t->ref_dec();
        BOOST_TEST(fx.sched->reported.empty());  // the handle was to rethrow it
    }  // dropped without taking the result
    BOOST_REQUIRE(fx.sched->reported.size() == 1u);
    BOOST_CHECK_THROW(std::rethrow_exception(fx.sched->reported[0]), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(a_failed_task_whose_exception_was_taken_is_not_reported) {
    SchedulerFixture fx;
    zuki::test::DropRegistry drops(1);
    auto sh = std::make_shared<Shared>();
    sh->throw_next = true;
    auto* t = make_lazy_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)),
                             /*join_interest=*/true);
    {
        JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
        BOOST_TEST(t->run() == RunOutcome::finished);
        t->ref_dec();
        BOOST_CHECK_THROW(h.get(), std::runtime_error);
    }
    BOOST_TEST(fx.sched->reported.empty());
}

BOOST_AUTO_TEST_CASE(detached_exception_goes_to_report_exception) {
    SchedulerFixture fx;
    auto sh = std::make_shared<Shared>();
    zuki::test::DropRegistry drops(1);
    auto* t = make_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)));
    zuki::detail::make_join_handle<int>(t).detach();
    sh->throw_next = true;
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    BOOST_TEST(fx.sched->reported.size() == 1u);
    BOOST_CHECK_THROW(std::rethrow_exception(fx.sched->reported.at(0)), std::runtime_error);
    BOOST_TEST(drops.drops(0) == 1);
}

BOOST_AUTO_TEST_CASE(joined_exception_goes_to_the_handle_not_the_scheduler) {
    SchedulerFixture fx;
    auto sh = std::make_shared<Shared>();
    zuki::test::DropRegistry drops(1);
    auto* t = make_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)));
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    sh->throw_next = true;
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    BOOST_TEST(fx.sched->reported.empty());
    BOOST_CHECK_THROW(h.get(), std::runtime_error);
    BOOST_CHECK_THROW(h.get(), std::logic_error);  // taken once
}

// ---- JoinHandle -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(join_handle_pending_then_completion_wakes_the_join_waker) {
    SchedulerFixture fx;
    zuki::test::CountingWaker cw;  // outlives the task, whose join slot holds a clone
    auto sh = std::make_shared<Shared>();
    zuki::test::DropRegistry drops(1);
    auto* t = make_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)));
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    BOOST_TEST(t->run() == RunOutcome::idle);
    t->ref_dec();

    {
        Waker w = cw.make();
        Context cx(w);
        BOOST_TEST(h.poll(cx).is_pending());
        BOOST_TEST((flags(t) & ts::join_waker) != 0);
        BOOST_TEST(cw.clones.load() == 1);
        BOOST_TEST(h.poll(cx).is_pending());  // same waker: will_wake, no new clone
        BOOST_TEST(cw.clones.load() == 1);
    }
    BOOST_TEST(!h.is_finished());
    sh->ready = true;
    sh->value = 11;
    sh->waker->wake_by_ref();
    TaskHeader* q = fx.sched->try_pop();
    BOOST_TEST(q->run() == RunOutcome::finished);
    q->ref_dec();
    BOOST_TEST(cw.total_wakes() == 1);
    BOOST_TEST(h.is_finished());
    Waker w = cw.make();
    Context cx(w);
    Poll<int> p = h.poll(cx);
    BOOST_TEST(p.is_ready());
    BOOST_TEST(p.value() == 11);
    BOOST_CHECK_THROW((void)h.poll(cx), std::logic_error);  // taken
}

BOOST_AUTO_TEST_CASE(join_handle_changing_the_join_waker_between_polls) {
    SchedulerFixture fx;
    zuki::test::CountingWaker a, b;  // outlive the task (its join slot holds a clone)
    auto sh = std::make_shared<Shared>();
    zuki::test::DropRegistry drops(1);
    auto* t = make_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)));
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    BOOST_TEST(t->run() == RunOutcome::idle);
    t->ref_dec();

    {
        Waker wa = a.make();
        Context cx(wa);
        BOOST_TEST(h.poll(cx).is_pending());
    }
    {
        Waker wb = b.make();
        Context cx(wb);
        BOOST_TEST(h.poll(cx).is_pending());  // replaces a's clone with b's
    }
    BOOST_TEST(a.live() == 0);  // a's clone released
    BOOST_TEST(b.live() == 1);
    sh->ready = true;
    sh->waker->wake_by_ref();
    TaskHeader* q = fx.sched->try_pop();
    BOOST_TEST(q->run() == RunOutcome::finished);
    q->ref_dec();
    BOOST_TEST(a.total_wakes() == 0);
    BOOST_TEST(b.total_wakes() == 1);
    BOOST_TEST(h.get() == 0);
}

BOOST_AUTO_TEST_CASE(join_handle_misuse_is_a_logic_error) {
    SchedulerFixture fx;
    auto* t = make_task(fx.sched, zuki::ready(1));
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();
    BOOST_TEST(h.get() == 1);
    BOOST_CHECK_THROW(h.get(), std::logic_error);

    JoinHandle<int> empty;
    BOOST_TEST(!empty.valid());
    BOOST_CHECK_THROW(empty.get(), std::logic_error);
    BOOST_CHECK_THROW(empty.cancel(), std::logic_error);
    BOOST_CHECK_THROW((void)empty.id(), std::logic_error);
    JoinHandle<int> moved = std::move(h);
    BOOST_TEST(!h.valid());  // NOLINT: testing the moved-from state
    BOOST_CHECK_THROW(h.get(), std::logic_error);
    BOOST_CHECK_THROW(moved.get(), std::logic_error);  // taken flag moved along
}

BOOST_AUTO_TEST_CASE(join_handle_detach_lets_the_task_run_and_discards_the_result) {
    SchedulerFixture fx;
    zuki::test::DropRegistry out_drops(1);
    auto sh = std::make_shared<Shared>();
    sh->ready = true;
    auto* t = make_task(fx.sched, MakesOut{&out_drops, sh});
    JoinHandle<Out> h = zuki::detail::make_join_handle<Out>(t);
    h.detach();
    BOOST_TEST(!h.valid());
    BOOST_TEST((flags(t) & ts::join_interest) == 0u);
    BOOST_TEST(t->run() == RunOutcome::finished);
    t->ref_dec();  // last reference: task and output destroyed
    BOOST_TEST(out_drops.drops(0) == 1);
}

// Regression: if moving the future into the cell threw, the scheduler reference taken by the
// header's constructor was never released (the scheduler leaked).
BOOST_AUTO_TEST_CASE(a_future_whose_move_throws_does_not_leak_a_scheduler_reference) {
    struct ThrowsOnMove {
        ThrowsOnMove() = default;
        ThrowsOnMove(ThrowsOnMove&&) { throw std::runtime_error("move"); }
        Poll<int> poll(Context&) { return 0; }
    };
    const int before = TestScheduler::alive.load();
    auto* sched = TestScheduler::make();
    BOOST_CHECK_THROW(make_task(sched, ThrowsOnMove{}), std::runtime_error);
    sched->release();
    BOOST_TEST(TestScheduler::alive.load() == before);
}

// ---- race --------------------------------------------------------------------------------------

namespace {
struct RaceState {
    std::atomic<std::uint64_t> wakes_issued{0};
    std::atomic<std::uint64_t> last_seen{0};
    std::atomic<bool> in_poll{false};
    std::atomic<int> concurrent_polls{0};
    std::atomic<std::uint64_t> polls{0};
    std::atomic<bool> stop{false};
};
struct RaceFuture {
    RaceState* s;
    Poll<std::uint64_t> poll(Context&) {
        if (s->in_poll.exchange(true, std::memory_order_acquire)) s->concurrent_polls.fetch_add(1);
        s->polls.fetch_add(1, std::memory_order_relaxed);
        // Stay RUNNING a little, so that wakes also land on a running task (-> NOTIFIED).
        for (int i = 0; i < 200; ++i) (void)s->stop.load(std::memory_order_relaxed);
        // acquire: pairs with the release increments, made before each wake.
        const std::uint64_t seen = s->wakes_issued.load(std::memory_order_acquire);
        s->last_seen.store(seen, std::memory_order_release);
        const bool stop = s->stop.load(std::memory_order_acquire);
        s->in_poll.store(false, std::memory_order_release);
        if (stop) return seen;
        return Poll<std::uint64_t>::pending();
    }
};
}  // namespace

BOOST_AUTO_TEST_CASE(concurrent_wake_by_ref_never_queues_twice_and_never_loses_the_last_wake) {
    zuki::test::Watchdog dog(std::chrono::seconds(120), "task wake race");
    SchedulerFixture fx;
    RaceState rs;
    auto* t = make_task(fx.sched, RaceFuture{&rs});
    JoinHandle<std::uint64_t> h = zuki::detail::make_join_handle<std::uint64_t>(t);
    fx.sched->requeue(t);  // spawned: queued

    constexpr int threads = 8;
    const int per_thread = 10'000 * stress_scale();
    const std::uint64_t total = static_cast<std::uint64_t>(threads) * per_thread;

    std::atomic<bool> runner_done{false};
    std::uint64_t reschedules = 0;  // runner thread only (read after join)
    std::thread runner([&] {
        while (!runner_done.load(std::memory_order_acquire)) {
            TaskHeader* q = fx.sched->pop_for(std::chrono::milliseconds(5));
            if (q == nullptr) continue;
            const RunOutcome r = q->run();
            if (r == RunOutcome::reschedule) ++reschedules;
            if (r == RunOutcome::finished) runner_done.store(true, std::memory_order_release);
            finish_run(fx.sched, q, r);
        }
    });

    std::vector<Waker> wakers;
    for (int i = 0; i < threads; ++i) wakers.push_back(t->make_waker());
    std::atomic<bool> go{false};
    std::vector<std::thread> wakers_threads;
    for (int i = 0; i < threads; ++i) {
        wakers_threads.emplace_back([&, i] {
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            for (int k = 0; k < per_thread; ++k) {
                // release: pairs with the acquire load in the poll.
                rs.wakes_issued.fetch_add(1, std::memory_order_release);
                wakers[static_cast<std::size_t>(i)].wake_by_ref();
                // Let the runner in now and then, so wakes land in every state (idle,
                // scheduled, running, notified), not only on an already-queued task.
                if (k % 16 == 15) std::this_thread::yield();
            }
        });
    }
    go.store(true, std::memory_order_release);
    for (auto& th : wakers_threads) th.join();

    // The last wake came after the last increment: some poll must see the full count.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (rs.last_seen.load(std::memory_order_acquire) != total &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    BOOST_TEST(rs.last_seen.load() == total);

    rs.stop.store(true, std::memory_order_release);
    wakers[0].wake_by_ref();
    runner.join();
    wakers.clear();

    BOOST_TEST(fx.sched->violations.load() == 0);
    BOOST_TEST(rs.concurrent_polls.load() == 0);
    BOOST_TEST_MESSAGE("polls: " << rs.polls.load() << " for " << total
                                 << " wakes, schedule() calls: " << fx.sched->schedule_calls.load()
                                 << ", reschedules (woken while running): " << reschedules);
    BOOST_TEST(rs.polls.load() >= 2u);
    BOOST_TEST(h.get() == total);
    BOOST_TEST(refs(t) == 1u);  // only the handle left
}

// ---- run(release_when_done): the queue's reference folded into the completing RMW ----------

// make_lazy_task (above): registered lazily, as the executors make their tasks.

BOOST_AUTO_TEST_CASE(a_leaf_nobody_waits_for_releases_the_queue_reference_itself) {
    SchedulerFixture fx;
    auto* t = make_lazy_task(fx.sched, zuki::ready(7), true);
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    BOOST_TEST(refs(t) == 3u);  // queue + registry (counted, never registered) + handle
    BOOST_TEST(t->run(true) == RunOutcome::released);  // no ref_dec by the executor
    BOOST_TEST(refs(t) == 1u);  // only the handle's
    BOOST_TEST((flags(t) & ts::complete) != 0);
    BOOST_TEST(fx.sched->finished.load() == 0);  // run(true) leaves the count to its caller
    BOOST_TEST(h.get() == 7);
}

// A handle that took the output of a complete task destroys it on a load of the count when it
// holds the last reference (TaskHeader::drop_join_handle), and not while anyone else holds one.
// Each task has its own scheduler, which lives exactly as long as the task (the task holds it).
BOOST_AUTO_TEST_CASE(a_joined_task_goes_with_its_last_holder_the_handle_or_a_waker) {
    const int before = TestScheduler::alive.load();
    // The handle is the sole owner: dropping it destroys the task.
    auto* s1 = TestScheduler::make();
    auto* u = make_lazy_task(s1, zuki::ready(6), true);
    JoinHandle<int> hu = zuki::detail::make_join_handle<int>(u);
    BOOST_TEST(u->run(true) == RunOutcome::released);
    BOOST_TEST(hu.get() == 6);
    s1->release();
    BOOST_TEST(TestScheduler::alive.load() == before + 1);  // u keeps s1
    hu = JoinHandle<int>();
    BOOST_TEST(TestScheduler::alive.load() == before);  // u destroyed, then s1

    // A waker outlives the handle: the handle's drop leaves the task to the waker.
    auto* s2 = TestScheduler::make();
    auto* t = make_lazy_task(s2, zuki::ready(5), true);
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    Waker w = t->make_waker();
    BOOST_TEST(t->run(true) == RunOutcome::released);
    BOOST_TEST(h.get() == 5);
    s2->release();
    h = JoinHandle<int>();
    BOOST_TEST(TestScheduler::alive.load() == before + 1);  // t (and s2) still there
    BOOST_TEST(refs(t) == 1u);  // the waker's (ASan: a use after free if t had gone)
    w = Waker::noop();
    BOOST_TEST(TestScheduler::alive.load() == before);
}

/// A joined task not yet run, whose handle was polled once by a joiner (JOIN_WAKER set); the
/// test holds the queue reference.
struct JoinerWaitingFixture : SchedulerFixture {
    zuki::test::DropRegistry drops{1};
    std::shared_ptr<Shared> sh = std::make_shared<Shared>();
    TaskHeader* t = make_lazy_task(sched, Controlled(sh, zuki::test::DropCounter(drops, 0)), true);
    JoinHandle<int> h =
        zuki::detail::make_join_handle<int>(static_cast<zuki::detail::TaskOutputCell<int>*>(t));
    zuki::test::CountingWaker joiner;  // outlives the task (its join slot holds a clone)
    const Waker jw = joiner.make();
    Context jcx{jw};
    JoinerWaitingFixture() { BOOST_TEST(h.poll(jcx).is_pending()); }  // the join waker is set
};

// A task run by the thread that awaits its JoinHandle (the pool's help_join) completes without
// an RMW when the handle is its only other holder (TaskState::to_complete_exclusive): the
// executor's references go, the handle's stays, the output (or the exception) is the handle's.
BOOST_AUTO_TEST_CASE(a_task_run_for_its_joiner_leaves_the_handle_as_its_only_holder) {
    SchedulerFixture fx;
    zuki::test::DropRegistry drops(2);
    auto sh = std::make_shared<Shared>();
    sh->ready = true;
    sh->value = 8;
    auto* t = make_lazy_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)), true);
    JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
    BOOST_TEST(t->run(true, /*joined_here=*/true) == RunOutcome::released);
    BOOST_TEST(refs(t) == 1u);  // only the handle's
    BOOST_TEST((flags(t) & ts::complete) != 0);
    BOOST_TEST(fx.sched->finished.load() == 0);  // run(true) leaves the count to its caller
    BOOST_TEST(drops.drops(0) == 1);  // the future went when it completed
    BOOST_TEST(h.get() == 8);
    h = JoinHandle<int>();  // the sole owner destroys it (ASan: a leak otherwise)

    auto sh2 = std::make_shared<Shared>();
    sh2->throw_next = true;
    auto* u = make_lazy_task(fx.sched, Controlled(sh2, zuki::test::DropCounter(drops, 1)), true);
    JoinHandle<int> hu = zuki::detail::make_join_handle<int>(u);
    BOOST_TEST(u->run(true, /*joined_here=*/true) == RunOutcome::released);
    BOOST_TEST(refs(u) == 1u);
    BOOST_CHECK_THROW(hu.get(), std::runtime_error);  // the handle's, not reported
    BOOST_TEST(fx.sched->reported.empty());
}

// Run for its joiner, a task that someone else can still reach completes with the RMW: a join
// waker registered earlier is woken (the exclusive store would have skipped it), a waker clone
// keeps the task alive after the handle goes.
BOOST_FIXTURE_TEST_CASE(a_task_run_for_its_joiner_that_others_can_reach_completes_as_usual,
                        JoinerWaitingFixture) {
    sh->ready = true;
    sh->value = 4;
    BOOST_TEST(t->run(true, /*joined_here=*/true) == RunOutcome::finished);
    BOOST_TEST(joiner.total_wakes() == 1);
    t->ref_dec();  // the queue's
    BOOST_TEST(h.poll(jcx).value() == 4);

    zuki::test::DropRegistry drops2(1);
    auto sh2 = std::make_shared<Shared>();
    sh2->ready = true;
    sh2->value = 2;
    auto* u = make_lazy_task(sched, Controlled(sh2, zuki::test::DropCounter(drops2, 0)), true);
    JoinHandle<int> hu = zuki::detail::make_join_handle<int>(u);
    Waker w = u->make_waker();
    BOOST_TEST(u->run(true, /*joined_here=*/true) == RunOutcome::released);
    BOOST_TEST(refs(u) == 2u);  // the handle's and the waker's
    BOOST_TEST(hu.get() == 2);
    hu = JoinHandle<int>();
    BOOST_TEST(refs(u) == 1u);  // the waker's (ASan: a use after free if u had gone)
    w.wake();  // a no-op after completion; drops the last reference
}

BOOST_AUTO_TEST_CASE(a_detached_leaf_is_destroyed_by_its_completing_rmw) {
    SchedulerFixture fx;
    zuki::test::DropRegistry drops(1);
    auto sh = std::make_shared<Shared>();
    sh->ready = true;
    auto* t = make_lazy_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)),
                             /*join_interest=*/false);
    BOOST_TEST(t->run(true) == RunOutcome::released);  // and t is gone
    BOOST_TEST(drops.drops(0) == 1);
    BOOST_TEST(fx.sched->finished.load() == 0);  // run(true) leaves the count to its caller
}

// run(true)'s caller counts completions itself: a cancelled task is finished, uncounted, as a
// ready one is; run() counts both.
BOOST_AUTO_TEST_CASE(run_true_leaves_the_count_of_a_cancelled_task_to_its_caller) {
    SchedulerFixture fx;
    zuki::test::DropRegistry drops(2);
    auto* t = make_lazy_task(
        fx.sched, Controlled(std::make_shared<Shared>(), zuki::test::DropCounter(drops, 0)),
        /*join_interest=*/false);
    t->cancel();  // scheduled: cancelled when the executor next holds it
    BOOST_TEST(t->run(true) == RunOutcome::finished);
    BOOST_TEST(drops.drops(0) == 1);
    BOOST_TEST(fx.sched->finished.load() == 0);
    t->ref_dec();  // the queue's

    auto* u = make_lazy_task(
        fx.sched, Controlled(std::make_shared<Shared>(), zuki::test::DropCounter(drops, 1)),
        /*join_interest=*/false);
    u->cancel();
    BOOST_TEST(u->run() == RunOutcome::finished);
    BOOST_TEST(drops.drops(1) == 1);
    BOOST_TEST(fx.sched->finished.load() == 1);
    u->ref_dec();
}

BOOST_FIXTURE_TEST_CASE(a_waiting_joiner_keeps_the_queue_reference_with_the_executor,
                        JoinerWaitingFixture) {
    // The join waker must be taken from the task after COMPLETE: no folding.
    sh->ready = true;
    sh->value = 3;
    BOOST_TEST(t->run(true) == RunOutcome::finished);
    BOOST_TEST(joiner.total_wakes() == 1);
    t->ref_dec();
    BOOST_TEST(h.poll(jcx).value() == 3);
}

BOOST_AUTO_TEST_CASE(a_detached_leaf_that_throws_is_reported_before_it_goes) {
    SchedulerFixture fx;
    zuki::test::DropRegistry drops(1);
    auto sh = std::make_shared<Shared>();
    sh->throw_next = true;
    auto* t = make_lazy_task(fx.sched, Controlled(sh, zuki::test::DropCounter(drops, 0)),
                             /*join_interest=*/false);
    BOOST_TEST(t->run(true) == RunOutcome::finished);  // reported from the task: not folded
    t->ref_dec();
    BOOST_TEST(fx.sched->reported.size() == 1u);
}

BOOST_AUTO_TEST_CASE(folding_races_a_joiner_registering_its_waker) {
    // The joiner polls (and may set JOIN_WAKER) while the task completes with folding: the
    // value always arrives, every reference goes exactly once (ASan, TSan).
    const int rounds = 2000 * stress_scale();
    for (int i = 0; i < rounds; ++i) {
        SchedulerFixture fx;
        auto* t = make_lazy_task(fx.sched, zuki::ready(i), true);
        JoinHandle<int> h = zuki::detail::make_join_handle<int>(t);
        std::thread runner([t] {
            if (t->run(true) != RunOutcome::released) t->ref_dec();
        });
        BOOST_REQUIRE(h.get() == i);
        runner.join();
    }
}
