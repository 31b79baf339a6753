// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::detail::BasicExecutor<Context, Allocator, Tracked>`: the Boost.Asio executor of a Zuki
/// executor (`WorkStealingExecutor::executor_type`, `SingleThreadedExecutor::executor_type`).
///
/// It satisfies `boost::asio::execution::executor` with the properties `blocking` (`possibly`,
/// `never`, `always`), `relationship` (`fork`, `continuation`), `outstanding_work` (`untracked`,
/// `tracked`), `allocator`, `context`, `mapping` and `occupancy` (query only), and the
/// Networking-TS executor requirements
/// (`context()`, `on_work_started()`, `on_work_finished()`, `dispatch`, `post`, `defer`). So it
/// converts to `boost::asio::any_io_executor` and works with `post`, `dispatch`, `defer`,
/// `make_work_guard`, `co_spawn`, `strand`, timers and sockets.
///
/// Semantics follow `boost::asio::thread_pool`:
/// - `execute` / `dispatch` on a thread of the same executor run the function inline (invoked
///   as an lvalue, as Asio does), unless the executor has `blocking.never`; with
///   `blocking.always`, `execute` from any other thread queues the function and waits until it
///   ran (rethrowing what it threw);
/// - `post`, `defer` and `blocking.never` always queue; from a worker the handler goes to that
///   worker's own queue (`post`: its deque, FIFO and stealable; `relationship.continuation` /
///   `defer`: its LIFO slot on `WorkStealingExecutor`, so it runs next on the same worker),
///   from outside to the executor's shared queue;
/// - every queued handler counts as outstanding work until it ran, and a `tracked` executor
///   counts as outstanding work while it exists: `join()` / `run()` wait for both;
/// - handler memory: the handler's associated allocator if it has one, else the executor's
///   allocator (`execution::allocator`), else a per-thread recycling cache;
/// - an exception escaping a queued handler goes to the executor's unhandled-exception handler
///   and never kills a worker; one from an inline `dispatch` propagates to its caller.
///
/// Thread safety: an executor object is a small value (pointer + allocator + flags); copies may
/// be used concurrently from any thread.

#include <cstddef>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/execution/occupancy.hpp>
#include <boost/asio/execution_context.hpp>

#include <zuki/detail/atomic.hpp>
#include <zuki/detail/parker.hpp>
#include <zuki/task/detail/handler_cell.hpp>

namespace zuki::detail {

namespace execution = boost::asio::execution;

/// How `BasicExecutor` reaches the private hooks of a Zuki executor (each executor befriends
/// this struct, as `asio::thread_pool` befriends its `basic_executor_type`): the handler
/// scheduler, handler submission, and outstanding-work counting.
struct AsioContextAccess {
    template <class C>
    static Scheduler* scheduler(C& c) noexcept {
        return c.asio_scheduler();
    }
    template <class C>
    static void submit(C& c, TaskHeader* t, bool continuation) noexcept {
        c.asio_submit(t, continuation);
    }
    template <class C>
    static void work_started(C& c) noexcept {
        c.asio_work_started();
    }
    template <class C>
    static void work_finished(C& c) noexcept {
        c.asio_work_finished();
    }
    template <class C>
    static std::size_t occupancy(const C& c) noexcept {
        if constexpr (requires { c.thread_count(); })
            return c.thread_count();
        else
            return 1;
    }
};

template <class Context, class Allocator = std::allocator<void>, bool Tracked = false>
class BasicExecutor {
public:
    BasicExecutor(Context& ctx, const Allocator& a = Allocator(), unsigned bits = 0) noexcept
        : ctx_(&ctx), alloc_(a), bits_(bits) {
        if constexpr (Tracked) AsioContextAccess::work_started(*ctx_);
    }
    BasicExecutor(const BasicExecutor& o) noexcept
        : ctx_(o.ctx_), alloc_(o.alloc_), bits_(o.bits_) {
        if constexpr (Tracked)
            if (ctx_) AsioContextAccess::work_started(*ctx_);
    }
    BasicExecutor(BasicExecutor&& o) noexcept
        : ctx_(o.ctx_), alloc_(std::move(o.alloc_)), bits_(o.bits_) {
        if constexpr (Tracked) o.ctx_ = nullptr;  // the count moves with the object
    }
    BasicExecutor& operator=(const BasicExecutor& o) noexcept {
        if (this != &o) {
            BasicExecutor tmp(o);
            swap(tmp);
        }
        return *this;
    }
    BasicExecutor& operator=(BasicExecutor&& o) noexcept {
        if (this != &o) {
            BasicExecutor tmp(std::move(o));
            swap(tmp);
        }
        return *this;
    }
    ~BasicExecutor() {
        if constexpr (Tracked)
            if (ctx_) AsioContextAccess::work_finished(*ctx_);
    }

