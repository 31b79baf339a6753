// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Bridges from Zuki futures to Boost.Asio coroutines and back:
/// - `zuki::async_await(future, token)`: an Asio asynchronous operation that completes with a
///   Zuki future's output (`void(std::exception_ptr, T)`), for any completion token;
/// - `zuki::as_awaitable(future)`: the same as a `boost::asio::awaitable<T>`, so an Asio
///   coroutine can `co_await` any Zuki `Future` — an `Async`, a combinator, a `JoinHandle`;
/// - `zuki::spawn_awaitable(executor, awaitable)`: run an Asio coroutine on a Zuki executor and
///   get a `JoinHandle<T>` of its result.
///
/// How a future is awaited (`detail::FutureOperation`). The operation owns the future, the
/// completion handler and a work guard on the handler's associated executor (for `use_awaitable`
/// that is the awaiting coroutine's executor). It is itself the target of the `Waker` the future
/// is polled with, and every poll runs as a function posted to that executor, so the future is
/// polled — and the handler invoked — only there. A state word serialises polls and wakes
/// (the same machine as a Zuki task's, reduced):
///
///     IDLE ──wake: CAS, post a poll──▶ SCHEDULED ──the posted poll starts──▶ RUNNING
///     RUNNING ──wake──▶ NOTIFIED (the poll re-posts itself when it returns pending)
///     RUNNING ──pending──▶ IDLE        RUNNING ──ready / threw / cancelled──▶ DONE
///
/// A wake in SCHEDULED, NOTIFIED or DONE does nothing; a wake in RUNNING is never lost (the poll
/// sees NOTIFIED when it tries RUNNING → IDLE). At most one poll is queued or running at a
/// time. The first poll is posted by the initiating function, so the handler is never invoked
/// from inside it. A `CANCELLED` flag set by the handler's associated cancellation slot (any
/// cancellation type) makes the next poll drop the future and complete with
/// `boost::system::system_error(boost::asio::error::operation_aborted)`: so
/// `co_await (zuki::as_awaitable(h) || timer.async_wait(use_awaitable))` works.
///
/// Reference counting: one reference per queued poll, one per `Waker` clone, one for an
/// installed cancellation handler. The future and the handler are destroyed when the operation
/// completes; the small remaining object when the last reference goes. If the executor shuts
/// down with a poll still queued, the poll is destroyed uncalled, and that destroys the future
/// and the handler without invoking it (for `use_awaitable`: the suspended coroutine), as Asio
/// does with any pending operation; this also breaks the cycle future → waker → operation.
///
/// Lifetime: the executor's context must outlive the operation. An `io_context` destroyed while
/// the future is pending and no poll is queued is not supported (Asio does not know about the
/// operation, so its shutdown cannot destroy it).

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/is_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <zuki/asio/use_future.hpp>
#include <zuki/core/context.hpp>
#include <zuki/core/future.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/core/waker.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/task/join_handle.hpp>
#include <zuki/task/task_priority.hpp>

namespace zuki {

namespace detail {

/// The completion signature of awaiting a future of `T`.
template <class T>
struct AwaitFutureSignature {
    using type = void(std::exception_ptr, T);
};
template <>
struct AwaitFutureSignature<void> {
    using type = void(std::exception_ptr);
};

/// One awaited future: polls `F` on `Executor` (the handler's associated executor) until it is
/// ready, then invokes `Handler` there with `(exception_ptr, T)`. See the file comment.
template <class F, class Handler, class Executor>
class FutureOperation {
    using T = output_t<F>;

public:
    /// Take ownership of `future` and `handler` and post the first poll to `ex`.
    static void start(F&& future, Handler&& handler, const Executor& ex) {
        auto* op = new FutureOperation(std::move(future), std::move(handler), ex);
        // The first poll owns the reference the constructor made. On failure (bad_alloc) the
        // future and the handler are destroyed uncalled and the exception propagates.
        try {
            op->install_cancellation();
        } catch (...) {
            op->abandon();
            op->release();
            throw;
        }
        op->post_poll();  // if it throws, the poll it made was destroyed uncalled: see PollFunction
    }

