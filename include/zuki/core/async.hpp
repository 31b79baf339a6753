// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::Async<T>`: a C++20 coroutine that is a Zuki `Future` and can `co_await` any `Future`.
///
/// How it works. An `Async` coroutine starts suspended and runs only inside `Async::poll(cx)`,
/// on the polling thread. `poll` stores `&cx` in the promise and resumes the body. In the body,
/// `co_await f` (for any `zuki::Future f`) goes through `promise_type::await_transform`, which
/// wraps `f` in an awaiter whose `await_suspend` polls `f` with that stored `Context`:
/// - ready: the output is kept and `await_suspend` returns false, so the body goes on at once, on
///   the same stack frame (a loop of a million ready awaits uses no extra stack);
/// - pending: the awaiter registers itself in the promise ("poll this again") and the coroutine
///   suspends; `Async::poll` returns pending. `f` has already stored the waker of `cx`.
/// On the next `Async::poll(cx2)`, the registered awaiter is polled again with `cx2` first, and
/// the body is resumed only once it is ready. So a nested `Async` (or a combinator, or any
/// future) is always polled from the outermost `poll` with the current waker, and no coroutine is
/// ever resumed outside `poll`.
///
/// Exceptions: one thrown by an awaited future's `poll` is rethrown by the `co_await` in the body
/// (where it can be caught); one leaving the body is rethrown by `Async::poll`. So an executor
/// sees it (and stores it in the task's `JoinHandle`), and an `Async` awaiting this one sees it at
/// its `co_await`.

#include <concepts>
#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/future.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/detail/recycling_allocator.hpp>

namespace zuki {

template <class T = void>
class Async;

namespace detail {

/// What an `Async` coroutine's awaiters share with `Async::poll`.
struct AsyncAwaitState {
    /// The context of the `Async::poll` call in progress; null between polls.
    Context* cx = nullptr;
    /// The awaiter whose future was pending when the body last suspended, or null.
    void* waiting = nullptr;
    /// Polls `waiting` again; true once its future finished (with an output or an exception).
    bool (*repoll)(void* awaiter, Context& cx) noexcept = nullptr;
};

/// Where an awaiter keeps the output of its future until `await_resume`.
template <class T>
struct AwaitedOutput {
    std::optional<T> value;
    template <class P>
    void set(P&& p) {
        value.emplace(std::forward<P>(p).value());
    }
    T take() { return std::move(*value); }
};
template <>
struct AwaitedOutput<void> {
    template <class P>
    void set(P&&) noexcept {}
    void take() noexcept {}
};

/// The awaiter `co_await f` makes inside an `Async` body. `Stored` is `F` (an rvalue future, moved
/// in and owned: destroyed at the end of the `co_await` expression) or `F&` (an lvalue, borrowed).
template <class Stored>
class FutureAwaiter {
    using future_type = std::remove_reference_t<Stored>;
    using output_type = output_t<future_type>;

public:
    template <class A>
    FutureAwaiter(A&& future, AsyncAwaitState& state)
        : future_(std::forward<A>(future)), state_(&state) {}
    FutureAwaiter(const FutureAwaiter&) = delete;
    FutureAwaiter& operator=(const FutureAwaiter&) = delete;

    bool await_ready() const noexcept { return false; }

    // Poll now; suspend only if pending (then Async::poll polls us again before resuming).
    bool await_suspend(std::coroutine_handle<>) noexcept {
        if (poll_once(*state_->cx)) return false;
        state_->waiting = this;
        state_->repoll = &repoll;
        return true;
    }

    output_type await_resume() {
        if (error_) std::rethrow_exception(error_);
        return output_.take();
    }

private:
    // True when the future finished; an exception from its poll is kept for await_resume.
    bool poll_once(Context& cx) noexcept {
        try {
            auto p = future_.poll(cx);
            if (p.is_pending()) return false;
            output_.set(std::move(p));
        } catch (...) {
            error_ = std::current_exception();
        }
        return true;
    }
    static bool repoll(void* self, Context& cx) noexcept {
        return static_cast<FutureAwaiter*>(self)->poll_once(cx);
    }

    Stored future_;
    AsyncAwaitState* state_;
    AwaitedOutput<output_type> output_;
    std::exception_ptr error_;
};

/// What `co_await` accepts in an `Async` body: a non-const `Future` lvalue (borrowed) or a movable
/// `Future` rvalue (moved into the awaiter).
template <class A>
concept awaitable_future =
    Future<std::remove_cvref_t<A>> && !std::is_const_v<std::remove_reference_t<A>> &&
    (std::is_lvalue_reference_v<A> || std::move_constructible<std::remove_cvref_t<A>>);

template <class>
inline constexpr bool always_false = false;

class AsyncPromiseBase {
public:
    std::suspend_always initial_suspend() const noexcept { return {}; }  // lazy
    std::suspend_always final_suspend() const noexcept { return {}; }  // poll() reads results
    void unhandled_exception() noexcept { exception_ = std::current_exception(); }

    // Coroutine frames come from the per-thread recycling cache (frames of one coroutine all
    // have one size, so a freed frame is reused by the next call; a frame freed on another
    // thread joins that thread's cache). Frames above 1 KiB go to ::operator new. The sized
    // delete is the one the compiler calls, with the frame's size.
    static void* operator new(std::size_t n) { return RecyclingCache::allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept {
        RecyclingCache::deallocate(p, n);
    }

    template <class A>
    requires awaitable_future<A>
        FutureAwaiter<std::conditional_t<std::is_lvalue_reference_v<A>, A, std::remove_cvref_t<A>>>
        await_transform(A&& future) {
        return {std::forward<A>(future), state_};
    }

    template <class A>
    requires(!awaitable_future<A>) void await_transform(A&&) {
        static_assert(always_false<A>,
                      "co_await in a zuki::Async body takes a zuki::Future (an object with "
                      "poll(zuki::Context&) returning zuki::Poll<T>): a non-const lvalue, or a "
                      "movable rvalue");
    }

    AsyncAwaitState state_;
    std::exception_ptr exception_;
};

template <class T>
class AsyncPromise : public AsyncPromiseBase {
public:
    Async<T> get_return_object() noexcept;

