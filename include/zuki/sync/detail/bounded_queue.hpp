// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `BoundedQueue<T>`: a fixed-capacity lock-free FIFO for many producers and one consumer, the
/// value store of `zuki::sync::mpsc`.
///
/// Algorithm: Dmitry Vyukov's bounded MPMC queue (1024cores.net, "Bounded MPMC queue"). Each
/// cell has a sequence number: `seq == pos` means free for the producer of ticket `pos`,
/// `seq == pos + 1` means full for the consumer of ticket `pos`. A producer claims a ticket with
/// a CAS on `tail_`, writes the value, then publishes it with a release store of `seq`; the
/// consumer reads `seq` with acquire, moves the value out and frees the cell for the producer
/// one lap later (release store of `seq = pos + capacity`).
///
/// Who may call what: `try_push` from any thread, `try_pop` from one thread at a time.
/// In mpsc, a semaphore of `capacity` permits admits the producers, so a push never finds the
/// queue full; `try_push` still reports it (false) rather than assume it.
///
/// `try_pop` may report empty while a producer that claimed the head cell has not yet published
/// it; that producer wakes the consumer after publishing (mpsc's Notify), so nothing is lost.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <utility>

#include <zuki/detail/atomic.hpp>

namespace zuki::sync::detail {

template <class T>
class BoundedQueue {
public:
    explicit BoundedQueue(std::size_t capacity)
        : cap_(capacity), cells_(std::make_unique<Cell[]>(capacity)) {
        for (std::size_t i = 0; i < cap_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
    }
    BoundedQueue(const BoundedQueue&) = delete;
    BoundedQueue& operator=(const BoundedQueue&) = delete;
    ~BoundedQueue() {
        while (try_pop()) {}
    }

    /// Push `v` if a cell is free (on false, `v` is untouched).
    bool try_push(T& v) {
        // relaxed: the ticket is only a hint until the CAS below claims it.
        std::size_t pos = tail_.load(std::memory_order_relaxed);
        for (;;) {
            Cell& c = cells_[pos % cap_];
            // acquire: pairs with the consumer's release store that freed the cell.
            const std::size_t seq = c.seq.load(std::memory_order_acquire);
            const auto diff = static_cast<std::ptrdiff_t>(seq - pos);
            if (diff == 0) {
                // relaxed: the cell is handed over by `seq`, not by `tail_`.
                if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed,
                                                std::memory_order_relaxed)) {
                    ::new (static_cast<void*>(c.storage)) T(std::move(v));
                    // release: publishes the value to the acquire load in try_pop().
                    c.seq.store(pos + 1, std::memory_order_release);
                    return true;
                }
            } else if (diff < 0) {
                return false;  // full: the cell still holds the value of the previous lap
            } else {
                pos = tail_.load(std::memory_order_relaxed);  // another producer moved on
            }
        }
    }

    /// The oldest published value, if any (one consumer at a time).
    std::optional<T> try_pop() {
        Cell& c = cells_[head_ % cap_];
        // acquire: pairs with the producer's release store that published the value.
        const std::size_t seq = c.seq.load(std::memory_order_acquire);
        if (seq != head_ + 1) return std::nullopt;
        T* p = std::launder(reinterpret_cast<T*>(c.storage));
        std::optional<T> v(std::move(*p));
        p->~T();
        // release: the producer of the next lap (its acquire load) sees the cell emptied.
        c.seq.store(head_ + cap_, std::memory_order_release);
        ++head_;
        return v;
    }

    std::size_t capacity() const noexcept { return cap_; }

private:
    struct Cell {
        zuki::detail::atomic<std::size_t> seq;
        alignas(T) unsigned char storage[sizeof(T)];
    };

    const std::size_t cap_;
    std::unique_ptr<Cell[]> cells_;
    alignas(zuki::detail::cache_line) zuki::detail::atomic<std::size_t> tail_{0};
    alignas(zuki::detail::cache_line) std::size_t head_ = 0;  // the consumer's alone
};

}  // namespace zuki::sync::detail