    FutureOperation(const FutureOperation&) = delete;
    FutureOperation& operator=(const FutureOperation&) = delete;

private:
    // Phases (low bits) and the cancellation flag of state_.
    static constexpr std::uint32_t idle = 0;
    static constexpr std::uint32_t scheduled = 1;
    static constexpr std::uint32_t running = 2;
    static constexpr std::uint32_t notified = 3;
    static constexpr std::uint32_t done = 4;
    static constexpr std::uint32_t phase_mask = 7;
    static constexpr std::uint32_t cancelled = 8;

    FutureOperation(F&& future, Handler&& handler, const Executor& ex)
        : future_(std::in_place, std::move(future)), handler_(std::in_place, std::move(handler)),
          work_(std::in_place, ex) {}
    ~FutureOperation() = default;

    /// The function posted to the executor for each poll; owns one reference.
    class PollFunction {
    public:
        explicit PollFunction(FutureOperation* op) noexcept : op_(op) {}
        PollFunction(PollFunction&& o) noexcept : op_(std::exchange(o.op_, nullptr)) {}
        PollFunction(const PollFunction&) = delete;
        PollFunction& operator=(const PollFunction&) = delete;
        PollFunction& operator=(PollFunction&&) = delete;
        ~PollFunction() {
            // Destroyed uncalled: the executor shut down (or the post failed). No poll will run
            // again, so tear the operation down as Asio does with any pending operation: destroy
            // the future and the handler without invoking it. (Otherwise a future that holds our
            // waker — a JoinHandle of a cancelled task — would keep both alive in a cycle.)
            if (op_ != nullptr) {
                op_->abandon();
                op_->release();
            }
        }
        void operator()() { std::exchange(op_, nullptr)->run(); }

    private:
        FutureOperation* op_;
    };

    /// Installed on the handler's cancellation slot; owns one reference.
    class CancelHandler {
    public:
        explicit CancelHandler(FutureOperation* op) noexcept : op_(op) {}
        CancelHandler(const CancelHandler&) = delete;
        CancelHandler& operator=(const CancelHandler&) = delete;
        ~CancelHandler() { op_->release(); }
        void operator()(boost::asio::cancellation_type_t type) noexcept {
            if ((type & boost::asio::cancellation_type::all) !=
                boost::asio::cancellation_type::none)
                op_->cancel();
        }

    private:
        FutureOperation* op_;
    };

    void install_cancellation() {
        auto slot = boost::asio::get_associated_cancellation_slot(*handler_);
        if (!slot.is_connected()) return;
        add_ref();
        try {
            slot.template emplace<CancelHandler>(this);
        } catch (...) {
            release();
            throw;
        }
    }

    // Post one poll; the PollFunction adopts one reference the caller holds. The poll may run,
    // complete the operation and let the executor's context finish (e.g. `io_context::run()`
    // return and the context be destroyed) before `post` has returned on this thread: `hold`
    // keeps the context's outstanding work above zero until it has.
    void post_poll() {
        const boost::asio::executor_work_guard<Executor> hold(work_->get_executor());
        boost::asio::post(hold.get_executor(), PollFunction(this));
    }

    /// Waker target: make sure a poll runs after this call.
    void wake() noexcept {
        // relaxed: only a starting value for the CAS loop.
        std::uint32_t s = state_.load(std::memory_order_relaxed);
        for (;;) {
            const std::uint32_t phase = s & phase_mask;
            if (phase == idle) {
                // acq_rel: orders this wake's cause (published by the future's own protocol)
                // before the poll we post; pairs with the CAS RUNNING → IDLE in run().
                if (state_.compare_exchange_weak(s, (s & cancelled) | scheduled,
                                                 std::memory_order_acq_rel,
                                                 std::memory_order_relaxed)) {
                    add_ref();
                    // A post can only fail with bad_alloc; a wake cannot report it (noexcept).
                    post_poll();
                    return;
                }
            } else if (phase == running) {
                // acq_rel: pairs with the failed CAS RUNNING → IDLE in run(), which re-polls.
                if (state_.compare_exchange_weak(s, (s & cancelled) | notified,
                                                 std::memory_order_acq_rel,
                                                 std::memory_order_relaxed))
                    return;
            } else {
                return;  // scheduled, notified or done: a poll is coming, or nothing to do
            }
        }
    }

    void cancel() noexcept {
        // acq_rel: the flag must be visible to the poll that wake() schedules next.
        state_.fetch_or(cancelled, std::memory_order_acq_rel);
        wake();
    }

