// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::WorkStealingExecutor` and `zuki::Batch`: the multi-threaded, lock-free, steal-half
/// worker pool.

#include <array>
#include <cstddef>
#include <stdexcept>
#include <utility>

#include <boost/asio/execution_context.hpp>

#include <zuki/asio/executor.hpp>
#include <zuki/core/future.hpp>
#include <zuki/detail/executor_thread.hpp>
#include <zuki/runtime/metrics.hpp>
#include <zuki/runtime/work_stealing_config.hpp>
#include <zuki/task/detail/spawner.hpp>
#include <zuki/task/errors.hpp>
#include <zuki/task/handle.hpp>
#include <zuki/task/join_handle.hpp>
#include <zuki/task/task_priority.hpp>

namespace zuki {

namespace detail {
class WorkStealingScheduler;
}
class Batch;

/// A pool of worker threads that run Zuki tasks, each worker with its own lock-free Chase-Lev
/// deque; idle workers steal about half of a busy worker's tasks in one claim. Same task,
/// future, waker and JoinHandle types as `SingleThreadedExecutor`: switching is a one-line
/// change.
///
/// @code
/// zuki::WorkStealingExecutor pool;                     // one worker per logical core
/// auto h = pool.spawn(zuki::ready(21));                // from any thread
/// zuki::Batch batch(pool);
/// for (int i = 0; i < 1000; ++i) batch.push(work(i));  // built locally, nothing shared yet
/// pool.spawn_batch(std::move(batch));                  // one synchronising operation
/// int v = h.get();                                     // 21
/// pool.join();                                         // wait for all work, stop the workers
/// @endcode
///
/// Where work goes:
/// - `spawn` from outside the pool, and batches → the global injection queue;
/// - `spawn` of a Normal or Low task from inside a worker, and a wake from inside → that
///   worker's LIFO slot: it runs next on the same worker, without waking another (the task it
///   displaces moves to the deque, stealable; at most 3 tasks in a row run from the slot);
/// - the deque overflows by moving half of it to the global queue in one push (each task to
///   its own priority lane);
/// - a task that wakes itself (yields) → its worker's yield list, run once the worker found no
///   other local or global work (and at least every 61 tasks).
///
/// Fairness: a worker looks at the global queue at least every 61 tasks and takes a fair share
/// of it (what is queued divided by the workers), which goes before the task in its LIFO slot;
/// while work is left there it looks again as soon as its deque runs dry; and the oldest task
/// of its deque runs at least every 61 tasks. So work from outside, and old local work, get in
/// at the pace the pool runs, however busy it is with work that keeps re-submitting itself.
///
/// Like Tokio's LIFO slot, that task is not visible to other workers until the running task
/// returns: a task that blocks its worker (spins or sleeps waiting for work it spawned) can
/// delay it; do not block inside tasks.
///
/// Priority on this executor: the global queue has one lane per `TaskPriority`, and workers
/// take from the highest non-empty lane, so Critical and High work submitted to it runs before
/// queued Normal and Low work. Critical and High tasks spawned from inside a worker also go to
/// the global queue for that reason. One take in 16 serves the lowest non-empty lane first: a
/// steady stream of higher-priority work slows the lower lanes, it never stops them. Within a
/// worker's deque there is no priority order; priority is a scheduling preference across the
/// pool, not a strict global order (use `SingleThreadedExecutor` for that).
///
/// Shutdown: `join()` waits until every task has completed, then stops the workers; `stop()`
/// stops them as soon as each finishes its current poll; the destructor stops, joins, and
/// cancels every task that never completed (their JoinHandles throw `TaskCancelled`).
///
/// Faults: a worker thread that fails to start is reported (to the unhandled-exception handler
/// as a `std::system_error`, and in `metrics()`) and the pool runs with the rest; if none
/// starts the constructor throws `std::system_error`.
/// `std::bad_alloc` from a submission reaches the caller with nothing enqueued. An exception
/// escaping a task is stored in its JoinHandle, or given to
/// `WorkStealingConfig::on_unhandled_exception` if the task was detached; workers never die.
///
/// Asio: the pool is a `boost::asio::execution_context`; `get_executor()` returns an executor
/// that `boost::asio::post`, `co_spawn`, `strand`, `steady_timer` and sockets accept. The
/// workers drive Asio's reactor themselves (runtime/io_driver.hpp): a parked worker blocks in
/// it, a busy pool polls it every 61 tasks, and ready I/O becomes stealable tasks; the pool
/// runs exactly its workers, no reactor thread (on the Boost versions this was verified
/// against; elsewhere Asio's own reactor thread). Zuki's timers (`zuki::delay`) polled on a
/// worker ride the same reactor. See doc/asio.md.
///
/// Thread safety: every member function may be called from any thread, except that `join()`
/// and the destructor must not be called from one of this pool's workers, attached threads
/// included (that would wait for itself; `join()` throws `std::logic_error` there), and
/// `block_on` must not be called from a worker (it throws `std::logic_error`).
class WorkStealingExecutor : public boost::asio::execution_context,
                             public detail::Spawner<WorkStealingExecutor> {
public:
    /// The Boost.Asio executor of this pool (see zuki/asio/executor.hpp).
    using executor_type = detail::BasicExecutor<WorkStealingExecutor>;

    explicit WorkStealingExecutor(WorkStealingConfig config = {});
    explicit WorkStealingExecutor(std::size_t threads);
    WorkStealingExecutor(const WorkStealingExecutor&) = delete;
    WorkStealingExecutor& operator=(const WorkStealingExecutor&) = delete;
    ~WorkStealingExecutor();

    // spawn, spawn_detached, spawn_high, spawn_low: see detail::Spawner (task/detail/spawner.hpp).

    /// Submit every task of `batch` with one synchronising operation per priority present.
    /// An empty batch is a no-op. The batch must belong to this executor
    /// (`std::invalid_argument`). After `stop()` / `join()` it throws `ExecutorStopped` and
    /// cancels the batch's tasks (their JoinHandles throw `TaskCancelled`), as `spawn` refuses.
    void spawn_batch(Batch&& batch);

    /// Run `future` on the pool and block this thread until it completes; returns its value or
    /// rethrows its exception. Throws `std::logic_error` on a thread that runs executor tasks
    /// (this pool's or another executor's), before spawning anything.
    template <Spawnable F>
    spawn_output_t<F> block_on(F work) {
        if (detail::on_executor_thread())
            throw std::logic_error(
                "zuki::WorkStealingExecutor::block_on: called on an executor thread, where "
                "blocking could deadlock; co_await the future instead");
        return spawn(std::move(work)).get();
    }

    /// Threads working for the pool: the worker threads that started, plus the threads inside
    /// `attach()` now. (`query(ex, execution::occupancy)` answers this.)
    std::size_t thread_count() const noexcept;
    /// Wait until all submitted work has completed, then stop and join the workers.
    void join();
    /// Ask the workers to stop as soon as possible (does not wait). Queued tasks stay queued
    /// and are cancelled by the destructor.
    void stop() noexcept;
    /// True once `stop()` or `join()` was called.
    bool stopped() const noexcept;
    /// True when called from one of this pool's worker threads.
    bool running_in_this_thread() const noexcept;
    /// Per-worker counters.
    Metrics metrics() const;

    /// A copyable handle to this pool (see zuki/task/handle.hpp): spawn on it, or `block_on`,
    /// without naming the executor's type.
    Handle handle() const noexcept;

    /// An Asio executor that runs handlers on this pool: works with `boost::asio::post`,
    /// `co_spawn`, `strand`, timers and sockets.
    executor_type get_executor() noexcept { return executor_type(*this); }

    // ---- asio::thread_pool's names --------------------------------------------------------
    /// `asio::thread_pool::executor()`: the same as `get_executor()`.
    executor_type executor() noexcept { return get_executor(); }
    /// `asio::thread_pool::scheduler()`: the executor, which is also a sender/receiver
    /// scheduler (`boost::asio::execution::schedule(pool.scheduler())`).
    executor_type scheduler() noexcept { return get_executor(); }
    /// `asio::thread_pool::wait()`: the same as `join()`.
    void wait() { join(); }
    /// `asio::thread_pool::attach()`: the calling thread works for the pool — runs its tasks and
    /// handlers, steals, sleeps when there is nothing to do, drives its I/O — as one more
    /// worker, until the pool is stopped (`stop()`, or `join()` once the work is done: as with
    /// `thread_pool`, where `attach()` returns when `join()` ran out of work); then it returns.
    /// Returns at once if the pool is already stopped.
    ///
    /// The pool's worker set is fixed at construction: an attached thread takes one of
    /// `WorkStealingConfig::max_attached_threads` reserved places (default 8), and keeps it (a
    /// place is not reused once its thread left). While attached it counts in `thread_count()`
    /// and `running_in_this_thread()` is true on it; its counters are the last entries of
    /// `metrics().workers`. `join()` and the destructor wait for attached threads to return.
    ///
    /// Throws `std::logic_error` on an executor thread (a worker of this pool, an attached
    /// thread, or a thread running another executor), `std::system_error`
    /// (`errc::resource_unavailable_try_again`) once every reserved place is taken; nothing
    /// changes then. Like a worker, an attached thread must not destroy the pool (nor `join()`
    /// it, which throws `std::logic_error` there).
    ///
    /// @code
    /// zuki::WorkStealingExecutor pool(3);
    /// boost::asio::post(pool, [&] { /* ... */ });
    /// std::thread stopper([&] { pool.join(); });  // or pool.stop() when the program is done
    /// pool.attach();                              // main works as a 4th thread until then
    /// stopper.join();
    /// @endcode
    void attach();

private:
    friend class Batch;
    friend struct detail::SpawnAccess;
    friend struct detail::AsioContextAccess;

    // detail::Spawner's hooks.
    detail::Scheduler* spawn_target() const;
    void submit_new(detail::TaskHeader* t) noexcept;
    // detail::BasicExecutor's hooks.
    detail::Scheduler* asio_scheduler() const noexcept;
    void asio_submit(detail::TaskHeader* t, bool continuation) noexcept;
    void asio_work_started() noexcept;
    void asio_work_finished() noexcept;

    detail::WorkStealingScheduler* sched_;
};

/// A set of tasks built incrementally and submitted to a `WorkStealingExecutor` at once.
///
/// Building a batch touches no shared queue: each `push` allocates its task and links it into
/// the batch's private list. `WorkStealingExecutor::spawn_batch` then publishes the whole list
/// with one push on the global queue (per priority present); idle workers spread it by
/// stealing. A batch destroyed without being submitted cancels its tasks. Its tasks count as
/// outstanding work (what `join()` waits for) from `spawn_batch` on, not while the batch is
/// being built.
///
/// @code
/// zuki::Batch batch(pool);
/// std::vector<zuki::JoinHandle<int>> hs;
/// for (int i = 0; i < 10'000; ++i) hs.push_back(batch.push(zuki::ready(i)));
/// pool.spawn_batch(std::move(batch));
/// @endcode
///
/// Thread safety: a Batch is used by one thread at a time.
class Batch {
public:
    explicit Batch(WorkStealingExecutor& executor) noexcept : executor_(&executor) {}
    Batch(Batch&& o) noexcept
        : executor_(o.executor_), lanes_(std::exchange(o.lanes_, {})),
          size_(std::exchange(o.size_, 0)) {}
    Batch& operator=(Batch&& o) noexcept {
        if (this != &o) {
            cancel_all();
            executor_ = o.executor_;
            lanes_ = std::exchange(o.lanes_, {});
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    ~Batch() { cancel_all(); }

    /// Add a task (a future or an invocable, as `spawn` takes); returns its JoinHandle. Throws
    /// `std::bad_alloc` (the batch is unchanged) or `ExecutorStopped`.
    template <Spawnable F>
    JoinHandle<spawn_output_t<F>> push(F work, TaskPriority priority = TaskPriority::Normal) {
        auto* t = detail::make_task(*executor_, std::move(work), priority,
                                    /*join_interest=*/true);
        link(t, priority);
        return detail::make_join_handle<spawn_output_t<F>>(t);
    }
    /// Add a fire-and-forget task (as `WorkStealingExecutor::spawn_detached`): no JoinHandle is
    /// made. Throws as `push`.
    template <Spawnable F>
    void push_detached(F work, TaskPriority priority = TaskPriority::Normal) {
        link(detail::make_task(*executor_, std::move(work), priority, /*join_interest=*/false),
             priority);
    }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    WorkStealingExecutor& executor() const noexcept { return *executor_; }

private:
    friend class WorkStealingExecutor;
    struct Lane {
        detail::TaskHeader* head = nullptr;
        detail::TaskHeader* tail = nullptr;
        std::size_t count = 0;
    };
    void cancel_all() noexcept;
    void link(detail::TaskHeader* t, TaskPriority priority) noexcept {
        Lane& l = lanes_[static_cast<std::size_t>(priority)];
        t->next = nullptr;
        if (l.tail != nullptr)
            l.tail->next = t;
        else
            l.head = t;
        l.tail = t;
        ++l.count;
        ++size_;
    }

    WorkStealingExecutor* executor_;
    std::array<Lane, task_priority_levels> lanes_{};
    std::size_t size_ = 0;
};

}  // namespace zuki
