// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

// SingleThreadedExecutor: the scheduler behind it.
//
// Its two concurrent parts have files of their own: the remote queue is
// concurrent/mpsc_inbox.hpp (a Treiber stack taken whole), the driver sleeps on a
// detail::Parker (detail/parker.hpp, Tokio's three-state token on a futex word).
//
// Who may touch what
// - The ready lists (four intrusive FIFOs, one per priority) belong to the *driver*: the thread
//   that holds `driving_` (inside run / step / block_on), or the destructor, which claims
//   `driving_` for good. A hand-off between drivers on different threads is ordered by the
//   release store / acquire exchange on `driving_`.
// - `schedule()` (a wake) and `submit()` (a spawn) on the driver's thread — recognised by the
//   thread_local `current_driver` — push onto the ready lists directly. From any other thread
//   they push onto `inbox_` (MpscInbox through TaskHeader::next). The driver takes the whole
//   inbox at once, in push order.
// - After shutdown the inbox is closed: a late push cancels its own task instead.
// - Asio handlers (HandlerCell nodes) travel the same way: `asio_submit` is `schedule`.
//
// Two counters, two schedulers
// `live_` counts Zuki tasks (task_count()); `work_` counts outstanding Asio work: every queued
// handler (from BasicExecutor::submit until it ran or was cancelled), every tracked executor and
// every on_work_started() not yet finished. run() returns when both are zero. A task node tells
// its scheduler that it finished through Scheduler::task_finished(), which cannot tell a task
// from a handler; so handler nodes are created against a second, small scheduler
// (HandlerScheduler) that forwards everything to this one but counts the completion as Asio work.
//
// Sleeping without losing a wake-up
// The driver parks on `parker_` (detail::Parker); unpark() leaves a token that the next park()
// consumes at once, so an unpark that comes before the park is not lost. Who unparks:
// - the push that opens an epoch of the inbox (finds it empty: see mpsc_inbox.hpp);
// - a remote completion that brings the live count to zero, or a remote work_finished() that
//   brings the Asio work count to zero (run() waits for both).
// The driver re-checks the inbox and both counts after every park() return. Each unpark is
// sequenced after its push / decrement and released; the park that consumes its token acquires
// it (unpark's exchanges are RMWs, so a later coalesced token still carries the earlier ones in
// its release sequence), so the re-check sees the push or the decrement. Either the token comes
// before the park (the park returns at once) or after (it finds `parked` and futex-wakes;
// futex_wait re-checks the word atomically with sleeping). Hence: no lost wake-up.
//
// Lifetime. Tasks hold references on the scheduler, so a wake after the executor is gone still
// reaches valid memory (and finds the task complete, or the inbox closed). A pusher that opens an
// epoch touches the scheduler again (unpark) after its push, when the pushed task — and with it
// the last reference — may already be gone: so it holds a scheduler reference of its own,
// acquired before the push while the task still kept the scheduler alive. A remote
// work_finished() does the same: the count it brings to zero may let run() return and the
// executor be destroyed before its unpark.

#include <zuki/runtime/single_threaded_executor.hpp>

#include <cassert>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <zuki/asio/detail/reactor_driver.hpp>
#include <zuki/asio/detail/reactor_timers.hpp>
#include <zuki/concurrent/mpsc_inbox.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/executor_thread.hpp>
#include <zuki/detail/parker.hpp>
#include <zuki/runtime/blocking_pool.hpp>

namespace zuki::detail {

namespace {

// The scheduler this thread is driving right now (innermost DriveScope), or null.
thread_local SingleThreadedScheduler* current_driver = nullptr;

}  // namespace

class SingleThreadedScheduler final : public Scheduler, public IoTaskSink {
public:
    using Clock = std::chrono::steady_clock;
    explicit SingleThreadedScheduler(SingleThreadedExecutor::ExceptionHandler handler)
        : handler_(std::move(handler)) {}

    // ---- Scheduler ----------------------------------------------------------------------
    void schedule(TaskHeader* t) noexcept override {
        assert(t->state(std::memory_order_relaxed) & task_state::scheduled);
        if (current_driver == this)
            ready_push(t);
        else
            push_remote(t);
    }

