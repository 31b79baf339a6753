// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::Async<T>`: a C++20 coroutine that is a Zuki `Future` and can `co_await` any `Future`.
///
/// How it works. An `Async` coroutine starts suspended and runs only inside `Async::poll(cx)`,
/// on the polling thread. The body may `co_await` two kinds of things:
///
/// - **Another `Async`** (the chain of coroutine calls a program is made of). The awaited
///   coroutines form one **chain** below the `Async` that was polled (its *root*): every frame of
///   the chain points to the root's `detail::AsyncChain`, which keeps the `Context` of the `poll`
///   in progress, the chain's **leaf** (the coroutine suspended on a pending future) and the
///   coroutine to run next. The awaiting coroutine suspends and names the child as the next;
///   a finishing child names its parent. The root's `poll` is the trampoline that resumes
///   whichever was named, in a loop, as Asio's `awaitable` threads are pumped; so a million
///   levels take no more stack than one. (Symmetric transfer, `await_suspend` returning the
///   next handle, would be a jump only where the compiler makes it a tail call: GCC does not at
///   -O0/-O1 nor under ThreadSanitizer, and there a deep chain would overflow the stack.)
/// - **Any other `Future`** (a `JoinHandle`, a combinator, a channel's `recv()`...):
///   `promise_type::await_transform` wraps it in an awaiter whose `await_suspend` polls it with
///   the chain's `Context`. Ready: the output is kept and `await_suspend` returns false, so the
///   body goes on at once, on the same stack frame (a loop of a million ready awaits uses no
///   extra stack). Pending: the future stored the waker; the awaiter records itself and its
///   coroutine as the chain's leaf and the coroutine suspends, naming nothing next, so the
///   root's `poll` returns pending.
///
/// On the next `Async::poll(cx2)` of the root, the leaf's future is polled again with `cx2`
/// and, once ready, the *leaf* coroutine is resumed directly: a wake costs the same at depth
/// 1,000 as at depth 1 (nothing walks the chain). When a coroutine of the chain finishes, its
/// `final_suspend` names its parent, which takes the result in `await_resume`.
///
/// An `Async` awaited by another is part of that chain until it finishes: polling it directly
/// meanwhile throws `std::logic_error`. An `Async` that was already polled on its own before
/// being awaited (or an empty or finished one) is awaited as any future is: polled, from its
/// parent's chain, with its own chain below it.
///
/// Destroying a root with a pending chain destroys the chain from the leaf up, one frame after
/// the other (not by recursion: a million-deep chain is dropped on a small stack too), in the
/// order a recursive destruction would take: each child frame before the locals of its parent.
///
/// Exceptions: one thrown by an awaited future's `poll` is rethrown by the `co_await` in the body
/// (where it can be caught); one leaving a child `Async`'s body is rethrown by its parent's
/// `co_await`; one leaving the root's body is rethrown by `Async::poll`. So an executor sees it
/// (and stores it in the task's `JoinHandle`).

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

class AsyncPromiseBase;
struct AsyncAccess;

/// What one chain of awaiting `Async` coroutines shares; it lives in the promise of the chain's
/// root (the `Async` that is polled), and every frame of the chain points to it. Used by one
/// thread at a time: the one polling the root.
struct AsyncChain {
    /// The context of the root's `poll` in progress; null between polls.
    Context* cx = nullptr;
    /// The coroutine the root's `poll` resumes next (its trampoline): set by a coroutine that
    /// suspends to start a child or that finishes with a parent; null to end the poll.
    std::coroutine_handle<> next;
    /// While the chain is suspended on a pending future: the coroutine awaiting it (the leaf),
    /// its promise, and the awaiter to poll again (`repoll`: true once its future finished, with
    /// an output or an exception). All null otherwise (before the first poll, and while running).
    std::coroutine_handle<> leaf;
    AsyncPromiseBase* leaf_promise = nullptr;
    void* waiting = nullptr;
    bool (*repoll)(void* awaiter, Context& cx) noexcept = nullptr;

