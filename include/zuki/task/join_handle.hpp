// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::JoinHandle<T>`: the handle to a spawned task's result.

#include <stdexcept>
#include <utility>

#include <zuki/core/async.hpp>
#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/detail/executor_thread.hpp>
#include <zuki/detail/parker.hpp>
#include <zuki/task/detail/cell.hpp>
#include <zuki/task/errors.hpp>
#include <zuki/task/task_priority.hpp>

namespace zuki {

namespace detail {
struct JoinHandleAccess;
}

/// A copyable handle that can cancel a spawned task, from any thread, without owning its
/// result: `JoinHandle::abort_handle()` and `JoinSet::spawn` return one (Tokio's
/// `AbortHandle`).
///
/// `abort()` is `JoinHandle::cancel()`: an idle task is cancelled at once (on the calling
/// thread), a queued or running one the next time its executor holds it; a task that already
/// completed keeps its result. Its JoinHandle then throws `TaskCancelled`. An AbortHandle keeps
/// the task's memory (not its future) alive, so it may outlive the task and the JoinHandle.
///
/// @code
/// zuki::JoinHandle<void> h = pool.spawn(serve_forever());
/// zuki::AbortHandle stop = h.abort_handle();
/// std::thread([stop] { wait_for_signal(); stop.abort(); }).detach();
/// @endcode
///
/// Thread safety: every member may be called from any thread; copies are independent.
class AbortHandle {
public:
    /// An empty handle: `abort()` and `is_finished()` throw `std::logic_error`.
    AbortHandle() noexcept = default;
    AbortHandle(const AbortHandle& o) noexcept : task_(o.task_) {
        if (task_ != nullptr) task_->ref_inc();
    }
    AbortHandle(AbortHandle&& o) noexcept : task_(std::exchange(o.task_, nullptr)) {}
    AbortHandle& operator=(AbortHandle o) noexcept {
        std::swap(task_, o.task_);
        return *this;
    }
    ~AbortHandle() {
        if (task_ != nullptr) task_->ref_dec();
    }

    /// Cancel the task (see the class comment). Idempotent.
    void abort() const { task().cancel(); }
    /// True once the task completed (with a value, an exception or by cancellation).
    bool is_finished() const {
        // acquire: pairs with the release RMW that set COMPLETE.
        return (task().state(std::memory_order_acquire) & detail::task_state::complete) != 0;
    }
    /// The task's id.
    TaskId id() const { return task().id(); }
    /// True unless empty.
    bool valid() const noexcept { return task_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }

private:
    template <class>
    friend class JoinHandle;
    explicit AbortHandle(detail::TaskHeader* t) noexcept : task_(t) { task_->ref_inc(); }
    detail::TaskHeader& task() const {
        if (task_ == nullptr) throw std::logic_error("zuki::AbortHandle: the handle is empty");
        return *task_;
    }

    detail::TaskHeader* task_ = nullptr;
};

/// A future of a spawned task's result, returned by every executor's `spawn`.
///
/// - `co_await handle` (in an `Async`) or polling it yields the task's value, rethrows the
///   exception the task threw, or throws `TaskCancelled` if the task was cancelled;
/// - `get()` blocks a non-executor thread until the result is there (same outcomes);
/// - dropping the handle detaches the task: it keeps running, its result is discarded, and an
///   exception it throws goes to the executor's exception handler (on the worker that ran it;
///   or, if the task had already finished when the handle is dropped without taking its
///   result, on the thread that drops the handle). No exception is silently lost;
/// - `cancel()` asks the task to stop: an idle task is destroyed at once (on the calling
///   thread), a queued or running one the next time its executor holds it. A task that already
///   completed keeps its result.
///
/// On a `WorkStealingExecutor` worker, polling a handle whose task has not completed first runs
/// that worker's own queued tasks inline (help-first, as TBB's `wait`; bounded, and off with
/// `WorkStealingConfig::help_while_joining`): the child spawned just before `co_await handle`
/// usually completes there and the awaiting task goes on without suspending. So do not hold a
/// blocking lock across `co_await handle`.
///
/// @code
/// zuki::SingleThreadedExecutor ex;
/// zuki::JoinHandle<int> h = ex.spawn(zuki::ready(42));
/// int v = ex.block_on(std::move(h));   // 42
/// @endcode
///
/// Misuse is an exception, never undefined behaviour: taking the result twice, or using an
/// empty (moved-from) handle, throws `std::logic_error`; `get()` on an executor thread throws
/// `std::logic_error` instead of deadlocking.
///
/// Thread safety: a JoinHandle is owned by one thread at a time (it may move between threads);
/// the task it refers to may run and complete concurrently on any thread.
template <class T>
class [[nodiscard]] JoinHandle {
    using Cell = detail::TaskOutputCell<T>;

public:
    using output_type = T;

    /// An empty handle.
    JoinHandle() noexcept = default;
    JoinHandle(JoinHandle&& o) noexcept
        : task_(std::exchange(o.task_, nullptr)), taken_(std::exchange(o.taken_, false)) {}
    JoinHandle& operator=(JoinHandle&& o) noexcept {
        if (this != &o) {
            reset();
            task_ = std::exchange(o.task_, nullptr);
            taken_ = std::exchange(o.taken_, false);
        }
        return *this;
    }
    JoinHandle(const JoinHandle&) = delete;
    JoinHandle& operator=(const JoinHandle&) = delete;
    ~JoinHandle() { reset(); }

    /// True unless moved-from, default-constructed or detached.
    bool valid() const noexcept { return task_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }

    /// The task's id.
    TaskId id() const { return task().id(); }
    /// The task's priority.
    TaskPriority priority() const { return task().priority(); }

