// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `Parker`: the one park/unpark primitive of Zuki (a token on a futex word), and
/// `ThreadParker`: a reference-counted `Parker` that a `Waker` can unpark (for a plain thread
/// blocking on a future: `JoinHandle::get`, `block_on`).
///
/// ## Algorithm
/// Tokio's `park.rs` three-state token (after Rust's `std::thread::park`):
///
///     EMPTY ──park()──▶ PARKED ──unpark()──▶ NOTIFIED ──park() returns──▶ EMPTY
///       └───────────unpark()───────────────▶ NOTIFIED ──next park() returns at once
///
/// `unpark()` leaves a token (NOTIFIED); `park()` consumes one, sleeping until there is one.
/// Tokens do not accumulate (many unparks before a park are one token). A park may also sleep
/// in a *driver* instead of the futex (`park_driving`): an event source such as an I/O reactor
/// that can block and be interrupted. The state then says PARKED_DRIVER and `unpark()`
/// interrupts the driver instead of calling `futex_wake`. (Tokio parks its I/O driver the same
/// way, `multi_thread/park.rs`.)
///
/// ## Why no wake-up is lost
/// `unpark()` is one exchange to NOTIFIED (release). A parker that has not yet left EMPTY finds
/// the token with its CAS and returns at once. One that is PARKED sleeps in `futex_wait(word,
/// PARKED)`, which the kernel checks against the word atomically with queueing the sleeper, so
/// the `futex_wake` that follows the exchange finds it queued, or the word already changed.
/// One that is PARKED_DRIVER is blocked in (or about to enter) the driver: the unparker reads
/// PARKED_DRIVER from its exchange and interrupts the driver, and the driver's contract is that
/// an interrupt issued before or during its wait ends that wait (an eventfd that stays readable,
/// for example).
///
/// ## Who may call what
/// `park`, `park_driving`: the owning thread only (one parker per thread of use). `unpark`: any
/// thread, any number of times.

#include <chrono>
#include <cstdint>

#include <zuki/core/waker.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/futex.hpp>

namespace zuki::detail {

/// An event source a parked thread can block in (see the file comment): `wait()` blocks until
/// an event or an `interrupt()`; an interrupt issued before the wait begins ends it at once.
class ParkDriver {
public:
    /// Block until an event or an interrupt (called by the parked thread only).
    virtual void wait() noexcept = 0;
    /// `wait()`, but return once `timeout` passed too.
    virtual void wait_for(std::chrono::nanoseconds timeout) noexcept = 0;
    /// End a current or the next `wait()` (any thread).
    virtual void interrupt() noexcept = 0;

protected:
    ~ParkDriver() = default;
};

class Parker {
public:
    Parker() noexcept = default;
    Parker(const Parker&) = delete;
    Parker& operator=(const Parker&) = delete;

    /// Owner: sleep until a token is there, then consume it.
    void park() noexcept {
        if (take_token()) return;
        std::uint32_t s = empty;
        // relaxed: going to sleep publishes nothing; a failure means a token arrived (consumed
        // below, with acquire).
        if (state_.compare_exchange_strong(s, parked, std::memory_order_relaxed,
                                           std::memory_order_relaxed)) {
            do {
                futex_wait(state_, parked);  // sleeps only while the word is still PARKED
                // relaxed: the exchange below acquires.
            } while (state_.load(std::memory_order_relaxed) == parked);
        }
        consume_token();
    }

    /// Owner: like `park()`, but return once `timeout` passed too. Returns true if a token
    /// was consumed (false: the time passed, or a spurious return).
    bool park_for(std::chrono::nanoseconds timeout) noexcept {
        if (take_token()) return true;
        std::uint32_t s = empty;
        // relaxed: as in park().
        if (!state_.compare_exchange_strong(s, parked, std::memory_order_relaxed,
                                            std::memory_order_relaxed)) {
            consume_token();
            return true;
        }
        futex_wait_for(state_, parked, timeout);
        // acquire: pairs with the release exchange in unpark() if it came.
        return state_.exchange(empty, std::memory_order_acquire) == notified;
    }

    /// Owner: like `park()`, but block in `driver.wait()`; `unpark()` then interrupts it. The
    /// driver may also return on an event of its own: the owner then returns without a token
    /// (and the state is EMPTY again). Returns true if a token was consumed. With a `timeout`,
    /// the driver's wait ends then too.
    bool park_driving(ParkDriver& driver,
                      std::chrono::nanoseconds timeout = std::chrono::nanoseconds::max()) noexcept {
        if (take_token()) return true;
        // relaxed: published by the release CAS below. An unparker may still be reading the
        // value a previous park stored (after its exchange); a parker drives one driver, so it
        // reads a valid driver either way, and the atomic keeps that read race-free.
        driver_.store(&driver, std::memory_order_relaxed);
        std::uint32_t s = empty;
        // release: pairs with the acquire exchange in unpark(), which then reads driver_.
        if (!state_.compare_exchange_strong(s, parked_driver, std::memory_order_release,
                                            std::memory_order_relaxed)) {
            consume_token();  // a token arrived meanwhile
            return true;
        }
        if (timeout == std::chrono::nanoseconds::max())
            driver.wait();
        else
            driver.wait_for(timeout);
        // acquire: pairs with the release exchange in unpark() if it came (see unpark()).
        return state_.exchange(empty, std::memory_order_acquire) == notified;
    }