    void suspend_on(AsyncPromiseBase& promise, std::coroutine_handle<> h, void* awaiter,
                    bool (*again)(void*, Context&) noexcept) noexcept {
        leaf = h;
        leaf_promise = &promise;
        waiting = awaiter;
        repoll = again;
    }
    void clear() noexcept {
        leaf = nullptr;
        leaf_promise = nullptr;
        waiting = nullptr;
        repoll = nullptr;
    }
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

/// A future an `Async` body awaits by polling it: kept (moved in: `Stored` is `F`) or borrowed
/// (`Stored` is `F&`), with its output or exception until `await_resume`.
template <class Stored>
class PolledFuture {
    using future_type = std::remove_reference_t<Stored>;

public:
    using output_type = output_t<future_type>;

    template <class A>
    explicit PolledFuture(A&& future) : future_(std::forward<A>(future)) {}

    /// Polls once: true when the future finished (an exception from its poll is kept).
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
        return static_cast<PolledFuture*>(self)->poll_once(cx);
    }
    output_type take() {
        if (error_) std::rethrow_exception(error_);
        return output_.take();
    }
    future_type& future() noexcept { return future_; }

private:
    Stored future_;
    AwaitedOutput<output_type> output_;
    std::exception_ptr error_;
};

class AsyncPromiseBase {
public:
    std::suspend_always initial_suspend() const noexcept { return {}; }  // lazy

    // At the end of the body: control goes to the awaiting parent (through the root's
    // trampoline), or (a root) back to `poll`, which reads the result.
    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        template <class P>
        void await_suspend(std::coroutine_handle<P> h) noexcept {
            AsyncPromiseBase& p = h.promise();
            if (p.continuation_) p.chain_->next = p.continuation_;
        }
        void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() const noexcept { return {}; }
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
    auto await_transform(A&& awaited);

    /// Never polled and never awaited: may join an awaiting chain.
    bool fresh() const noexcept { return chain_ == nullptr; }
    /// This coroutine's chain is its own: it was polled (not awaited by another `Async`).
    bool is_root() const noexcept { return chain_ == &own_chain_; }

    /// Joins the chain of `parent` (suspended in `co_await`, as `parent_handle`) as its child;
    /// `owner` is the handle inside the `Async` object that owns this coroutine.
    void adopt(AsyncPromiseBase& parent, std::coroutine_handle<> parent_handle,
               std::coroutine_handle<>* owner) noexcept {
        chain_ = parent.chain_;
        parent_ = &parent;
        continuation_ = parent_handle;
        owner_ = owner;
    }

    // The chain this coroutine belongs to: null before it is first polled or awaited, then its
    // own (`own_chain_`, a root) or its root's. Set once.
    AsyncChain* chain_ = nullptr;
    AsyncChain own_chain_;
    // A child's link to its parent: the parent's promise and coroutine (resumed when this one
    // finishes), and where the parent keeps this coroutine's handle (nulled when the root
    // destroys the chain from the leaf up). Null for a root.
    AsyncPromiseBase* parent_ = nullptr;
    std::coroutine_handle<> continuation_;
    std::coroutine_handle<>* owner_ = nullptr;
    std::exception_ptr exception_;
};

/// A future type's way past the poll when it is awaited in an `Async` body and already has its
/// output (by default none). A specialisation provides `static bool ready(const F&) noexcept`
/// (true: the output can be taken now, without a poll and without a waker; false: poll as
/// usual, which also reports misuse) and `static output_t<F> take(F&)` (after `ready`; throws
/// what a ready poll would have thrown). `JoinHandle` has one: a fork-join body awaits
/// mostly children that its own help-first join already ran, and this way such an await is a
/// load of the child's state, with no suspension point entered and no poll.
template <class F>
struct AwaitReadyNow {
    static constexpr bool enabled = false;
};
template <class F>
concept has_await_ready_now = AwaitReadyNow<F>::enabled;

/// The awaiter `co_await f` makes inside an `Async` body for a future that is not an `Async`.
template <class Stored>
class FutureAwaiter {
    using future_type = std::remove_reference_t<Stored>;

public:
    template <class A>
    FutureAwaiter(A&& future, AsyncPromiseBase& promise)
        : future_(std::forward<A>(future)), promise_(&promise) {}
    FutureAwaiter(const FutureAwaiter&) = delete;
    FutureAwaiter& operator=(const FutureAwaiter&) = delete;

    bool await_ready() noexcept {
        if constexpr (has_await_ready_now<future_type>) {
            ready_now_ = AwaitReadyNow<future_type>::ready(future_.future());
            return ready_now_;
        } else {
            return false;
        }
    }

