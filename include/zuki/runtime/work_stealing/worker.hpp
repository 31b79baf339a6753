// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// The heart of `WorkStealingExecutor`: `Worker` (what each worker thread owns) and
/// `WorkStealingScheduler` (what the workers share, how work is submitted, and the worker loop).
///
///     outside threads ──spawn / batch / wake──▶ InjectionQueue (global, one lane per priority)
///                                                 │ take a chunk (every 61 ticks, or when idle)
///     worker i:  LIFO slot ─▶ ChaseLevDeque ─▶ global ─▶ yielded ─▶ steal half ─▶ park
///                  ▲ spawn/wake from the task running here      (search)    (park.hpp)
///
/// The protocols it composes each have a file of their own: the deque
/// (concurrent/chase_lev_deque.hpp), the injection queue (concurrent/injection_queue.hpp), the
/// idle set (concurrent/idle_set.hpp) and parking (park.hpp), outstanding work for `join()`
/// (outstanding_work.hpp), and shutdown (shutdown.hpp). Thread start is compiled
/// (src/work_stealing/threads.cpp); everything here is written over the atomic swap point, so
/// the model checks in test/model/ run this very loop.
///
/// ## Places and attached threads
/// The worker set is fixed when the pool starts: one place per worker thread that started, then
/// `WorkStealingConfig::max_attached_threads` reserved places. A user thread that calls
/// `attach()` takes the next reserved place (a `Worker` made then, under `threads_mutex_`, and
/// published by `active_`) and runs the same loop as the pool's own threads until the pool
/// stops; the idle set counts a reserved place as an always-busy worker until it is taken
/// (concurrent/idle_set.hpp), so nothing in the idle protocol changes. Thieves and `has_work()`
/// look at the places in use (`active_`). An attached worker counts outstanding work in the
/// shared count from the start (its `OutstandingWork::Local` is born folded), so `join()` waits
/// for no acknowledgement from it. `join_threads()` waits until every attached thread left
/// its loop; a leaving thread holds a scheduler reference across its last accesses.
///
/// ## Who may call what
/// - A `Worker`'s fields belong to its thread, except `deque` (thieves steal from it), `parker`
///   (notifiers unpark it) and `stats` (read by `metrics()`).
/// - `run_worker(w)`: worker `w`'s thread only. `schedule` (a wake), `submit`, `push_global`,
///   `stop`, `begin_join`, `metrics`, `attach`: any thread. `close_and_drain`:
///   the destructor, after every worker thread was joined and every attached thread left.

#include <pthread.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <zuki/concurrent/chase_lev_deque.hpp>
#include <zuki/concurrent/idle_set.hpp>
#include <zuki/concurrent/injection_queue.hpp>
#include <zuki/detail/aligned_memory.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/executor_thread.hpp>
#include <zuki/detail/mutex.hpp>
#include <zuki/detail/parker.hpp>
#include <zuki/detail/recycling_allocator.hpp>
#include <zuki/runtime/blocking_pool.hpp>
#include <zuki/runtime/io_driver.hpp>
#include <zuki/runtime/metrics.hpp>
#include <zuki/runtime/work_stealing/outstanding_work.hpp>
#include <zuki/runtime/work_stealing/park.hpp>
#include <zuki/runtime/work_stealing/shutdown.hpp>
#include <zuki/runtime/work_stealing_config.hpp>
#include <zuki/task/detail/header.hpp>
#include <zuki/task/errors.hpp>
#include <zuki/time/timer_service.hpp>

namespace zuki::detail {

class WorkStealingScheduler;

/// Tuning constants of the worker loop.
struct WorkerLoopTuning {
    /// A worker checks the global queue (and its yielded tasks, the oldest task of its deque and
    /// the I/O driver) first every this many ticks at most, so none of them can starve behind
    /// local work (Tokio and Go use the same prime)...
    static constexpr unsigned global_check_interval = 61;
    /// ...and sooner when its tasks are long: the interval adapts so that a check comes about
    /// every this many nanoseconds (Tokio 1.29's self-tuning, with its 200 us target lowered to
    /// Asio's responsiveness: with 10 us handlers that re-post themselves, outside work waited
    /// 61 x 10 us between looks), down to every 2 ticks. The mean task time is measured once
    /// per interval (one clock read), as a moving average over intervals. (Off in model
    /// checks, which have no clock, and in builds defining ZUKI_FIXED_CHECK_INTERVAL, used to
    /// count instructions under valgrind, whose slow clock would otherwise change the run:
    /// every 61 ticks.)
#if defined(ZUKI_RELACY) || defined(ZUKI_FIXED_CHECK_INTERVAL)
    static constexpr std::int64_t global_check_target_ns = 0;
#else
    static constexpr std::int64_t global_check_target_ns = 50'000;
#endif
    static constexpr unsigned min_global_check_interval = 2;
    /// The most tasks one steal claims, and so (ChaseLevDeque's bound M) the depth at which a
    /// worker's own pops turn from oldest-first to newest-first: half of the deque, at most
    /// this. Fixed, not half of whatever capacity was configured: the fairness rules
    /// (rescue_oldest, take_global's share, the admitted-work mark) were tuned for 128, and a
    /// larger deque only moves where overflow begins. (Measured with capacity 4,096, 2
    /// workers: M = 128 against 2,048 is skynet 1.9 against 2.3, UTS 1.8 against 3.7 and
    /// nqueens 1.1 against 3.3 x oneTBB: a deep FIFO part expands a fork-join breadth-first.)
    static constexpr std::size_t max_steal_claim = 128;
    /// Checks a deep deque's oldest task may wait before it runs (see rescue_oldest).
    static constexpr unsigned stuck_checks_before_rescue = 8;
    /// Steal rounds a searcher makes over all victims before it parks.
    static constexpr int search_rounds = 4;
    /// A lone searcher whose back-off handed its CPU to nobody parks in the free reactor at
    /// once instead (see WorkStealingScheduler::back_off_futile) while such early parks pay;
    /// once one did not, one such search in this many parks early to see whether they pay
    /// again. (Off in model checks, which have no clock: there every back-off counts as
    /// useful, and the early park is the state a search that found nothing ends in anyway.)
#if defined(ZUKI_RELACY)
    static constexpr bool timed_back_off = false;
#else
    static constexpr bool timed_back_off = true;
#endif
    static constexpr unsigned futile_back_off_probe = 8;
    /// A new pool's searchers do not park before its constructor has returned and this much
    /// longer (WorkStealingScheduler::starting_up): a pool is made to be given work, and that
    /// work then finds a worker awake instead of waking one (a futex wake, a sleep and two
    /// context switches each way). (Off in model checks, which have no clock.)
#if defined(ZUKI_RELACY)
    static constexpr std::int64_t startup_search_ns = 0;
#else
    static constexpr std::int64_t startup_search_ns = 50'000;
#endif
    /// Tasks a worker takes from its LIFO slot in a row before the slot's task must queue like
    /// any other (Tokio's bound): two tasks that keep waking each other cannot starve the deque.
    static constexpr unsigned max_lifo_streak = 3;
    /// One global take in this many serves the lowest non-empty priority lane first.
    static constexpr unsigned lane_rotation = 16;
    /// The watcher's sleep (concurrent/idle_set.hpp): a task left in the LIFO slot of a worker
    /// that runs on with another task is stolen after one to two of these, well within 1 ms,
    /// at the cost of one timed wake-up per period while some workers are busy and some
    /// parked. (In model checks a timed sleep may end at any point: every model of the pool
    /// runs with the watcher.)
    static constexpr std::int64_t lifo_watch_period_ns = 200'000;
};

/// What one worker thread owns.
struct Worker : AlignedAllocated {
    Worker(WorkStealingScheduler* s, std::size_t capacity)
        : sched(s), deque(capacity, std::min(capacity / 2, WorkerLoopTuning::max_steal_claim)) {}

