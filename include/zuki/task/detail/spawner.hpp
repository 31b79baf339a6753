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

#include <cstddef>
#include <stdexcept>
#include <utility>

#include <zuki/core/future.hpp>
#include <zuki/task/detail/cell.hpp>
#include <zuki/task/join_handle.hpp>
#include <zuki/task/task_priority.hpp>

namespace zuki::detail {

/// Befriended by each executor so the spawn surface can reach its two hooks.
struct SpawnAccess {
    template <class E>
    static Scheduler* target(E& e) {
        return e.spawn_target();
    }
    template <class E>
    static void submit(E& e, TaskHeader* t) noexcept {
        e.submit_new(t);
    }
};

/// Allocate the task of `future` for executor `e` (SCHEDULED; registered lazily at its first
/// pending poll, see task/detail/header.hpp). Throws, in this order: `std::invalid_argument`
/// for a priority outside the enum, `ExecutorStopped` from `e`, and whatever allocating or
/// moving the future throws (nothing exists then).
template <class Executor, Future F>
TaskCell<F>* make_task(Executor& e, F&& future, TaskPriority priority, bool join_interest) {
    if (static_cast<std::size_t>(priority) >= task_priority_levels)
        throw std::invalid_argument("zuki: spawn: invalid TaskPriority");
    Scheduler* s = SpawnAccess::target(e);
    return new TaskCell<F>(std::move(future), s, priority, join_interest);
}

template <class Executor>
class Spawner {
public:
    /// Run `future` as a task. Throws `ExecutorStopped` once the executor stopped accepting
    /// work, `std::invalid_argument` for an invalid priority, and `std::bad_alloc` (or what
    /// moving the future threw) with nothing enqueued.
    template <Future F>
    JoinHandle<output_t<F>> spawn(F future, TaskPriority priority = TaskPriority::Normal) {
        Executor& e = self();
        auto* t = make_task(e, std::move(future), priority, /*join_interest=*/true);
        JoinHandle<output_t<F>> handle = make_join_handle<output_t<F>>(t);
        SpawnAccess::submit(e, t);
        return handle;
    }
    /// Run `future` as a fire-and-forget task: `spawn(...).detach()` without ever making the
    /// handle. Its output is dropped; an exception it throws goes to the executor's
    /// unhandled-exception handler. Throws as `spawn`.
    template <Future F>
    void spawn_detached(F future, TaskPriority priority = TaskPriority::Normal) {
        Executor& e = self();
        SpawnAccess::submit(e, make_task(e, std::move(future), priority, /*join_interest=*/false));
    }
    /// `spawn(future, TaskPriority::High)`.
    template <Future F>
    JoinHandle<output_t<F>> spawn_high(F future) {
        return spawn(std::move(future), TaskPriority::High);
    }
    /// `spawn(future, TaskPriority::Low)`.
    template <Future F>
    JoinHandle<output_t<F>> spawn_low(F future) {
        return spawn(std::move(future), TaskPriority::Low);
    }

private:
    Executor& self() noexcept { return static_cast<Executor&>(*this); }
};

}  // namespace zuki::detail
