// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::use_future`: a Boost.Asio completion token that turns any Asio asynchronous operation
/// into a Zuki `Future` (`zuki::AsioFuture<T>`), so an `Async` coroutine can `co_await` sockets,
/// timers, resolvers and `co_spawn`.
///
/// Protocol. The operation's completion handler and the future share one small heap object,
/// `detail::AsioOperationState<T>`, with two references (the future's and the handler's), the
/// result and a `detail::AtomicWaker` (the one-shot handshake of detail/atomic_waker.hpp): the
/// handler, on whatever thread completes the operation, writes the result and completes the
/// signal (release, and it wakes the poller if one waits; when the handler runs through its
/// executor, the completion follows the unlock); the future polls the signal, which registers
/// its waker or reports the result visible. No lost wake and no data race, whichever comes
/// first.
/// - Dropping the future before completion cancels the operation (see "Cancellation" below),
///   takes the waker back (WAITING → EMPTY, so a pending operation does not keep the awaiting
///   task alive) and releases its reference; the handler later completes (with
///   `operation_aborted`) into the orphaned state and frees it.
/// - A handler destroyed without being called (its execution context shut down, an initiating
///   function threw) completes the state with `std::future_error(broken_promise)`, as
///   `boost::asio::use_future` does, so an awaiting task never hangs.
///
/// Cancellation (`detail::AsioCancellation`). The shared state owns a
/// `boost::asio::cancellation_signal`; the handler's associated cancellation slot is that
/// signal's slot, so the operation installs its cancellation handler there. Dropping the future
/// while the operation is pending emits `cancellation_type::all` on the signal — synchronously,
/// on the dropping thread, before the drop returns — so the operation completes with
/// `operation_aborted` and the handler (with the buffers and objects it keeps) is released. A
/// dropped future, a cancelled task whose frame held the future, a `zuki::timeout` that drops
/// the losing future: all three are a drop.
///
/// Why the emit runs inline and what serialises it. Asio requires an emit to be serialised with
/// every other use of the slot (the operation installs its handler in its initiating function)
/// and with the completion. A recursive mutex in the state does that: the handler's slot is
/// `detail::AsioCancellationSlot`, which takes it around `emplace`/`assign`/`clear`; the
/// handler's associated executor (`detail::AsioHandlerExecutor`) runs every function Asio gives
/// it — the completion, and each step of a composed operation — inline under it; the handler
/// marks the state completed under it before it stores the result; the emit takes it and does
/// nothing once the state is completed (an operation that already completed keeps its stale
/// cancellation handler in the slot; running it could touch a destroyed I/O object). It is
/// recursive because a cancellation handler may complete the operation inline, and a step holds
/// it while the slot is used and the handler completes. Asio's cancellation handlers for
/// sockets, descriptors and timers lock the reactor's or the scheduler's mutex, so they may run
/// on any thread. Posting the emit to the I/O object's executor instead would let it run after
/// the I/O object is gone: a task's frame destroys the awaited future first and its local socket
/// next, and those cancellation handlers read the I/O object. Inline, the emit is over before
/// the drop returns. What a user must ensure is Asio's usual rule: do not drop the future
/// concurrently with another thread's use of the same I/O object (closing, destroying, starting
/// another operation on it); and drop it before the I/O object is destroyed, or after the
/// aborted operation's handler ran (an I/O object destroyed first completes its operation with
/// `operation_aborted`, but until the handler runs the emit cannot know it, and the
/// cancellation handler would read the destroyed object).
///
/// Composed operations (`async_read`, `async_write`, `async_read_until`, `async_connect` over a
/// range, `async_compose`...) are cancelled by a drop too. They install a `cancellation_state` of
/// their own in our slot; each step (an intermediate completion) reads its flag and re-arms its
/// inner slot as it starts the next operation, on whatever thread completed the previous one.
/// Asio runs each step through the handler's associated executor (the composed operation's
/// executor is its handler's), and ours runs it under the state's lock, so no step overlaps an
/// emit: an emit between two steps finds the next operation's cancellation handler installed,
/// or sets the flag the next step checks. (With the system executor as before, nothing
/// serialised them, and ThreadSanitizer reported the race; composed operations were then left
/// uncancelled.) The first step runs in the initiating function, before the future exists, so
/// no drop races with it. The steps run under the lock only if Asio runs them through our
/// executor; an executor bound over the handler (`boost::asio::bind_executor(ex,
/// zuki::use_future)`) runs them instead. So a composed operation (recognised by
/// `installs_cancellation_state`, which sets `composed_`) is emitted on only once Asio has asked
/// the handler for its executor (`get_executor()`, which each step's operation does as it
/// starts, for its `handler_work`; the first in the initiating function): with an executor bound
/// over ours it never does, and such an operation is not cancelled by a drop, as before.
///
/// Lock order. Under the state's lock a step may take the reactor's descriptor mutex or the
/// scheduler's mutex (starting the next operation), and so may the emit (its cancellation
/// handler). Asio never runs a handler's executor while it holds either (the epoll reactor
/// completes an operation after releasing the descriptor lock, the scheduler after releasing
/// its own), so those locks are never held when ours is taken. The other direction is the
/// waker: a completion inside a step (or inside an emit: a cancellation handler that completes
/// the operation inline) leaves its wake to the step, which runs it after its unlock
/// (`AsioOperationState::run_step`), so a waker is never called under the state's lock, and a
/// drop under a lock that a waker takes cannot deadlock with it.
///
/// One exception: `co_spawn`. Its cancellation handler dispatches the emit on to the
/// coroutine's executor with a pointer to itself, which lives in our signal: from another
/// thread, that function would run later, possibly after the coroutine completed and the state
/// (with the signal) was freed. So for a `co_spawn` the drop posts the emit to the coroutine's
/// executor (`PostedEmit`, holding a reference to the state): there co_spawn's dispatch runs
/// inline, while the state is alive. No I/O object is involved, so running later is safe.