    // Poll now; suspend only if pending (then the root's poll polls us again and resumes this
    // coroutine directly once ready).
    bool await_suspend(std::coroutine_handle<> self) noexcept {
        AsyncChain& chain = *promise_->chain_;
        if (future_.poll_once(*chain.cx)) return false;
        chain.suspend_on(*promise_, self, &future_, &PolledFuture<Stored>::repoll);
        return true;
    }

    typename PolledFuture<Stored>::output_type await_resume() {
        if constexpr (has_await_ready_now<future_type>) {
            if (ready_now_) return AwaitReadyNow<future_type>::take(future_.future());
        }
        return future_.take();
    }

private:
    PolledFuture<Stored> future_;
    AsyncPromiseBase* promise_;
    bool ready_now_ = false;
};

/// The awaiter `co_await a` makes inside an `Async` body for an `Async` `a` (`Stored`: owned
/// `Async<T>` or borrowed `Async<T>&`). A fresh `a` joins the chain: control transfers into its
/// body, and back when it finishes. One that was polled before (or is empty or finished) is
/// awaited as any future, by polling it.
template <class Stored>
class AsyncAwaiter {
public:
    template <class A>
    AsyncAwaiter(A&& async, AsyncPromiseBase& promise)
        : async_(std::forward<A>(async)), promise_(&promise) {}
    AsyncAwaiter(const AsyncAwaiter&) = delete;
    AsyncAwaiter& operator=(const AsyncAwaiter&) = delete;

    bool await_ready() const noexcept { return false; }

    bool await_suspend(std::coroutine_handle<> self) noexcept {
        auto& child = async_.future();
        AsyncChain& chain = *promise_->chain_;
        if (child.handle_ && child.promise().fresh()) {
            child.promise().adopt(*promise_, self, &child.handle_);
            chain.next = child.handle_;  // the trampoline resumes the child's body
            return true;
        }
        polled_ = true;
        if (async_.poll_once(*chain.cx)) return false;  // finished: go on at once
        chain.suspend_on(*promise_, self, &async_, &PolledFuture<Stored>::repoll);
        return true;  // back to the root's poll
    }

    auto await_resume() {
        if (polled_) return async_.take();
        return async_.future().take_result();
    }

private:
    PolledFuture<Stored> async_;
    AsyncPromiseBase* promise_;
    bool polled_ = false;
};

/// What `co_await` accepts in an `Async` body: a non-const `Future` lvalue (borrowed) or a movable
/// `Future` rvalue (moved into the awaiter).
template <class A>
concept awaitable_future =
    Future<std::remove_cvref_t<A>> && !std::is_const_v<std::remove_reference_t<A>> &&
    (std::is_lvalue_reference_v<A> || std::move_constructible<std::remove_cvref_t<A>>);

template <class>
inline constexpr bool is_async = false;
template <class T>
inline constexpr bool is_async<Async<T>> = true;

template <class>
inline constexpr bool always_false = false;

template <class A>
auto AsyncPromiseBase::await_transform(A&& awaited) {
    if constexpr (awaitable_future<A>) {
        // Owned if an rvalue, borrowed if an lvalue.
        using Stored = std::conditional_t<std::is_lvalue_reference_v<A>, A, std::remove_cvref_t<A>>;
        if constexpr (is_async<std::remove_cvref_t<A>>) {
            return AsyncAwaiter<Stored>{std::forward<A>(awaited), *this};
        } else {
            return FutureAwaiter<Stored>{std::forward<A>(awaited), *this};
        }
    } else {
        static_assert(always_false<A>,
                      "co_await in a zuki::Async body takes a zuki::Future (an object with "
                      "poll(zuki::Context&) returning zuki::Poll<T>): a non-const lvalue, or a "
                      "movable rvalue");
    }
}

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
    /// the body; throws `std::logic_error` if empty, completed, polled from its own body (or
    /// from the body of a coroutine it awaits), or being awaited by another `Async`.
    Poll<T> poll(Context& cx) { return poll_here(cx); }

    /// True if this holds a coroutine (finished or not).
    bool valid() const noexcept { return static_cast<bool>(handle_); }

    /// True if the body has finished (returned or threw). False for an empty `Async`.
    bool is_done() const noexcept { return handle_ && handle_.done(); }

