// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::SingleThreadedExecutor`: runs tasks on the one thread that calls `run()`, `step()` or
/// `block_on()`, strictly by priority; wakes and spawns may come from any thread.
///
/// ## How it works (details in src/single_threaded_executor.cpp)
///
/// - Ready tasks wait in four intrusive FIFO lists, one per `TaskPriority`, linked through
///   `TaskHeader::next` (no allocation per enqueue). Only the *driver* — the thread inside
///   `run()`, `step()` or `block_on()` — touches them.
/// - A wake or spawn on the driver's own thread goes straight to its list. Any other thread
///   pushes the task onto a lock-free inbox (a Treiber stack through `next`); the driver takes
///   the whole inbox with one exchange, restores FIFO order and sorts it into the lists. The
///   push that makes the inbox non-empty then unparks the driver.
/// - With nothing ready the driver parks on a futex word (a token: an unpark that comes first
///   makes the next park return at once), so an idle executor uses no CPU.
/// - Boost.Asio: the executor is a `boost::asio::execution_context`. A handler given to its
///   `executor_type` becomes a run-once task node (task/detail/handler_cell.hpp) queued at
///   Normal priority through the same lists and inbox. Two counters decide when `run()` may
///   return: live Zuki tasks (`task_count()`) and outstanding Asio work (queued handlers,
///   tracked executors and work guards, `on_work_started` calls); handler nodes report their
///   completion to a second, small `Scheduler` that counts them as Asio work, so
///   `task_count()` stays a count of Zuki tasks.

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <boost/asio/execution_context.hpp>

#include <zuki/asio/executor.hpp>
#include <zuki/core/context.hpp>
#include <zuki/core/future.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/core/waker.hpp>
#include <zuki/task/detail/cell.hpp>
#include <zuki/task/detail/header.hpp>
#include <zuki/task/detail/spawner.hpp>
#include <zuki/task/errors.hpp>
#include <zuki/task/handle.hpp>
#include <zuki/task/join_handle.hpp>
#include <zuki/task/task_priority.hpp>