#include <atomic>
#include <cstdint>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detail/non_const_lvalue.hpp>
#include <boost/asio/execution/blocking.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>
#include <boost/asio/system_context.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <zuki/core/context.hpp>
#include <zuki/core/future.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/core/waker.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/atomic_waker.hpp>

namespace zuki {

template <class T>
class AsioFuture;

namespace detail {

/// How a completion signature reports failure: by its first argument.
enum class AsioErrorArg { none, boost_error_code, std_error_code, exception_ptr };

template <class... Values>
struct AsioPackValue {
    using type = std::tuple<Values...>;
};
template <>
struct AsioPackValue<> {
    using type = void;
};
template <class V>
struct AsioPackValue<V> {
    using type = V;
};

/// The future's output type for a completion signature with decayed arguments `Args...`: a leading
/// `error_code` / `std::error_code` / `exception_ptr` is the error channel (not part of the value);
/// the remaining arguments are nothing (`void`), one value, or a `std::tuple`.
template <class... Args>
struct AsioCompletion {
    static constexpr AsioErrorArg error = AsioErrorArg::none;
    using value_type = typename AsioPackValue<Args...>::type;
};
template <class... Rest>
struct AsioCompletion<boost::system::error_code, Rest...> {
    static constexpr AsioErrorArg error = AsioErrorArg::boost_error_code;
    using value_type = typename AsioPackValue<Rest...>::type;
};
template <class... Rest>
struct AsioCompletion<std::error_code, Rest...> {
    static constexpr AsioErrorArg error = AsioErrorArg::std_error_code;
    using value_type = typename AsioPackValue<Rest...>::type;
};
template <class... Rest>
struct AsioCompletion<std::exception_ptr, Rest...> {
    static constexpr AsioErrorArg error = AsioErrorArg::exception_ptr;
    using value_type = typename AsioPackValue<Rest...>::type;
};

class AsioCancellation;

/// The associated cancellation slot of a `UseFutureHandler`: the slot of the state's
/// `cancellation_signal`, with every use taken under the state's lock, so that installing,
/// replacing or clearing a cancellation handler is serialised with an emit from the thread
/// that drops the future. A model of Asio's CancellationSlot (what `cancellation_slot` offers,
/// used the same way).
///
/// Thread safety: each member is serialised with the other members and with the emit.
class AsioCancellationSlot {
public:
    /// A slot connected to nothing (`is_connected()` is false): the handler was already used.
    AsioCancellationSlot() noexcept = default;

    template <class CancellationHandler, class... Args>
    std::decay_t<CancellationHandler>& emplace(Args&&... args);
    template <class CancellationHandler>
    std::decay_t<CancellationHandler>& assign(CancellationHandler&& handler);
    void clear();
    bool is_connected() const noexcept { return owner_ != nullptr; }
    bool has_handler() const;

    friend bool operator==(const AsioCancellationSlot& a, const AsioCancellationSlot& b) noexcept {
        return a.owner_ == b.owner_;
    }
    friend bool operator!=(const AsioCancellationSlot& a, const AsioCancellationSlot& b) noexcept {
        return a.owner_ != b.owner_;
    }

private:
    friend class AsioCancellation;
    explicit AsioCancellationSlot(AsioCancellation* owner) noexcept : owner_(owner) {}
    AsioCancellation* owner_ = nullptr;
};

/// The cancellation part of the state shared by an `AsioFuture` and its handler: the signal
/// whose slot the operation uses, and the lock and flag that serialise the emit with the slot's
/// uses, with the operation's steps (run by the handler's executor under the lock) and with the
/// completion (see the file comment).
///
/// Invariant: `signal_` is emitted on at most once, under `lock_`, only while `completed_` is
/// false — the operation has not invoked (or destroyed) its handler, so the cancellation handler
/// in the slot belongs to a pending operation — and, for a composed operation, only once Asio
/// asked for the handler's executor (its steps run under the lock).
class AsioCancellation {
public:
    AsioCancellation() = default;
    AsioCancellation(const AsioCancellation&) = delete;
    AsioCancellation& operator=(const AsioCancellation&) = delete;

    /// The slot the handler exposes to the operation.
    AsioCancellationSlot slot() noexcept { return AsioCancellationSlot(this); }

    /// Handler side: the operation has completed (the handler is invoked or destroyed); no emit
    /// after this. Waits for an emit in progress on another thread. True if this runs inside a
    /// step (`enter_step` on this thread): the caller must then leave the wake to `leave_step`,
    /// which runs it after the unlock.
    bool mark_completed() noexcept {
        const std::lock_guard<std::recursive_mutex> hold(lock_);
        completed_ = true;
        // Holding the lock while a step (or an emit) runs means this thread runs it.
        if (steps_ == 0) return false;
        wake_deferred_ = true;
        return true;
    }