    void report_exception(std::exception_ptr e) noexcept override {
        if (rethrow_) {
            // io_context's behaviour: the driving call (run, run_one, poll...) rethrows it.
            try {
                std::lock_guard lock(rethrow_mutex_);
                rethrow_queue_.push_back(std::move(e));
            } catch (...) {  // bad_alloc queueing it: nothing better left than dropping it
                return;
            }
            rethrow_waiting_.store(true, std::memory_order_release);
            if (current_driver != this) unpark();  // reported from another thread
            return;
        }
        try {
            handler_(std::move(e));
        } catch (...) {
            // A handler that throws: the exception is dropped (the library never prints).
        }
    }

    void tasks_added(std::size_t n) noexcept override {
        // relaxed: as in submit() (a task discarded before submission is counted then finished
        // on the same thread).
        live_.fetch_add(n, std::memory_order_relaxed);
    }
    /// Every spawn path's check (the executor's own, Handle's, the free functions').
    void admit_spawn() const override {
        if (closed())
            throw ExecutorStopped("zuki: spawn on a SingleThreadedExecutor that is shutting down");
    }
    void submit_spawned(TaskHeader* t) noexcept override { submit(t); }
    void block_on_task(TaskHeader* t) override;
    BlockingPool* blocking_pool() noexcept override { return &blocking_; }
    /// The destructor, after claim_for_shutdown: cancel queued blocking calls, wait for the
    /// running ones.
    void shut_down_blocking() noexcept { blocking_.shutdown(); }
    BlockingPoolStats blocking_stats() const { return blocking_.stats(); }

    void task_finished() noexcept override {
        // release: pairs with the acquire load in drive() / live(), so whoever sees the count
        // drop sees the completion (e.g. a remote canceller destroying the future).
        const std::size_t prev = live_.fetch_sub(1, std::memory_order_release);
        assert(prev >= 1);
        // Only run() waits for the count; only a completion off the driver's thread can find it
        // asleep. (The finishing task holds a scheduler reference, so `this` is alive here.)
        if (prev == 1 && current_driver != this) unpark();
    }

    // ---- Asio outstanding work ------------------------------------------------------------
    void work_started(std::size_t n = 1) noexcept {
        // relaxed: the handler or guard that this counts reaches the driver through the queue
        // push (release) or a happens-before of its own (e.g. starting the driving thread).
        work_.fetch_add(n, std::memory_order_relaxed);
    }

    // ---- I/O (Asio's reactor, driven by the driving thread: runtime/io_driver.hpp) ----------
    void set_io_driver(IoDriver* io, std::shared_ptr<TimerService> timers) noexcept {
        io_ = io;
        timers_ = std::move(timers);
    }
    void stop_timers() noexcept {
        if (timers_) timers_->stop();
    }
    /// Ready I/O (run-once handler tasks): to the back of the Normal list, in order.
    void io_ready(TaskHeader* head, std::size_t, bool) noexcept override {
        for (TaskHeader* t = head; t != nullptr;) {
            TaskHeader* next = t->next;
            ready_push(t);
            t = next;
        }
    }
    /// The first socket or timer made the event source: a driving thread asleep on its Parker
    /// parks again, in the event source (runtime/io_driver.hpp, "Activation"). The Parker keeps
    /// the token if it is not asleep yet. (The activating thread's I/O object refers to the
    /// executor: it is alive.)
    void io_activated() noexcept override {
        if (current_driver != this) unpark();
    }
    void work_finished() noexcept {
        if (current_driver == this) {
            // release: pairs with the acquire load in work(). The driver re-checks the count in
            // its loop, no unpark needed.
            const std::size_t prev = work_.fetch_sub(1, std::memory_order_release);
            assert(prev >= 1);
            (void)prev;
            return;
        }
        // The decrement may let run() return and the executor go away before our unpark: keep
        // the scheduler alive (the caller's executor object still holds a reference here).
        acquire();
        // release: pairs with the acquire load in work() after the driver consumed our token.
        const std::size_t prev = work_.fetch_sub(1, std::memory_order_release);
        assert(prev >= 1);
        if (prev == 1) unpark();
        release();  // may delete *this: nothing after
    }
    std::size_t work() const noexcept {
        // acquire: pairs with the release decrement in work_finished().
        return work_.load(std::memory_order_acquire);
    }
    bool is_driver() const noexcept { return current_driver == this; }