    /// One poll, on the handler's executor. Owns one reference.
    void run() noexcept {
        // SCHEDULED → RUNNING. acquire: pairs with the CAS that scheduled this poll.
        std::uint32_t s = state_.load(std::memory_order_acquire);
        while (!state_.compare_exchange_weak(
            s, (s & cancelled) | running, std::memory_order_acq_rel, std::memory_order_acquire)) {}
        if (s & cancelled) {
            finish_cancelled();
            release();
            return;
        }
        std::optional<Poll<T>> result;
        try {
            add_ref();
            const Waker waker(this, &vtable_);  // adopts the reference just added
            Context cx(waker);
            result.emplace(future_->poll(cx));
        } catch (...) {
            finish(std::current_exception(), std::nullopt);
            release();
            return;
        }
        if (result->is_ready()) {
            if constexpr (std::is_void_v<T>)
                finish(nullptr, std::nullopt);
            else
                finish(nullptr, std::move(*result).value());
            release();
            return;
        }
        // Pending: RUNNING → IDLE, unless a wake came meanwhile (NOTIFIED): then poll again,
        // through the executor so that others run in between.
        s = state_.load(std::memory_order_relaxed);
        for (;;) {
            if ((s & phase_mask) == running) {
                // acq_rel: pairs with the CAS IDLE → SCHEDULED in wake().
                if (state_.compare_exchange_weak(s, (s & cancelled) | idle,
                                                 std::memory_order_acq_rel,
                                                 std::memory_order_relaxed)) {
                    release();
                    return;
                }
            } else {  // notified
                // acq_rel: pairs with the CAS RUNNING → NOTIFIED in wake().
                if (state_.compare_exchange_weak(s, (s & cancelled) | scheduled,
                                                 std::memory_order_acq_rel,
                                                 std::memory_order_relaxed)) {
                    post_poll();  // our reference moves to the new poll; noexcept: see wake()
                    return;
                }
            }
        }
    }

    /// No poll is queued or running and none will: DONE, then destroy everything uncalled.
    void abandon() noexcept {
        // acq_rel: as in finish().
        state_.exchange(done, std::memory_order_acq_rel);
        future_.reset();
        handler_.reset();
        work_.reset();
    }

    void finish_cancelled() noexcept {
        std::exception_ptr e;
        try {
            e = std::make_exception_ptr(
                boost::system::system_error(boost::asio::error::operation_aborted));
        } catch (...) {
            e = std::current_exception();
        }
        finish(std::move(e), std::nullopt);
    }

    /// Complete: DONE, destroy the future, invoke the handler (we run on its executor, so
    /// calling it here is what `dispatch` would do), then release the work.
    template <class V>
    void finish(std::exception_ptr e, V&& value) noexcept {
        // RUNNING or NOTIFIED → DONE; later wakes and cancels see DONE and do nothing.
        // acq_rel: orders this against the concurrent wake/cancel RMWs on state_ (a wake that
        // lost the race only affects a poll that will never run).
        state_.exchange(done, std::memory_order_acq_rel);
        future_.reset();
        Handler h(std::move(*handler_));
        handler_.reset();
        auto work = std::move(*work_);
        work_.reset();
        if constexpr (std::is_void_v<T>) {
            (void)value;
            std::move(h)(std::move(e));
        } else if constexpr (std::is_same_v<std::decay_t<V>, std::nullopt_t>) {
            std::move(h)(std::move(e), T());
        } else {
            std::move(h)(std::move(e), std::forward<V>(value));
        }
    }