    /// Executor side: a step of the operation (or its completion) starts on this thread; it runs
    /// under the lock until `leave_step`.
    void enter_step() {
        lock_.lock();
        ++steps_;
    }
    /// The step is over: unlock. True if the handler completed in it (the outermost one) and
    /// left the wake to the caller.
    bool leave_step() noexcept {
        bool wake = false;
        if (--steps_ == 0) wake = std::exchange(wake_deferred_, false);
        lock_.unlock();
        return wake;
    }

    /// Asio asked for the handler's executor (`AsioHandlerExecutor`): the operation runs its
    /// steps through it, under the lock (see the file comment).
    void executor_used() noexcept {
        // relaxed load: only ever set to true; release store: pairs with the emit's acquire.
        if (!executor_used_.load(std::memory_order_relaxed))
            executor_used_.store(true, std::memory_order_release);
    }

    /// The operation is a `co_spawn`: emit on its executor `ex` (see the file comment).
    void emit_on(boost::asio::any_io_executor ex) noexcept { emit_executor_ = std::move(ex); }
    /// The executor to post the emit to, or null: emit inline.
    const boost::asio::any_io_executor* emit_executor() const noexcept {
        return emit_executor_ ? &*emit_executor_ : nullptr;
    }

    /// Future side: the future is dropped; claim the one emit, unless the operation completed
    /// or the emit was claimed already. True: the caller emits (`emit_if_pending`), inline or
    /// posted.
    bool claim_emit() noexcept {
        const std::lock_guard<std::recursive_mutex> hold(lock_);
        if (completed_ || emitted_) return false;
        emitted_ = true;
        return true;
    }

    /// After `claim_emit()`: cancel the operation if it is still pending and installed a
    /// cancellation handler; the handler runs on this thread before this returns. True if the
    /// operation completed inline in it: its wake is left to the caller, after the unlock (as
    /// for a step).
    bool emit_if_pending() noexcept {
        const std::lock_guard<std::recursive_mutex> hold(lock_);
        // acquire: pairs with the release store in executor_used() (made on the initiating
        // thread, or under lock_).
        if (completed_ || !signal_.slot().has_handler() ||
            (composed_ && !executor_used_.load(std::memory_order_acquire)))
            return false;
        ++steps_;  // counted as a step: a completion inside it defers its wake
        try {
            signal_.emit(boost::asio::cancellation_type::all);
        } catch (...) {
            // A cancellation handler that cannot run (bad_alloc posting the cancellation, as
            // co_spawn's does): the operation is not cancelled and completes as it would have
            // without a cancellation, into the orphaned state. A drop cannot report an error.
        }
        return --steps_ == 0 && std::exchange(wake_deferred_, false);
    }

private:
    friend class AsioCancellationSlot;

    // Recursive: a cancellation handler may complete the operation inline (mark_completed on
    // this thread) or install another handler in the slot while the emit holds the lock; a
    // step holds it while it installs the next operation's handler and may complete the
    // handler.
    std::recursive_mutex lock_;
    bool completed_ = false;  // guarded by lock_
    bool emitted_ = false;  // guarded by lock_
    // A composed operation installed its cancellation_state: emitted on only once its steps
    // are known to run through the handler's executor (executor_used_). Guarded by lock_.
    bool composed_ = false;
    detail::atomic<bool> executor_used_{false};  // see executor_used()
    // Steps (and an emit) running, nested, on the lock holder's thread. Guarded by lock_.
    std::uint32_t steps_ = 0;
    bool wake_deferred_ = false;  // the handler completed in a step; guarded by lock_
    boost::asio::cancellation_signal signal_;  // its slot used only under lock_
    // Set by the initiation, before the future exists; read-only afterwards.
    std::optional<boost::asio::any_io_executor> emit_executor_;
};

/// True for the arguments with which `boost::asio::cancellation_state` installs its handler in
/// the parent slot (none, or an input and an output filter): the mark of a composed operation.
template <class... Args>
inline constexpr bool installs_cancellation_state =
    sizeof...(Args) == 0 ||
    (sizeof...(Args) == 2 &&
     (std::is_invocable_r_v<boost::asio::cancellation_type_t, std::decay_t<Args>&,
                            boost::asio::cancellation_type_t> &&
      ...));

template <class CancellationHandler, class... Args>
std::decay_t<CancellationHandler>& AsioCancellationSlot::emplace(Args&&... args) {
    const std::lock_guard<std::recursive_mutex> hold(owner_->lock_);
    if constexpr (installs_cancellation_state<Args...>) owner_->composed_ = true;
    return owner_->signal_.slot().template emplace<CancellationHandler>(
        std::forward<Args>(args)...);
}
template <class CancellationHandler>
std::decay_t<CancellationHandler>& AsioCancellationSlot::assign(CancellationHandler&& handler) {
    const std::lock_guard<std::recursive_mutex> hold(owner_->lock_);
    return owner_->signal_.slot().assign(std::forward<CancellationHandler>(handler));
}
inline void AsioCancellationSlot::clear() {
    if (owner_ == nullptr) return;
    const std::lock_guard<std::recursive_mutex> hold(owner_->lock_);
    owner_->signal_.slot().clear();
}
inline bool AsioCancellationSlot::has_handler() const {
    if (owner_ == nullptr) return false;
    const std::lock_guard<std::recursive_mutex> hold(owner_->lock_);
    return owner_->signal_.slot().has_handler();
}

/// The state shared by an `AsioFuture<T>` and the completion handler of its operation (see the
/// file comment for the protocol). Allocated by `AllocatedAsioOperationState` with the token's
/// allocator; `destroy_` frees it the same way.
template <class T>
class AsioOperationState {
public:
    using stored_type = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

