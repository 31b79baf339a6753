// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::sync::Semaphore`: an asynchronous counting semaphore with FIFO waiters, and its RAII
/// `SemaphorePermit`.
///
/// ## Algorithm (after Tokio's batch semaphore)
///
/// One atomic word holds `permits << 2 | WAITERS | CLOSED`. The waiting futures are `Waiter`
/// nodes (zuki/sync/detail/waiter.hpp) in a FIFO list guarded by a mutex.
///
/// - Fast path, lock-free: `acquire(n)` / `try_acquire(n)` take `n` permits with one CAS when
///   WAITERS is clear and enough permits are there; `release(n)` adds them with one CAS when
///   WAITERS is clear.
/// - Slow path, under the mutex: an acquire that cannot take its permits queues a node, taking
///   along whatever permits the word had (partial grant), and sets WAITERS in the same CAS. A
///   `release(n)` that sees WAITERS hands the permits to the queue front to back and completes
///   the nodes it filled; what is left goes back to the word, with WAITERS cleared, once the
///   queue is empty.
/// - No lost wake-up: every decision is an RMW on the one word, so a release either comes
///   before the acquire's CAS that sets WAITERS (the acquire sees its permits) or after (the
///   release sees WAITERS and takes the mutex, behind the acquire that queued under it).
/// - FIFO: while anyone waits, the fast path is closed to newcomers.
///
/// Invariants (the mutex held): WAITERS is set exactly while the queue is non-empty; while it is
/// set the word holds no permits (they all went to the queue). Permits are conserved: word +
/// assigned to queued nodes + granted and not yet released = initial + released - forgotten.
///
/// Cancellation: dropping a pending `Acquire` dequeues its node and hands the permits it was
/// already assigned (or, if it had been granted but not yet seen, all of them) to the next
/// waiters or back to the word.

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/mutex.hpp>
#include <zuki/sync/detail/waiter.hpp>