    // ---- properties ---------------------------------------------------------------------
    static constexpr execution::mapping_t query(execution::mapping_t) noexcept {
        return execution::mapping.thread;
    }
    Context& query(execution::context_t) const noexcept { return *ctx_; }
    execution::blocking_t query(execution::blocking_t) const noexcept {
        if (bits_ & blocking_always) return execution::blocking_t(execution::blocking.always);
        return (bits_ & blocking_never) ? execution::blocking_t(execution::blocking.never)
                                        : execution::blocking_t(execution::blocking.possibly);
    }
    execution::relationship_t query(execution::relationship_t) const noexcept {
        return (bits_ & relationship_continuation)
                   ? execution::relationship_t(execution::relationship.continuation)
                   : execution::relationship_t(execution::relationship.fork);
    }
    static constexpr execution::outstanding_work_t query(execution::outstanding_work_t) noexcept {
        return Tracked ? execution::outstanding_work_t(execution::outstanding_work.tracked)
                       : execution::outstanding_work_t(execution::outstanding_work.untracked);
    }
    template <class Property>
    Allocator query(execution::allocator_t<Property>) const noexcept {
        return alloc_;
    }
    /// The number of threads that run the context's work (a pool's workers; 1 for a
    /// single-threaded executor).
    std::size_t query(execution::occupancy_t) const noexcept {
        return AsioContextAccess::occupancy(*ctx_);
    }

    BasicExecutor require(execution::blocking_t::possibly_t) const noexcept {
        return BasicExecutor(ctx_, alloc_, bits_ & ~(blocking_never | blocking_always));
    }
    BasicExecutor require(execution::blocking_t::never_t) const noexcept {
        return BasicExecutor(ctx_, alloc_, (bits_ & ~blocking_always) | blocking_never);
    }
    /// Run on the context and wait for the function to finish (as `thread_pool`'s executor); on
    /// one of the context's own threads it runs inline.
    BasicExecutor require(execution::blocking_t::always_t) const noexcept {
        return BasicExecutor(ctx_, alloc_, (bits_ & ~blocking_never) | blocking_always);
    }
    BasicExecutor require(execution::relationship_t::fork_t) const noexcept {
        return BasicExecutor(ctx_, alloc_, bits_ & ~relationship_continuation);
    }
    BasicExecutor require(execution::relationship_t::continuation_t) const noexcept {
        return BasicExecutor(ctx_, alloc_, bits_ | relationship_continuation);
    }
    BasicExecutor<Context, Allocator, true>
    require(execution::outstanding_work_t::tracked_t) const noexcept {
        return BasicExecutor<Context, Allocator, true>(ctx_, alloc_, bits_);
    }
    BasicExecutor<Context, Allocator, false>
    require(execution::outstanding_work_t::untracked_t) const noexcept {
        return BasicExecutor<Context, Allocator, false>(ctx_, alloc_, bits_);
    }
    template <class OtherAllocator>
    BasicExecutor<Context, OtherAllocator, Tracked>
    require(execution::allocator_t<OtherAllocator> a) const noexcept {
        return BasicExecutor<Context, OtherAllocator, Tracked>(ctx_, a.value(), bits_);
    }
    BasicExecutor<Context, std::allocator<void>, Tracked>
    require(execution::allocator_t<void>) const noexcept {
        return BasicExecutor<Context, std::allocator<void>, Tracked>(ctx_, {}, bits_);
    }