    AsioOperationState(const AsioOperationState&) = delete;
    AsioOperationState& operator=(const AsioOperationState&) = delete;

    // ---- handler side (any thread, once) -------------------------------------------------
    /// Store the value made of `values...` (nothing, one value, or a tuple of them).
    template <class... V>
    void set_value(V&&... values) noexcept {
        try {
            // monostate (void), T from one value, or std::tuple<T...> from several.
            result_.template emplace<value_index>(std::forward<V>(values)...);
        } catch (...) {
            result_.template emplace<exception_index>(std::current_exception());
        }
    }
    void set_error(const boost::system::error_code& ec) noexcept {
        result_.template emplace<boost_error_index>(ec);
    }
    void set_error(const std::error_code& ec) noexcept {
        result_.template emplace<std_error_index>(ec);
    }
    void set_exception(std::exception_ptr e) noexcept {
        result_.template emplace<exception_index>(std::move(e));
    }
    /// The handler was destroyed without being called.
    void set_abandoned() noexcept {
        try {
            set_exception(
                std::make_exception_ptr(std::future_error(std::future_errc::broken_promise)));
        } catch (...) {
            set_exception(std::current_exception());  // bad_alloc making the exception object
        }
    }
    /// The operation completed (before the result is stored): no cancellation after this.
    /// True: it completed inside a step (`run_step`), which publishes the result after its
    /// unlock; the handler must not call `complete()`.
    bool mark_completed() noexcept { return cancellation_.mark_completed(); }
    /// Publish the result stored above and wake the poller if it waits.
    void complete() noexcept { signal_.complete(); }
    /// The handler's executor: run `f` (a step of the operation, or its completion: a function
    /// that owns the handler, so the state is alive) inline under the state's lock. If the
    /// handler completed in it, its wake runs here after the unlock (a waker is never called
    /// under the lock). Holds a reference meanwhile: the handler's may go inside `f`.
    template <class F>
    void run_step(F& f) {
        struct Leave {
            AsioOperationState* s;
            ~Leave() {
                if (s->cancellation_.leave_step()) s->complete();
                s->release();
            }
        };
        cancellation_.enter_step();  // may throw (std::system_error): nothing to undo then
        // relaxed: a new reference made from the handler's, which `f` owns (live).
        refs_.fetch_add(1, std::memory_order_relaxed);
        const Leave leave{this};
        f();
    }
    /// The slot the handler exposes as its associated cancellation slot.
    AsioCancellationSlot cancellation_slot() noexcept { return cancellation_.slot(); }
    /// Asio asked for the handler's executor (see `AsioCancellation::executor_used`).
    void executor_used() noexcept { cancellation_.executor_used(); }

    // ---- future side (one poller at a time) ----------------------------------------------
    /// True once the result is there (then `take()` it); else the waker of `cx` is registered.
    bool poll_ready(Context& cx) { return signal_.poll_done(cx.waker()); }
    /// True if the result is there (does not register anything).
    bool is_done() const noexcept { return signal_.is_done(); }
    /// The result; only after poll_ready()/is_done() returned true. Throws the operation's error.
    T take() {
        switch (result_.index()) {
            case value_index:
                if constexpr (std::is_void_v<T>)
                    return;
                else
                    return std::move(std::get<value_index>(result_));
            case exception_index:
                std::rethrow_exception(std::get<exception_index>(result_));
            case boost_error_index:
                throw boost::system::system_error(std::get<boost_error_index>(result_));
            case std_error_index:
                throw std::system_error(std::get<std_error_index>(result_));
            default:
                throw std::logic_error("zuki::AsioFuture: no result (internal error)");
        }
    }
    /// The future is dropped: cancel the operation if it is pending (the emit runs here, see
    /// the file comment), take the waker back if it is still registered (a pending operation
    /// then does not keep the awaiting task alive), then release.
    void detach_future() noexcept {
        if (cancellation_.claim_emit()) {
            if (const boost::asio::any_io_executor* ex = cancellation_.emit_executor())
                post_emit(*ex);
            else if (cancellation_.emit_if_pending())
                complete();  // the operation completed inline, in the emit
        }
        signal_.unregister();
        release();
    }
    /// For the initiation of a `co_spawn`: emit on `ex` (see the file comment).
    void emit_on(boost::asio::any_io_executor ex) noexcept { cancellation_.emit_on(std::move(ex)); }