    WorkStealingScheduler* sched;
    std::size_t index = 0;
    ChaseLevDeque<TaskHeader> deque;
    // LIFO slot: the task most recently spawned or woken by the task running here, run next (it
    // is hot in this core's cache, and a spawn/wake chain then wakes nobody). Filling an empty
    // slot notifies no one; a task displaced from it goes to the deque and notifies as usual.
    // Only the owner fills it (so a slot it saw empty stays empty until it fills it: a plain
    // store), and takes from it with an exchange; thieves never look, except the watcher, which
    // takes a task from it with a CAS when the owner has been running one task for a whole
    // watch period (steal_stranded). Ownership of a task in the slot goes to whichever RMW
    // comes first; a CAS on a recycled address takes whatever task is there then, which is a
    // queued task all the same (ABA-safe: nothing is read through the pointer before the CAS).
    // `lifo_streak` counts consecutive runs from the slot (owner only).
    atomic<TaskHeader*> lifo{nullptr};
    unsigned lifo_streak = 0;
    // As the watcher: every place's `stats.tasks_run` when it went to sleep (by index), and
    // whether it slept as the watcher since it last found work.
    std::vector<std::uint64_t> watch_runs;
    bool watched = false;
    // Tasks that woke themselves during their poll (yield). Owner only; FIFO.
    TaskHeader* yield_head = nullptr;
    TaskHeader* yield_tail = nullptr;
    std::uint64_t rng = 0x9E3779B97F4A7C15ull;
    unsigned global_take_tick = 0;  // global takes, for the lane rotation
    // The last global take left work behind: take again as soon as the deque is empty, before
    // the LIFO slot, instead of waiting for the next interval (see take_global).
    bool global_backlog = false;
    // rescue_oldest(): the deque's top index at the last check, and for how many checks the
    // deque was deep with it unchanged.
    std::int64_t stuck_top = -1;
    unsigned stuck_checks = 0;
    // The adaptive check interval (WorkerLoopTuning::global_check_target_ns): ticks since the
    // last check, the current interval, when the last check was (0: not measuring, e.g. after
    // the worker ran out of work), and the moving mean of a task's time.
    unsigned since_check = 0;
    unsigned check_interval = WorkerLoopTuning::global_check_interval;
    std::int64_t check_start_ns = 0;
    // Busy time (WorkerMetrics::busy_ns): since when the worker has been busy and not yet
    // counted (0: asleep). Clock reads only when it goes to sleep and at its first task after,
    // and at checks (which read the clock anyway): a worker that runs out of work and finds
    // more by stealing stays busy, so the fork-join path reads no clock of its own.
    std::int64_t busy_since_ns = 0;
    std::int64_t task_ns_mean = 0;
    // The search's back-off (WorkStealingScheduler::back_off): the shortest one seen, whether
    // the last one handed the CPU to another thread (it took more than twice the shortest),
    // and how many searches could have parked early while early parks did not pay
    // (back_off_futile, for the one-in-eight tries).
    std::int64_t back_off_floor_ns = INT64_MAX;
    bool back_off_gave_cpu = true;
    unsigned futile_back_offs = 0;
    // An early park (back_off_futile) is under way, and whether the last one found I/O ready
    // at once (note_early_park) rather than sleeping.
    bool parking_early = false;
    bool early_park_paid = true;
    // The worker has slept once, or the pool's start-up is over (see starting_up).
    bool warm = false;
    // The worker sleeps on it when idle.
    Parker parker;
    WorkerMetrics stats;  // written by this worker only (detail::bump)

    // This worker's private shares (see Scheduler, TaskRegistry, OutstandingWork): spawns and
    // completions on it touch no shared line.
    Scheduler::RefBias bias;
    TaskRegistry::LocalCache registry_cache;
    OutstandingWork::Local work;

    // This thread's registration with the I/O driver (null: none, or no driver), made in
    // `io_room`.
    void* io_registration = nullptr;
    IoDriver::RegistrationRoom io_room;
    // The recycling cache of the task memory freed on this thread (bound by WorkerScope; freed
    // with the worker, after its thread was joined).
    RecyclingCache memory;
    // help_join runs nested tasks only while the stack pointer is above this address (half
    // of the thread's stack; the maximum, by default, disables it: a thread whose stack is
    // unknown, an attached one or a model checker's).
    std::uintptr_t help_stack_floor = UINTPTR_MAX;

    pthread_t thread{};
    bool started = false;  // its thread was created and is not joined yet (start(), then
                           // join_threads() under join_mutex_)
    bool vacant = false;  // its thread failed to start: nobody will ever work here
    // (In the struct's tail padding: the fields above keep their cache lines.)
    // The deque's end index after the last global take that queued work from outside here
    // (not a worker's overflow): while its top is below it, that work waits in the deque, and
    // the LIFO slot's task (made after it) queues behind it (next_task).
    std::int64_t admitted_until = 0;

    std::uint32_t next_random() noexcept {  // xorshift64*
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        return static_cast<std::uint32_t>((rng * 0x2545F4914F6CDD1Dull) >> 32);
    }
};

/// The worker currently running on this thread (of any pool), or null.
inline Worker*& current_worker() noexcept {
    struct Tag;
    return per_thread<Worker*, Tag>();
}

class WorkStealingScheduler final : public Scheduler,
                                    public IoTaskSink,
                                    public AlignedAllocated,
                                    private WorkerLoopTuning {
public:
    /// A pool with `config` (validated by the caller) and no threads yet: `start()` starts them
    /// (src/work_stealing/threads.cpp); a model check calls `add_workers` and runs the workers
    /// itself.
    explicit WorkStealingScheduler(WorkStealingConfig config)
        : Scheduler(/*biased=*/true), cfg_(std::move(config)), global_(cfg_.global_queue_capacity),
          blocking_(*this, BlockingPoolConfig{cfg_.max_blocking_threads, cfg_.blocking_keep_alive,
                                              cfg_.before_blocking_thread_start}) {}

    /// The I/O driver the workers run (runtime/io_driver.hpp), or null, and the timer service
    /// it fires (`zuki::delay` on a worker registers there). Before `start()`.
    void set_io_driver(IoDriver* driver, std::shared_ptr<TimerService> timers) noexcept {
        io_ = driver;
        timers_ = std::move(timers);
    }
    /// The destructor, after Asio's services shut down: no timer fires any more.
    void stop_timers() noexcept {
        if (timers_) timers_->stop();
    }

    // ---- threads (src/work_stealing/threads.cpp) --------------------------------------------
    /// Start `resolved_threads()` workers; a thread that fails to start is reported and the
    /// pool runs with the rest. Throws `std::system_error` if none started.
    void start();
    /// Join every started worker thread (they exit when the pool stops: `stop()`, or a join's
    /// count reaching zero), then wait until every attached thread left (and let no other
    /// attach). Threads may attach while it waits for the workers.
    void join_threads() noexcept;
    /// `join()`: wait for outstanding work, stop, join the threads.
    void join() {
        if (is_own_worker())
            throw std::logic_error(
                "zuki::WorkStealingExecutor::join: called on one of the pool's own workers");
        // The pool stops when the count reaches zero (end_join), or when stop() is called:
        // then the workers exit, and joining them is the whole wait. (An earlier version slept
        // on the count first and then stopped the pool: one more sleep and wake of the joiner,
        // and of every worker.)
        begin_join();
        join_threads();
    }

    // ---- threads that attach (WorkStealingExecutor::attach) ----------------------------------
    /// The calling thread works for the pool in a reserved place (see the file comment) until
    /// the pool stops; returns at once if it is already stopped. Throws `std::logic_error` on an
    /// executor thread, `std::system_error` (resource_unavailable_try_again) if every reserved
    /// place is taken, `std::bad_alloc`; nothing changes then.
    void attach() {
        if (on_executor_thread())
            throw std::logic_error(
                "zuki::WorkStealingExecutor::attach: called on an executor thread (a worker of "
                "this or another executor); attach a thread of your own");
        Worker* w = nullptr;
        {
            std::lock_guard lock(threads_mutex_);
            if (attach_closed_ || shutdown_.stopping()) return;
            w = claim_place();
            attached_inside_.fetch_add(1, std::memory_order_relaxed);  // under the lock
            // From here join_threads() waits for us, and the executor may be destroyed as soon
            // as it stops waiting: our last accesses (Leave below) need a reference of our own.
            acquire();
        }
        struct Leave {
            WorkStealingScheduler& s;
            ~Leave() {
                {
                    std::lock_guard lock(s.threads_mutex_);
                    s.attached_inside_.fetch_sub(1, std::memory_order_relaxed);
                }
                s.attached_left_.notify_all();
                s.release();  // may delete s
            }
        } leave{*this};
        WorkerScope scope(*w);  // left before `leave`
        run_worker(*w);
    }

    /// `join_threads()`'s second half (the model checks, whose workers are not threads, call it
    /// alone): close attaching, then wait until every attached thread left its loop. After
    /// the pool stopped.
    void wait_attached_threads() noexcept {
        for (;;) {
            const std::uint32_t key = attached_left_.prepare_wait();
            {
                std::lock_guard lock(threads_mutex_);
                attach_closed_ = true;
                if (attached_inside_.load(std::memory_order_relaxed) == 0) return;
            }
            attached_left_.wait(key);
        }
    }

    // ---- workers without threads of their own (model checks) ---------------------------------
    /// Make `n` workers and the idle set over them; the caller runs each with `run_worker` on a
    /// thread of its own, inside a `WorkerScope`.
    void add_workers(std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            all_.push_back(std::make_unique<Worker>(this, cfg_.local_queue_capacity));
            all_.back()->started = true;
        }
        prepare_places();
    }