    // ---- executor side ------------------------------------------------------------------
    bool closed() const noexcept {
        // relaxed: spawn racing the destructor is a lifetime error; this flag only serves spawns
        // from the destroying thread itself (a future's destructor). Remote wakes rely on the
        // inbox's closed mark instead.
        return closed_.load(std::memory_order_relaxed);
    }

    std::size_t live() const noexcept {
        // acquire: pairs with the release decrement in task_finished().
        return live_.load(std::memory_order_acquire);
    }

    /// A freshly spawned task (SCHEDULED, carrying the queue reference): count it and queue it.
    void submit(TaskHeader* t) noexcept {
        // relaxed: the driver learns of the task through the queue push that follows (release),
        // which carries this increment to it; completion's decrement is ordered after it.
        live_.fetch_add(1, std::memory_order_relaxed);
        schedule(t);
    }

    /// Claim the ready lists for the calling thread; false if someone else drives.
    bool try_claim() noexcept {
        // acquire: pairs with the release store in unclaim() by the previous driver (possibly
        // on another thread), handing over the ready lists.
        return !driving_.exchange(true, std::memory_order_acquire);
    }
    /// Move what other threads queued so far into the ready lists (driver only). Called when
    /// a drive starts, so work queued remotely before a `block_on` keeps its place ahead of the
    /// task that `block_on` spawns on this thread (first come, first served within a level).
    void absorb_inbox() noexcept { take_inbox(); }
    void unclaim() noexcept {
        // release: pairs with the acquire exchange in try_claim() / claim_for_shutdown().
        driving_.store(false, std::memory_order_release);
    }

    /// What a drive stops at (run, run_one, run_for/until, poll, poll_one, step, block_on).
    struct DriveLimits {
        TaskHeader* until = nullptr;  // block_on: until this task completed
        std::size_t max_tasks = SIZE_MAX;  // run_one / poll_one / step: 1
        bool block = true;  // poll / poll_one / step: never sleep
        bool run_family = true;  // run*, poll*: stop() ends it; running out of work stops
        Clock::time_point deadline =
            std::chrono::steady_clock::time_point::max();  // run_for / run_until
    };

    /// Driving thread: true if a task is ready to run.
    bool has_ready() const noexcept { return !ready_empty(); }

    /// The driver loop; returns how many tasks and handlers it ran. Stops at the limits, when
    /// no task is live and no Asio work is outstanding (not for block_on), or when an
    /// exception waits to be rethrown (rethrow mode).
    std::size_t drive(const DriveLimits& limits) noexcept {
        assert(current_driver == this);
        std::size_t ran = 0;
        unsigned tick = 0;
        for (;;) {
            take_inbox();
            // acquire: pairs with the release RMW in finish() (it completed on this thread, so
            // this is belt and braces).
            if (limits.until != nullptr &&
                (limits.until->state(std::memory_order_acquire) & task_state::complete) != 0)
                return ran;
            // acquire: pairs with the release stores in stop() / park_exception().
            if (limits.run_family && stopped_.load(std::memory_order_acquire)) return ran;
            if (rethrow_pending()) return ran;
            if (ran >= limits.max_tasks) return ran;
            // Ready I/O is noticed every 61 tasks while tasks keep coming, at most once per
            // busy-poll period, which grows while every poll finds a batch
            // (next_busy_poll_period, runtime/io_driver.hpp).
            if (++tick % 61 == 0) {
                const std::int64_t now = monotonic_ns();
                if (now >= next_io_poll_ns_) {
                    io_poll_period_ns_ = next_busy_poll_period(io_poll_period_ns_, poll_io());
                    next_io_poll_ns_ = now + io_poll_period_ns_;
                }
            }
            if (TaskHeader* t = ready_pop()) {
                run_task(t);
                ++ran;
                continue;
            }
            if (!limits.block) {
                if (poll_io() != 0) continue;  // what the reactor has ready counts as ready
                return ran;
            }
            // Nothing ready. Every queued task is live and every queued handler is Asio work,
            // so two zero counts mean all done; the run family then stops (io_context's
            // meaning: restart() before running again).
            if (limits.until == nullptr && live() == 0 && work() == 0) {
                if (limits.run_family) stopped_.store(true, std::memory_order_release);
                return ran;
            }
            if (limits.deadline != std::chrono::steady_clock::time_point::max()) {
                const auto now = Clock::now();
                if (now >= limits.deadline) return ran;
                park(limits.deadline - now);
            } else {
                park();  // until a remote push, completion, work_finished or I/O (file comment)
            }
        }
    }