    /// True once the task completed (with a value, an exception or by cancellation).
    bool is_finished() const {
        // acquire: pairs with the release RMW that set COMPLETE.
        return (task().state(std::memory_order_acquire) & detail::task_state::complete) != 0;
    }

    /// Ask the task to stop (see the class comment). Idempotent.
    void cancel() { task().cancel(); }
    /// `cancel()`, under Tokio's name.
    void abort() { cancel(); }
    /// A copyable handle that can cancel this task from any thread, and outlives this handle.
    AbortHandle abort_handle() const { return AbortHandle(&task()); }

    /// Combinators (`join_all`, `join`, `select`) that give up on a JoinHandle they own (a
    /// sibling failed, or another won a `select`) cancel its task rather than detach it.
    static constexpr bool cancel_when_abandoned = true;

    /// Drop the handle without cancelling: the task runs on, its result is discarded.
    void detach() noexcept { reset(); }

    /// Future interface: ready once the task completed.
    Poll<T> poll(Context& cx) {
        Cell& t = task();
        if (taken_) throw std::logic_error("zuki::JoinHandle: the result was already taken");
        if (!t.poll_join(cx.waker())) return Poll<T>::pending();
        return take();
    }

    /// Block this (non-executor) thread until the task completes; return its value, rethrow
    /// its exception, or throw `TaskCancelled`.
    T get() {
        if (detail::on_executor_thread())
            throw std::logic_error(
                "zuki::JoinHandle::get: called on an executor thread, where blocking could "
                "deadlock; co_await the handle instead");
        task();
        if (taken_) throw std::logic_error("zuki::JoinHandle: the result was already taken");
        detail::ThreadParkerRef parker;
        Waker w = parker->waker();
        Context cx(w);
        for (;;) {
            Poll<T> p = poll(cx);
            if (p.is_ready()) {
                if constexpr (std::is_void_v<T>)
                    return;
                else
                    return std::move(p).value();
            }
            parker->park();
        }
    }

private:
    friend struct detail::JoinHandleAccess;
    // Adopt the JoinHandle reference of a freshly spawned task (detail::make_join_handle).
    explicit JoinHandle(Cell* task) noexcept : task_(task) {}

    Cell& task() const {
        if (task_ == nullptr)
            throw std::logic_error(
                "zuki::JoinHandle: the handle is empty (moved-from or detached)");
        return *task_;
    }
    Poll<T> take() {
        taken_ = true;
        auto& out = task_->output;
        if (auto* e = std::get_if<2>(&out)) std::rethrow_exception(*e);
        if (std::holds_alternative<detail::CancelledOutput>(out)) throw TaskCancelled();
        if constexpr (std::is_void_v<T>)
            return Poll<void>::ready();
        else
            return Poll<T>::ready(std::move(std::get<1>(out)));
    }
    void reset() noexcept {
        if (task_ != nullptr) std::exchange(task_, nullptr)->drop_join_handle(taken_);
    }

    Cell* task_ = nullptr;
    bool taken_ = false;
};

namespace detail {
/// How executors make the JoinHandle of a task they spawned (adopts its JoinHandle reference).
struct JoinHandleAccess {
    template <class T>
    static JoinHandle<T> make(TaskOutputCell<T>* task) noexcept {
        return JoinHandle<T>(task);
    }
    template <class T>
    static bool ready(const JoinHandle<T>& h, const Waker& w) {
        return h.task().poll_join(w);
    }
    // A handle whose task completed and whose output is still there. acquire: pairs with the
    // release RMW (or store) that set COMPLETE, so the output the task wrote is visible.
    template <class T>
    static bool complete(const JoinHandle<T>& h) noexcept {
        return h.task_ != nullptr && !h.taken_ && h.task_->is_complete();
    }
    // After complete(h): take the output (rethrowing the task's exception, TaskCancelled).
    template <class T>
    static T take_complete(JoinHandle<T>& h) {
        if constexpr (std::is_void_v<T>)
            (void)h.take();  // rethrows the exception or TaskCancelled
        else
            return std::move(h.take()).value();
    }
};
template <class T>
JoinHandle<T> make_join_handle(TaskOutputCell<T>* task) noexcept {
    return JoinHandleAccess::make(task);
}
/// The output of `h`, whose task is COMPLETE: its value, or it rethrows (the task's exception,
/// or `TaskCancelled`). `block_on` and `JoinSet::next` end with it.
template <class T>
T take_completed(JoinHandle<T>& h) {
    const Waker noop = Waker::noop();
    Context cx(noop);
    Poll<T> p = h.poll(cx);
    if constexpr (std::is_void_v<T>)
        (void)p;
    else
        return std::move(p).value();
}
/// True once the task of `h` is COMPLETE (its output may be taken without blocking); otherwise
/// `w` is registered as its join waker. Takes nothing (JoinSet's per-entry wakers).
template <class T>
bool join_handle_ready(const JoinHandle<T>& h, const Waker& w) {
    return JoinHandleAccess::ready(h, w);
}

/// `co_await handle` in an `Async` body when the task has completed (core/async.hpp): its
/// output is taken without a poll. An empty handle, or one whose output was taken, is not
/// ready here; the poll reports it.
template <class T>
struct AwaitReadyNow<JoinHandle<T>> {
    static constexpr bool enabled = true;
    static bool ready(const JoinHandle<T>& h) noexcept { return JoinHandleAccess::complete(h); }
    static T take(JoinHandle<T>& h) { return JoinHandleAccess::take_complete(h); }
};
}  // namespace detail

}  // namespace zuki
