// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `MpscInbox<T>`: the remote queue of `SingleThreadedExecutor` — many producers push intrusive
/// nodes (linked through `T::next`), one consumer takes them all at once, in push order — with
/// a terminal *closed* state for shutdown.
///
/// ## Algorithm
/// A Treiber stack (R. K. Treiber, IBM RJ 5118, 1986) used as an MPSC queue whose single
/// consumer takes everything with one exchange and reverses it. Nobody pops single nodes, so
/// there is no ABA problem. `close()` exchanges the head for a mark; a later push sees the mark
/// and hands the node back to its caller instead of queueing it.
///
/// ## Epochs (waking the consumer once per batch)
/// The push that finds the inbox empty *opens an epoch*: it returns `Pushed::first`, and the
/// caller wakes the consumer. Later pushes in the same epoch need not: the consumer's exchange,
/// an RMW, takes every push before it in the head's modification order, and a push after that
/// exchange finds the inbox empty and opens a new epoch. A producer that opens an epoch may have
/// to protect what it touches after the push (the consumer may already have run the node and
/// released the last reference to the executor): `push` calls `before_first()` before a CAS
/// that could open an epoch, once, so the caller can take a reference then.
///
/// Thread safety: `push` from any thread; `take_all`, `close` and `empty` by the consumer.

#include <zuki/detail/atomic.hpp>

namespace zuki::detail {

template <class T>
class MpscInbox {
public:
    enum class Pushed {
        queued,  ///< queued behind others: the consumer was woken for them
        first,  ///< queued into an empty inbox: the caller wakes the consumer
        closed,  ///< the inbox is closed: not queued, the caller disposes of the node
    };

    MpscInbox() noexcept = default;
    MpscInbox(const MpscInbox&) = delete;
    MpscInbox& operator=(const MpscInbox&) = delete;

    /// Producer: push `node`. `before_first()` runs at most once, before a CAS that may open an
    /// epoch; `called` tells the caller whether it ran (it ran also when the result is not
    /// `first`, if a competing push got there first).
    template <class BeforeFirst>
    Pushed push(T* node, BeforeFirst&& before_first, bool& called) noexcept {
        called = false;
        T* head = head_.load(std::memory_order_relaxed);
        for (;;) {
            if (head == closed_mark()) return Pushed::closed;
            if (head == nullptr && !called) {
                before_first();
                called = true;
            }
            node->next = head;
            // release: pairs with the acquire exchange in take_all() / close(): the consumer
            // that takes `node` sees node->next and what the producer wrote before.
            if (head_.compare_exchange_weak(head, node,
                                            ZUKI_MODEL_WEAKEN(inbox_push_release,
                                                              std::memory_order_release,
                                                              std::memory_order_relaxed),
                                            std::memory_order_relaxed))
                return head == nullptr ? Pushed::first : Pushed::queued;
        }
    }

    /// Consumer: take everything pushed so far, oldest first (a null-terminated list through
    /// `next`), or null.
    T* take_all() noexcept {
        // relaxed: a cheap peek; a push it misses opened an epoch and wakes the consumer.
        if (head_.load(std::memory_order_relaxed) == nullptr) return nullptr;
        // acquire: pairs with the release CAS in push().
        return reverse(head_.exchange(nullptr, std::memory_order_acquire));
    }

    /// Consumer: close the inbox for good; returns what was still in it, oldest first.
    T* close() noexcept {
        // acquire: pairs with the release CAS in push(). From now on a push sees the mark.
        return reverse(head_.exchange(closed_mark(), std::memory_order_acquire));
    }

    /// Consumer: true if nothing is queued (relaxed: a hint; see take_all()).
    bool empty() const noexcept {
        T* h = head_.load(std::memory_order_relaxed);
        return h == nullptr || h == closed_mark();
    }

private:
    static T* closed_mark() noexcept {
        alignas(T) static constinit unsigned char tag[1] = {};  // a unique address, never read
        return reinterpret_cast<T*>(tag);
    }
    static T* reverse(T* lifo) noexcept {
        if (lifo == closed_mark()) return nullptr;
        T* fifo = nullptr;
        while (lifo != nullptr) {
            T* next = lifo->next;
            lifo->next = fifo;
            fifo = lifo;
            lifo = next;
        }
        return fifo;
    }

    alignas(cache_line) atomic<T*> head_{nullptr};
};

}  // namespace zuki::detail
