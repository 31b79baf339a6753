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
#include <zuki/core/errors.hpp>
#include <zuki/core/future.hpp>
#include <zuki/core/join_handle.hpp>
#include <zuki/core/task_priority.hpp>
#include <zuki/detail/task/cell.hpp>
#include <zuki/runtime/metrics.hpp>
#include <zuki/runtime/work_stealing_config.hpp>

namespace zuki {

namespace detail {
class WsScheduler;
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
/// - the deque overflows by moving half of it to the global queue in one push;
/// - a task that wakes itself (yields) → its worker's yield list, run once the worker found no
///   other local or global work (and at least every 61 tasks).
///
/// Like Tokio's LIFO slot, that task is not visible to other workers until the running task
/// returns: a task that blocks its worker (spins or sleeps waiting for work it spawned) can
/// delay it; do not block inside tasks.
///
/// Priority on this executor: the global queue has one lane per `TaskPriority`, and workers
/// always take from the highest non-empty lane, so Critical and High work submitted to it runs
/// before queued Normal and Low work. Critical and High tasks spawned from inside a worker also
/// go to the global queue for that reason. Within a worker's deque there is no priority order;
/// priority is a scheduling preference across the pool, not a strict global order (use
/// `SingleThreadedExecutor` for that).
///
/// Shutdown: `join()` waits until every task has completed, then stops the workers; `stop()`
/// stops them as soon as each finishes its current poll; the destructor stops, joins, and
/// cancels every task that never completed (their JoinHandles throw `TaskCancelled`).
///
/// Faults: a worker thread that fails to start is reported (stderr and `metrics()`) and the
/// pool runs with the rest; if none starts the constructor throws `std::system_error`.
/// `std::bad_alloc` from a submission reaches the caller with nothing enqueued. An exception
/// escaping a task is stored in its JoinHandle, or given to
/// `WorkStealingConfig::on_unhandled_exception` if the task was detached; workers never die.
///
/// Asio: the pool is a `boost::asio::execution_context`; `get_executor()` returns an executor
/// that `boost::asio::post`, `co_spawn`, `strand`, `steady_timer` and sockets accept. Timers and
/// sockets are driven by Asio's own reactor thread (Asio starts one for any execution context
/// that is not an `io_context`), which hands completions to the pool as handlers. See
/// doc/asio.md.
///
/// Thread safety: every member function may be called from any thread, except that `join()`
/// and the destructor must not be called from one of this pool's workers (that would wait for
/// itself; `join()` throws `std::logic_error` there), and `block_on` must not be called from a
/// worker (it throws `std::logic_error`).
class WorkStealingExecutor : public boost::asio::execution_context {
public:
    /// The Boost.Asio executor of this pool (see zuki/asio/executor.hpp).
    using executor_type = asio::BasicExecutor<WorkStealingExecutor>;

    explicit WorkStealingExecutor(WorkStealingConfig config = {});
    explicit WorkStealingExecutor(std::size_t threads);
    WorkStealingExecutor(const WorkStealingExecutor&) = delete;
    WorkStealingExecutor& operator=(const WorkStealingExecutor&) = delete;
    ~WorkStealingExecutor();

    /// Run `future` as a task. Throws `ExecutorStopped` after `stop()`/`join()`, and
    /// `std::bad_alloc` if the task cannot be allocated (nothing is enqueued then).
    template <Future F>
    JoinHandle<output_t<F>> spawn(F future, TaskPriority priority = TaskPriority::Normal) {
        auto* t = make_task(std::move(future), priority);
        JoinHandle<output_t<F>> h(t);
        submit(t);
        return h;
    }
    /// Run `future` as a fire-and-forget task: `spawn(...).detach()` without ever making the
    /// handle. Its output is dropped; an exception it throws goes to
    /// `WorkStealingConfig::on_unhandled_exception`. Throws as `spawn`.
    template <Future F>
    void spawn_detached(F future, TaskPriority priority = TaskPriority::Normal) {
        submit(make_task(std::move(future), priority, /*join_interest=*/false));
    }
    template <Future F>
    JoinHandle<output_t<F>> spawn_high(F future) {
        return spawn(std::move(future), TaskPriority::High);
    }
    template <Future F>
    JoinHandle<output_t<F>> spawn_low(F future) {
        return spawn(std::move(future), TaskPriority::Low);
    }

    /// Submit every task of `batch` with one synchronising operation per priority present.
    /// An empty batch is a no-op. The batch must belong to this executor.
    void spawn_batch(Batch&& batch);

    /// Run `future` on the pool and block this (non-worker) thread until it completes; returns
    /// its value or rethrows its exception.
    template <Future F>
    output_t<F> block_on(F future) {
        if (running_in_this_thread())
            throw std::logic_error(
                "zuki::WorkStealingExecutor::block_on: called on one of the pool's workers");
        return spawn(std::move(future)).get();
    }

    /// Number of worker threads running (those that started).
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

    /// An Asio executor that runs handlers on this pool: works with `boost::asio::post`,
    /// `co_spawn`, `strand`, timers and sockets.
    executor_type get_executor() noexcept { return executor_type(*this); }

    // Hooks for asio::BasicExecutor (not for direct use).
    detail::Scheduler* asio_scheduler() const noexcept { return scheduler(); }
    void asio_submit(detail::TaskHeader* t, bool continuation) noexcept;
    void asio_work_started() noexcept { work_started(); }
    void asio_work_finished() noexcept;

private:
    friend class Batch;

    // `counted`: count it as outstanding work now (a Batch counts its tasks at submission).
    template <Future F>
    detail::TaskCell<F>* make_task(F&& future, TaskPriority priority, bool join_interest = true,
                                   bool counted = true) {
        if (static_cast<std::size_t>(priority) >= task_priority_levels)
            throw std::invalid_argument("zuki::WorkStealingExecutor: invalid TaskPriority");
        check_accepting();
        // Registered lazily, at its first pending poll (detail/task/header.hpp).
        auto* t = new detail::TaskCell<F>(std::move(future), scheduler(), priority, join_interest);
        if (counted) work_started();
        return t;
    }
    detail::Scheduler* scheduler() const noexcept;
    void check_accepting() const;
    void work_started() noexcept;
    void submit(detail::TaskHeader* t) noexcept;

    detail::WsScheduler* sched_;
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

    /// Add a task; returns its JoinHandle. Throws `std::bad_alloc` (the batch is unchanged) or
    /// `ExecutorStopped`.
    template <Future F>
    JoinHandle<output_t<F>> push(F future, TaskPriority priority = TaskPriority::Normal) {
        auto* t = executor_->make_task(std::move(future), priority, /*join_interest=*/true,
                                       /*counted=*/false);
        link(t, priority);
        return JoinHandle<output_t<F>>(t);
    }
    /// Add a fire-and-forget task (as `WorkStealingExecutor::spawn_detached`): no JoinHandle is
    /// made. Throws as `push`.
    template <Future F>
    void push_detached(F future, TaskPriority priority = TaskPriority::Normal) {
        link(executor_->make_task(std::move(future), priority, /*join_interest=*/false,
                                  /*counted=*/false),
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