    // ---- stop / restart (the run family) ------------------------------------------------------
    void stop() noexcept {
        // release: pairs with the acquire load in drive().
        stopped_.store(true, std::memory_order_release);
        unpark();  // a run() asleep returns now
    }
    bool stopped() const noexcept { return stopped_.load(std::memory_order_acquire); }
    void restart() noexcept { stopped_.store(false, std::memory_order_release); }

    // ---- rethrow mode -------------------------------------------------------------------------
    void set_rethrow(bool on) noexcept { rethrow_ = on; }
    /// The oldest exception waiting to be rethrown by the driving call, if any.
    std::exception_ptr take_rethrow() noexcept {
        if (!rethrow_pending()) return nullptr;
        std::lock_guard lock(rethrow_mutex_);
        if (rethrow_queue_.empty()) return nullptr;
        std::exception_ptr e = std::move(rethrow_queue_.front());
        rethrow_queue_.erase(rethrow_queue_.begin());
        // relaxed: under the mutex that report_exception() pushes under.
        if (rethrow_queue_.empty()) rethrow_waiting_.store(false, std::memory_order_relaxed);
        return e;
    }

    /// Deliver what the event source has ready now (never blocks). Returns how many operations
    /// it delivered or completed.
    std::size_t poll_io() noexcept {
        if (io_ == nullptr || !io_->is_active() || !io_->try_lock()) return 0;
        const std::size_t delivered = io_->poll();
        io_->unlock();
        return delivered;
    }

    /// The destructor, part 1: claim the ready lists for good (nobody drives a destroyed
    /// executor) and refuse new spawns.
    void claim_for_shutdown() noexcept {
        // Destroyed while it is being run (from one of its own tasks, or while another thread
        // runs it): a lifetime error nothing can recover from.
        if (!try_claim()) std::terminate();
        closed_.store(true, std::memory_order_relaxed);
    }

    /// The destructor, part 2 (after Asio's services shut down): close the inbox, cancel
    /// everything queued (tasks and handlers), then every idle task.
    void close_and_drain() noexcept {
        // From now on a push finds the inbox closed and cancels its task itself, so nothing can
        // be queued behind this sweep. Cancelling destroys futures, whose destructors may wake
        // other tasks: such a wake comes from a non-driver thread (current_driver != this),
        // finds the inbox closed and cancels inline, so the ready lists only shrink while we
        // walk them.
        for (TaskHeader* t = inbox_.close(); t != nullptr;) {
            TaskHeader* next = t->next;
            cancel_queued(t);
            t = next;
        }
        while (TaskHeader* t = ready_pop()) cancel_queued(t);
        // Idle tasks nobody will wake (their wakers held by nobody, or by themselves).
        registry.drain([](TaskHeader* t) {
            t->cancel();
            t->ref_dec();  // the registry's reference, handed over by drain
        });
    }

private:
    ~SingleThreadedScheduler() override {
        assert(ready_empty());
        assert(inbox_.empty());
    }

    struct ReadyList {
        TaskHeader* head = nullptr;
        TaskHeader* tail = nullptr;
    };

    // ---- ready lists (driver only) ----------------------------------------------------------
    // Invariant: every task in a list is SCHEDULED and the list holds its queue reference; a
    // task is in at most one list (or the inbox) at a time, which the state machine guarantees
    // (only the transitions that set SCHEDULED call schedule()).
    void ready_push(TaskHeader* t) noexcept {
        ReadyList& l = ready_[static_cast<std::size_t>(t->priority())];
        t->next = nullptr;
        (l.tail != nullptr ? l.tail->next : l.head) = t;
        l.tail = t;
    }
    TaskHeader* ready_pop() noexcept {
        for (std::size_t i = task_priority_levels; i-- > 0;) {  // Critical first
            ReadyList& l = ready_[i];
            if (TaskHeader* t = l.head) {
                l.head = t->next;
                if (l.head == nullptr) l.tail = nullptr;
                t->next = nullptr;
                return t;
            }
        }
        return nullptr;
    }
    bool ready_empty() const noexcept {
        for (const ReadyList& l : ready_)
            if (l.head != nullptr) return false;
        return true;
    }

    static void cancel_queued(TaskHeader* t) noexcept {
        t->cancel_scheduled();
        t->ref_dec();  // the queue reference
    }

