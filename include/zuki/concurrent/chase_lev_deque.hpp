// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `ChaseLevDeque<T>`: a worker's bounded, lock-free work-stealing deque with a steal-half claim.
///
/// ## Algorithm
/// Chase & Lev (SPAA 2005) with the C11 orderings of Lê, Pop, Cohen & Zappa Nardelli (PPoPP
/// 2013), extended so a thief claims about half of the victim's items in one CAS.
///
///     index:   top ............................ bottom        (64-bit, never wrap)
///              [ oldest | ... stealable ...  | newest ]
///     thieves: CAS top forward by n            owner: push / pop at bottom
///
/// - `top` only grows (each claim is a CAS on it), so a stale claim fails: no ABA.
/// - `bottom` is written by the owner only.
/// - Slots are atomics (relaxed) so a thief's speculative read of a slot the owner is rewriting
///   is not a data race; such a read is always followed by a failing CAS.
///
/// ## The steal-half extension and why it is safe
/// A thief reads `top` = t, fences, reads `bottom` = b, copies n = min(ceil((b-t)/2), M)
/// items and claims them with CAS(top, t, t+n), where M (`max_steal`, at most cap/2; the pool
/// uses cap/2) bounds one claim. Classic Chase-Lev lets the owner take the
/// bottom item without a CAS whenever top < bottom, which is safe against one-item steals but
/// not against multi-item claims (a thief that read an old, larger bottom could claim items the
/// owner popped since). So the owner pops without a CAS only from the *deep* part:
///
///   owner pop:  bottom = b-1; fence(seq_cst); t = top;
///               if (b-1) - t >= M  → take item b-1, no CAS    (LIFO, the hot case)
///               else restore bottom and take item `top` with CAS(top, t, t+1) (FIFO)
///
/// Any claim that succeeds from t' = t covers at most [t, t + M) and so never reaches b-1.
/// A claim from t' > t comes from a thief whose read of top saw a write coherence-after the
/// owner's read; by the seq_cst fence rule ([atomics.order]/4.5) the owner's fence precedes the
/// thief's in S, so the thief's read of bottom sees b-1 or later and it claims at most
/// ceil((b-1-t')/2) items, all below b-1. Items the owner takes with a CAS are serialised with
/// thieves by that CAS. So every item is taken exactly once. In the shallow part the owner
/// pops oldest-first with one uncontended CAS (like Tokio's and Go's run queues).
///
/// M is the depth where the owner's order turns from FIFO to LIFO, so it is a trade-off that
/// the pool fixes at 128 (half of its deque's capacity where that is smaller), with room far
/// above it (4,096 places by default) for a fork-join's depth-first backlog. A fork-join wants
/// LIFO (depth-first: the deque stays shallow; FIFO expands the tree breadth-first until the
/// deque overflows), Asio handlers that re-post themselves want FIFO (they take turns).
/// Measured with M = 64 of 256: skynet 1.4x faster and
/// no overflow, but only with the pool's fairness rescue (`rescue_oldest`, which runs the
/// oldest task of a deep deque whose top has not moved) left at 128; at 64 the rescue expanded
/// the fork-join again, and without it a worker with 65 to 128 handlers that re-post themselves
/// would run one of them only. The bound stays a parameter (model-checked below cap/2).
///
/// ## Who may call what
/// `push`, `pop`, `pop_oldest`, `take_half` (overflow) and the destination side of
/// `steal_half_into`: the owner only. `steal_half_into` (source side) and `size`: any thread.

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include <zuki/detail/atomic.hpp>

namespace zuki::detail {

template <class T>
class ChaseLevDeque {
public:
    /// `capacity` must be a power of two >= 2, and `max_steal` (the most items one thief's
    /// claim takes; 0: capacity/2) at most capacity/2 (std::invalid_argument otherwise).
    explicit ChaseLevDeque(std::size_t capacity, std::size_t max_steal = 0)
        : mask_(check(capacity) - 1), max_claim_(check_claim(capacity, max_steal)),
          slots_(std::make_unique<detail::atomic<T*>[]>(capacity)) {}
    ChaseLevDeque(const ChaseLevDeque&) = delete;
    ChaseLevDeque& operator=(const ChaseLevDeque&) = delete;

    std::size_t capacity() const noexcept { return mask_ + 1; }
    /// The most items one thief's claim takes; also the depth above which `pop` takes the
    /// newest item (LIFO, no CAS) and at or below which it takes the oldest (FIFO, one CAS).
    std::size_t max_steal() const noexcept { return static_cast<std::size_t>(max_claim_); }