namespace zuki::sync {

/// Thrown by `Semaphore::Acquire` when the semaphore was closed before the permits were granted.
class AcquireError : public std::runtime_error {
public:
    AcquireError() : std::runtime_error("zuki::sync::Semaphore: the semaphore is closed") {}
};

class Semaphore;

/// Permits taken from a `Semaphore`, given back when the permit is destroyed (unless
/// `forget()`). Move-only. Must not outlive its semaphore.
class SemaphorePermit {
public:
    SemaphorePermit(SemaphorePermit&& o) noexcept
        : sem_(std::exchange(o.sem_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    SemaphorePermit& operator=(SemaphorePermit&& o) noexcept {
        if (this != &o) {
            reset();
            sem_ = std::exchange(o.sem_, nullptr);
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    SemaphorePermit(const SemaphorePermit&) = delete;
    SemaphorePermit& operator=(const SemaphorePermit&) = delete;
    ~SemaphorePermit() { reset(); }

    /// How many permits this object holds.
    std::size_t num_permits() const noexcept { return n_; }
    /// Keep the permits taken for good: they are not given back.
    void forget() noexcept {
        sem_ = nullptr;
        n_ = 0;
    }

private:
    friend class Semaphore;
    SemaphorePermit(Semaphore* s, std::size_t n) noexcept : sem_(s), n_(n) {}
    inline void reset() noexcept;

    Semaphore* sem_;
    std::size_t n_;
};

/// An asynchronous counting semaphore: `co_await sem.acquire(n)` waits (without blocking a
/// thread) until `n` permits are free, in FIFO order with the other waiters.
///
/// @code
/// zuki::sync::Semaphore sem(2);                  // at most two at a time
/// zuki::Async<void> worker(zuki::sync::Semaphore& s) {
///     zuki::sync::SemaphorePermit p = co_await s.acquire();
///     co_await do_work();                        // the permit goes back when `p` is destroyed
/// }
/// @endcode
///
/// Thread safety: every member may be called from any thread concurrently, and its futures may
/// be polled on any executor or with `block_on` from a plain thread. The semaphore must outlive
/// its `Acquire` futures and permits. Acquiring and releasing when permits are free and nobody
/// waits is lock-free (one CAS); waiting takes a mutex.
///
/// Cancellation safety: dropping a pending `Acquire` loses no permit (see the file comment).
class Semaphore {
public:
    /// The most permits a semaphore can hold.
    static constexpr std::size_t max_permits = std::numeric_limits<std::size_t>::max() >> 2;

    /// A semaphore with `permits` free permits. Throws `std::invalid_argument` above
    /// `max_permits`.
    explicit Semaphore(std::size_t permits) : word_(checked(permits) << shift) {}
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;
    ~Semaphore() { assert(queue_.empty() && "zuki::sync::Semaphore destroyed with waiters"); }

    /// The future of `acquire()`: ready with a `SemaphorePermit` of the permits asked for; throws
    /// `AcquireError` if the semaphore is closed first. Move-only; dropping it while pending
    /// gives back anything it was granted.
    class Acquire {
    public:
        Acquire(Acquire&& o) noexcept
            : sem_(std::exchange(o.sem_, nullptr)), n_(o.n_),
              node_(std::exchange(o.node_, nullptr)) {}
        Acquire(const Acquire&) = delete;
        Acquire& operator=(const Acquire&) = delete;
        Acquire& operator=(Acquire&&) = delete;
        ~Acquire() {
            if (node_ != nullptr) sem_->cancel(node_);
        }

        /// Ready with the permits; throws `AcquireError` when closed.
        Poll<SemaphorePermit> poll(Context& cx) {
            Poll<std::optional<SemaphorePermit>> p = poll_permit(cx);
            if (p.is_pending()) return Poll<SemaphorePermit>::pending();
            std::optional<SemaphorePermit> permit = std::move(p).value();
            if (!permit) throw AcquireError();
            return Poll<SemaphorePermit>::ready(std::move(*permit));
        }

        /// As `poll`, without the exception: ready with no permit when the semaphore is closed.
        Poll<std::optional<SemaphorePermit>> poll_permit(Context& cx) {
            using P = Poll<std::optional<SemaphorePermit>>;
            if (sem_ == nullptr)
                throw std::logic_error("zuki::sync::Semaphore::Acquire polled after completion");
            if (node_ == nullptr) {
                switch (sem_->take_or_enqueue(n_, node_)) {
                    case Taken::taken:
                        return P::ready(SemaphorePermit(std::exchange(sem_, nullptr), n_));
                    case Taken::closed:
                        sem_ = nullptr;
                        return P::ready(std::nullopt);
                    case Taken::queued:
                        break;
                }
            }
            if (!node_->poll_done(cx.waker())) return P::pending();
            // The outcome was written before `done` completed (its acquire made it visible).
            const bool granted = node_->outcome == detail::Waiter::Outcome::granted;
            detail::Waiter::release(std::exchange(node_, nullptr));
            Semaphore* s = std::exchange(sem_, nullptr);
            if (!granted) return P::ready(std::nullopt);
            return P::ready(SemaphorePermit(s, n_));
        }

    private:
        friend class Semaphore;
        Acquire(Semaphore* s, std::size_t n) noexcept : sem_(s), n_(n) {}

        Semaphore* sem_;  // null once complete
        std::size_t n_;
        detail::Waiter* node_ = nullptr;  // ours while queued or granted and unseen
    };

    /// A future of `n` permits (see `Acquire`). Throws `std::invalid_argument` above
    /// `max_permits`.
    Acquire acquire(std::size_t n = 1) { return Acquire(this, checked(n)); }

    /// `n` permits now if they are free and nobody waits; otherwise (or when closed) none.
    std::optional<SemaphorePermit> try_acquire(std::size_t n = 1) {
        if (!try_take(checked(n))) return std::nullopt;
        return SemaphorePermit(this, n);
    }

    /// Add `n` permits (to the waiters first, in FIFO order). Throws `std::invalid_argument` if
    /// the semaphore would hold more than `max_permits`.
    void release(std::size_t n) {
        if (n == 0) return;
        checked(n);
        std::size_t w = word_.load(std::memory_order_relaxed);
        while ((w & waiters) == 0) {
            if ((w >> shift) + n > max_permits)
                throw std::invalid_argument("zuki::sync::Semaphore::release: too many permits");
            // release: pairs with the acquire CAS of try_take() and take_or_enqueue() (what the
            // holder of the permits did is visible to the next holder).
            if (word_.compare_exchange_weak(w, w + (n << shift), std::memory_order_release,
                                            std::memory_order_relaxed))
                return;
        }
        detail::WakeList woken;  // completed after the unlock
        std::lock_guard<zuki::detail::mutex> lock(mutex_);
        distribute_locked(n, woken);
    }

    /// The permits free now (none while futures wait).
    std::size_t available_permits() const noexcept {
        return word_.load(std::memory_order_relaxed) >> shift;  // relaxed: a snapshot
    }

    /// Close the semaphore: every pending and later acquire fails (`AcquireError`; `try_acquire`
    /// gets nothing). Permits held are still given back. Idempotent.
    void close() noexcept {
        detail::WakeList woken;
        std::lock_guard<zuki::detail::mutex> lock(mutex_);
        // relaxed: the fast paths only need to see CLOSED eventually (a CAS that raced ahead
        // took permits before the close); the waiters are failed under the mutex below.
        word_.fetch_or(closed, std::memory_order_relaxed);
        std::size_t back = 0;
        while (!queue_.empty()) {
            detail::Waiter* w = queue_.pop_front();
            back += w->assigned;  // partial grants go back to the word
            w->assigned = 0;
            w->outcome = detail::Waiter::Outcome::closed;
            woken.push(w);
        }
        distribute_locked(back, woken);
    }

    /// True once `close()` was called.
    bool is_closed() const noexcept {
        return (word_.load(std::memory_order_relaxed) & closed) != 0;  // relaxed: a snapshot
    }

private:
    friend class SemaphorePermit;
    enum class Taken { taken, closed, queued };

    static constexpr std::size_t closed = 1;
    static constexpr std::size_t waiters = 2;
    static constexpr unsigned shift = 2;

    static std::size_t checked(std::size_t n) {
        if (n > max_permits)
            throw std::invalid_argument("zuki::sync::Semaphore: more than max_permits permits");
        return n;
    }

    // Fast path: take `n` permits with one CAS if nobody waits and enough are free.
    bool try_take(std::size_t n) noexcept {
        std::size_t w = word_.load(std::memory_order_relaxed);
        if (n == 0) return (w & closed) == 0;  // nothing to wait for (and no node to queue)
        while ((w & (waiters | closed)) == 0 && (w >> shift) >= n) {
            // acquire: pairs with the release CAS in release() / distribute_locked().
            if (word_.compare_exchange_weak(w, w - (n << shift), std::memory_order_acquire,
                                            std::memory_order_relaxed))
                return true;
        }
        return false;
    }

    // Slow path of a first poll: take the permits, or queue a new node (taking the free permits
    // along and setting WAITERS), or report the close.
    Taken take_or_enqueue(std::size_t n, detail::Waiter*& node) {
        if (try_take(n)) return Taken::taken;
        if (n == 0) return Taken::closed;  // try_take(0) fails only when closed
        auto* w_node = new detail::Waiter;
        w_node->needed = n;
        std::lock_guard<zuki::detail::mutex> lock(mutex_);
        // relaxed: WAITERS only changes under the mutex; the CAS below decides.
        std::size_t w = word_.load(std::memory_order_relaxed);
        for (;;) {
            if (w & closed) {
                delete w_node;
                return Taken::closed;
            }
            if (w & waiters) {
                assert((w >> shift) == 0);  // invariant: permits went to the queue
                break;
            }
            const std::size_t free = w >> shift;
            if (free >= n) {
                // acquire: as in try_take().
                if (word_.compare_exchange_weak(w, w - (n << shift), std::memory_order_acquire,
                                                std::memory_order_relaxed)) {
                    delete w_node;
                    return Taken::taken;
                }
                continue;
            }
            // acquire: as in try_take() (the free permits become the node's).
            if (word_.compare_exchange_weak(w, (w & closed) | waiters, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
                w_node->assigned = free;
                break;
            }
        }
        queue_.push_back(w_node);
        node = w_node;
        return Taken::queued;
    }

    // Mutex held: give `k` permits to the queue front to back (completing the nodes filled, via
    // `woken`); the rest goes to the word, with WAITERS cleared once the queue is empty.
    void distribute_locked(std::size_t k, detail::WakeList& woken) noexcept {
        while (k > 0 && !queue_.empty()) {
            detail::Waiter* h = queue_.front();
            const std::size_t take = std::min(k, h->needed - h->assigned);
            h->assigned += take;
            k -= take;
            if (h->assigned == h->needed) {
                queue_.pop_front();
                h->outcome = detail::Waiter::Outcome::granted;
                woken.push(h);
            }
        }
        assert(k == 0 || queue_.empty());
        // relaxed: under the mutex; the CAS below decides.
        std::size_t w = word_.load(std::memory_order_relaxed);
        for (;;) {
            std::size_t next = w + (k << shift);
            if (queue_.empty()) next &= ~waiters;
            if (next == w) return;
            // release: as in release() (pairs with the acquire CAS of the next taker).
            if (word_.compare_exchange_weak(w, next, std::memory_order_release,
                                            std::memory_order_relaxed))
                return;
        }
    }

    // A pending Acquire is dropped: dequeue its node, hand on what it was given.
    void cancel(detail::Waiter* node) noexcept {
        node->done.unregister();  // drop the waker now: it may keep the poller's task alive
        {
            detail::WakeList woken;
            std::lock_guard<zuki::detail::mutex> lock(mutex_);
            if (node->queued) {
                queue_.remove(node);
                detail::Waiter::release(node);  // the queue's reference (ours is still held)
                distribute_locked(std::exchange(node->assigned, 0), woken);
            } else if (node->outcome == detail::Waiter::Outcome::granted) {
                distribute_locked(node->needed, woken);  // granted but never seen: pass it on
            }
            // (closed: its partial grant went back in close())
        }
        detail::Waiter::release(node);
    }

    zuki::detail::atomic<std::size_t> word_;  // permits << 2 | WAITERS | CLOSED
    zuki::detail::mutex mutex_;
    detail::WaiterQueue queue_;  // guarded by mutex_
};

inline void SemaphorePermit::reset() noexcept {
    if (sem_ != nullptr && n_ != 0) sem_->release(n_);
    sem_ = nullptr;
    n_ = 0;
}

}  // namespace zuki::sync
