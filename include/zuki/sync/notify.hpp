// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::sync::Notify`: wake one waiting future, or all of them (Tokio's `Notify`).
///
/// ## Algorithm (after Tokio's `sync::Notify`)
///
/// One atomic word holds `generation << 2 | state`, state being EMPTY, NOTIFIED (a stored
/// permit: the next `notified()` completes at once) or WAITING (the FIFO of `Waiter` nodes,
/// zuki/sync/detail/waiter.hpp, guarded by a mutex, is non-empty). The generation counts
/// `notify_waiters()` calls.
///
/// - Fast path, lock-free: `notify_one()` with nobody waiting stores the permit with one CAS;
///   a first poll of `Notified` consumes a stored permit with one CAS.
/// - Slow path, under the mutex: a poll that finds no permit queues a node and moves the state
///   to WAITING; `notify_one()` that sees WAITING dequeues the front node (back to EMPTY if it
///   was the last) and completes it after unlocking; `notify_waiters()` bumps the generation
///   and completes every queued node.
/// - No lost wake-up: the state only enters and leaves WAITING under the mutex, and every
///   other transition is a CAS on the one word, so a `notify_one()` either stores the permit
///   before the poll's CAS to WAITING (which then fails and sees NOTIFIED) or finds WAITING and
///   takes the mutex behind the poll that queued.
/// - A `Notified` remembers the generation when it was created: a `notify_waiters()` after its
///   creation completes it even if it was not polled yet (as Tokio).
///
/// Invariants (the mutex held): state is WAITING exactly while the queue is non-empty.
///
/// Cancellation: dropping a `Notified` dequeues its node; if `notify_one()` had already chosen
/// it, the notification is passed on to the next waiter (or stored as the permit).

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/mutex.hpp>
#include <zuki/sync/detail/waiter.hpp>

namespace zuki::sync {

/// Notifies futures: `notify_one()` wakes one `notified()` future (or lets the next one complete
/// at once if none waits: at most one permit is stored), `notify_waiters()` wakes every
/// `notified()` future created before the call and stores nothing.
///
/// @code
/// zuki::sync::Notify ready;
/// // consumer                              // producer (any thread)
/// co_await ready.notified();               publish(data);
/// use(data);                               ready.notify_one();
/// @endcode
///
/// Thread safety: every member may be called from any thread concurrently; the futures may be
/// polled on any executor or through `block_on` on a plain thread. The `Notify` must outlive its
/// `Notified` futures. Notifying nobody and consuming a stored permit are lock-free (one CAS);
/// waiting takes a mutex.
///
/// Memory: what a thread did before `notify_one()` / `notify_waiters()` is visible to the future
/// that this call completes.
class Notify {
public:
    Notify() noexcept = default;
    Notify(const Notify&) = delete;
    Notify& operator=(const Notify&) = delete;
    ~Notify() { assert(queue_.empty() && "zuki::sync::Notify destroyed with waiters"); }

    /// The future of `notified()`: ready once notified. Move-only; dropping it while pending
    /// loses no `notify_one()` (see the file comment).
    class Notified {
    public:
        Notified(Notified&& o) noexcept
            : n_(std::exchange(o.n_, nullptr)), generation_(o.generation_),
              node_(std::exchange(o.node_, nullptr)) {}
        Notified(const Notified&) = delete;
        Notified& operator=(const Notified&) = delete;
        Notified& operator=(Notified&&) = delete;
        ~Notified() {
            if (node_ != nullptr) n_->cancel(node_);
        }

        Poll<void> poll(Context& cx) {
            if (n_ == nullptr)
                throw std::logic_error("zuki::sync::Notify::Notified polled after completion");
            if (node_ == nullptr) {
                node_ = n_->consume_or_enqueue(generation_);
                if (node_ == nullptr) {
                    n_ = nullptr;
                    return Poll<void>::ready();
                }
            }
            if (!node_->poll_done(cx.waker())) return Poll<void>::pending();
            detail::Waiter::release(std::exchange(node_, nullptr));
            n_ = nullptr;
            return Poll<void>::ready();
        }

    private:
        friend class Notify;
        Notified(Notify* n, std::size_t generation) noexcept : n_(n), generation_(generation) {}

        Notify* n_;  // null once complete
        std::size_t generation_;  // notify_waiters() calls before this future was made
        detail::Waiter* node_ = nullptr;  // ours while queued or notified and unseen
    };

    /// A future that completes at the next notification (see the class comment).
    Notified notified() noexcept {
        // acquire: pairs with the release CAS in notify_waiters() (a call that happened before
        // this one is counted, and only those).
        return Notified(this, word_.load(std::memory_order_acquire) >> shift);
    }

    /// Wake the longest-waiting `notified()` future, or store one permit if none waits.
    void notify_one() noexcept {
        std::size_t w = word_.load(std::memory_order_relaxed);
        for (;;) {
            if ((w & state_mask) != state_waiting) {
                // release: pairs with the acquire CAS that consumes the permit in
                // consume_or_enqueue(). A permit already stored is stored again (release).
                if (word_.compare_exchange_weak(w, (w & ~state_mask) | state_notified,
                                                std::memory_order_release,
                                                std::memory_order_relaxed))
                    return;
                continue;
            }
            detail::WakeList woken;  // completed after the unlock
            std::lock_guard<zuki::detail::mutex> lock(mutex_);
            // relaxed: WAITING only changes under the mutex (the loop re-checks otherwise).
            w = word_.load(std::memory_order_relaxed);
            if ((w & state_mask) != state_waiting) continue;
            notify_one_locked(woken);
            return;
        }
    }