    template <class U = T>
    requires std::convertible_to<U&&, T>
    void return_value(U&& value) { value_.emplace(std::forward<U>(value)); }

    std::optional<T> value_;
};

template <>
class AsyncPromise<void> : public AsyncPromiseBase {
public:
    Async<void> get_return_object() noexcept;
    void return_void() noexcept {}
};

}  // namespace detail

/// A C++20 coroutine type that is a Zuki `Future` of `T` (`T` may be `void` or move-only).
///
/// An `Async` is lazy: calling the coroutine function only creates it; the body runs inside
/// `poll()`, up to the first `co_await` of a future that is pending, then `poll()` returns
/// pending. The body may `co_await` any `zuki::Future` — an lvalue (borrowed, polled in place) or
/// an rvalue (moved into the coroutine frame and destroyed when the `co_await` finishes) —
/// including another `Async`, a combinator, an `AnyFuture` or a `JoinHandle`. `co_await` of a
/// ready future continues at once without suspending.
///
/// @code
/// zuki::Async<int> answer() { co_return 40; }
/// zuki::Async<int> add_later(int b) {
///     int x = co_await answer();              // any Future: Async, map(...), JoinHandle...
///     co_await zuki::yield_now();              // let other tasks run
///     co_return x + b;
/// }
/// zuki::Async<int> f = add_later(2);           // nothing has run yet
/// zuki::Poll<int> p = f.poll(cx);              // runs until pending (here: at yield_now)
/// @endcode
///
/// Compiler note: GCC 12 miscompiles `co_await` of a braced temporary of an aggregate type
/// (`co_await MyFuture{a, b}`): it destroys the temporary twice (a known GCC coroutine bug with
/// temporaries in a `co_await` operand, fixed in later releases). Write
/// `co_await make_my_future(a, b)` (a function call result) or await a named local instead;
/// every future Zuki itself provides is made by a function or constructor and is not affected.
///
/// Exceptions leaving the body are rethrown by `poll()` (an executor stores them in the task's
/// `JoinHandle`; an awaiting `Async` sees them at its `co_await`). Polling a completed `Async`
/// (after it returned ready or threw) or an empty one (default-constructed or moved-from) throws
/// `std::logic_error`, as does polling an `Async` from inside its own body. Destroying an `Async`
/// destroys its coroutine frame, and with it every local and every future it was awaiting.
///
/// Thread safety: an `Async` is polled by one thread at a time; it may move to another thread
/// between polls (the body then continues on that thread, so keep thread-local state out of
/// it across a `co_await`). The body never runs outside `poll()`.
template <class T>
class [[nodiscard]] Async {
    static_assert(!std::is_reference_v<T>, "zuki::Async<T>: T must be an object type or void");

public:
    using promise_type = detail::AsyncPromise<T>;
    using output_type = T;

    /// An empty `Async` (`valid()` is false).
    Async() noexcept = default;
    Async(Async&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Async& operator=(Async&& other) noexcept {
        if (this != &other) {
            destroy();
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Async(const Async&) = delete;
    Async& operator=(const Async&) = delete;
    ~Async() { destroy(); }

    /// Run the body until it finishes or awaits a pending future. Rethrows an exception that left
    /// the body; throws `std::logic_error` if empty, completed, or polled from its own body.
    Poll<T> poll(Context& cx) {
        if (!handle_) {
            throw std::logic_error(
                "zuki::Async::poll: the Async is empty (moved-from or default-constructed)");
        }
        if (handle_.done()) throw std::logic_error("zuki::Async::poll: polled after completion");
        promise_type& promise = handle_.promise();
        detail::AsyncAwaitState& state = promise.state_;
        if (state.cx != nullptr) {
            throw std::logic_error("zuki::Async::poll: polled from inside its own body");
        }

        state.cx = &cx;
        struct ClearContext {
            detail::AsyncAwaitState& state;
            ~ClearContext() { state.cx = nullptr; }
        } clear{state};

        if (state.waiting != nullptr) {
            if (!state.repoll(state.waiting, cx)) return Poll<T>::pending();
            state.waiting = nullptr;
        }
        handle_.resume();
        if (!handle_.done()) return Poll<T>::pending();
        if (promise.exception_) std::rethrow_exception(promise.exception_);
        if constexpr (std::is_void_v<T>) {
            return Poll<void>::ready();
        } else {
            return Poll<T>::ready(std::move(*promise.value_));
        }
    }

    /// True if this holds a coroutine (finished or not).
    bool valid() const noexcept { return static_cast<bool>(handle_); }

    /// True if the body has finished (returned or threw). False for an empty `Async`.
    bool is_done() const noexcept { return handle_ && handle_.done(); }

private:
    friend promise_type;
    explicit Async(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
    void destroy() noexcept {
        if (handle_) std::exchange(handle_, nullptr).destroy();
    }

    std::coroutine_handle<promise_type> handle_;
};

namespace detail {
template <class T>
Async<T> AsyncPromise<T>::get_return_object() noexcept {
    return Async<T>(std::coroutine_handle<AsyncPromise<T>>::from_promise(*this));
}
inline Async<void> AsyncPromise<void>::get_return_object() noexcept {
    return Async<void>(std::coroutine_handle<AsyncPromise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace zuki