    // ---- execution ----------------------------------------------------------------------
    /// Run `f` inline when on one of the context's threads and not `blocking.never`; else
    /// queue it.
    template <class F>
    void execute(F&& f) const {
        if (!(bits_ & blocking_never) && ctx_->running_in_this_thread()) {
            std::decay_t<F> tmp(std::forward<F>(f));
            tmp();  // as an lvalue, as Asio's executors do (its adapters rely on it)
            return;
        }
        if (bits_ & blocking_always) {
            execute_and_wait(std::forward<F>(f));
            return;
        }
        submit(std::forward<F>(f), alloc_, (bits_ & relationship_continuation) != 0);
    }

    // ---- Networking TS ------------------------------------------------------------------
    Context& context() const noexcept { return *ctx_; }
    void on_work_started() const noexcept { AsioContextAccess::work_started(*ctx_); }
    void on_work_finished() const noexcept { AsioContextAccess::work_finished(*ctx_); }
    template <class F, class A>
    void dispatch(F&& f, const A& a) const {
        if (ctx_->running_in_this_thread()) {
            std::decay_t<F> tmp(std::forward<F>(f));
            tmp();
            return;
        }
        submit(std::forward<F>(f), a, false);
    }
    template <class F, class A>
    void post(F&& f, const A& a) const {
        submit(std::forward<F>(f), a, false);
    }
    template <class F, class A>
    void defer(F&& f, const A& a) const {
        submit(std::forward<F>(f), a, true);
    }

    /// True on a thread currently running this executor's work.
    bool running_in_this_thread() const noexcept { return ctx_->running_in_this_thread(); }

    friend bool operator==(const BasicExecutor& a, const BasicExecutor& b) noexcept {
        return a.ctx_ == b.ctx_ && a.bits_ == b.bits_ && a.alloc_ == b.alloc_;
    }
    friend bool operator!=(const BasicExecutor& a, const BasicExecutor& b) noexcept {
        return !(a == b);
    }

private:
    template <class, class, bool>
    friend class BasicExecutor;
    static constexpr unsigned blocking_never = 1;
    static constexpr unsigned relationship_continuation = 2;
    static constexpr unsigned blocking_always = 4;

    // blocking.always from a thread that is not the context's: queue `f`, sleep until it ran,
    // rethrow what it threw. The waker keeps the parker alive until its wake returned.
    template <class F>
    void execute_and_wait(F&& f) const {
        ThreadParkerRef parker;
        atomic<bool> done{false};
        std::exception_ptr error;
        submit(
            [fn = std::decay_t<F>(std::forward<F>(f)), &done, &error,
             waker = parker->waker()]() mutable {
                try {
                    fn();
                } catch (...) {
                    error = std::current_exception();
                }
                // release: pairs with the waiter's acquire load (the function's effects and
                // `error` are visible once it sees done).
                done.store(true, std::memory_order_release);
                std::move(waker).wake();
            },
            alloc_, false);
        // acquire: pairs with the release store above.
        while (!done.load(std::memory_order_acquire)) parker->park();
        if (error) std::rethrow_exception(error);
    }

    // Used by require(): `ctx` is null when called on a moved-from tracked executor (as
    // thread_pool's executor does, no work is counted then and nothing is dereferenced).
    BasicExecutor(Context* ctx, const Allocator& a, unsigned bits) noexcept
        : ctx_(ctx), alloc_(a), bits_(bits) {
        if constexpr (Tracked)
            if (ctx_) AsioContextAccess::work_started(*ctx_);
    }

    void swap(BasicExecutor& o) noexcept {
        std::swap(ctx_, o.ctx_);
        std::swap(alloc_, o.alloc_);
        std::swap(bits_, o.bits_);
    }

    // Wrap `f` in a handler task and queue it. Memory: the handler's associated allocator,
    // defaulting to `a` (the executor's or the NTS call's).
    template <class F, class A>
    void submit(F&& f, const A& a, bool continuation) const {
        using H = std::decay_t<F>;
        auto alloc = boost::asio::get_associated_allocator(f, a);
        using Alloc = decltype(alloc);
        auto* t = detail::HandlerCell<H, Alloc>::make(std::forward<F>(f), alloc,
                                                      AsioContextAccess::scheduler(*ctx_));
        AsioContextAccess::work_started(
            *ctx_);  // released by the scheduler when the handler finished
        AsioContextAccess::submit(*ctx_, t, continuation);
    }

    Context* ctx_;
    [[no_unique_address]] Allocator alloc_;
    unsigned bits_;
};

}  // namespace zuki::detail
