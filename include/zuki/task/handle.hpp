// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::Handle`: a copyable, type-erased handle to an executor; and the free functions
/// `zuki::spawn` / `zuki::spawn_detached`, which spawn on the executor running the calling
/// task.

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/core/waker.hpp>
#include <zuki/detail/executor_thread.hpp>
#include <zuki/task/detail/header.hpp>
#include <zuki/task/detail/into_future.hpp>
#include <zuki/task/detail/spawner.hpp>
#include <zuki/task/join_handle.hpp>
#include <zuki/task/task_priority.hpp>

namespace zuki {

namespace detail {
struct HandleAccess;

[[noreturn]] inline void throw_no_current_executor(const char* what) {
    throw std::logic_error(std::string(what) +
                           ": not called from a task or handler of a zuki executor (no current "
                           "executor on this thread); use an executor's handle() instead");
}
}  // namespace detail

/// A copyable handle to an executor — a `WorkStealingExecutor` or a `SingleThreadedExecutor` —
/// without its type: spawn on it from generic code, keep it in an object, pass it to a
/// recursive coroutine instead of the pool. Tokio's `runtime::Handle`.
///
/// - `Handle::current()` inside a task or an Asio handler returns the executor running it;
///   elsewhere it throws `std::logic_error`. `pool.handle()` returns a handle to `pool`.
/// - `spawn`, `spawn_detached`, `spawn_high`, `spawn_low` behave exactly as the executor's own
///   (a spawn from one of a pool's workers goes to that worker's LIFO slot, and so on); they
///   accept a future or an invocable (`zuki::Spawnable`). They cost one indirect call more.
/// - `block_on(work)` runs `work` on the executor and blocks the calling thread until it
///   completes: on a pool, the workers run it while the caller sleeps; on a
///   `SingleThreadedExecutor`, the caller drives that executor meanwhile, as its own
///   `block_on` does. It throws `std::logic_error` on any executor thread (where blocking
///   could deadlock) and, for a `SingleThreadedExecutor`, when another thread is driving it.
/// - A handle keeps the executor's scheduler alive, not the executor: once the executor was
///   stopped or destroyed, spawning through the handle throws `ExecutorStopped`.
///
/// @code
/// zuki::Async<long> sum(const std::vector<long>& v, std::size_t lo, std::size_t hi) {
///     if (hi - lo < 1000) co_return std::accumulate(v.begin() + lo, v.begin() + hi, 0L);
///     const std::size_t mid = lo + (hi - lo) / 2;
///     zuki::JoinHandle<long> left = zuki::spawn(sum(v, lo, mid));  // on the current executor
///     const long right = co_await sum(v, mid, hi);
///     co_return co_await left + right;
/// }
/// zuki::WorkStealingExecutor pool;
/// zuki::Handle h = pool.handle();
/// long s = h.block_on(sum(values, 0, values.size()));
/// @endcode
///
/// Thread safety: a Handle may be copied and used from any thread; each copy by one thread at a
/// time, like any value.
class Handle : public detail::Spawner<Handle> {
public:
    /// An empty handle: spawning through it throws `std::logic_error`.
    Handle() noexcept = default;
    Handle(const Handle& o) noexcept : sched_(o.sched_) {
        if (sched_ != nullptr) sched_->acquire();
    }
    Handle(Handle&& o) noexcept : sched_(std::exchange(o.sched_, nullptr)) {}
    Handle& operator=(Handle o) noexcept {
        std::swap(sched_, o.sched_);
        return *this;
    }
    ~Handle() {
        if (sched_ != nullptr) sched_->release();
    }

    /// The executor running the calling task or Asio handler. Throws `std::logic_error` on a
    /// thread that runs no executor's work.
    static Handle current() {
        detail::Scheduler* s = detail::Scheduler::current();
        if (s == nullptr) detail::throw_no_current_executor("zuki::Handle::current");
        return Handle(s);
    }
    /// `current()`, or an empty handle where there is no current executor.
    static Handle try_current() noexcept {
        detail::Scheduler* s = detail::Scheduler::current();
        return s != nullptr ? Handle(s) : Handle();
    }

    // spawn, spawn_detached, spawn_high, spawn_low: see detail::Spawner.