    /// Release one of the two references (future's, handler's); the last frees the state.
    void release() noexcept {
        // acq_rel: the release half publishes this owner's accesses; the acquire half lets the
        // last owner free the state after both owners' accesses (pairs with the other release).
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_(this);
    }

protected:
    using destroy_fn = void (*)(AsioOperationState*) noexcept;
    explicit AsioOperationState(destroy_fn destroy) noexcept : destroy_(destroy) {}
    ~AsioOperationState() = default;

private:
    /// The emit posted to a `co_spawn`'s executor; owns one reference to the state (so the
    /// signal, and the cancellation handler co_spawn installed in it, outlive the emit).
    class PostedEmit {
    public:
        explicit PostedEmit(AsioOperationState* s) noexcept : s_(s) {}
        PostedEmit(PostedEmit&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
        PostedEmit(const PostedEmit&) = delete;
        PostedEmit& operator=(const PostedEmit&) = delete;
        PostedEmit& operator=(PostedEmit&&) = delete;
        ~PostedEmit() {
            if (s_ != nullptr) s_->release();  // destroyed uncalled: the executor shut down
        }
        void operator()() noexcept {
            AsioOperationState* s = std::exchange(s_, nullptr);
            if (s->cancellation_.emit_if_pending()) s->complete();
            s->release();
        }

    private:
        AsioOperationState* s_;
    };

    void post_emit(const boost::asio::any_io_executor& ex) noexcept {
        // relaxed: a new reference made from the future's, which is live.
        refs_.fetch_add(1, std::memory_order_relaxed);
        try {
            boost::asio::post(ex, PostedEmit(this));  // on failure PostedEmit released it
        } catch (...) {
            // bad_alloc or a stopped executor: the coroutine is not cancelled and runs to its
            // end, completing into the orphaned state, as before cancellation existed.
        }
    }

    static constexpr std::size_t value_index = 1;
    static constexpr std::size_t exception_index = 2;
    static constexpr std::size_t boost_error_index = 3;
    static constexpr std::size_t std_error_index = 4;

    detail::atomic<std::uint32_t> refs_{2};  // the future's and the handler's
    AtomicWaker signal_;  // DONE once result_ is written
    AsioCancellation cancellation_;
    std::variant<std::monostate, stored_type, std::exception_ptr, boost::system::error_code,
                 std::error_code>
        result_;
    destroy_fn destroy_;
};

/// `AsioOperationState<T>` allocated with (a rebound copy of) `Alloc`.
template <class T, class Alloc>
class AllocatedAsioOperationState final : public AsioOperationState<T> {
    using self_alloc =
        typename std::allocator_traits<Alloc>::template rebind_alloc<AllocatedAsioOperationState>;
    using traits = std::allocator_traits<self_alloc>;

public:
    explicit AllocatedAsioOperationState(const self_alloc& a) noexcept
        : AsioOperationState<T>(&destroy), alloc_(a) {}

    static AsioOperationState<T>* make(const Alloc& a) {
        self_alloc al(a);
        AllocatedAsioOperationState* p = traits::allocate(al, 1);
        ::new (static_cast<void*>(p)) AllocatedAsioOperationState(al);  // noexcept
        return p;
    }

private:
    static void destroy(AsioOperationState<T>* base) noexcept {
        auto* p = static_cast<AllocatedAsioOperationState*>(base);
        self_alloc al(p->alloc_);
        p->~AllocatedAsioOperationState();
        traits::deallocate(al, p, 1);
    }

    [[no_unique_address]] self_alloc alloc_;
};

/// True for the initiation of `boost::asio::co_spawn` (whose cancellation handler dispatches
/// the emit on to the coroutine's executor; see the file comment).
template <class Initiation>
struct is_co_spawn_initiation : std::false_type {};
template <class Executor>
struct is_co_spawn_initiation<boost::asio::detail::initiate_co_spawn<Executor>> : std::true_type {};

/// The associated executor of a `UseFutureHandler`: runs each function Asio gives it — a step
/// of the operation (of a composed operation: each intermediate completion, which starts the
/// next operation and re-arms the cancellation slot) or its completion — inline on the calling
/// thread, under the state's lock (`AsioOperationState::run_step`), so that every step is
/// serialised with an emit from the thread that drops the future (see the file comment).
///
/// A minimal Asio standard executor, modelled on `boost::asio::system_executor`: blocking
/// `possibly` (inline); once `blocking.never` is required (as `boost::asio::post` of the handler
/// does), it hands the function to the system executor's threads, where it runs under the lock
/// the same way. Its context is the system context; the other properties (outstanding work,
/// relationship, allocator) are preferable only and left as they are.
///
/// It holds a plain pointer to the state: copies live on in Asio's work guards (an operation's
/// `handler_work`, co_spawn's) and may outlive the state, which is fine as long as only
/// `execute` reads the pointer, and Asio runs through a handler's executor only functions that
/// own the handler (whose reference keeps the state alive until `run_step` took its own).
/// Copying, comparing and destroying never touch the state.
template <class T, bool Never = false>
class AsioHandlerExecutor {
public:
    explicit AsioHandlerExecutor(AsioOperationState<T>* s) noexcept : s_(s) {}

    template <class F>
    void execute(F&& f) const {
        if constexpr (Never) {
            boost::asio::require(boost::asio::system_executor(),
                                 boost::asio::execution::blocking.never)
                .execute(Later<std::decay_t<F>>{s_, std::forward<F>(f)});
        } else {
            boost::asio::detail::non_const_lvalue<F> f2(f);
            s_->run_step(f2.value);
        }
    }