private:
    friend promise_type;
    template <class>
    friend class detail::AsyncAwaiter;
    friend struct detail::AsyncAccess;

    // poll(), always inlined: the task that runs a spawned Async (task/detail/cell.hpp) polls
    // it through this, one call less per poll of every spawned coroutine.
    [[gnu::always_inline]] Poll<T> poll_here(Context& cx) {
        if (!handle_) {
            throw std::logic_error(
                "zuki::Async::poll: the Async is empty (moved-from or default-constructed)");
        }
        if (handle_.done()) throw std::logic_error("zuki::Async::poll: polled after completion");
        promise_type& p = promise();
        if (p.fresh()) p.chain_ = &p.own_chain_;  // the first poll makes it a root
        if (!p.is_root()) {
            throw std::logic_error(
                "zuki::Async::poll: this Async is being awaited by another Async (poll that one)");
        }
        detail::AsyncChain& chain = p.own_chain_;
        if (chain.cx != nullptr) {
            throw std::logic_error("zuki::Async::poll: polled from inside its own body");
        }

        chain.cx = &cx;
        struct ClearContext {
            detail::AsyncChain& chain;
            ~ClearContext() { chain.cx = nullptr; }
        } clear{chain};

        std::coroutine_handle<> next = handle_;
        if (chain.waiting != nullptr) {
            if (!chain.repoll(chain.waiting, cx)) return Poll<T>::pending();
            next = chain.leaf;  // resume where the chain waited, however deep
            chain.clear();
        }
        // The trampoline: a coroutine that starts a child or finishes with a parent suspends
        // and names the next one here, so the stack stays one frame deep at any depth and at
        // any optimisation level (a symmetric transfer is a tail call only where the compiler
        // makes it one: not at -O0/-O1 in GCC, nor under ThreadSanitizer).
        while (next) {
            chain.next = nullptr;
            next.resume();
            next = chain.next;
        }
        if (!handle_.done()) return Poll<T>::pending();
        if (p.exception_) std::rethrow_exception(p.exception_);
        if constexpr (std::is_void_v<T>) {
            return Poll<void>::ready();
        } else {
            return Poll<T>::ready(std::move(*p.value_));
        }
    }

    explicit Async(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}

    promise_type& promise() const noexcept {
        return std::coroutine_handle<promise_type>::from_address(handle_.address()).promise();
    }

    // The result of a finished child, for its parent's `co_await`.
    T take_result() {
        promise_type& p = promise();
        if (p.exception_) std::rethrow_exception(p.exception_);
        if constexpr (!std::is_void_v<T>) return std::move(*p.value_);
    }

    // A root with a pending chain below it frees the chain from the leaf up: each frame is
    // destroyed after being detached from the `Async` that owns it (in its parent's frame), so
    // the parent's own destruction later finds it gone. No recursion, whatever the depth.
    void destroy() noexcept {
        if (!handle_) return;
        const std::coroutine_handle<> root = std::exchange(handle_, nullptr);
        auto& p = std::coroutine_handle<promise_type>::from_address(root.address()).promise();
        if (p.is_root()) {
            for (detail::AsyncPromiseBase* q = p.own_chain_.leaf_promise;
                 q != nullptr && q != &p;) {
                detail::AsyncPromiseBase* const up = q->parent_;
                std::exchange(*q->owner_, nullptr).destroy();
                q = up;
            }
        }
        root.destroy();
    }

    // Type-erased so that a chain's frames can detach it (`AsyncPromiseBase::owner_`).
    std::coroutine_handle<> handle_;
};

namespace detail {
/// For the task that runs a spawned `Async` (task/detail/cell.hpp).
struct AsyncAccess {
    template <class T>
    [[gnu::always_inline]] static Poll<T> poll(Async<T>& a, Context& cx) {
        return a.poll_here(cx);
    }
};

template <class T>
Async<T> AsyncPromise<T>::get_return_object() noexcept {
    return Async<T>(std::coroutine_handle<AsyncPromise<T>>::from_promise(*this));
}
inline Async<void> AsyncPromise<void>::get_return_object() noexcept {
    return Async<void>(std::coroutine_handle<AsyncPromise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace zuki