    /// Any thread: leave a token; wake the owner if it sleeps.
    void unpark() noexcept {
        // acq_rel: release pairs with the acquire in park(): the woken owner sees what we
        // published before unparking; acquire pairs with the release CAS in park_driving(), so
        // driver_ is visible when we read PARKED_DRIVER.
        switch (state_.exchange(notified,
                                ZUKI_MODEL_WEAKEN(parker_unpark_release, std::memory_order_acq_rel,
                                                  std::memory_order_acquire))) {
            case parked:
                futex_wake(state_, 1);
                break;
            case parked_driver:
                // relaxed: ordered after the owner's store by the acquire half of the exchange.
                driver_.load(std::memory_order_relaxed)->interrupt();
                break;
            default:  // EMPTY or NOTIFIED: the owner is awake and will see the token
                break;
        }
    }

    /// True if a token is waiting (for tests and assertions).
    bool has_token() const noexcept { return state_.load(std::memory_order_relaxed) == notified; }

private:
    static constexpr std::uint32_t empty = 0;  // no token, owner awake
    static constexpr std::uint32_t parked = 1;  // owner asleep on the futex (or about to be)
    static constexpr std::uint32_t notified = 2;  // a token waits for the owner
    static constexpr std::uint32_t parked_driver = 3;  // owner blocked in driver_->wait()

    bool take_token() noexcept {
        std::uint32_t s = notified;
        // acquire: pairs with the release exchange in unpark().
        return state_.compare_exchange_strong(s, empty, std::memory_order_acquire,
                                              std::memory_order_relaxed);
    }
    void consume_token() noexcept {
        // acquire: pairs with the release exchange in unpark().
        state_.exchange(empty, std::memory_order_acquire);
    }

    atomic<std::uint32_t> state_{empty};  // the futex word
    atomic<ParkDriver*> driver_{nullptr};  // stored by the owner before PARKED_DRIVER
};

/// Many waiters, one condition they re-check (an event count, as in Dmitry Vyukov's design and
/// Folly's `EventCount`): a waiter reads a key, checks its condition, and sleeps only if no
/// notification came since it read the key.
///
/// @code
/// for (;;) {                                // waiter
///     const auto key = ec.prepare_wait();
///     if (condition()) break;
///     ec.wait(key);
/// }
/// make_condition_true(); ec.notify_all();  // notifier
/// @endcode
///
/// No lost wake-up, provided the condition is read and written with seq_cst operations: if the
/// waiter's check missed the notifier's write, then in the single total order S the waiter's
/// key load precedes that write, which precedes the notifier's increment, so the futex word no
/// longer equals the key when the kernel checks it (or the wake finds the waiter queued).
///
/// Thread safety: any number of waiters and notifiers. Not for hot paths (a notify is always a
/// syscall).
class EventCount {
public:
    std::uint32_t prepare_wait() noexcept {
        // seq_cst: see the class comment (ordered before the caller's condition check).
        return epoch_.load(std::memory_order_seq_cst);
    }
    /// Sleep unless a notification came after `prepare_wait()` returned `key` (may return
    /// spuriously; callers loop).
    void wait(std::uint32_t key) noexcept { futex_wait(epoch_, key); }
    void notify_all() noexcept {
        // seq_cst: see the class comment (ordered after the caller's condition write).
        epoch_.fetch_add(1, std::memory_order_seq_cst);
        futex_wake(epoch_, 0x7FFF'FFFF);
    }

private:
    atomic<std::uint32_t> epoch_{0};
};

/// A reference-counted `Parker` that `Waker`s can unpark: lets a plain (non-executor) thread
/// sleep until a future it polls is woken. Create with `make()`; `waker()` adds a reference.
class ThreadParker {
public:
    /// A parker owned by the caller (one reference).
    static ThreadParker* make() { return new ThreadParker(); }

    /// A waker that unparks this parker (adds a reference).
    Waker waker() noexcept {
        refs_.fetch_add(1, std::memory_order_relaxed);
        return Waker(this, &vtable);
    }
    /// Sleep until `unpark()` was called since the last `park()` returned.
    void park() noexcept { parker_.park(); }
    void unpark() noexcept { parker_.unpark(); }
    void release() noexcept {
        // acq_rel: the last release sees all other holders' accesses before deleting.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

private:
    ThreadParker() = default;
    static ThreadParker* self(const void* p) noexcept {
        return static_cast<ThreadParker*>(const_cast<void*>(p));
    }
    static const void* clone(const void* p) noexcept {
        self(p)->refs_.fetch_add(1, std::memory_order_relaxed);
        return p;
    }
    static void wake(const void* p) noexcept {
        self(p)->unpark();
        self(p)->release();
    }
    static void wake_by_ref(const void* p) noexcept { self(p)->unpark(); }
    static void drop(const void* p) noexcept { self(p)->release(); }
    static constexpr WakerVTable vtable{&clone, &wake, &wake_by_ref, &drop};

    Parker parker_;
    atomic<std::uint32_t> refs_{1};
};

/// Owning handle to a `ThreadParker`.
class ThreadParkerRef {
public:
    ThreadParkerRef() : p_(ThreadParker::make()) {}
    ThreadParkerRef(const ThreadParkerRef&) = delete;
    ThreadParkerRef& operator=(const ThreadParkerRef&) = delete;
    ~ThreadParkerRef() { p_->release(); }
    ThreadParker* operator->() const noexcept { return p_; }

private:
    ThreadParker* p_;
};

}  // namespace zuki::detail