    void add_ref() noexcept {
        // relaxed: a new reference is made from a live one.
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept {
        // acq_rel: the last owner deletes after every other owner's accesses.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    static FutureOperation* self(const void* d) noexcept {
        return static_cast<FutureOperation*>(const_cast<void*>(d));
    }
    static const void* vt_clone(const void* d) noexcept {
        self(d)->add_ref();
        return d;
    }
    static void vt_wake(const void* d) noexcept {
        self(d)->wake();
        self(d)->release();
    }
    static void vt_wake_by_ref(const void* d) noexcept { self(d)->wake(); }
    static void vt_drop(const void* d) noexcept { self(d)->release(); }
    static constexpr WakerVTable vtable_{&vt_clone, &vt_wake, &vt_wake_by_ref, &vt_drop};

    detail::atomic<std::uint32_t> refs_{1};  // the first poll's
    detail::atomic<std::uint32_t> state_{scheduled};
    std::optional<F> future_;
    std::optional<Handler> handler_;
    std::optional<boost::asio::executor_work_guard<Executor>> work_;
};

/// The initiation of `async_await`: `Executor` is the default executor for handlers that have
/// no associated executor of their own.
template <class Executor>
class InitiateAwaitFuture {
public:
    using executor_type = Executor;
    explicit InitiateAwaitFuture(const Executor& ex) : ex_(ex) {}
    executor_type get_executor() const noexcept { return ex_; }