    friend bool operator==(const AsioHandlerExecutor& a, const AsioHandlerExecutor& b) noexcept {
        return a.s_ == b.s_;
    }
    friend bool operator!=(const AsioHandlerExecutor& a, const AsioHandlerExecutor& b) noexcept {
        return a.s_ != b.s_;
    }

    static constexpr boost::asio::execution::blocking_t
    query(boost::asio::execution::blocking_t) noexcept {
        if constexpr (Never)
            return boost::asio::execution::blocking.never;
        else
            return boost::asio::execution::blocking.possibly;
    }
    boost::asio::system_context& query(boost::asio::execution::context_t) const noexcept {
        return boost::asio::query(boost::asio::system_executor(), boost::asio::execution::context);
    }
    AsioHandlerExecutor<T, false>
    require(boost::asio::execution::blocking_t::possibly_t) const noexcept {
        return AsioHandlerExecutor<T, false>(s_);
    }
    AsioHandlerExecutor<T, true>
    require(boost::asio::execution::blocking_t::never_t) const noexcept {
        return AsioHandlerExecutor<T, true>(s_);
    }

private:
    template <class, bool>
    friend class AsioHandlerExecutor;

    // blocking.never: the function, run later on a system executor thread, under the lock.
    template <class F>
    struct Later {
        AsioOperationState<T>* s;
        F f;
        void operator()() { s->run_step(f); }
    };

    AsioOperationState<T>* s_;
};

/// The completion handler `zuki::use_future` gives an operation with decayed signature
/// arguments `Args...`. It holds the handler's reference to the shared state.
///
/// Associated executor: `AsioHandlerExecutor`, which runs it inline on whatever thread
/// completes the operation (Asio's reactor thread, an `io_context` thread, a pool worker), like
/// `boost::asio::system_executor` (and `boost::asio::use_future`), but under the state's lock:
/// the steps of a composed operation too, so a drop's emit is serialised with them. It only
/// stores the result (and the step wakes the awaiting task after the unlock), which then
/// continues on its own Zuki executor; going through the I/O object's executor first would add
/// a queue hop for nothing. Associated allocator: the token's. Associated cancellation slot: the
/// shared state's (`AsioCancellationSlot`), emitted on when the future is dropped.
template <class Alloc, class... Args>
class UseFutureHandler {
    using completion = AsioCompletion<Args...>;
    using value_type = typename completion::value_type;

public:
    using executor_type = AsioHandlerExecutor<value_type>;
    using allocator_type = Alloc;
    using cancellation_slot_type = AsioCancellationSlot;

    UseFutureHandler(AsioOperationState<value_type>* state, const Alloc& a) noexcept
        : state_(state), alloc_(a) {}
    UseFutureHandler(UseFutureHandler&& o) noexcept
        : state_(std::exchange(o.state_, nullptr)), alloc_(o.alloc_) {}
    UseFutureHandler(const UseFutureHandler&) = delete;
    UseFutureHandler& operator=(const UseFutureHandler&) = delete;
    UseFutureHandler& operator=(UseFutureHandler&&) = delete;
    ~UseFutureHandler() {
        if (state_ != nullptr) {
            const bool in_step = state_->mark_completed();
            state_->set_abandoned();
            finish(in_step);
        }
    }

    /// Asio asks for it before an operation it runs through it waits (its `handler_work`): the
    /// mark that a composed operation's steps run under the state's lock (see the file comment).
    executor_type get_executor() const noexcept {
        if (state_ != nullptr) state_->executor_used();
        return executor_type(state_);
    }
    allocator_type get_allocator() const noexcept { return alloc_; }
    /// The state's slot; a disconnected one once the handler was used.
    cancellation_slot_type get_cancellation_slot() const noexcept {
        return state_ != nullptr ? state_->cancellation_slot() : cancellation_slot_type();
    }

    /// The completion: store the result, publish it, wake the waiter. A second call is a no-op.
    void operator()(Args... args) {
        if (state_ == nullptr) return;
        const bool in_step = state_->mark_completed();
        store(std::move(args)...);
        finish(in_step);
    }

private:
    template <class... A>
    void store(A&&... a) noexcept {
        if constexpr (completion::error == AsioErrorArg::none) {
            state_->set_value(std::forward<A>(a)...);
        } else {
            store_with_error(std::forward<A>(a)...);
        }
    }
    template <class E, class... Rest>
    void store_with_error(E&& err, Rest&&... rest) noexcept {
        if (err)
            store_error(std::forward<E>(err));
        else
            state_->set_value(std::forward<Rest>(rest)...);
    }
    void store_error(const boost::system::error_code& ec) noexcept { state_->set_error(ec); }
    void store_error(const std::error_code& ec) noexcept { state_->set_error(ec); }
    void store_error(std::exception_ptr e) noexcept { state_->set_exception(std::move(e)); }

    // Publish and wake, unless the step that runs this does it after its unlock (`in_step`; it
    // holds a reference of its own, so the release below does not free the state).
    void finish(bool in_step) noexcept {
        AsioOperationState<value_type>* s = std::exchange(state_, nullptr);
        if (!in_step) s->complete();
        s->release();
    }