    /// Approximate number of items (exact when called by the owner with no thief active).
    std::size_t size() const noexcept {
        const std::int64_t b = bottom_.load(std::memory_order_relaxed);
        const std::int64_t t = top_.load(std::memory_order_relaxed);
        return b > t ? static_cast<std::size_t>(b - t) : 0;
    }
    bool empty() const noexcept { return size() == 0; }
    /// How many items were ever taken from the oldest end (by thieves, `pop_oldest`, `take_half`
    /// or a shallow `pop`): it stays put while the oldest item waits.
    std::int64_t taken_from_top() const noexcept { return top_.load(std::memory_order_relaxed); }
    /// Owner: the index one past the newest item (items are numbered in push order). While
    /// `taken_from_top()` is below an `end_index()` read earlier, some item pushed before that
    /// read is still queued at the oldest end. (relaxed: only the owner writes `bottom`.)
    std::int64_t end_index() const noexcept { return bottom_.load(std::memory_order_relaxed); }

    /// Owner: add an item at the bottom. Returns false (and changes nothing) when full.
    bool push(T* item) noexcept {
        const std::int64_t b = bottom_.load(std::memory_order_relaxed);
        // acquire: pairs with the successful CAS of a thief (seq_cst, so release too): its
        // reads of the slots it claimed happen before we overwrite them.
        const std::int64_t t = top_.load(std::memory_order_acquire);
        if (b - t >= static_cast<std::int64_t>(capacity())) return false;
        slot(b).store(item, std::memory_order_relaxed);
        // release: pairs with the acquire load of bottom in steal_half_into(): a thief that
        // sees the new bottom sees the slot.
        bottom_.store(b + 1, ZUKI_MODEL_WEAKEN(deque_push_release, std::memory_order_release,
                                               std::memory_order_relaxed));
        return true;
    }

    /// Owner: push up to `max` items of the intrusive list starting at `head` (linked through
    /// `T::next`) with one read of `top` and one publication of `bottom`. Returns how many were
    /// pushed; `rest` receives the first item not pushed (or nullptr).
    std::size_t push_chain(T* head, std::size_t max, T*& rest) noexcept {
        const std::int64_t b = bottom_.load(std::memory_order_relaxed);
        // acquire: as in push().
        const std::int64_t t = top_.load(std::memory_order_acquire);
        const auto room = static_cast<std::size_t>(static_cast<std::int64_t>(capacity()) - (b - t));
        std::size_t n = 0;
        for (; head != nullptr && n < max && n < room; ++n) {
            slot(b + static_cast<std::int64_t>(n)).store(head, std::memory_order_relaxed);
            head = head->next;
        }
        rest = head;
        // release: as in push(); one store publishes the whole chain.
        if (n != 0) bottom_.store(b + static_cast<std::int64_t>(n), std::memory_order_release);
        return n;
    }

    /// Owner: take an item (newest first while the deque is deep, oldest first when shallow).
    T* pop() noexcept {
        const std::int64_t b = bottom_.load(std::memory_order_relaxed);
        if (b - top_.load(std::memory_order_relaxed) > max_claim_) {
            bottom_.store(b - 1, std::memory_order_relaxed);
            // seq_cst: the StoreLoad fence of Chase-Lev; pairs with the fence in
            // steal_half_into() (see the file comment).
            detail::fence(ZUKI_MODEL_WEAKEN(deque_pop_fence, std::memory_order_seq_cst,
                                            std::memory_order_relaxed));
            const std::int64_t t = top_.load(std::memory_order_relaxed);
            if ((b - 1) - t >= max_claim_) return slot(b - 1).load(std::memory_order_relaxed);
            bottom_.store(b, std::memory_order_relaxed);  // too shallow now: take the top
        }
        // acquire: pairs with the seq_cst CAS of other claimants so a retry sees their claim.
        std::int64_t t = top_.load(std::memory_order_acquire);
        while (t < b) {
            T* item = slot(t).load(std::memory_order_relaxed);
            // seq_cst: serialises this claim with thieves' claims (total order on top).
            if (top_.compare_exchange_weak(t, t + 1, std::memory_order_seq_cst,
                                           std::memory_order_acquire))
                return item;
        }
        return nullptr;
    }

    /// Owner: take the oldest item (FIFO), whatever the depth: one CAS on `top`, the claim a
    /// thief makes for a single item. For fairness: the deep path of `pop` is LIFO, so a task
    /// that keeps re-queueing itself on a deep deque would otherwise run before older work.
    T* pop_oldest() noexcept {
        const std::int64_t b = bottom_.load(std::memory_order_relaxed);
        // acquire: as in pop().
        std::int64_t t = top_.load(std::memory_order_acquire);
        while (t < b) {
            T* item = slot(t).load(std::memory_order_relaxed);
            // seq_cst: serialises this claim with thieves' claims (total order on top).
            if (top_.compare_exchange_weak(t, t + 1, std::memory_order_seq_cst,
                                           std::memory_order_acquire))
                return item;
        }
        return nullptr;
    }