    void run_task(TaskHeader* t) noexcept {
        // Not run(true): this scheduler is not biased, so the scheduler reference that folding
        // takes would cost the two RMWs it saves.
        const RunOutcome outcome = t->run();
        // Completions the task's I/O produced at once (the driving thread's private queue).
        if (io_registration_ != nullptr) io_->drain_thread(io_registration_);
        switch (outcome) {
            case RunOutcome::reschedule:
                ready_push(t);  // woken while running: back of its level, queue reference kept
                break;
            case RunOutcome::finished:
            case RunOutcome::idle:
                t->ref_dec();  // the queue reference (may destroy the task)
                break;
            case RunOutcome::released:  // not asked for (see above)
                break;
        }
    }

    // ---- inbox and parking -------------------------------------------------------------------
    void push_remote(TaskHeader* t) noexcept {
        // If this push opens an epoch we unpark the driver after it, when t (and the reference
        // it holds on us) may be gone: take a reference of our own while t keeps us alive.
        bool holding = false;
        switch (inbox_.push(
            t, [this] { acquire(); }, holding)) {
            case MpscInbox<TaskHeader>::Pushed::first:
                parker_.unpark();
                break;
            case MpscInbox<TaskHeader>::Pushed::closed:
                cancel_queued(t);  // the executor is gone or going: nobody will run t
                break;
            case MpscInbox<TaskHeader>::Pushed::queued:
                break;
        }
        if (holding) release();  // may delete *this: nothing after
    }

    void take_inbox() noexcept {
        for (TaskHeader* t = inbox_.take_all(); t != nullptr;) {
            TaskHeader* next = t->next;
            ready_push(t);
            t = next;
        }
    }

    // With an event source, sleep in it: a remote push, a completion, or ready I/O wakes us.
    // With a timeout, also when it passed.
    void park(std::chrono::nanoseconds timeout = std::chrono::nanoseconds::max()) noexcept {
        if (io_ != nullptr && io_->is_active() && io_->try_lock()) {
            parker_.park_driving(*io_, timeout);
            io_->unlock();
        } else if (timeout == std::chrono::nanoseconds::max()) {
            parker_.park();
        } else {
            parker_.park_for(timeout);
        }
    }
    bool rethrow_pending() const noexcept {
        // acquire: pairs with the release store in report_exception().
        return rethrow_ && rethrow_waiting_.load(std::memory_order_acquire);
    }
    void unpark() noexcept { parker_.unpark(); }

public:
    /// The driving thread's registration with the event source, for the drive's duration.
    /// Returns the thread's previous current timer service (restored by detach_io_thread).
    std::shared_ptr<TimerService>* attach_io_thread() noexcept {
        if (io_ == nullptr) return current_timer_service();
        try {
            io_registration_ = io_->attach_thread(io_room_);
        } catch (...) {  // bad_alloc: completions then go through the driver's shared queue
        }
        return std::exchange(current_timer_service(), &timers_);
    }
    void detach_io_thread(std::shared_ptr<TimerService>* previous_timers) noexcept {
        current_timer_service() = previous_timers;
        if (void* r = std::exchange(io_registration_, nullptr)) io_->detach_thread(r);
    }

private:
    // Written by remote threads: one line each, apart from the driver's data.
    MpscInbox<TaskHeader> inbox_;
    alignas(cache_line) Parker parker_;
    IoDriver* io_ = nullptr;
    void* io_registration_ = nullptr;  // the driving thread's, while it drives (in io_room_)
    IoDriver::RegistrationRoom io_room_;
    std::shared_ptr<TimerService> timers_;  // driven by io_ (zuki::delay on the driving thread)
    atomic<bool> stopped_{false};  // the run family's stop() / ran out of work
    bool rethrow_ = false;  // set at construction
    std::int64_t next_io_poll_ns_ = 0;  // driving thread: see drive()
    std::int64_t io_poll_period_ns_ = io_busy_poll_period_ns;  // driving thread: see drive()
    atomic<bool> rethrow_waiting_{false};
    std::mutex rethrow_mutex_;
    std::vector<std::exception_ptr> rethrow_queue_;  // guarded by rethrow_mutex_
    alignas(cache_line) atomic<std::size_t> live_{0};  // spawned, not yet finished
    atomic<std::size_t> work_{0};  // outstanding Asio work (handlers queued, guards, ...)
    alignas(cache_line) atomic<bool> driving_{false};
    atomic<bool> closed_{false};
    ReadyList ready_[task_priority_levels];
    SingleThreadedExecutor::ExceptionHandler handler_;
    BlockingPool blocking_{*this, BlockingPoolConfig{}};  // spawn_blocking's threads (defaults)
};

/// The scheduler of this executor's Asio handler nodes: forwards to the executor's scheduler,
/// but a finished handler ends a unit of Asio work instead of a live task (see the file
/// comment). Handler nodes are never woken (they run once), so `schedule` only serves the
/// interface. It holds a reference on the main scheduler for as long as it lives.
class HandlerScheduler final : public Scheduler {
public:
    explicit HandlerScheduler(SingleThreadedScheduler* main) noexcept : main_(main) {
        main_->acquire();
    }
    void schedule(TaskHeader* t) noexcept override { main_->schedule(t); }
    void report_exception(std::exception_ptr e) noexcept override {
        main_->report_exception(std::move(e));
    }
    void task_finished() noexcept override { main_->work_finished(); }
    void tasks_added(std::size_t n) noexcept override { main_->work_started(n); }

private:
    ~HandlerScheduler() override { main_->release(); }
    SingleThreadedScheduler* main_;
};

}  // namespace zuki::detail