    AsioOperationState<value_type>* state_;
    [[no_unique_address]] Alloc alloc_;
};

}  // namespace detail

/// The Zuki `Future` of one Asio asynchronous operation started with `zuki::use_future`.
///
/// Polling it yields the operation's result:
/// - nothing (`void`) for `void()`, `void(error_code)` and `void(std::exception_ptr)`;
/// - `T` for `void(error_code, T)`, `void(std::exception_ptr, T)` and `void(T)`;
/// - `std::tuple<T...>` when more values follow;
/// and throws the operation's failure: an `error_code` that is set becomes
/// `boost::system::system_error` (a `std::error_code`: `std::system_error`), a non-null
/// `exception_ptr` is rethrown; an operation whose handler was destroyed without being called
/// throws `std::future_error(std::future_errc::broken_promise)`.
///
/// @code
/// zuki::Async<std::size_t> read_some(boost::asio::ip::tcp::socket& s, std::span<char> buf) {
///     co_return co_await s.async_read_some(boost::asio::buffer(buf), zuki::use_future);
/// }
/// @endcode
///
/// The operation is started eagerly, when the initiating function is called (as with
/// `boost::asio::use_future`); the future only waits for its completion.
///
/// Dropping the future while the operation is pending cancels it: the future's destructor emits
/// `boost::asio::cancellation_type::all` on the operation's associated cancellation slot, on
/// the dropping thread, so the operation completes with `operation_aborted` (into the orphaned
/// state, which is then freed with the handler and what it keeps alive) and the I/O object is
/// usable again. This is what happens when a task awaiting the future is cancelled
/// (`JoinHandle::cancel`, `AbortHandle::abort`: its frame is destroyed) and when a
/// `zuki::timeout` or another combinator drops the losing future. Operations that support
/// per-operation cancellation (the operations of sockets, acceptors, timers and descriptors,
/// `co_spawn`) are cancelled, and so are composed operations (`async_read`, `async_write`,
/// `async_read_until`, `async_connect`, `async_compose`...): each of their steps runs under the
/// state's lock, which the emit takes too (see the file comment); such an operation completes
/// with `operation_aborted` after transferring part of its data, as with Asio's own
/// cancellation. Not cancelled (a drop detaches them, as before): operations without
/// per-operation cancellation, and composed operations whose handler has another executor bound
/// (`boost::asio::bind_executor`), whose steps then do not run under the lock.
///
/// Thread safety: polled by one thread at a time and movable between threads, like every Zuki
/// future; the operation may complete on any thread, concurrently with a poll or with the
/// future's destruction. The destructor runs the operation's cancellation handler on the
/// calling thread, serialised with the operation's own uses of its slot and with its
/// completion; as for any use of an Asio I/O object, do not drop the future concurrently with
/// another thread's use of the same I/O object (closing, destroying or starting an operation on
/// it).
template <class T>
class [[nodiscard]] AsioFuture {
public:
    using output_type = T;

    /// An empty future (`valid()` is false; polling it throws `std::logic_error`).
    AsioFuture() noexcept = default;
    /// Adopt the future's reference to `state` (for the `use_future` machinery).
    explicit AsioFuture(detail::AsioOperationState<T>* state) noexcept : state_(state) {}
    AsioFuture(AsioFuture&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
    AsioFuture& operator=(AsioFuture&& o) noexcept {
        if (this != &o) {
            reset();
            state_ = std::exchange(o.state_, nullptr);
        }
        return *this;
    }
    AsioFuture(const AsioFuture&) = delete;
    AsioFuture& operator=(const AsioFuture&) = delete;
    ~AsioFuture() { reset(); }

    /// Ready with the operation's result once it completed; throws its error (see the class
    /// comment). Throws `std::logic_error` once the result was taken or if empty.
    Poll<T> poll(Context& cx) {
        if (state_ == nullptr)
            throw std::logic_error(
                "zuki::AsioFuture::poll: the future is empty (moved-from, default-constructed, "
                "or its result was already taken)");
        if (!state_->poll_ready(cx)) return Poll<T>::pending();
        struct Release {
            detail::AsioOperationState<T>* s;
            ~Release() { s->release(); }
        } release{std::exchange(state_, nullptr)};
        if constexpr (std::is_void_v<T>) {
            release.s->take();
            return Poll<void>::ready();
        } else {
            return Poll<T>::ready(release.s->take());
        }
    }

    /// True while the future holds a result or waits for one.
    bool valid() const noexcept { return state_ != nullptr; }
    /// True once the operation completed (the next poll is ready). False if empty.
    bool is_ready() const noexcept { return state_ != nullptr && state_->is_done(); }

private:
    void reset() noexcept {
        if (state_ != nullptr) std::exchange(state_, nullptr)->detach_future();
    }
    detail::AsioOperationState<T>* state_ = nullptr;
};

/// The type of `zuki::use_future`: a Boost.Asio completion token that makes an asynchronous
/// operation return a `zuki::AsioFuture` of its result (see `AsioFuture` for the mapping of
/// completion signatures to outputs and errors).
///
/// @code
/// zuki::Async<void> wait_a_bit(boost::asio::steady_timer& t) {
///     t.expires_after(std::chrono::milliseconds(10));
///     co_await t.async_wait(zuki::use_future);        // throws system_error if cancelled
/// }
/// auto [ec, n] = co_await sock.async_read_some(buf, zuki::use_future_nothrow);  // no throw
/// auto sock2 = zuki::use_future.as_default_on(std::move(sock));  // token by default
/// @endcode
///
/// `Allocator` allocates the shared state and is the completion handler's associated allocator
/// (so Asio uses it for the operation too): `zuki::use_future.rebind(alloc)` or
/// `zuki::use_future[alloc]`. The handler's associated executor runs it inline on the thread
/// that completes the operation, under a lock of the shared state, only to store the result and
/// wake the task (see `detail::UseFutureHandler`, `detail::AsioHandlerExecutor`). Its associated
/// cancellation slot belongs to the future: dropping a pending future cancels the operation
/// (see `AsioFuture`). Binding another slot (`boost::asio::bind_cancellation_slot`) replaces
/// it: the operation then answers that slot, and a drop no longer cancels it.
///
/// Works with every Asio initiating function and adapter: `co_spawn(ex, awaitable,
/// zuki::use_future)` gives a future of the awaitable's result (exceptions rethrown);
/// `boost::asio::as_tuple(zuki::use_future)` (= `zuki::use_future_nothrow`) gives a
/// `std::tuple` of all the arguments, error code included, and never throws an operation's
/// error; `boost::asio::redirect_error(zuki::use_future, ec)` works too.
///
/// Thread safety: a token is an immutable value; use it from any thread.
template <class Allocator = std::allocator<void>>
class use_future_t {
public:
    using allocator_type = Allocator;