    /// Wake every `notified()` future created before this call (polled or not). Stores no
    /// permit.
    void notify_waiters() noexcept {
        detail::WakeList woken;
        std::lock_guard<zuki::detail::mutex> lock(mutex_);
        std::size_t w = word_.load(std::memory_order_relaxed);
        for (;;) {
            std::size_t next = w + (std::size_t{1} << shift);
            if ((w & state_mask) == state_waiting) next = (next & ~state_mask) | state_empty;
            // release: pairs with the acquire load in notified() and consume_or_enqueue().
            if (word_.compare_exchange_weak(w, next, std::memory_order_release,
                                            std::memory_order_relaxed))
                break;
        }
        while (!queue_.empty()) {
            detail::Waiter* n = queue_.pop_front();
            n->outcome = detail::Waiter::Outcome::notified_all;
            woken.push(n);
        }
    }

private:
    static constexpr std::size_t state_empty = 0;
    static constexpr std::size_t state_notified = 1;
    static constexpr std::size_t state_waiting = 2;
    static constexpr std::size_t state_mask = 3;
    static constexpr unsigned shift = 2;

    // First poll of a Notified: nullptr if it completes now (generation moved on, or a stored
    // permit consumed), else the node queued for it.
    detail::Waiter* consume_or_enqueue(std::size_t generation) {
        // acquire: pairs with the release CAS in notify_waiters() and notify_one().
        std::size_t w = word_.load(std::memory_order_acquire);
        if ((w >> shift) != generation) return nullptr;
        if (try_consume(w, generation)) return nullptr;
        auto* node = new detail::Waiter;
        std::lock_guard<zuki::detail::mutex> lock(mutex_);
        // acquire: as above (a notify_one() fast path may have just stored the permit).
        w = word_.load(std::memory_order_acquire);
        for (;;) {
            if ((w >> shift) != generation || try_consume(w, generation)) {
                delete node;
                return nullptr;
            }
            if ((w & state_mask) == state_waiting) break;
            // relaxed: EMPTY -> WAITING publishes nothing (the queue is guarded by the mutex). A
            // failure re-checks: a permit stored meanwhile is consumed by try_consume()'s acquire
            // CAS (the generation cannot move: notify_waiters() takes the mutex we hold).
            if (word_.compare_exchange_weak(w, (w & ~state_mask) | state_waiting,
                                            std::memory_order_relaxed, std::memory_order_relaxed))
                break;
        }
        queue_.push_back(node);
        return node;
    }

    // Consume a stored permit (NOTIFIED -> EMPTY) in the same generation; `w` is refreshed.
    bool try_consume(std::size_t& w, std::size_t generation) noexcept {
        while ((w & state_mask) == state_notified && (w >> shift) == generation) {
            // acquire: pairs with the release CAS in notify_one() that stored the permit.
            if (word_.compare_exchange_weak(w, (w & ~state_mask) | state_empty,
                                            std::memory_order_acquire, std::memory_order_acquire))
                return true;
        }
        return false;
    }

    // Mutex held: complete the front waiter (via `woken`), or store the permit if none waits.
    void notify_one_locked(detail::WakeList& woken) noexcept {
        std::size_t w = word_.load(std::memory_order_relaxed);  // relaxed: the CAS decides
        if (queue_.empty()) {
            // release: as in notify_one().
            while (!word_.compare_exchange_weak(w, (w & ~state_mask) | state_notified,
                                                std::memory_order_release,
                                                std::memory_order_relaxed)) {}
            return;
        }
        detail::Waiter* n = queue_.pop_front();
        n->outcome = detail::Waiter::Outcome::notified_one;
        woken.push(n);
        if (queue_.empty()) set_state_locked(state_empty);
    }

    // Mutex held: leave WAITING (the queue just became empty); the generation is kept.
    void set_state_locked(std::size_t state) noexcept {
        std::size_t w = word_.load(std::memory_order_relaxed);  // relaxed: the CAS decides
        // relaxed: WAITING -> EMPTY publishes nothing; the woken node's completion does.
        while (!word_.compare_exchange_weak(w, (w & ~state_mask) | state, std::memory_order_relaxed,
                                            std::memory_order_relaxed)) {}
    }

    // A pending Notified is dropped: dequeue it, or pass on a notify_one() it did not see.
    void cancel(detail::Waiter* node) noexcept {
        node->done.unregister();  // drop the waker now: it may keep the poller's task alive
        {
            detail::WakeList woken;
            std::lock_guard<zuki::detail::mutex> lock(mutex_);
            if (node->queued) {
                queue_.remove(node);
                detail::Waiter::release(node);  // the queue's reference (ours is still held)
                if (queue_.empty()) set_state_locked(state_empty);
            } else if (node->outcome == detail::Waiter::Outcome::notified_one) {
                notify_one_locked(woken);
            }
        }
        detail::Waiter::release(node);
    }

    zuki::detail::atomic<std::size_t> word_{0};  // generation << 2 | state
    zuki::detail::mutex mutex_;
    detail::WaiterQueue queue_;  // guarded by mutex_
};

}  // namespace zuki::sync