    /// Run `work` on the executor and block this (non-executor) thread until it completes;
    /// returns its value or rethrows its exception (see the class comment).
    template <Spawnable F>
    spawn_output_t<F> block_on(F work) const {
        using T = spawn_output_t<F>;
        if (detail::on_executor_thread())
            throw std::logic_error(
                "zuki::Handle::block_on: called on an executor thread, where blocking could "
                "deadlock; co_await the future instead");
        auto* t = detail::make_task(*this, std::move(work), TaskPriority::Normal,
                                    /*join_interest=*/true);
        JoinHandle<T> handle = detail::make_join_handle<T>(t);
        sched_->block_on_task(t);
        return detail::take_completed(handle);
    }

    /// True unless empty (default-constructed or moved-from).
    bool valid() const noexcept { return sched_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }
    /// Two handles are equal when they refer to the same executor (or are both empty).
    friend bool operator==(const Handle& a, const Handle& b) noexcept {
        return a.sched_ == b.sched_;
    }

private:
    friend struct detail::SpawnAccess;
    friend struct detail::HandleAccess;
    explicit Handle(detail::Scheduler* s) noexcept : sched_(s) { sched_->acquire(); }

    // detail::Spawner's hooks.
    detail::Scheduler* spawn_target() const {
        if (sched_ == nullptr) throw std::logic_error("zuki::Handle: the handle is empty");
        sched_->admit_spawn();
        return sched_;
    }
    void submit_new(detail::TaskHeader* t) noexcept { sched_->submit_spawned(t); }

    detail::Scheduler* sched_ = nullptr;
};

namespace detail {
/// How executors make their `handle()`.
struct HandleAccess {
    static Handle make(Scheduler* s) noexcept { return Handle(s); }
};

/// The free functions' spawn target: the calling thread's current executor, without taking a
/// reference on it (the running task holds one).
struct CurrentExecutor : Spawner<CurrentExecutor> {
private:
    friend struct SpawnAccess;
    static Scheduler* spawn_target() {
        Scheduler* s = Scheduler::current();
        if (s == nullptr) throw_no_current_executor("zuki::spawn");
        s->admit_spawn();
        return s;
    }
    static void submit_new(TaskHeader* t) noexcept { t->scheduler()->submit_spawned(t); }
};
}  // namespace detail

/// Spawn `work` (a future or an invocable, see `Spawnable`) on the executor running the calling
/// task or Asio handler, as its own `spawn` would (from a pool's worker: that worker's LIFO
/// slot). Throws `std::logic_error` outside any executor, else as the executor's `spawn`.
///
/// @code
/// zuki::Async<int> parent() {
///     zuki::JoinHandle<int> child = zuki::spawn([] { return 41; });
///     co_return co_await child + 1;
/// }
/// @endcode
template <Spawnable F>
JoinHandle<spawn_output_t<F>> spawn(F work, TaskPriority priority = TaskPriority::Normal) {
    return detail::CurrentExecutor{}.spawn(std::move(work), priority);
}

/// `zuki::spawn(work, priority).detach()` without making the handle: fire and forget on the
/// current executor; an exception it throws goes to that executor's unhandled-exception
/// handler. Throws as `zuki::spawn`.
template <Spawnable F>
void spawn_detached(F work, TaskPriority priority = TaskPriority::Normal) {
    detail::CurrentExecutor{}.spawn_detached(std::move(work), priority);
}

/// Run `f` on the blocking-thread pool of the executor running the calling task or Asio handler
/// (or blocking call), as its own `spawn_blocking` would. Throws `std::logic_error` outside any
/// executor, else as the executor's `spawn_blocking`.
///
/// @code
/// zuki::Async<std::size_t> file_size(std::string path) {
///     zuki::JoinHandle<std::uintmax_t> size = zuki::spawn_blocking([p = std::move(path)] {
///         return std::filesystem::file_size(p);  // a blocking system call, off the workers
///     });
///     co_return co_await std::move(size);
/// }
/// @endcode
/// (The handle is named rather than awaited in place: g++ 12 destroys a temporary that has a
/// non-trivial destructor, such as a lambda capturing a string, twice when it is part of a
/// `co_await` expression; clang does not.)
template <BlockingInvocable F>
JoinHandle<blocking_output_t<F>> spawn_blocking(F f) {
    return detail::CurrentExecutor{}.spawn_blocking(std::move(f));
}

}  // namespace zuki