    template <class Handler, class F>
    void operator()(Handler&& handler, F&& future) const {
        using H = std::decay_t<Handler>;
        auto ex = boost::asio::get_associated_executor(handler, ex_);
        FutureOperation<std::decay_t<F>, H, decltype(ex)>::start(
            std::move(future), H(std::forward<Handler>(handler)), ex);
    }

private:
    Executor ex_;
};

/// A future of `std::optional<output_t<F>>`: lets a non-default-constructible output travel
/// through `void(std::exception_ptr, T)`, where Asio needs a `T` for the exception case.
template <class F>
class OptionalOutput {
public:
    explicit OptionalOutput(F f) : f_(std::move(f)) {}
    Poll<std::optional<output_t<F>>> poll(Context& cx) {
        auto p = f_.poll(cx);
        if (p.is_pending()) return Poll<std::optional<output_t<F>>>::pending();
        return Poll<std::optional<output_t<F>>>::ready(
            std::optional<output_t<F>>(std::move(p).value()));
    }

private:
    F f_;
};

/// `as_awaitable` for a future whose output is not default-constructible.
template <class Executor, class F>
boost::asio::awaitable<output_t<F>, Executor> await_boxed(F future);

template <class E>
concept asio_executor =
    boost::asio::execution::is_executor<E>::value || boost::asio::is_executor<E>::value;

}  // namespace detail

/// An Asio asynchronous operation that waits for a Zuki future: completes with
/// `void(std::exception_ptr, T)` (`void(std::exception_ptr)` for a `void` future) — the future's
/// output, or the exception its poll threw. Works with any completion token (`use_awaitable`,
/// a callback, `boost::asio::use_future`, `deferred`...). Requires `T` default-constructible
/// (Asio passes a `T` with the exception), like `co_spawn`; `as_awaitable` lifts that.
///
/// The future is polled, and the handler invoked, on the handler's associated executor, or `ex`
/// when it has none (the one-argument form: `boost::asio::system_executor`). While the future
/// is pending the operation counts as outstanding work on that executor. Per-operation
/// cancellation (the handler's cancellation slot) drops the future and completes with
/// `system_error(operation_aborted)`. See the file comment for the protocol.
///
/// @code
/// zuki::async_await(pool.get_executor(), pool.spawn(work()), [](std::exception_ptr e, int v) {
///     // on a pool thread
/// });
/// @endcode
template <detail::asio_executor Executor, Future F, class CompletionToken>
auto async_await(const Executor& ex, F future, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken,
                                       typename detail::AwaitFutureSignature<output_t<F>>::type>(
        detail::InitiateAwaitFuture<Executor>(ex), token, std::move(future));
}
template <Future F, class CompletionToken>
auto async_await(F future, CompletionToken&& token) {
    return async_await(boost::asio::system_executor(), std::move(future),
                       std::forward<CompletionToken>(token));
}

/// A `boost::asio::awaitable<T>` that waits for a Zuki future (any `Future`: an `Async`, a
/// combinator, a `JoinHandle`...), so an Asio coroutine can `co_await` it:
///
/// @code
/// boost::asio::awaitable<int> handler(zuki::WorkStealingExecutor& pool) {
///     zuki::JoinHandle<int> h = pool.spawn(compute());
///     int v = co_await zuki::as_awaitable(std::move(h));   // rethrows the task's exception
///     co_return v + 1;
/// }
/// @endcode
///
/// Lazy (like every awaitable): nothing happens until it is `co_await`ed. The future is polled
/// on the awaiting coroutine's executor (a pool's, an `io_context`'s, a strand), by functions
/// posted there when the future's waker is woken; the coroutine resumes there. An exception
/// thrown by the future's poll is rethrown by the `co_await`. Cancelling the awaiting
/// coroutine's operation — `||` of `awaitable_operators`, or a `cancellation_signal` bound to
/// the `co_spawn` with `bind_cancellation_slot` and emitted on the coroutine's executor — drops
/// the future (whatever it owns is released then, e.g. an `AsioFuture` cancels its operation;
/// dropping a `JoinHandle` detaches its task) and throws `system_error(operation_aborted)`, as
/// `use_awaitable` operations do; the coroutine continues from there.
///
/// `Executor` is the awaitable's executor type (`boost::asio::any_io_executor` by default).
///
/// Thread safety: the returned awaitable is a value of the awaiting coroutine; the future may be
/// woken from any thread.
template <class Executor = boost::asio::any_io_executor, Future F>
boost::asio::awaitable<output_t<F>, Executor> as_awaitable(F future) {
    using T = output_t<F>;
    if constexpr (std::is_void_v<T> || std::is_default_constructible_v<T>)
        return async_await(std::move(future), boost::asio::use_awaitable_t<Executor>());
    else
        return detail::await_boxed<Executor>(std::move(future));
}

namespace detail {
template <class Executor, class F>
boost::asio::awaitable<output_t<F>, Executor> await_boxed(F future) {
    std::optional<output_t<F>> v = co_await async_await(OptionalOutput<F>(std::move(future)),
                                                        boost::asio::use_awaitable_t<Executor>());
    co_return std::move(*v);
}
}  // namespace detail

/// Run an Asio coroutine on a Zuki executor (`WorkStealingExecutor`, `SingleThreadedExecutor`:
/// anything with `get_executor()` and `spawn()`), and return a `JoinHandle` of its result.
///
/// The coroutine is started with `co_spawn(make_strand(executor.get_executor()), ...,
/// zuki::use_future)` (on a strand, so that a cancellation is serialised with the coroutine
/// on a pool of several threads; directly on the executor if the awaitable's executor type
/// cannot hold a strand) and runs as Asio handlers on the executor; the returned handle belongs to
/// a Zuki task (with `priority`) that awaits it. `get()` / `co_await` yield its value or rethrow
/// its exception. Dropping the handle detaches (the coroutine runs on). `cancel()` cancels the
/// waiting task, whose `co_spawn` future is then dropped, and that cancels the coroutine (see
/// `zuki::AsioFuture`): Asio's terminal cancellation, emitted on the coroutine's executor, so
/// the operation it awaits completes with `operation_aborted` (thrown by its `co_await`); what
/// it does next is up to the coroutine. `T` must be default-constructible (a `co_spawn`
/// requirement).
///
/// @code
/// zuki::WorkStealingExecutor pool(2);
/// zuki::JoinHandle<int> h = zuki::spawn_awaitable(pool, answer());  // awaitable<int> answer()
/// int v = h.get();
/// @endcode
template <class ZukiExecutor, class T, class AwaitableExecutor>
requires requires(ZukiExecutor& z) { z.get_executor(); }
JoinHandle<T> spawn_awaitable(ZukiExecutor& executor,
                              boost::asio::awaitable<T, AwaitableExecutor> awaitable,
                              TaskPriority priority = TaskPriority::Normal) {
    using Base = decltype(executor.get_executor());
    using Strand = boost::asio::strand<Base>;
    if constexpr (std::is_constructible_v<AwaitableExecutor, Strand>) {
        // On a strand of the executor: co_spawn's cancellation handler dispatches the emit to
        // the coroutine's executor, and only a strand serialises it with the coroutine's own
        // steps on a pool of several threads (as with asio::thread_pool). A coroutine runs one
        // step at a time anyway, so the strand only orders what would race.
        return executor.spawn(
            boost::asio::co_spawn(AwaitableExecutor(Strand(executor.get_executor())),
                                  std::move(awaitable), use_future),
            priority);
    } else {
        return executor.spawn(boost::asio::co_spawn(AwaitableExecutor(executor.get_executor()),
                                                    std::move(awaitable), use_future),
                              priority);
    }
}

}  // namespace zuki
