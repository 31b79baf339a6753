// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// The waiter node that `Semaphore` and `Notify` queue on their slow path, and its FIFO list.
///
/// ## Protocol
///
/// A future that has to wait allocates one `Waiter` and queues it under its primitive's mutex.
/// The node is shared by two owners (reference count 2): the future, and the queue or whoever
/// took the node out of it. Fields marked "guarded" are read and written only under the
/// primitive's mutex. The node's `done` is the library's one waker slot
/// (zuki/detail/atomic_waker.hpp): the future is its poller, the thread that grants the node
/// (a release, a notification, a close) is its completer. The granting thread decides the
/// `outcome` and dequeues the node under the mutex, then, after unlocking, completes `done`
/// (waking the future) and drops its reference (`WakeList`). Completing outside the mutex keeps
/// foreign code (the executor's wake) out of the critical section; the second reference keeps
/// the node alive for it even if the future is dropped in between.
///
/// Invariants: `queued` is true exactly while the node is linked in a `WaiterQueue`; `outcome`
/// is `none` while queued and final once dequeued; `done` is completed once, after the outcome
/// was written (its acq_rel RMW publishes the outcome to the poller's acquire).

#include <cassert>
#include <cstddef>
#include <cstdint>

#include <zuki/core/waker.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/atomic_waker.hpp>

namespace zuki::sync::detail {

/// One waiting future (see the file comment).
struct Waiter {
    enum class Outcome : unsigned char { none, granted, closed, notified_one, notified_all };

    Waiter* prev = nullptr;  // guarded: links in the queue
    Waiter* next = nullptr;  // guarded: links in the queue, then in a WakeList
    bool queued = false;  // guarded
    Outcome outcome = Outcome::none;  // guarded; final before `done` completes
    std::size_t needed = 0;  // Semaphore: permits asked for (constant)
    std::size_t assigned = 0;  // guarded. Semaphore: permits handed over so far
    zuki::detail::AtomicWaker done;  // the waker slot: the future polls, the granter completes
    zuki::detail::atomic<std::uint32_t> refs{2};  // the future's and the queue's

    /// The future's poll: true once the node was granted (then `outcome` is final and visible).
    bool poll_done(const Waker& w) {
        if (!done.poll_done(w)) return false;
        // acquire: pairs with the granter's acq_rel RMW in done.complete(), so `outcome` and
        // the permits or notification behind it are visible. poll_done() acquires already in
        // C++ (its failed CAS has acquire failure order), but Relacy takes a failed CAS's order
        // from its success order (release there), so this load is the edge the model checks.
        (void)done.is_done();
        return true;
    }

    /// Drop one reference; the last one frees the node.
    static void release(Waiter* w) noexcept {
        // acq_rel: the release half publishes this owner's last use of the node, the acquire
        // half lets the last owner delete it after the other's (pairs with the other decrement).
        if (w->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete w;
    }
};

/// An intrusive FIFO of `Waiter`s (guarded by the owner's mutex; not thread-safe by itself).
class WaiterQueue {
public:
    bool empty() const noexcept { return head_ == nullptr; }
    Waiter* front() const noexcept { return head_; }

    void push_back(Waiter* w) noexcept {
        assert(!w->queued);
        w->prev = tail_;
        w->next = nullptr;
        (tail_ != nullptr ? tail_->next : head_) = w;
        tail_ = w;
        w->queued = true;
    }
    Waiter* pop_front() noexcept {
        Waiter* w = head_;
        assert(w != nullptr);
        remove(w);
        return w;
    }
    void remove(Waiter* w) noexcept {
        assert(w->queued);
        (w->prev != nullptr ? w->prev->next : head_) = w->next;
        (w->next != nullptr ? w->next->prev : tail_) = w->prev;
        w->prev = w->next = nullptr;
        w->queued = false;
    }

private:
    Waiter* head_ = nullptr;
    Waiter* tail_ = nullptr;
};

/// Nodes taken out of a queue under the mutex, to be completed after it is unlocked. Each holds
/// the queue's reference, dropped after the completion.
class WakeList {
public:
    WakeList() noexcept = default;
    WakeList(const WakeList&) = delete;
    WakeList& operator=(const WakeList&) = delete;
    ~WakeList() { complete_all(); }

    /// Under the mutex: `w` was dequeued and its outcome written (woken in push order).
    void push(Waiter* w) noexcept {
        w->next = nullptr;
        (tail_ != nullptr ? tail_->next : head_) = w;
        tail_ = w;
    }
    /// After unlocking: complete each node (wakes its future) and drop the queue's reference.
    void complete_all() noexcept {
        while (head_ != nullptr) {
            Waiter* w = head_;
            head_ = w->next;  // read before the completion: the node is no longer ours after
            w->done.complete();
            Waiter::release(w);
        }
        tail_ = nullptr;
    }

private:
    Waiter* head_ = nullptr;
    Waiter* tail_ = nullptr;
};

}  // namespace zuki::sync::detail