    /// Owner: claim the older half (at least one item if any) for moving elsewhere (overflow).
    /// Calls `each(item)` for the claimed items, oldest first, and returns how many. `each`
    /// must not touch this deque.
    template <class Each>
    std::size_t take_half(Each&& each) noexcept {
        const std::int64_t b = bottom_.load(std::memory_order_relaxed);
        // acquire: as in pop().
        std::int64_t t = top_.load(std::memory_order_acquire);
        for (;;) {
            const std::int64_t size = b - t;
            if (size <= 0) return 0;
            // The owner's own claim: it never races its own pop, so it is bounded by half the
            // capacity only, not by the thieves' bound.
            const std::int64_t n = std::min(std::max<std::int64_t>(size / 2, 1),
                                            static_cast<std::int64_t>(capacity() / 2));
            // seq_cst: as in pop().
            if (top_.compare_exchange_weak(t, t + n, std::memory_order_seq_cst,
                                           std::memory_order_acquire)) {
                // The claimed slots are read after the claim, not before (no copy to a
                // buffer): nobody writes them now. Only the owner writes slots, and we return
                // before our next push; a thief's claim that overlapped ours failed its CAS.
                for (std::int64_t i = 0; i < n; ++i)
                    each(slot(t + i).load(std::memory_order_relaxed));
                return static_cast<std::size_t>(n);
            }
        }
    }
    /// The same, writing the claimed items to `out` (room for capacity()/2 items).
    std::size_t take_half(T** out) noexcept {
        std::size_t k = 0;
        return take_half([out, &k](T* item) { out[k++] = item; });
    }

    /// Thief (the owner of `dst`): claim about half of this deque's items in one CAS. Returns the
    /// oldest claimed item (to run now) and pushes the others into `dst`; nullptr if there was
    /// nothing to take. `stolen` receives the number of items claimed.
    T* steal_half_into(ChaseLevDeque& dst, std::size_t& stolen) noexcept {
        stolen = 0;
        // dst is ours: its bottom is stable, its top only grows (which only frees room).
        const std::int64_t db = dst.bottom_.load(std::memory_order_relaxed);
        // acquire: as in push() (we are about to write dst's slots).
        const std::int64_t room = static_cast<std::int64_t>(dst.capacity()) -
                                  (db - dst.top_.load(std::memory_order_acquire));
        // acquire: pairs with the seq_cst CAS of a previous claimant.
        std::int64_t t = top_.load(std::memory_order_acquire);
        for (;;) {
            // seq_cst: pairs with the fence in pop() (see the file comment).
            detail::fence(std::memory_order_seq_cst);
            // acquire: pairs with the release store in push(): the slots below b are visible.
            const std::int64_t b = bottom_.load(std::memory_order_acquire);
            const std::int64_t size = b - t;
            if (size <= 0) return nullptr;
            const std::int64_t n = std::min({(size + 1) / 2, max_claim_, room + 1});
            T* first = slot(t).load(std::memory_order_relaxed);
            // Copy the rest into dst's unpublished slots (beyond its bottom): no one reads them
            // until we publish dst's bottom, so a failed claim leaves nothing behind.
            for (std::int64_t i = 1; i < n; ++i)
                dst.slot(db + i - 1)
                    .store(slot(t + i).load(std::memory_order_relaxed), std::memory_order_relaxed);
            // seq_cst: serialises claims (and the owner's CAS pops) in one total order on top,
            // and orders our slot reads before the owner's later overwrite (release).
            if (top_.compare_exchange_weak(t, t + n, std::memory_order_seq_cst,
                                           std::memory_order_acquire)) {
                // release: pairs with acquire loads of dst's bottom by thieves of dst.
                if (n > 1) dst.bottom_.store(db + n - 1, std::memory_order_release);
                stolen = static_cast<std::size_t>(n);
                return first;
            }
            // t now holds the current top; retry with a fresh bottom.
        }
    }

private:
    static std::int64_t check_claim(std::size_t capacity, std::size_t max_steal) {
        if (max_steal == 0) max_steal = capacity / 2;
        if (max_steal > capacity / 2)
            throw std::invalid_argument(
                "zuki::ChaseLevDeque: max_steal must be at most capacity / 2");
        return static_cast<std::int64_t>(max_steal);
    }
    static std::size_t check(std::size_t c) {
        if (c < 2 || !std::has_single_bit(c))
            throw std::invalid_argument(
                "zuki::ChaseLevDeque: capacity must be a power of two >= 2");
        return c;
    }
    detail::atomic<T*>& slot(std::int64_t i) const noexcept {
        return slots_[static_cast<std::size_t>(i) & mask_];
    }

    // top is written by thieves, bottom by the owner: keep them on separate cache lines.
    alignas(detail::cache_line) detail::atomic<std::int64_t> top_{0};
    alignas(detail::cache_line) detail::atomic<std::int64_t> bottom_{0};
    alignas(detail::cache_line) const std::size_t mask_;
    const std::int64_t max_claim_;
    std::unique_ptr<detail::atomic<T*>[]> slots_;
};

}  // namespace zuki::detail