namespace zuki {

class TimerService;
namespace detail {
class SingleThreadedScheduler;
}  // namespace detail

/// An executor that polls its tasks on the calling thread: Zuki's `LocalExecutor`.
///
/// - Ready tasks run strictly by priority (Critical > High > Normal > Low), first come first
///   served within a level. A task woken while it runs goes to the back of its level.
/// - `run()` returns once every spawned task has completed; while the remaining tasks all wait
///   for a wake it sleeps (futex), it does not spin. `step()` polls at most one task and never
///   blocks. `block_on(f)` drives the executor (other tasks too) until `f` completes.
/// - An exception escaping a task is stored in its `JoinHandle` (`get()` / `co_await` rethrow
///   it); for a detached task it goes to the handler given to the constructor (by default a line
///   on stderr). It never affects other tasks.
/// - The destructor cancels every task that has not completed, queued or waiting: each future
///   is destroyed, each `JoinHandle` resolves with `TaskCancelled`, nothing leaks. Wakers that
///   outlive the executor stay valid; waking them does nothing.
///
/// Boost.Asio: the executor is a `boost::asio::execution_context` and `get_executor()` returns
/// an executor that `boost::asio::post` / `dispatch` / `defer`, `make_work_guard`, `co_spawn`,
/// `strand`, `steady_timer` and sockets accept, exactly as with `WorkStealingExecutor` (a
/// one-line switch). As with `io_context`:
/// - handlers run on the thread driving the executor (`run()`, `step()`, `block_on()`), in
///   FIFO order at Normal priority among the tasks; `dispatch` (and `execute` without
///   `blocking.never`) on that thread runs the handler inline, before it returns;
/// - outstanding Asio work — queued handlers, tracked executors (`executor_work_guard`,
///   `require(outstanding_work.tracked)`), `on_work_started()` not yet finished, and so every
///   pending timer or socket operation — keeps `run()` from returning, like live tasks do;
///   when the last of it finishes on another thread, a sleeping `run()` wakes and returns.
///   `task_count()` and `is_empty()` still count Zuki tasks only;
/// - timers and sockets are driven by the driving thread itself, as an `io_context` drives its
///   reactor: with nothing ready, `run()` / `block_on()` sleep in the reactor (epoll), which a
///   wake from another thread interrupts; `step()` polls it without blocking. A program that
///   uses one `SingleThreadedExecutor` for tasks, sockets and timers has one thread (on the
///   Boost versions this was verified against; elsewhere Asio runs a reactor thread of its
///   own). Zuki's timers (`zuki::delay`) polled on the driving thread ride the same reactor;
/// - an exception escaping a queued handler goes to the unhandled-exception handler, like one
///   from a detached task; one escaping an inline `dispatch` propagates to its caller;
/// - the destructor shuts Asio's services down first (their pending operations are destroyed),
///   then cancels every queued handler and task, then destroys the services.
///
/// @code
/// zuki::SingleThreadedExecutor ex;
/// boost::asio::steady_timer timer(ex.get_executor(), std::chrono::milliseconds(10));
/// timer.async_wait([](boost::system::error_code) { /* on the thread in run() */ });
/// boost::asio::post(ex, [] { /* likewise */ });
/// ex.run();  // returns once the timer fired and both handlers ran
/// @endcode
///
/// @code
/// zuki::SingleThreadedExecutor ex;
/// zuki::JoinHandle<int> a = ex.spawn(zuki::ready(1));
/// ex.spawn_high(log_line("runs first")).detach();
/// ex.spawn_low(log_line("runs last")).detach();
/// ex.run();                                        // all three complete
/// int v = ex.block_on(ex.spawn(zuki::ready(41)));  // 41 (drives the executor meanwhile)
/// @endcode
///
/// Thread safety:
/// - `spawn`, `spawn_high`, `spawn_low`, `is_empty`, `task_count`, `get_executor`,
///   `running_in_this_thread`, every task's `Waker` and every copy of the Asio executor may be
///   used from any thread, concurrently with each other and with the driver. A spawn, wake or
///   handler from a thread other than the driver goes through the lock-free inbox and unparks
///   the driver.
/// - `run`, `step` and `block_on` may be called from any thread, but by one thread at a time:
///   a second concurrent call, or a call from inside one of this executor's tasks, throws
///   `std::logic_error`. `run` and `block_on` also throw `std::logic_error` from inside a task of
///   any executor (blocking there could deadlock); `step` does not block and is allowed there.
///   Tasks are polled, and detached exceptions reported, on the driving thread.
/// - The destructor must not run concurrently with any other member call (as for any object);
///   destroying the executor from inside one of its own tasks aborts the process.
class SingleThreadedExecutor : public boost::asio::execution_context,
                               public detail::Spawner<SingleThreadedExecutor> {
public:
    /// Receives exceptions that escaped detached tasks and queued Asio handlers (on the driving
    /// thread, or on the thread that cancelled the task).
    using ExceptionHandler = std::function<void(std::exception_ptr)>;
    /// The Boost.Asio executor of this executor (see zuki/asio/executor.hpp).
    using executor_type = detail::BasicExecutor<SingleThreadedExecutor>;

    /// An executor with no tasks. `on_unhandled_exception` receives exceptions from detached
    /// tasks and queued Asio handlers; empty means `zuki::print_unhandled_exception` (one line
    /// on stderr) and go on. An exception thrown by the handler itself is dropped.
    explicit SingleThreadedExecutor(ExceptionHandler on_unhandled_exception = {});

    /// Selects `io_context`'s behaviour for exceptions (see the constructor below).
    struct RethrowFromRun {};
    /// `SingleThreadedExecutor(SingleThreadedExecutor::rethrow_from_run)`.
    static constexpr RethrowFromRun rethrow_from_run{};
    /// An executor on which an exception escaping a detached task or a queued Asio handler
    /// propagates out of the call that drives it (`run()`, `run_one()`, `run_for()`,
    /// `run_until()`, `poll()`, `poll_one()`, `step()`, `block_on()`), as from
    /// `io_context::run()`; that call can then be made again to go on with the rest. (An
    /// exception reported on another thread — a `JoinHandle` of a failed task dropped there —
    /// is rethrown by the next driving call.)
    explicit SingleThreadedExecutor(RethrowFromRun);
    /// Cancels and destroys every task that has not completed (see the class comment).
    ~SingleThreadedExecutor();
    SingleThreadedExecutor(const SingleThreadedExecutor&) = delete;
    SingleThreadedExecutor& operator=(const SingleThreadedExecutor&) = delete;

    // spawn, spawn_detached, spawn_high, spawn_low: see detail::Spawner
    // (task/detail/spawner.hpp). A spawned task runs during a later (or the current) `run()`,
    // `step()` or `block_on()`; spawning throws `ExecutorStopped` once the executor is being
    // destroyed.

    /// Run tasks and Asio handlers until every spawned task (including those spawned
    /// meanwhile) has completed and no Asio work is outstanding (see the class comment), or
    /// until `stop()`. Returns how many tasks and handlers ran. Sleeps while only waiting tasks
    /// or outstanding work remain: a task nobody ever wakes, or a work guard nobody resets,
    /// keeps `run()` asleep. As `io_context::run()`: once it runs out of work the executor is
    /// stopped, and `run()`, `run_one()`, `run_for()`, `run_until()`, `poll()` and
    /// `poll_one()` return 0 at once until `restart()`. Throws `std::logic_error` if called
    /// re-entrantly or from inside any executor's task.
    std::size_t run();
    /// `run()` until one task or handler ran (sleeping until one is ready); returns 0 or 1.
    std::size_t run_one();
    /// `run()` until `deadline` at the latest; returns how many ran.
    std::size_t run_until(std::chrono::steady_clock::time_point deadline);
    /// `run()` for `duration` at the latest; returns how many ran.
    template <class Rep, class Period>
    std::size_t run_for(std::chrono::duration<Rep, Period> duration) {
        return run_until(std::chrono::steady_clock::now() +
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration));
    }
    /// Run what is ready now (tasks, handlers, and I/O the reactor has ready) without sleeping;
    /// returns how many ran.
    std::size_t poll();
    /// `poll()`, at most one; returns 0 or 1.
    std::size_t poll_one();
    /// Make the running `run()` family return as soon as the task in progress finished, and
    /// later calls return at once, until `restart()`. Any thread. (`step()` and `block_on()`
    /// are not affected.)
    void stop() noexcept;
    /// True after `stop()`, or once `run()` ran out of work.
    bool stopped() const noexcept;
    /// Allow the `run()` family to run again after `stop()` or running out of work.
    void restart() noexcept;