    constexpr use_future_t() = default;
    explicit use_future_t(const Allocator& a) : alloc_(a) {}

    /// The same token with another allocator.
    template <class OtherAllocator>
    use_future_t<OtherAllocator> rebind(const OtherAllocator& a) const {
        return use_future_t<OtherAllocator>(a);
    }
    template <class OtherAllocator>
    use_future_t<OtherAllocator> operator[](const OtherAllocator& a) const {
        return use_future_t<OtherAllocator>(a);
    }
    allocator_type get_allocator() const { return alloc_; }

    /// An executor adapter whose default completion token is this token.
    template <class InnerExecutor>
    struct executor_with_default : InnerExecutor {
        using default_completion_token_type = use_future_t;
        // Not a copy constructor (checked first: asking whether this type converts to
        // InnerExecutor while it is being checked as an executor would recurse).
        template <class InnerExecutor1>
        requires(!std::is_same_v<InnerExecutor1, executor_with_default>) &&
            std::is_convertible_v<const InnerExecutor1&, InnerExecutor> executor_with_default(
                const InnerExecutor1& ex) noexcept
            : InnerExecutor(ex) {}
    };
    /// `T` (an I/O object type) rebound to an executor whose default token is this token.
    template <class T>
    using as_default_on_t = typename T::template rebind_executor<
        executor_with_default<typename T::executor_type>>::other;
    /// Convert an I/O object so its asynchronous operations return `AsioFuture`s without a token.
    template <class T>
    static as_default_on_t<std::decay_t<T>> as_default_on(T&& object) {
        return as_default_on_t<std::decay_t<T>>(std::forward<T>(object));
    }

private:
    [[no_unique_address]] Allocator alloc_{};
};

/// The completion token: `co_await timer.async_wait(zuki::use_future)`.
inline constexpr use_future_t<> use_future{};

/// `boost::asio::as_tuple(zuki::use_future)`: the future yields a `std::tuple` of every
/// completion argument (`auto [ec, n] = co_await s.async_read_some(b, zuki::use_future_nothrow);`)
/// and does not throw an operation's error code or exception (only `broken_promise` if the
/// handler was destroyed without being called).
inline constexpr boost::asio::as_tuple_t<use_future_t<>> use_future_nothrow{};

}  // namespace zuki

namespace boost::asio {

/// `zuki::use_future` for an operation with signature `R(Args...)`: the initiation runs at
/// once (eager) with a `zuki::detail::UseFutureHandler`; the initiating function returns a
/// `zuki::AsioFuture` of the result.
template <class Allocator, class R, class... Args>
class async_result<zuki::use_future_t<Allocator>, R(Args...)> {
    using value_type = typename zuki::detail::AsioCompletion<std::decay_t<Args>...>::value_type;
    using handler_type = zuki::detail::UseFutureHandler<Allocator, std::decay_t<Args>...>;

public:
    using return_type = zuki::AsioFuture<value_type>;

    template <class Initiation, class RawToken, class... InitArgs>
    static return_type initiate(Initiation&& initiation, RawToken&& token, InitArgs&&... args) {
        // A co_spawn's cancellation handler posts the emit on to the coroutine's executor,
        // referring to itself (in the state's signal): emit on that executor, where it runs
        // inline while the state is held (see the file comment). Made first: it may throw.
        std::optional<boost::asio::any_io_executor> emit_executor;
        if constexpr (zuki::detail::is_co_spawn_initiation<std::decay_t<Initiation>>::value)
            emit_executor.emplace(initiation.get_executor());
        auto* state = zuki::detail::AllocatedAsioOperationState<value_type, Allocator>::make(
            token.get_allocator());
        if (emit_executor) state->emit_on(std::move(*emit_executor));
        return_type future(state);  // one reference; the handler below holds the other
        // If the initiation throws, the handler it received is destroyed uncalled (the state
        // completes as broken_promise), then `future` drops the state: nothing leaks.
        std::forward<Initiation>(initiation)(handler_type(state, token.get_allocator()),
                                             std::forward<InitArgs>(args)...);
        return future;
    }
};

}  // namespace boost::asio