namespace zuki {

SingleThreadedExecutor::SingleThreadedExecutor(ExceptionHandler on_unhandled_exception)
    : sched_(new detail::SingleThreadedScheduler(
          on_unhandled_exception ? std::move(on_unhandled_exception)
                                 : ExceptionHandler(&print_unhandled_exception))),
      asio_sched_(nullptr) {
    try {
        asio_sched_ = new detail::HandlerScheduler(sched_);
        // Asio's scheduler, made before any I/O object exists so that it has no thread of its
        // own: the driving thread runs its reactor (asio/detail/reactor_driver.hpp).
        if (detail::IoDriver* io = detail::install_reactor_driver(*this, *sched_, asio_sched_))
            sched_->set_io_driver(io, detail::make_reactor_timers(get_executor()));
    } catch (...) {
        if (asio_sched_ != nullptr) asio_sched_->release();
        sched_->release();
        throw;
    }
}

SingleThreadedExecutor::SingleThreadedExecutor(RethrowFromRun)
    : SingleThreadedExecutor(ExceptionHandler{}) {
    sched_->set_rethrow(true);  // before any task exists
}

SingleThreadedExecutor::~SingleThreadedExecutor() {
    sched_->claim_for_shutdown();
    // Blocking calls: the running ones return (a task they wake is cancelled by the drain
    // below), the queued ones are cancelled.
    sched_->shut_down_blocking();
    // Asio's services (timers, sockets, the reactor thread Asio runs for this context) go first,
    // as in WorkStealingExecutor and thread_pool; the handlers they had already queued on us are
    // then cancelled with everything else, and the services destroyed last.
    shutdown();
    sched_->stop_timers();
    sched_->close_and_drain();
    destroy();
    asio_sched_->release();
    sched_->release();  // tasks still referenced (JoinHandles, wakers) keep it alive
}

std::size_t SingleThreadedExecutor::drive(bool blocking, std::size_t max_tasks, bool block,
                                          bool run_family,
                                          std::chrono::steady_clock::time_point deadline,
                                          bool* more_ready) {
    std::size_t ran = 0;
    {
        DriveScope scope(*this, blocking);
        detail::SingleThreadedScheduler::DriveLimits limits;
        limits.max_tasks = max_tasks;
        limits.block = block;
        limits.run_family = run_family;
        limits.deadline = deadline;
        ran = sched_->drive(limits);
        if (more_ready != nullptr) *more_ready = sched_->has_ready();  // while still the driver
    }
    // Rethrow mode: the exception an unhandled task or handler threw, after the drive ended
    // (the executor is consistent: call again to go on).
    if (std::exception_ptr e = sched_->take_rethrow()) std::rethrow_exception(e);
    return ran;
}

std::size_t SingleThreadedExecutor::run() {
    return drive(true, SIZE_MAX, true, true, std::chrono::steady_clock::time_point::max(), nullptr);
}
std::size_t SingleThreadedExecutor::run_one() {
    return drive(true, 1, true, true, std::chrono::steady_clock::time_point::max(), nullptr);
}
std::size_t SingleThreadedExecutor::poll() {
    return drive(false, SIZE_MAX, false, true, std::chrono::steady_clock::time_point::max(),
                 nullptr);
}
std::size_t SingleThreadedExecutor::poll_one() {
    return drive(false, 1, false, true, std::chrono::steady_clock::time_point::max(), nullptr);
}
std::size_t SingleThreadedExecutor::run_until(std::chrono::steady_clock::time_point deadline) {
    return drive(true, SIZE_MAX, true, true, deadline, nullptr);
}
void SingleThreadedExecutor::stop() noexcept { sched_->stop(); }
bool SingleThreadedExecutor::stopped() const noexcept { return sched_->stopped(); }
void SingleThreadedExecutor::restart() noexcept { sched_->restart(); }

bool SingleThreadedExecutor::step() {
    bool more = false;
    drive(false, 1, false, false, std::chrono::steady_clock::time_point::max(), &more);
    return more;
}

std::size_t SingleThreadedExecutor::task_count() const noexcept { return sched_->live(); }

bool SingleThreadedExecutor::running_in_this_thread() const noexcept { return sched_->is_driver(); }

void SingleThreadedExecutor::asio_submit(detail::TaskHeader* t, bool /*continuation*/) noexcept {
    // One FIFO for fork and continuation alike: on the driving thread straight to the ready
    // list, from elsewhere through the inbox.
    sched_->schedule(t);
}

void SingleThreadedExecutor::asio_work_started() noexcept { sched_->work_started(); }

void SingleThreadedExecutor::asio_work_finished() noexcept { sched_->work_finished(); }

detail::Scheduler* SingleThreadedExecutor::spawn_target() const {
    sched_->admit_spawn();
    return sched_;
}

void SingleThreadedExecutor::submit_new(detail::TaskHeader* t) noexcept { sched_->submit(t); }

Handle SingleThreadedExecutor::handle() const noexcept {
    return detail::HandleAccess::make(sched_);
}

void SingleThreadedExecutor::drive_until(detail::TaskHeader* t) {
    // Inside block_on's DriveScope.
    detail::SingleThreadedScheduler::DriveLimits limits;
    limits.until = t;
    limits.run_family = false;
    sched_->drive(limits);
    if (std::exception_ptr e = sched_->take_rethrow()) std::rethrow_exception(e);
}

SingleThreadedExecutor::DriveScope::DriveScope(SingleThreadedExecutor& ex, bool blocking)
    : DriveScope(ex.sched_, blocking) {}

SingleThreadedExecutor::DriveScope::DriveScope(detail::SingleThreadedScheduler* s, bool blocking)
    : sched_(s), previous_(nullptr) {
    if (blocking && detail::on_executor_thread())
        throw std::logic_error(
            "zuki::SingleThreadedExecutor: run() / block_on() called from inside a task, where "
            "blocking could deadlock; co_await the future instead");
    if (!sched_->try_claim())
        throw std::logic_error(
            "zuki::SingleThreadedExecutor: already being run (re-entrantly from one of its "
            "tasks, or by another thread)");
    previous_ = std::exchange(detail::current_driver, sched_);
    previous_current_ = std::exchange(detail::Scheduler::current(), sched_);
    ++detail::executor_thread_depth();
    previous_timers_ = sched_->attach_io_thread();
    sched_->absorb_inbox();
}

SingleThreadedExecutor::DriveScope::~DriveScope() {
    sched_->detach_io_thread(previous_timers_);
    --detail::executor_thread_depth();
    detail::Scheduler::current() = previous_current_;
    detail::current_driver = previous_;
    sched_->unclaim();
}

}  // namespace zuki

namespace zuki::detail {

// Handle::block_on on this executor: what SingleThreadedExecutor::block_on does, through the
// scheduler (the handle has no executor object). Claim the driver first: a refused call
// submits nothing.
void SingleThreadedScheduler::block_on_task(TaskHeader* t) {
    std::optional<SingleThreadedExecutor::DriveScope> scope;
    try {
        scope.emplace(this, /*blocking=*/true);
    } catch (...) {
        t->discard_unsubmitted();
        throw;
    }
    submit(t);
    DriveLimits limits;
    limits.until = t;
    limits.run_family = false;
    drive(limits);
    if (std::exception_ptr e = take_rethrow()) std::rethrow_exception(e);
}

}  // namespace zuki::detail
