// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Test helpers that drive futures without an executor: `zuki::test::WakeSignal` (a counting,
/// waitable waker target) and `zuki::test::block_on(future)` (poll on the calling thread, sleep
/// until woken, repeat).
///
/// Protocol. A `WakeSignal` owns a heap state with a reference count (one for the `WakeSignal`
/// handle, one per `Waker` made from it), a wake counter and a `notified` flag. A wake sets the
/// flag and notifies, all under the mutex, so a waiter that saw the flag clear under the mutex is
/// already inside `wait` and cannot miss the notify, and a waiter (or the handle's destructor)
/// cannot free the state while a waker is still signalling. A waiter consumes the flag (exchange
/// to false), so a wake that arrives while the future is being polled makes the next wait return
/// at once: no lost wake-ups.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/future.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/core/waker.hpp>

namespace zuki::test {

/// A waker target for tests: counts wakes and references and lets a thread wait for a wake.
///
/// @code
/// zuki::test::WakeSignal sig;
/// zuki::Waker w = sig.waker();
/// zuki::Context cx(w);
/// if (fut.poll(cx).is_pending()) sig.wait();     // until someone wakes `w` (or a clone)
/// BOOST_TEST(sig.wake_count() == 1);
/// @endcode
///
/// Thread safety: `waker()`, the queries and the wakers themselves may be used from any thread;
/// `wait`/`wait_for`/`try_consume` are meant for one waiting thread at a time. The shared state
/// lives until the handle and every `Waker` made from it are gone, so wakers may outlive it.
class WakeSignal {
public:
    WakeSignal() : state_(new State) {}
    WakeSignal(const WakeSignal&) = delete;
    WakeSignal& operator=(const WakeSignal&) = delete;
    ~WakeSignal() {
        // Pass through the mutex: a wake that is still signalling (it holds the mutex) finishes
        // before this handle's reference goes.
        { std::lock_guard<std::mutex> lock(state_->mutex); }
        release(state_);
    }

    /// A new `Waker` (one new reference) that wakes this signal.
    Waker waker() const noexcept { return Waker(clone(state_), &vtable_); }

    /// Blocks until woken, and consumes the wake.
    void wait() {
        std::unique_lock<std::mutex> lock(state_->mutex);
        // acquire: pairs with the acq_rel exchange in wake_by_ref() (what the waker did before
        // waking is visible after the wait).
        while (!state_->notified.exchange(false, std::memory_order_acquire)) {
            state_->cv.wait(lock);
        }
    }
    /// Blocks until woken or `limit` passed; true (and the wake consumed) if woken.
    bool wait_for(std::chrono::steady_clock::duration limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        std::unique_lock<std::mutex> lock(state_->mutex);
        // acquire: as in wait().
        while (!state_->notified.exchange(false, std::memory_order_acquire)) {
            if (state_->cv.wait_until(lock, until) == std::cv_status::timeout) {
                return state_->notified.exchange(false, std::memory_order_acquire);
            }
        }
        return true;
    }
    /// Consumes a pending wake without blocking; true if there was one.
    bool try_consume() {
        std::lock_guard<std::mutex> lock(state_->mutex);
        // acquire: as in wait().
        return state_->notified.exchange(false, std::memory_order_acquire);
    }

    /// How many times a waker of this signal was woken (`wake` or `wake_by_ref`).
    std::uint64_t wake_count() const noexcept {
        // acquire: pairs with the release increment in wake_by_ref().
        return state_->wakes.load(std::memory_order_acquire);
    }
    /// How many `Waker`s made from this signal are alive (clones included).
    std::size_t waker_refs() const noexcept {
        // acquire: pairs with the acq_rel decrement in release().
        return state_->refs.load(std::memory_order_acquire) - 1;
    }

private:
    struct State {
        std::atomic<std::size_t> refs{1};  // the WakeSignal handle's reference
        std::atomic<std::uint64_t> wakes{0};
        std::atomic<bool> notified{false};
        std::mutex mutex;
        std::condition_variable cv;
    };

