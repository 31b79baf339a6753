// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `Spawner<Executor>`: the spawn surface every executor shares (`spawn`, `spawn_detached`,
/// `spawn_high`, `spawn_low`), written once over two hooks of the executor:
///
/// - `detail::Scheduler* spawn_target()`: the scheduler new tasks belong to; throws
///   `ExecutorStopped` when the executor no longer accepts work;
/// - `void submit_new(detail::TaskHeader*) noexcept`: count a freshly made task as work and
///   queue it (the queue reference is the task's own).

#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include <zuki/core/future.hpp>
#include <zuki/runtime/blocking_pool.hpp>
#include <zuki/task/detail/cell.hpp>
#include <zuki/task/detail/into_future.hpp>
#include <zuki/task/join_handle.hpp>
#include <zuki/task/task_priority.hpp>

namespace zuki {

/// What `spawn_blocking` accepts: an invocable taking no argument, called once on a blocking
/// thread; its result, whatever it is, is the task's output.
template <class F>
concept BlockingInvocable = std::is_object_v<std::decay_t<F>> && std::invocable < std::decay_t<F>
& > &&std::move_constructible<std::decay_t<F>>;

/// The output of `spawn_blocking(f)`.
template <BlockingInvocable F>
using blocking_output_t = std::invoke_result_t<std::decay_t<F>&>;

}  // namespace zuki

namespace zuki::detail {

/// Befriended by each executor so the spawn surface can reach its two hooks.
struct SpawnAccess {
    template <class E>
    static Scheduler* target(const E& e) {
        return e.spawn_target();
    }
    template <class E>
    static void submit(const E& e, TaskHeader* t) noexcept {
        const_cast<E&>(e).submit_new(t);  // spawning is thread-safe; see Spawner
    }
};

/// Allocate the task of `work` (a future, or an invocable: see `zuki::Spawnable`) for executor
/// `e` (SCHEDULED; registered lazily at its first pending poll, see task/detail/header.hpp).
/// Throws, in this order: `std::invalid_argument` for a priority outside the enum,
/// `ExecutorStopped` from `e`, and whatever allocating or moving the work throws (nothing
/// exists then).
template <class Executor, Spawnable F>
TaskCell<spawn_future_t<F>>* make_task(const Executor& e, F&& work, TaskPriority priority,
                                       bool join_interest) {
    if (static_cast<std::size_t>(priority) >= task_priority_levels)
        throw std::invalid_argument("zuki: spawn: invalid TaskPriority");
    Scheduler* s = SpawnAccess::target(e);
    return new TaskCell<spawn_future_t<F>>(into_future(std::forward<F>(work)), s, priority,
                                           join_interest);
}

/// The spawn members of an executor (and of `zuki::Handle`). Each accepts a future or a plain
/// invocable (`zuki::Spawnable`). They are `const`: spawning is thread-safe and changes no state
/// of the executor object that a caller could observe through it, as with Asio's executors.
template <class Executor>
class Spawner {
public:
    /// Run `work` as a task: a future, or an invocable called once on the task's thread (its
    /// output is what it returns, or the output of the future it returns; see
    /// `zuki::Spawnable`). Throws `ExecutorStopped` once the executor stopped accepting work,
    /// `std::invalid_argument` for an invalid priority, and `std::bad_alloc` (or what moving
    /// `work` threw) with nothing enqueued.
    ///
    /// @code
    /// zuki::JoinHandle<int> a = pool.spawn(zuki::ready(1));
    /// zuki::JoinHandle<int> b = pool.spawn([] { return 41; });
    /// zuki::JoinHandle<int> c = pool.spawn([x = 2]() -> zuki::Async<int> { co_return x; });
    /// @endcode
    template <Spawnable F>
    JoinHandle<spawn_output_t<F>> spawn(F work,
                                        TaskPriority priority = TaskPriority::Normal) const {
        const Executor& e = self();
        auto* t = make_task(e, std::move(work), priority, /*join_interest=*/true);
        JoinHandle<spawn_output_t<F>> handle = make_join_handle<spawn_output_t<F>>(t);
        SpawnAccess::submit(e, t);
        return handle;
    }
    /// Run `work` as a fire-and-forget task: `spawn(...).detach()` without ever making the
    /// handle. Its output is dropped; an exception it throws goes to the executor's
    /// unhandled-exception handler. Throws as `spawn`.
    template <Spawnable F>
    void spawn_detached(F work, TaskPriority priority = TaskPriority::Normal) const {
        const Executor& e = self();
        SpawnAccess::submit(e, make_task(e, std::move(work), priority, /*join_interest=*/false));
    }
    /// `spawn(work, TaskPriority::High)`.
    template <Spawnable F>
    JoinHandle<spawn_output_t<F>> spawn_high(F work) const {
        return spawn(std::move(work), TaskPriority::High);
    }
    /// `spawn(work, TaskPriority::Low)`.
    template <Spawnable F>
    JoinHandle<spawn_output_t<F>> spawn_low(F work) const {
        return spawn(std::move(work), TaskPriority::Low);
    }

    /// Run `f` (an invocable taking no argument) on the executor's blocking-thread pool, where
    /// it may block — file I/O, a blocking client library, a password hash — without holding up
    /// the executor's tasks; returns the JoinHandle of its result (an exception `f` throws
    /// travels through it, as for tasks). The pool starts threads on demand up to its cap
    /// (`WorkStealingConfig::max_blocking_threads`, default 512) and queues calls beyond it
    /// (FIFO); a thread idle for the keep-alive (default 10 s) exits. The call counts as the
    /// executor's work (`join()`, `run()` wait for it); the executor's destructor waits for
    /// calls that are running (they cannot be interrupted) and cancels those still queued.
    /// Inside the call, `zuki::spawn` and `zuki::Handle::current()` reach this executor, and
    /// `block_on` is allowed (a blocking thread is no executor thread).
    ///
    /// Throws `ExecutorStopped` once the executor stopped accepting work, `std::system_error`
    /// if no blocking thread exists and none could be started (the failure was also
    /// reported), and `std::bad_alloc`; nothing runs then.
    ///
    /// @code
    /// zuki::JoinHandle<std::string> h = pool.spawn_blocking([] { return read_file("a.txt"); });
    /// std::string text = co_await std::move(h);  // from a task; or h.get() from outside
    /// @endcode
    template <BlockingInvocable F>
    JoinHandle<blocking_output_t<F>> spawn_blocking(F f) const {
        using Fn = std::decay_t<F>;
        using R = blocking_output_t<F>;
        Scheduler* s = SpawnAccess::target(self());
        BlockingPool* pool = s->blocking_pool();
        if (pool == nullptr)
            throw std::logic_error("zuki::spawn_blocking: this executor has no blocking pool");
        auto* t = new TaskCell<BlockingCall<Fn>>(BlockingCall<Fn>(std::move(f)), s,
                                                 TaskPriority::Normal, /*join_interest=*/true);
        JoinHandle<R> handle = make_join_handle<R>(t);
        s->tasks_added(1);  // work from here: join() waits for it; its completion counts it off
        if (!pool->submit(t)) {
            t->cancel_scheduled();  // finishes it (counted off); the handle would throw
            t->ref_dec();  // the queue's reference
            throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                                    "zuki::spawn_blocking: no blocking thread could be started");
        }
        return handle;
    }

private:
    const Executor& self() const noexcept { return static_cast<const Executor&>(*this); }
};

}  // namespace zuki::detail