    /// Move remote wakes in, then poll at most one ready task (the first of the highest
    /// priority). Returns whether ready work remains. Never blocks. Throws `std::logic_error`
    /// if this executor is already being driven (re-entrantly or by another thread).
    bool step();

    /// Spawn `future` (priority Normal) and run the executor — other tasks included — until it
    /// completes; return its value or rethrow its exception. Tasks still pending afterwards stay
    /// queued for the next `run()` / `step()` / `block_on()`. Throws `std::logic_error` if
    /// called re-entrantly or from inside any executor's task, before spawning anything.
    template <Spawnable F>
    spawn_output_t<F> block_on(F work) {
        using T = spawn_output_t<F>;
        DriveScope scope(*this, /*blocking=*/true);  // first: a refused call spawns nothing
        auto* task = detail::make_task(*this, std::move(work), TaskPriority::Normal,
                                       /*join_interest=*/true);
        JoinHandle<T> handle = detail::make_join_handle<T>(task);
        submit_new(task);
        drive_until(task);
        return detail::take_completed(handle);  // the value, or it rethrows
    }

    /// True when no task is live (every spawned task has completed).
    bool is_empty() const noexcept { return task_count() == 0; }
    /// Tasks spawned and not yet completed (queued, running or waiting for a wake). Asio
    /// handlers and outstanding Asio work are not counted.
    std::size_t task_count() const noexcept;

    /// True on the thread currently driving this executor (inside `run()`, `step()` or
    /// `block_on()`, so also inside its tasks and handlers).
    bool running_in_this_thread() const noexcept;

    /// A copyable handle to this executor (see zuki/task/handle.hpp): spawn on it, or
    /// `block_on`, without naming the executor's type.
    Handle handle() const noexcept;

    /// An Asio executor that runs handlers on this executor's driving thread: works with
    /// `boost::asio::post`, `co_spawn`, `strand`, timers and sockets.
    executor_type get_executor() noexcept { return executor_type(*this); }

private:
    friend struct detail::SpawnAccess;
    friend struct detail::AsioContextAccess;
    friend class detail::SingleThreadedScheduler;  // Handle::block_on drives through DriveScope

    // detail::BasicExecutor's hooks.
    detail::Scheduler* asio_scheduler() const noexcept { return asio_sched_; }
    void asio_submit(detail::TaskHeader* t, bool continuation) noexcept;
    void asio_work_started() noexcept;
    void asio_work_finished() noexcept;

    /// Claims the executor for the calling thread for the duration of a `run` / `step` /
    /// `block_on` (it is the driver then) and marks the thread as an executor thread.
    class DriveScope {
    public:
        DriveScope(SingleThreadedExecutor& ex, bool blocking);
        DriveScope(detail::SingleThreadedScheduler* s, bool blocking);
        ~DriveScope();
        DriveScope(const DriveScope&) = delete;
        DriveScope& operator=(const DriveScope&) = delete;

    private:
        detail::SingleThreadedScheduler* sched_;
        detail::SingleThreadedScheduler* previous_;
        detail::Scheduler* previous_current_ = nullptr;
        std::shared_ptr<TimerService>* previous_timers_ = nullptr;
    };

    // detail::Spawner's hooks.
    detail::Scheduler* spawn_target() const;
    void submit_new(detail::TaskHeader* t) noexcept;
    // block_on's drive (inside its DriveScope), and the run / poll / step family's.
    void drive_until(detail::TaskHeader* t);
    std::size_t drive(bool blocking, std::size_t max_tasks, bool block, bool run_family,
                      std::chrono::steady_clock::time_point deadline, bool* more_ready);

    detail::SingleThreadedScheduler* sched_;  // one reference; tasks hold the others
    detail::Scheduler* asio_sched_;  // handler nodes' scheduler (one reference; it holds sched_)
};

}  // namespace zuki