    /// Makes the calling thread worker `w` for the scope's lifetime: registers its private
    /// shares (reference bias, registry cache, task memory cache), its registration with the
    /// I/O driver, and marks it as an executor thread. None of it allocates: a worker thread
    /// that starts and ends touches the heap only for what its tasks do (issue 16).
    class WorkerScope {
    public:
        explicit WorkerScope(Worker& w) noexcept : w_(w), memory_(w.memory) {
            current_worker() = &w;
            Scheduler::current() = w.sched;
            w.bias.owner = w.sched;
            Scheduler::local_bias() = &w.bias;
            w.registry_cache.owner = &w.sched->registry;
            TaskRegistry::local_cache() = &w.registry_cache;
            if (IoDriver* io = w.sched->io_) {
                try {
                    w.io_registration = io->attach_thread(w.io_room);
                } catch (...) {
                    // bad_alloc: this worker runs unregistered (its I/O completions then go
                    // through the driver's shared queue, which workers poll).
                }
            }
            if (w.sched->timers_) current_timer_service() = &w.sched->timers_;
        }
        ~WorkerScope() {
            current_timer_service() = nullptr;
            if (void* r = std::exchange(w_.io_registration, nullptr))
                w_.sched->io_->detach_thread(r);
            TaskRegistry::local_cache() = nullptr;
            Scheduler::local_bias() = nullptr;
            Scheduler::current() = nullptr;
            current_worker() = nullptr;
        }
        WorkerScope(const WorkerScope&) = delete;
        WorkerScope& operator=(const WorkerScope&) = delete;

    private:
        Worker& w_;
        ExecutorThreadScope executor_thread_;
        RecyclingCache::Binding memory_;
    };

    // ---- Scheduler --------------------------------------------------------------------------
    void schedule(TaskHeader* t) noexcept override {
        if (Worker* w = own_worker()) {
            push_lifo(*w, t);
            return;
        }
        // A wake from outside the pool: once the task is published a worker may run it to
        // completion and the executor may be destroyed before we notify, so hold a scheduler
        // reference across the push (found by TSan: timer thread vs destructor).
        acquire();
        push_global(Chunk<TaskHeader>::single(t), t->priority());
        release();  // may delete *this: nothing after
    }
    void report_exception(std::exception_ptr e) noexcept override;  // below the class