    static State* clone(State* s) noexcept {
        // relaxed: a new reference is made from a live one (as std::shared_ptr does).
        s->refs.fetch_add(1, std::memory_order_relaxed);
        return s;
    }
    static void release(State* s) noexcept {
        // acq_rel: the release half publishes this holder's uses; the acquire half lets the last
        // holder delete after every other holder's uses (pairs with the other decrements).
        if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
    }
    static State* unwrap(const void* d) noexcept {
        return static_cast<State*>(const_cast<void*>(d));
    }

    static const void* vt_clone(const void* d) noexcept { return clone(unwrap(d)); }
    static void vt_wake(const void* d) noexcept {
        // Drop the consumed reference *before* signalling, so a waiter that wakes up already sees
        // waker_refs() without it. Both happen under the mutex: a waiter consumes the flag only
        // under it, and ~WakeSignal() passes through it before releasing the handle's reference,
        // so the state outlives this critical section (pthread mutexes may be destroyed once
        // another thread has acquired them after the unlock).
        State* s = unwrap(d);
        {
            std::unique_lock<std::mutex> lock(s->mutex);
            // acq_rel: as in release().
            if (s->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) {
                signal_locked(s);
                return;
            }
        }
        delete s;  // the last reference: no handle, so nobody can be waiting
    }
    static void vt_wake_by_ref(const void* d) noexcept {
        State* s = unwrap(d);
        std::lock_guard<std::mutex> lock(s->mutex);
        signal_locked(s);
    }
    /// Counts the wake and sets the flag; the caller holds `s->mutex`.
    static void signal_locked(State* s) noexcept {
        // release: pairs with the acquire load in wake_count().
        s->wakes.fetch_add(1, std::memory_order_release);
        // release: pairs with the acquire exchange of the waiter (under the same mutex, so the
        // mutex already orders it; the ordering keeps try_consume() honest on its own).
        if (!s->notified.exchange(true, std::memory_order_acq_rel)) s->cv.notify_all();
    }
    static void vt_drop(const void* d) noexcept { release(unwrap(d)); }

    static constexpr WakerVTable vtable_{&vt_clone, &vt_wake, &vt_wake_by_ref, &vt_drop};

    State* state_;
};

/// Drives `future` to completion on the calling thread and returns its output: poll, and while
/// pending sleep until its waker (a `WakeSignal`'s) is woken, then poll again. An lvalue is
/// polled in place (it is complete afterwards: inspect it, do not poll it again); an rvalue is
/// moved into a local first. Exceptions from `poll` propagate.
///
/// @code
/// BOOST_TEST(zuki::test::block_on(zuki::ready(42)) == 42);
/// zuki::test::block_on(zuki::delay(std::chrono::milliseconds(10)));
/// @endcode
///
/// Thread safety: any number of threads may each run their own `block_on`; the waker handed to
/// the future may be woken, cloned and dropped from any thread, also after `block_on` returned.
template <class F>
requires Future<std::remove_cvref_t<F>> output_t<std::remove_cvref_t<F>> block_on(F&& future) {
    using Fut = std::remove_cvref_t<F>;
    if constexpr (!std::is_lvalue_reference_v<F>) {
        Fut local(std::move(future));
        return block_on(local);
    } else {
        static_assert(!std::is_const_v<std::remove_reference_t<F>>,
                      "zuki::test::block_on: cannot poll a const future");
        WakeSignal signal;
        const Waker waker = signal.waker();
        Context cx(waker);
        for (;;) {
            auto p = future.poll(cx);
            if (p.is_ready()) {
                if constexpr (std::is_void_v<output_t<Fut>>) {
                    return;
                } else {
                    return std::move(p).value();
                }
            }
            signal.wait();
        }
    }
}

}  // namespace zuki::test