    // ---- IoTaskSink ---------------------------------------------------------------------------
    /// Ready I/O on this worker. Completions of the task that just ran go where its spawns
    /// go: the first to the LIFO slot (it runs next, here, as io_context runs an operation that
    /// completed at once), the others to the deque with a notify. Ready I/O from a poll or a
    /// drive goes to the deque, stealable; the caller notifies (a driving worker still counts
    /// as parked).
    void io_ready(TaskHeader* head, std::size_t n, bool continuation) noexcept override {
        Worker* w = own_worker();
        assert(w != nullptr);
        bump(w->stats.io_events, n);
        if (continuation) {
            // (The task that made them has returned: nothing runs on before them here, so
            // they need no watcher.)
            for (TaskHeader* t = head; t != nullptr;) {
                TaskHeader* next = t->next;
                push_lifo(*w, t, /*may_strand=*/false);
                t = next;
            }
            return;
        }
        push_deque_chain(*w, head);
    }
    /// The first socket or timer made the event source: wake a parked worker to drive it
    /// (runtime/io_driver.hpp, "Activation"), unless one is searching (it will park after
    /// this and see the source active).
    void io_activated() noexcept override {
        // seq_cst: the activator's half of the Dekker pair with prepare_park()'s fence: our
        // release store of `active` before, our read of the parked bits after.
        fence(ZUKI_MODEL_WEAKEN(io_activation_fence, std::memory_order_seq_cst,
                                std::memory_order_relaxed));
        idle_->notify_one_fenced();
    }
    /// Help-first join (Scheduler::help_join): a task on this worker awaits `awaited`, which
    /// has not completed. Run this worker's own queued tasks (the LIFO slot, then the deque's
    /// `pop`) inline until it completes, as TBB's `wait` does: a child that completes here
    /// costs no join waker, no wake of the parent and no second poll of it, and `awaited`
    /// itself completes without an RMW when only its handle holds it besides us (TaskHeader::
    /// run's `joined_here`: the handle's holder is the task suspended below us on this stack).
    /// Stops when the local queue is empty, when a periodic check is due (the global queue,
    /// yielded tasks and I/O must not wait behind a nest of joins; the loop does the check
    /// after the parent returns: so a nest is at most one check interval deep), or when half of
    /// the thread's stack is in use (nested joins recurse; a 64 KiB stack under ASan would not
    /// hold 61 levels).
    void help_join(TaskHeader& awaited) noexcept override {
        Worker* w = own_worker();
        if (w == nullptr) return;
        // (The frame address, not a local's: ASan may keep locals on a fake stack.)
        if (reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)) < w->help_stack_floor)
            return;
        while (!awaited.is_complete()) {
            if (++w->since_check >= w->check_interval || shutdown_.stopping()) return;
            TaskHeader* t = lifo_take(*w);
            if (t == nullptr) t = w->deque.pop();
            if (t == nullptr) return;
            run_task(*w, t, /*joined_here=*/t == &awaited);
        }
    }
    void task_finished() noexcept override {
        if (work_.finished(local_work())) end_join();
    }
    /// Every spawn path's check (the executor's own, Handle's, the free functions'): the class
    /// is final, so the executor's call is direct.
    void admit_spawn() const override {
        if (!accepting())
            throw ExecutorStopped("zuki: spawn on a WorkStealingExecutor that was stopped");
    }
    void submit_spawned(TaskHeader* t) noexcept override { submit_new(t); }
    void tasks_added(std::size_t n) noexcept override {
        work_.started(local_work(), static_cast<std::int64_t>(n));
    }
    BlockingPool* blocking_pool() noexcept override { return &blocking_; }
    /// The destructor, after the workers were joined: cancel queued blocking calls and wait for
    /// the running ones (runtime/blocking_pool.hpp).
    void shut_down_blocking() noexcept { blocking_.shutdown(); }

    // ---- submission -------------------------------------------------------------------------
    /// A freshly made task (SCHEDULED, holding its queue reference): count it as outstanding
    /// work and queue it (`submit`).
    void submit_new(TaskHeader* t) noexcept {
        Worker* const w = own_worker();  // (once for both steps: a thread-local read)
        work_.started(w != nullptr ? &w->work : nullptr, 1);
        submit(w, t);
    }
    /// A new task (SCHEDULED, counted as work): from a worker of this pool a Normal or Low task
    /// goes to its LIFO slot, anything else to the global queue.
    void submit(TaskHeader* t) noexcept { submit(own_worker(), t); }
    /// As `submit(t)`, with the caller's `own_worker()`.
    void submit(Worker* w, TaskHeader* t) noexcept {
        const TaskPriority p = t->priority();
        if (w != nullptr && p <= TaskPriority::Normal)
            push_lifo(*w, t);
        else
            push_global(Chunk<TaskHeader>::single(t), p);
    }
    /// An Asio handler: from a worker, a continuation goes to its LIFO slot (runs next), a fork
    /// to its deque (FIFO for the worker, stealable), as thread_pool keeps both on the worker;
    /// from outside, the global queue.
    void submit_handler(TaskHeader* t, bool continuation) noexcept {
        if (Worker* w = own_worker()) {
            if (continuation)
                push_lifo(*w, t);
            else
                push_local(*w, t);
        } else {
            push_global(Chunk<TaskHeader>::single(t), TaskPriority::Normal);
        }
    }
    /// Push a chunk onto the global queue and wake a worker. If the pool is already closed
    /// (destructor), cancel it and everything else queued there instead (shutdown.hpp).
    void push_global(Chunk<TaskHeader> c, TaskPriority p, bool notify = true) noexcept {
        global_.push(c, p);
        if (shutdown_.closed_after_publish()) {
            drain_global();
            return;
        }
        // The fence in closed_after_publish() is the idle protocol's step (b).
        if (notify) idle_->notify_one_fenced();
    }

    // ---- outstanding work (join) ------------------------------------------------------------
    void work_started(std::int64_t n = 1) noexcept { work_.started(local_work(), n); }
    void work_finished() noexcept {
        if (work_.finished(local_work())) end_join();
    }

    // ---- lifecycle --------------------------------------------------------------------------
    /// Workers leave their loops as soon as they finish their current task; spawns are refused.
    void stop() noexcept {
        shutdown_.stop();
        if (idle_) idle_->notify_all();  // the workers exit; a join() waits for that
    }
    /// A join's count reached zero (OutstandingWork::finished / fold returned true, on the
    /// thread that made it so): stop, which the joiner waits for (begin_join). The thread's
    /// writes before its finish happen before the stop (release), which the workers see
    /// before they exit, which pthread_join orders before the joiner's return.
    void end_join() noexcept { stop(); }

    /// `join()`'s first step: announce the join. Every worker folds its count (parked ones are
    /// woken for it), and whoever completes the count (the last fold, or the finish that
    /// reaches zero) stops the pool (end_join): every task, handler and unit of tracked work
    /// has finished by then. Only `join()` may call it (the pool stops when the count is zero).
    void begin_join() noexcept {
        work_.begin_join();
        // Workers whose loop has not begun: acknowledge for them (OutstandingWork::ack_unstarted).
        for (std::size_t i = 0; i < started_; ++i)
            if (work_.ack_unstarted(workers_[i]->work)) end_join();
        // Parked workers wake up to fold their counts: the joiner's half of the Dekker pair
        // with park()'s fold_pending_before_park (IdleSet::notify_all fences).
        idle_->notify_all();
    }
    /// The destructor's drain, after the workers were joined and Asio's services shut down:
    /// cancel every task and handler left, and every later submission (shutdown.hpp).
    void close_and_drain() noexcept {
        shutdown_.close();
        for (auto& w : all_) {
            if (TaskHeader* t = lifo_take(*w)) cancel_queued(t);
            while (TaskHeader* t = w->deque.pop()) cancel_queued(t);
            for (TaskHeader* t = w->yield_head; t != nullptr;) {
                TaskHeader* next = t->next;
                cancel_queued(t);
                t = next;
            }
            w->yield_head = w->yield_tail = nullptr;
        }
        drain_global();
        registry.drain([](TaskHeader* t) {
            t->cancel();
            t->ref_dec();  // the registry's reference
        });
    }
    /// The executor's final release (workers joined): fold every worker's reference delta in.
    void final_release() noexcept {
        std::int64_t total = 0;
        for (auto& w : all_) total += w->bias.delta;
        fold_and_release(total);
    }

    // ---- queries ----------------------------------------------------------------------------
    bool accepting() const noexcept { return shutdown_.accepting(); }
    bool stopped() const noexcept { return shutdown_.stopping(); }
    /// Worker threads that started, plus threads attached now.
    std::size_t thread_count() const noexcept {
        // relaxed: a count for the caller to read, ordered with nothing.
        return started_ - failed_starts_ + attached_inside_.load(std::memory_order_relaxed);
    }
    bool is_own_worker() const noexcept { return own_worker() != nullptr; }
    const WorkStealingConfig& config() const noexcept { return cfg_; }
    Metrics metrics() const {
        Metrics m;
        m.failed_thread_starts = failed_starts_;
        m.handler_failures = handler_failures_.load(std::memory_order_relaxed);
        const BlockingPoolStats b = blocking_.stats();
        m.blocking_threads = b.threads;
        m.blocking_idle = b.idle;
        m.blocking_queued = b.queued;
        const std::size_t n = places();
        m.attached_threads = n - started_;
        m.workers.reserve(n);
        // Each part exact at some recent moment (relaxed reads), not a consistent cut.
        m.tasks_alive = work_.shared_count();
        for (std::size_t i = 0; i < n; ++i) {
            Worker& w = *workers_[i];
            if (w.vacant) continue;  // (written before the constructor returned)
            m.workers.push_back(snapshot(w.stats));
            m.workers.back().local_queued = w.deque.size();
            m.tasks_alive += w.work.read();
        }
        for (std::size_t p = 0; p < task_priority_levels; ++p)
            m.global_queued[p] =
                std::max<std::int64_t>(global_.size_hint(static_cast<TaskPriority>(p)), 0);
        return m;
    }
    /// Worker `i` (of the places in use).
    Worker& worker(std::size_t i) const noexcept { return *workers_[i]; }
    /// The idle set and the outstanding-work count (for tests and model checks).
    const IdleSet& idle_set() const noexcept { return *idle_; }
    const OutstandingWork& outstanding_work() const noexcept { return work_; }

    // ---- the worker loop --------------------------------------------------------------------
    /// Worker `w`'s loop, until `stop()`. The calling thread is inside `WorkerScope(w)`.
    void run_worker(Worker& w) noexcept {
        work_.enter(w.work);
        bool searching = false;
        for (;;) {
            if (shutdown_.stopping()) return count_busy(w, 0);
            if (work_.fold_pending(w.work) && work_.fold(w.work)) end_join();
            TaskHeader* t = next_task(w);
            if (t == nullptr) {
                w.check_start_ns = 0;  // out of work: the time until more is not a task's
                if (!searching) searching = idle_->try_begin_search();
                if (searching) t = search(w);
                if (t == nullptr && searching && starting_up(w)) {
                    spin_pause();  // (a search that parks early made no pause of its own)
                    continue;
                }
                if (t == nullptr) {
                    w.warm = true;  // from its first sleep on, the search's own rules decide
                    const std::int64_t early_since = w.parking_early ? monotonic_ns() : 0;
                    t = park(w, searching);
                    if (early_since != 0) note_early_park(w, monotonic_ns() - early_since);
                    searching = true;  // a parked worker wakes as a searcher
                    if (t == nullptr) continue;
                }
            }
            if (searching) {
                searching = false;
                if (idle_->end_search()) pass_the_baton();
            }
            if (w.watched) {  // the watcher found work: ask for another watcher
                w.watched = false;
                idle_->hand_off_watch();
                // A slot another worker filled while we still watched asked for nobody: if one
                // is filled now, have a parked worker take the role at once (the request just
                // raised is consumed). A slot filled after this look asks by itself.
                if (other_lifo_filled(w)) idle_->request_watcher();
            }
            if constexpr (global_check_target_ns != 0) {
                if (w.busy_since_ns == 0) w.busy_since_ns = monotonic_ns();  // busy from here
            }
            run_task(w, t);
        }
    }

private:
    Worker* own_worker() const noexcept {
        Worker* w = current_worker();
        return w != nullptr && w->sched == this ? w : nullptr;
    }
    OutstandingWork::Local* local_work() const noexcept {
        Worker* w = own_worker();
        return w != nullptr ? &w->work : nullptr;
    }

    static void* thread_main(void* worker) noexcept;  // threads.cpp

    // Before any worker thread runs: index every worker (a place whose thread then fails to
    // start is vacated, not removed: vacate), reserve the places of attached threads, and build
    // the idle set over both. pthread_create publishes all of it to each worker.
    void prepare_places() {
        workers_.clear();
        for (auto& w : all_) workers_.push_back(w.get());
        started_ = workers_.size();
        std::vector<Parker*> parkers;
        parkers.reserve(started_);
        const std::size_t reserved = cfg_.max_attached_threads;
        for (std::size_t i = 0; i < started_; ++i) {
            seed(*workers_[i], i);
            workers_[i]->watch_runs.resize(started_ + reserved);
            parkers.push_back(&workers_[i]->parker);
        }
        idle_ = std::make_unique<IdleSet>(started_, parkers.data(), reserved);
        workers_.resize(started_ + reserved, nullptr);
        all_.reserve(all_.size() + reserved);  // claim_place's push_back cannot throw
        work_.set_workers(started_);
        active_.store(started_, std::memory_order_relaxed);  // published by pthread_create
    }
    // Place `i`'s thread failed to start, and the others may be running already: to them it
    // becomes a place nobody works at, as a reserved place that no thread attached to (awake
    // forever in the idle set's counts, never parked, so never woken; an empty deque to steal
    // from), and its count is folded for good (a join waits for no acknowledgement from it).
    void vacate(std::size_t i) noexcept {
        Worker& w = *workers_[i];
        w.vacant = true;
        idle_->vacate();
        work_.vacate(w.work);
    }
    static void seed(Worker& w, std::size_t i) noexcept {
        w.index = i;
        w.rng ^= (i + 1) * 0x9E3779B97F4A7C15ull;
    }

    // attach(), under threads_mutex_: make the worker of the next reserved place and publish it.
    Worker* claim_place() {
        // relaxed: written under threads_mutex_ only, which we hold.
        const std::size_t i = active_.load(std::memory_order_relaxed);
        if (i == workers_.size())
            throw std::system_error(
                std::make_error_code(std::errc::resource_unavailable_try_again),
                "zuki::WorkStealingExecutor::attach: every place for an attached thread is taken "
                "(WorkStealingConfig::max_attached_threads = " +
                    std::to_string(cfg_.max_attached_threads) + ")");
        auto w = std::make_unique<Worker>(this, cfg_.local_queue_capacity);
        seed(*w, i);
        w->watch_runs.resize(workers_.size());
        // Counts outstanding work in the shared count from the start: a join() that began
        // before we came waits for no acknowledgement from us (OutstandingWork).
        w->work.folded = true;
        w->work.entry.store(OutstandingWork::Local::entered, std::memory_order_relaxed);
        idle_->attach(i, &w->parker);
        workers_[i] = w.get();
        all_.push_back(std::move(w));  // within the reserved capacity
        // release: thieves that load the count (places()) see the worker and its deque.
        active_.store(i + 1, std::memory_order_release);
        return workers_[i];
    }
    // The places in use: workers_[0, places()) are valid.
    std::size_t places() const noexcept {
        if (cfg_.max_attached_threads == 0) return started_;  // fixed (no load in model checks)
        // acquire: pairs with claim_place()'s release.
        return active_.load(std::memory_order_acquire);
    }

    // ---- submission paths (owner side) ------------------------------------------------------
    // A spawn or wake by the task running on `w`: into the LIFO slot (see Worker::lifo).
    // `may_strand`: the task that fills the slot may run on for long (false: it has returned).
    void push_lifo(Worker& w, TaskHeader* t, bool may_strand = true) noexcept {
        // relaxed: only this thread fills the slot; a thief only empties it.
        if (w.lifo.load(std::memory_order_relaxed) == nullptr) {
            // release: the watcher's acquire CAS that may take it sees the task as made.
            w.lifo.store(t, ZUKI_MODEL_WEAKEN(lifo_fill_release, std::memory_order_release,
                                              std::memory_order_relaxed));
            // The pool came out of an all-parked state: make sure a parked worker watches.
            if constexpr (lifo_watch_period_ns > 0) {
                if (may_strand && idle_->watcher_wanted()) idle_->request_watcher();
            }
            return;
        }
        // release: as above. The displaced task may have been stolen meanwhile (null).
        if (TaskHeader* prev = w.lifo.exchange(t, std::memory_order_release)) push_local(w, prev);
    }
    // Owner: take the slot's task (null if empty, or stolen a moment ago).
    static TaskHeader* lifo_take(Worker& w) noexcept {
        // relaxed: the owner takes what it put there itself; the RMW only settles a race with
        // the watcher's CAS.
        if (w.lifo.load(std::memory_order_relaxed) == nullptr) return nullptr;
        return w.lifo.exchange(nullptr, std::memory_order_relaxed);
    }
    // Owner: work that a global take admitted from outside still waits in w's deque (see
    // Worker::admitted_until; the owner wrote the mark). The relaxed read of top may be stale:
    // top only grows, so that keeps the rule in force a little longer, never ends it early.
    static bool admitted_waiting(const Worker& w) noexcept {
        return w.deque.taken_from_top() < w.admitted_until;
    }
    static bool lifo_empty(const Worker& w) noexcept {
        return w.lifo.load(std::memory_order_relaxed) == nullptr;  // relaxed: a look
    }
    void push_local(Worker& w, TaskHeader* t) noexcept {
        if (!w.deque.push(t)) overflow(w, t);
        // Every push notifies. (Notifying once per poll was tried: a searcher that had already
        // passed the search on missed the later pushes, and a barrier of tasks spawned from
        // one task hung, the spawner's worker blocked in the barrier; test/fault/
        // thread_start.cpp.)
        idle_->notify_one();
    }
    // Move half of a full deque plus `t` to the global queue in one push.
    // A deque holds Normal and Low work: one chunk per priority present, so every task
    // travels in its own lane.
    void overflow(Worker& w, TaskHeader* t) noexcept {
        Chunk<TaskHeader> lanes[task_priority_levels] = {};
        const auto add = [&lanes](TaskHeader* x) noexcept {
            Chunk<TaskHeader>& l = lanes[static_cast<std::size_t>(x->priority())];
            x->next = nullptr;
            (l.count != 0 ? l.tail->next : l.head) = x;
            l.tail = x;
            ++l.count;
            l.overflow = true;
        };
        w.deque.take_half(add);  // linked as they are claimed: no buffer
        add(t);
        bump(w.stats.overflows);
        for (std::size_t p = 0; p < task_priority_levels; ++p)
            if (lanes[p].count != 0)
                push_global(lanes[p], static_cast<TaskPriority>(p), /*notify=*/false);
    }

    static void cancel_queued(TaskHeader* t) noexcept {
        t->cancel_scheduled();
        t->ref_dec();  // the queue's reference
    }
    void drain_global() noexcept {
        for (;;) {
            Chunk<TaskHeader> c = global_.pop();
            if (c.count == 0) return;
            TaskHeader* t = c.head;
            for (std::size_t i = 0; i < c.count; ++i) {
                TaskHeader* next = t->next;
                cancel_queued(t);
                t = next;
            }
        }
    }

    // ---- the loop's steps -------------------------------------------------------------------
    // The last searcher found work: wake one parked worker if work is left for it (Tokio wakes
    // one unconditionally; doing it only when has_work() says so keeps a futex wake and a
    // spurious search off the path of a lone task, e.g. a wake into an idle pool). Liveness
    // never depends on this wake: this worker re-checks every queue before it parks. The fence
    // makes it prompt: a submitter that saw us still searching did not wake anyone, and either
    // its push is visible to has_work() here (our end_search RMW, fence, read vs its push,
    // fence, read of the counters: one of the two sees the other), or it saw the search end and
    // woke a worker itself.
    void pass_the_baton() noexcept {
        // seq_cst: see above; pairs with the fence in push_global() / IdleSet::notify_one().
        fence(std::memory_order_seq_cst);
        if (has_work()) idle_->notify_one_fenced();
    }

    // `joined_here`: t is the task whose JoinHandle a task on this thread awaits (help_join).
    void run_task(Worker& w, TaskHeader* t, bool joined_here = false) noexcept {
        bump(w.stats.tasks_run);
        const RunOutcome outcome = t->run(/*release_when_done=*/true, joined_here);
        // Completions the task's I/O produced at once (a speculative write, a cancellation)
        // wait in this thread's private queue of the driver: make them tasks here.
        if (w.io_registration != nullptr) io_->drain_thread(w.io_registration);
        switch (outcome) {
            case RunOutcome::finished:  // done (run(true) leaves the count to us)
                if (work_.finished(&w.work)) end_join();
                t->ref_dec();  // the queue's reference
                break;
            case RunOutcome::idle:
                t->ref_dec();  // the queue's reference
                break;
            case RunOutcome::released:  // done, and it gave up the queue's reference itself
                if (work_.finished(&w.work)) end_join();
                break;
            case RunOutcome::reschedule:  // it woke itself: run it after what is queued
                t->next = nullptr;
                if (w.yield_tail != nullptr)
                    w.yield_tail->next = t;
                else
                    w.yield_head = t;
                w.yield_tail = t;
                break;
        }
    }

    // Order: every 61 ticks the global queue and the yielded tasks first, and then the deque's
    // oldest task (none of the three can starve behind local work); then the LIFO slot (at most
    // max_lifo_streak in a row, after which its task queues like any other and the oldest
    // local task runs); the deque; the global queue; a steal round; and only then this worker's
    // own yielded tasks: a yield lets other work run, outside submissions and work queued on
    // other workers included (Tokio defers yielded tasks the same way). Yielded tasks wait at
    // most one interval.
    TaskHeader* next_task(Worker& w) noexcept {
        if (++w.since_check >= w.check_interval) {
            const std::int64_t now = tune_check_interval(w);
            flush_yielded(w);
            poll_io(w, now);  // a busy pool still notices I/O and timers
            if (TaskHeader* t = take_global(w)) return release_lifo(w), t;
            if (TaskHeader* t = rescue_oldest(w)) return release_lifo(w), t;
        }
        // Outside work is waiting and the local queue ran dry: it goes before the LIFO slot.
        // (A handler that keeps re-posting itself to the deque keeps it from running dry: the
        // adaptive interval above lets the waiting work in. Taking again once the admitted
        // tasks had their turn was tried; with a fork-join that overflows it fed back into
        // overflow and made every task pass through the global queue.)
        if (w.global_backlog && w.deque.empty()) {
            if (TaskHeader* t = take_global(w)) return t;
        }
        if (TaskHeader* t = lifo_take(w)) {
            // Work admitted from outside still waits in the deque: it was waiting before this
            // task was made, so it runs first, and the task queues behind it. (A handler that
            // re-posts itself ran from the slot up to max_lifo_streak + 1 times per admitted
            // task whenever a check admitted more while it sat in the middle of the deque:
            // outside work waited 2-2.7 ms on average on 2 workers; issue 11.) From the oldest
            // end: the admitted tasks are there (take_global keeps them in the shallow part).
            // Queued with a notify (push_local): the task that runs now may block, and a task
            // left behind it unannounced would wait for it with the other workers parked.
            if (admitted_waiting(w)) {
                w.lifo_streak = 0;
                push_local(w, t);
                // (Null only if thieves emptied the deque meanwhile, t included: an overflow
                // moves the older half and leaves the newer one here.)
                return w.deque.pop_oldest();
            }
            if (w.lifo_streak < max_lifo_streak) {
                ++w.lifo_streak;
                return t;
            }
            // Queue it like any other, without a notify (as Tokio: the tasks already in the
            // deque were announced when they were pushed, and a wake per streak would cost a
            // fork-join dearly), and run what the deque gives next: taken before the push (a
            // deep deque pops newest first, and would hand this very task back), by the
            // deque's usual order, so a fork-join keeps its depth-first shape (oldest first here
            // would expand the biggest subtrees breadth-first).
            w.lifo_streak = 0;
            TaskHeader* next = w.deque.pop();
            if (next == nullptr) return t;  // nothing else local: it goes on
            if (!w.deque.push(t)) overflow(w, t);
            return next;
        }
        w.lifo_streak = 0;
        if (TaskHeader* t = w.deque.pop()) return t;
        if (TaskHeader* t = take_global(w)) return t;
        if (w.yield_head != nullptr) {
            // Only yielded tasks left here: work queued on another worker goes first, as Tokio
            // searches before it runs its deferred tasks. (A worker that ran nothing but a task
            // yielding in a loop never looked at the other deques, and a task queued behind a
            // worker held by a long task waited for as long: test/fault/shutdown_drop.cpp's
            // gates.)
            if (TaskHeader* t = steal_round(w)) return t;
            flush_yielded(w);
            return w.deque.pop();
        }
        return nullptr;
    }

    // Deep, the deque pops newest first (shallow, oldest first anyway), so a task that keeps
    // re-queueing itself on a deep deque would hold its oldest task back for good. That task
    // runs once it has waited through `stuck_checks_before_rescue` checks with the deque deep
    // all along. Not at every check: a fork-join keeps its deque deep, and running its oldest
    // task (the biggest subtree) expands the tree breadth-first until the deque overflows.
    TaskHeader* rescue_oldest(Worker& w) noexcept {
        if (w.deque.size() <= w.deque.max_steal()) {
            w.stuck_checks = 0;
            return nullptr;
        }
        const std::int64_t top = w.deque.taken_from_top();
        if (top != w.stuck_top) {
            w.stuck_top = top;
            w.stuck_checks = 0;
            return nullptr;
        }
        if (++w.stuck_checks < stuck_checks_before_rescue) return nullptr;
        w.stuck_checks = 0;
        return w.deque.pop_oldest();
    }

    // The worker is about to run something other than its LIFO slot's task: queue that task
    // where thieves see it, and announce it. Invisible in the slot, it would wait for the other
    // task to finish however long it runs, with the other workers idle (a barrier of tasks, one
    // per worker, spawned from a task, hung this way).
    void release_lifo(Worker& w) noexcept {
        w.lifo_streak = 0;
        if (TaskHeader* l = lifo_take(w)) push_local(w, l);
    }

    // At a check: fold the mean task time of the interval that ends into the moving mean and
    // size the next interval from it. Returns the time.
    static std::int64_t tune_check_interval(Worker& w) noexcept {
        w.since_check = 0;
        if constexpr (global_check_target_ns == 0) return 0;
        const std::int64_t now = monotonic_ns();
        if (w.check_start_ns != 0) {
            const std::int64_t per_task = (now - w.check_start_ns) / w.check_interval;
            // A moving mean over intervals (weight 1/4: a change of shape shows in a few).
            w.task_ns_mean =
                w.task_ns_mean == 0 ? per_task : w.task_ns_mean + (per_task - w.task_ns_mean) / 4;
            const std::int64_t n =
                global_check_target_ns / std::max<std::int64_t>(w.task_ns_mean, 1);
            w.check_interval = static_cast<unsigned>(
                std::clamp<std::int64_t>(n, min_global_check_interval, global_check_interval));
        }
        w.check_start_ns = now;
        count_busy(w, now);
        return now;
    }

    // Add the busy time since busy_since_ns to the worker's counter (metrics() sees it), and go
    // on counting from `now`, or stop counting (now == 0: the worker turns idle).
    static void count_busy(Worker& w, std::int64_t now) noexcept {
        if constexpr (global_check_target_ns == 0) return;  // no clock (model checks)
        if (w.busy_since_ns == 0) return;
        const std::int64_t t = now != 0 ? now : monotonic_ns();
        bump(w.stats.busy_ns, static_cast<std::uint64_t>(t - w.busy_since_ns));
        w.busy_since_ns = now;
    }

    // Move yielded tasks into the deque (visible to thieves again). Returns true if any.
    bool flush_yielded(Worker& w) noexcept {
        TaskHeader* t = w.yield_head;
        if (t == nullptr) return false;
        w.yield_head = w.yield_tail = nullptr;
        push_deque_chain(w, t);
        return true;
    }

    // Push a null-terminated list onto w's deque in one publication; what does not fit
    // overflows as usual. No notify.
    void push_deque_chain(Worker& w, TaskHeader* head) noexcept {
        TaskHeader* rest = nullptr;
        w.deque.push_chain(head, SIZE_MAX, rest);
        while (rest != nullptr) {  // the deque filled up: the rest overflows as usual
            TaskHeader* next = rest->next;
            if (!w.deque.push(rest)) overflow(w, rest);
            rest = next;
        }
    }

    // Take from the global queue: the first task to run now, and a fair share of the rest into
    // the deque — Go's len/workers + 1 (Tokio since 1.29 does the same), and never more than
    // keeps the deque in its shallow part (max_steal), where its owner pops oldest first. So
    // outside work gets in at the pace the pool runs, however it was submitted (a chunk of one per
    // post, or a batch), and behind the local work that was waiting before it. What does not fit
    // goes back in one push per chunk, to its own lane; if some is left there, the worker takes
    // again as soon as its deque runs dry (global_backlog). One take in `lane_rotation` serves the
    // lowest non-empty lane first, so a steady stream of higher-priority work slows the lower lanes
    // but never stops them.
    TaskHeader* take_global(Worker& w) noexcept {
        w.global_backlog = false;
        if (global_.empty_hint()) return nullptr;
        const bool lowest_first = ++w.global_take_tick % lane_rotation == 0;
        Chunk<TaskHeader> c = global_.pop(lowest_first);
        if (c.count == 0) return nullptr;
        bump(w.stats.global_takes);
        TaskHeader* first = c.head;
        const std::int64_t depth = static_cast<std::int64_t>(w.deque.size());
        // In the shallow part (where pop is oldest-first), with a place left for the LIFO
        // slot's task.
        const std::int64_t room = static_cast<std::int64_t>(w.deque.max_steal()) - depth - 1;
        // Go's share, len/workers + 1, counts the task to run now: `first` is that one, so what
        // stays queued after taking it is shared among the workers (rounding down: two tasks
        // for two workers stay one each, none stranded behind a worker that may now block).
        const std::int64_t share = global_.size_hint() / static_cast<std::int64_t>(places());
        // Work an earlier take admitted still waits in the deque (a check came before it ran
        // out): this chunk, `first` included, queues behind it, and the oldest admitted task
        // runs now. Outside work of a lane then runs in the order it was submitted.
        const bool behind = admitted_waiting(w) && room > 0;
        const std::int64_t keep = static_cast<std::int64_t>(c.count) - (behind ? 0 : 1);
        std::int64_t budget = std::min(room, keep + std::max<std::int64_t>(share, 0));
        bool queued_locally = false;
        // The rest of this chunk (all of it, when behind), then more chunks while the budget
        // lasts.
        Chunk<TaskHeader> rest =
            behind ? c : Chunk<TaskHeader>{first->next, c.tail, c.count - 1, c.overflow};
        // Work from outside queued here (not a fork-join's overflow: a fork-join runs its
        // children depth-first from the LIFO slot, and sending them behind its own overflowed
        // subtrees expanded it breadth-first, skynet 1.4x slower).
        bool admitted = false;
        for (;;) {
            if (rest.count != 0) {
                const TaskPriority lane = rest.head->priority();
                TaskHeader* left = nullptr;
                const std::size_t pushed =
                    budget > 0
                        ? w.deque.push_chain(
                              rest.head,
                              std::min<std::size_t>(rest.count, static_cast<std::size_t>(budget)),
                              left)
                        : 0;
                budget -= static_cast<std::int64_t>(pushed);
                queued_locally = queued_locally || pushed != 0;
                admitted = admitted || (pushed != 0 && !rest.overflow);
                if (pushed < rest.count)
                    push_global(Chunk<TaskHeader>{pushed != 0 ? left : rest.head, rest.tail,
                                                  rest.count - pushed, rest.overflow},
                                lane, /*notify=*/false);
            }
            if (budget <= 0 || global_.empty_hint()) break;
            rest = global_.pop(lowest_first);
            if (rest.count == 0) break;
        }
        if (queued_locally) {
            if (admitted) w.admitted_until = w.deque.end_index();
            // The work that was waiting outside runs before the task in the LIFO slot, which was
            // made after it (a task that keeps re-submitting itself would otherwise cut in).
            if (TaskHeader* l = lifo_take(w)) {
                if (!w.deque.push(l)) overflow(w, l);
                w.lifo_streak = 0;
            }
            idle_->notify_one();  // let an idle worker steal some
        }
        w.global_backlog = !global_.empty_hint();
        // (Null if thieves took everything meanwhile, the chunk included: the caller goes on.)
        if (behind) first = w.deque.pop_oldest();
        return first;
    }

    // Steal rounds over every other worker, the global queue, and ready I/O (a searcher that
    // spins would otherwise sit on events nobody is watching), with a back-off between rounds.
    // A pool of one has nobody to steal from: one look, no spinning.
    TaskHeader* search(Worker& w) noexcept {
        const std::size_t n = places();
        const int rounds = n > 1 ? search_rounds : 1;
        for (int round = 0; round < rounds; ++round) {
            if (TaskHeader* t = steal_round(w, n)) return t;
            if (TaskHeader* t = take_global(w)) return t;
            if (poll_io(w)) {
                if (TaskHeader* t = w.deque.pop()) return t;
            }
            if (shutdown_.stopping()) return nullptr;
            if (round + 1 < rounds) {
                if (lone_without_io() || back_off_futile(w)) return nullptr;  // park now
                back_off(w);
                bump(w.stats.back_offs);
            }
        }
        return nullptr;
    }
    // Whether worker `w`, a searcher that found nothing, should search on instead of parking
    // because the pool is starting: until its constructor returned, and startup_search_ns
    // after. Measured (issue 16, doc/benchmarks.md): construct, post one handler, join, on two
    // workers, was 1.10-1.18x asio::thread_pool with every new worker parking as soon as its
    // first search failed, and the post and the join each woke a parked worker; asio's
    // threads, whose start usually comes after the post, found the handler at once. Bounded:
    // each searcher (at most half the workers, IdleSet::try_begin_search) spins, with a
    // sched_yield a round so that the constructing thread gets its CPU, for the constructor's
    // time plus startup_search_ns, once per pool. A worker that has slept once never does it
    // again (`warm`), whatever the clock says.
    bool starting_up(Worker& w) noexcept {
        if constexpr (WorkerLoopTuning::startup_search_ns == 0) {
            return false;
        } else {
            if (w.warm) return false;
            // relaxed: a hint; a stale INT64_MAX only lets the search go on one more round.
            if (monotonic_ns() < startup_until_ns_.load(std::memory_order_relaxed)) return true;
            w.warm = true;
            return false;
        }
    }
    // Whether a searcher that found nothing in a whole round should park at once: it is the
    // only worker awake and no reactor is active. Spinning is for stealable work that other
    // workers may make in the next microseconds; with nobody else awake, none can come: only a
    // post from outside or a timer, and each wakes a parked worker as soon as a spinning one
    // would find it (as io_context's and thread_pool's threads sleep as soon as their queue is
    // empty). Spinning there costs more than the CPU: its back-off (sched_yield) leaves the
    // thread runnable beside the one that posted, so the kernel moves one of them to the idle
    // CPU, and the next wake-up lands on a CPU that must first come out of its idle state (a
    // halted vCPU here: 37 us scheduling delay against 1 us on the poster's own CPU; issue 11,
    // doc/benchmarks.md, eighteenth stop). With a reactor, back_off_futile decides (parking at
    // once lost HTTP throughput there). A hint (relaxed counts): a wrong answer only parks a
    // searcher one round early or spins it as before; park() re-checks every queue.
    bool lone_without_io() const noexcept {
        return idle_->alone_awake() && (io_ == nullptr || !io_->is_active());
    }
    // The back-off between two search rounds: a sched_yield, which lets a thread waiting for
    // this CPU (a client on the same machine, another process) run before we look again.
    // Timed, to learn whether it did: a yield that hands the CPU over and gets it back takes
    // two context switches and the other thread's run, one that finds nobody waiting only the
    // system call (1.2 us on the project's VM, 0.2-0.5 us on bare metal).
    void back_off(Worker& w) noexcept {
        if constexpr (!WorkerLoopTuning::timed_back_off) {
            spin_pause();
        } else {
            const std::int64_t t0 = monotonic_ns();
            spin_pause();
            const std::int64_t took = monotonic_ns() - t0;
            w.back_off_floor_ns = std::min(w.back_off_floor_ns, took);
            w.back_off_gave_cpu = took > 2 * w.back_off_floor_ns;
        }
    }
    // Whether a searcher should stop spinning and park (in the reactor) now. Spinning is for
    // work that other workers may make in the next microseconds (stealable tasks) and for a
    // thread that needs this CPU meanwhile. A worker that is the only one awake, whose last
    // back-off handed its CPU to nobody, has neither: what can come is I/O, a timer or a post
    // from outside, and each of them finds it sooner asleep in the reactor (a zero-length
    // timer re-armed by the task it just ran fires there at once; the post interrupts it)
    // than after three more yields. So it parks, the reactor being free, as io_context's
    // thread goes to epoll_wait when its queue is empty. But only while early parks pay
    // (note_early_park): parking at once always lost HTTP throughput (doc/benchmarks.md,
    // fifteenth and sixteenth stops).
    // Liveness does not rest on any of it: a search may end after any round, park() re-checks
    // every queue before sleeping.
    bool back_off_futile(Worker& w) noexcept {
        if constexpr (!WorkerLoopTuning::timed_back_off) {
            return false;
        } else {
            if (w.back_off_gave_cpu || io_ == nullptr || !io_->is_active() || io_->locked_hint() ||
                !idle_->alone_awake())
                return false;
            // Park early while early parks pay; else back off, but try one in eight searches.
            if (!w.early_park_paid &&
                ++w.futile_back_offs % WorkerLoopTuning::futile_back_off_probe != 0)
                return false;
            w.parking_early = true;
            return true;
        }
    }
    // After an early park: it paid if the reactor had something ready at once (the park took
    // about what the skipped back-offs would have: a re-armed timer, a reply already in), not
    // if the worker slept in it. A sleep costs a wake-up, where spinning a few microseconds
    // more would often have found the event ready when it reached the reactor (a request
    // stream from 64 connections): there the back-off stays until a later try pays.
    void note_early_park(Worker& w, std::int64_t took_ns) noexcept {
        w.parking_early = false;
        const std::int64_t skipped = (WorkerLoopTuning::search_rounds - 1) * w.back_off_floor_ns;
        w.early_park_paid = took_ns <= 2 * skipped;
    }

    // One look at every other worker's deque, from a random one on: steal half of the first
    // that has work. Returns the task to run now (the rest landed in w's deque), or null.
    TaskHeader* steal_round(Worker& w, std::size_t n) noexcept {
        const std::size_t start = n > 1 ? w.next_random() % n : 0;
        for (std::size_t k = 0; k < n; ++k) {
            Worker& v = *workers_[(start + k) % n];
            if (&v == &w) continue;
            std::size_t stolen = 0;
            if (TaskHeader* t = v.deque.steal_half_into(w.deque, stolen)) {
                bump(w.stats.steals);
                bump(w.stats.tasks_stolen, stolen);
                return t;
            }
        }
        return nullptr;
    }
    TaskHeader* steal_round(Worker& w) noexcept { return steal_round(w, places()); }

    // The watcher, after its sleep: take the task of a LIFO slot whose owner has started no
    // task since the watcher went to sleep (so it has been running one task for a whole watch
    // period, with the slot's task waiting behind it, invisible to everyone else).
    TaskHeader* steal_stranded(Worker& w, std::size_t n) noexcept {
        for (std::size_t k = 0; k < n; ++k) {
            Worker& v = *workers_[k];
            if (&v == &w) continue;
            // acquire: pairs with the owner's release store or exchange that filled the slot,
            // so the task is seen as made.
            TaskHeader* t = v.lifo.load(std::memory_order_acquire);
            // (The task count is a relaxed read: a stale one only delays or hastens a steal;
            // the CAS below alone decides who owns the task.)
            if (t == nullptr || read_counter(v.stats.tasks_run) != w.watch_runs[k]) continue;
            // acquire: as above (the value we take is the one the owner stored).
            if (v.lifo.compare_exchange_strong(t, nullptr, std::memory_order_acquire,
                                               std::memory_order_relaxed)) {
                bump(w.stats.steals);
                bump(w.stats.tasks_stolen);
                return t;
            }
        }
        return nullptr;
    }

    // True if another worker's LIFO slot holds a task (relaxed loads: a hint; nothing is read
    // through the pointers).
    bool other_lifo_filled(const Worker& w) const noexcept {
        for (std::size_t k = 0, n = places(); k < n; ++k) {
            const Worker& v = *workers_[k];
            if (&v != &w && v.lifo.load(std::memory_order_relaxed) != nullptr) return true;
        }
        return false;
    }

    bool has_work() const noexcept {
        if (!global_.empty_hint()) return true;
        for (std::size_t i = 0, n = places(); i < n; ++i)
            if (!workers_[i]->deque.empty()) return true;
        return false;
    }

    // Poll the I/O driver without blocking, if nobody else is inside it; what is ready lands in
    // this worker's deque, and an idle worker is woken if there is more than one.
    bool poll_io(Worker& w, std::int64_t now = 0) noexcept {
        if (io_ == nullptr || !io_->is_active()) return false;
        if constexpr (io_busy_poll_period_ns > 0) {
            if (now == 0) now = monotonic_ns();
            // relaxed: a hint; two workers that both see it due poll one after the other.
            if (now < next_io_poll_ns_.load(std::memory_order_relaxed)) return false;
        }
        if (!io_->try_lock()) return false;
        if constexpr (io_busy_poll_period_ns > 0)
            next_io_poll_ns_.store(now + io_poll_period_ns_, std::memory_order_relaxed);
        const std::size_t delivered = io_->poll();
        if constexpr (io_busy_poll_period_ns > 0) {
            // A batch found: events come faster than we poll; poll less often (see
            // next_busy_poll_period). relaxed: as above.
            const std::int64_t period = next_busy_poll_period(io_poll_period_ns_, delivered);
            if (period != io_poll_period_ns_) {
                io_poll_period_ns_ = period;
                next_io_poll_ns_.store(now + period, std::memory_order_relaxed);
            }
        }
        io_->unlock();
        if (w.deque.size() > 1) idle_->notify_one();
        return delivered != 0;
    }

    // Park (park.hpp), or find work on the way. Returns a task the watcher took from a LIFO
    // slot, or null: the worker is awake and searching again either way.
    TaskHeader* park(Worker& w, bool searching) noexcept {
        // The re-check of the idle protocol (park.hpp). A pending fold too: join() stores
        // join_waiting_ and then wakes parked workers (a Dekker pair with our parked bit +
        // fence), so a worker that has not folded its count yet either sees it here or is woken.
        const auto work_pending = [&] {
            return has_work() || shutdown_.stopping() || w.yield_head != nullptr ||
                   !lifo_empty(w) || work_.fold_pending_before_park(w.work);
        };
        w.watched = false;
        if (!begin_park(*idle_, w.index, searching, work_pending)) return nullptr;
        bump(w.stats.parks);
        count_busy(w, 0);  // busy until here; from the next task on again
        TaskHeader* found = nullptr;
        if constexpr (lifo_watch_period_ns > 0) {
            // The watcher, if one is wanted (concurrent/idle_set.hpp): timed sleeps on its
            // futex, which are exact (the driver's are whole milliseconds), each ending with a
            // look at the LIFO slots and at ready I/O (if nobody else drives it).
            if (idle_->try_watch(w.index)) {
                note_tasks_run(w);
                const auto keep_watching = [&] {
                    if (!shutdown_.stopping() && idle_->others_awake()) {
                        note_tasks_run(w);
                        return true;
                    }
                    idle_->end_watch();
                    return false;
                };
                // Ready I/O lands in the deque; an operation completed here (one a thread
                // outside posted to Asio's queue) may wake a task into our own LIFO slot.
                const auto look = [&] {
                    if ((found = steal_stranded(w, places())) != nullptr) return true;
                    return poll_io(w) || !w.deque.empty() || !lifo_empty(w);
                };
                const bool done =
                    sleep_watching(*idle_, w.index, std::chrono::nanoseconds(lifo_watch_period_ns),
                                   keep_watching, look);
                idle_->end_watch();  // (given up already if not done: a second store is harmless)
                w.watched = true;
                if (done) {
                    bump(w.stats.unparks);
                    return found;
                }
                // Still parked: sleep on as any parker (the driver may be free now).
            }
        }
        // With an I/O driver nobody is inside, sleep in it (runtime/io_driver.hpp).
        if (io_ != nullptr && io_->is_active() && io_->try_lock()) {
            sleep_driving(*idle_, w.index, *io_);
            io_->unlock();
        } else {
            sleep_until_woken(*idle_, w.index);
        }
        bump(w.stats.unparks);
        return nullptr;
    }
    // The watcher: note every place's task count (see steal_stranded).
    void note_tasks_run(Worker& w) noexcept {
        for (std::size_t k = 0, n = places(); k < n; ++k)
            w.watch_runs[k] = read_counter(workers_[k]->stats.tasks_run);
    }

    WorkStealingConfig cfg_;
    IoDriver* io_ = nullptr;
    // When poll_io() may next make the system call (monotonic ns; see io_busy_poll_period_ns).
    alignas(cache_line) atomic<std::int64_t> next_io_poll_ns_{0};
    // The busy-poll period now (next_busy_poll_period): the driver's lock holder only.
    std::int64_t io_poll_period_ns_ = io_busy_poll_period_ns;
    std::shared_ptr<TimerService> timers_;
    InjectionQueue<TaskHeader> global_;
    std::unique_ptr<IdleSet> idle_;
    std::vector<std::unique_ptr<Worker>> all_;
    // By Worker::index: the workers' places (a vacant one included), then the reserved places
    // (null until attach() takes one). The vector never grows after start.
    std::vector<Worker*> workers_;
    std::size_t started_ = 0;  // the workers' places, vacant ones included (set before start)
    // How far below its entry frame a worker's help_join may nest: half of the stack size its
    // thread was created with (0: helping is off). Set by start() before the threads exist.
    std::size_t help_stack_reach_ = 0;
    // Until when a new pool's searchers keep searching instead of parking (starting_up): "not
    // yet" (the maximum) while start() makes the threads, then its end + startup_search_ns.
    atomic<std::int64_t> startup_until_ns_{INT64_MAX};
    // Places in use: started_ + places taken by attach(). Written under threads_mutex_.
    atomic<std::size_t> active_{0};
    // Threads inside attach() (written under threads_mutex_), and the wait for them to leave.
    atomic<std::size_t> attached_inside_{0};
    bool attach_closed_ = false;  // under threads_mutex_: join_threads() began
    EventCount attached_left_;
    std::size_t failed_starts_ = 0;
    atomic<std::uint64_t> handler_failures_{0};  // a statistic: relaxed
    mutex threads_mutex_;  // attaching, and closing attach (wait_attached_threads)
    mutex join_mutex_;  // joining the worker threads (join() and the destructor)
    Shutdown shutdown_;
    OutstandingWork work_;
    BlockingPool blocking_;  // spawn_blocking's threads (after cfg_, which configures it)
};

inline void WorkStealingScheduler::report_exception(std::exception_ptr e) noexcept {
    const auto& handler = cfg_.on_unhandled_exception;
    try {
        if (handler)
            handler(std::move(e));
        else
            print_unhandled_exception(std::move(e));
    } catch (...) {
        // A handler that throws: the exception is dropped and counted (never printed here).
        handler_failures_.fetch_add(1, std::memory_order_relaxed);
    }
}

}  // namespace zuki::detail
