// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `IdleSet`: the idle / parking protocol of a work-stealing pool (after Tokio's
/// `scheduler/multi_thread/idle.rs`, made lock-free with a parked-worker bitmap; each worker
/// sleeps on its own `Parker`, detail/parker.hpp).
///
/// ## States
///     active ──no work──▶ searching ──found──▶ active
///                            │  (at most ~half the awake workers search at once)
///                            └──nothing──▶ parked ──token──▶ searching
///
/// One 64-bit word counts `searching` (low half) and `awake` (high half) workers. A parked
/// worker has its bit set in `parked_` and sleeps on its own `Parker` (a token on a futex word,
/// or the I/O driver: see runtime/work_stealing/park.hpp).
///
/// ## Notify (after new work was published)
///     fence(seq_cst); if (searching == 0 && awake < n) claim a parked bit, mark it awake +
///     searching, hand it a token.
/// A woken worker starts as a searcher, so a burst of submissions wakes one worker, not a herd;
/// a searcher that finds work and was the *last* searcher notifies once more, so wakes chain
/// only while there is work ("no thundering herd, no idle work").
///
/// ## Why no wake-up is lost
/// A worker going to sleep (1) sets its parked bit and decrements awake (and searching, if it
/// was) with seq_cst RMWs, (2) fences, (3) re-checks every queue, and only then sleeps. A
/// submitter (a) publishes the work, (b) fences, (c) reads the counters. The two fences are
/// ordered in S: if the submitter's comes first, step (3) sees the work; otherwise step (c) sees
/// the decrement, so either the submitter wakes a parked worker or `searching > 0`, and then
/// the last of those searchers to park runs (3) after the submitter's fence and sees the work.
/// (A seq_cst *load* would not be enough for (b): Tokio #1788.)
///
/// ## Reserved places (threads that attach later)
/// A set can hold places for workers that join after it was built (a user thread calling
/// `WorkStealingExecutor::attach()`). A reserved place counts as awake from the start and never
/// parks, so to the protocol above it is a worker that is always busy: `notify_one`'s "nobody
/// parked" test (`awake == n`) stays one comparison, and a thread that takes the place
/// (`attach`) is already counted awake when it starts its loop, with nothing to publish but its
/// parker. Only the searcher bound must not count the places nobody took (`unattached_`).
///
/// Thread safety: `notify_one`, `notify_all` from any thread; `attach(i)` by the thread that
/// took place `i`, before it runs a worker loop there; the other calls by worker `i` about
/// itself. The parkers belong to the workers (the set only unparks them) and must outlive the
/// set.

#include <cstddef>
#include <cstdint>
#include <memory>

#include <zuki/detail/atomic.hpp>
#include <zuki/detail/parker.hpp>

namespace zuki::detail {

class IdleSet {
public:
    /// A set of `workers` workers, all awake, and `reserved` places after them for workers that
    /// attach later (see the file comment); worker `i` sleeps on `*parkers[i]`.
    IdleSet(std::size_t workers, Parker* const* parkers, std::size_t reserved = 0)
        : unattached_(reserved), n_(workers + reserved), reserved_(reserved),
          words_((n_ + 63) / 64), parked_(std::make_unique<atomic<std::uint64_t>[]>(words_)),
          parkers_(std::make_unique<Parker*[]>(n_)) {
        for (std::size_t i = 0; i < workers; ++i) parkers_[i] = parkers[i];
        state_.store(pack(0, n_), std::memory_order_relaxed);
    }

    /// Every place, reserved ones included.
    std::size_t size() const noexcept { return n_; }

    /// The thread that took reserved place `i`, before its first call as worker `i`: it sleeps
    /// on `*p`. (It already counts as awake.) A notifier reads `parkers_[i]` only after claiming
    /// the parked bit that worker `i` set itself, so the RMW pair orders this write before it.
    void attach(std::size_t i, Parker* p) noexcept {
        parkers_[i] = p;
        // relaxed: only the searcher bound reads it, as a hint.
        unattached_.fetch_sub(1, std::memory_order_relaxed);
    }

    /// Worker: try to become a searcher. Refused when enough workers already search
    /// (2 * searching >= awake, not counting reserved places nobody took), to bound the CPU
    /// burnt on fruitless stealing.
    bool try_begin_search() noexcept {
        // relaxed: a bound on spinning, not a correctness condition. (No load at all in a set
        // without reserved places, as in the model checks of the pool.)
        const std::uint64_t idle_places =
            reserved_ == 0 ? 0 : unattached_.load(std::memory_order_relaxed);
        std::uint64_t s = state_.load(std::memory_order_relaxed);
        for (;;) {
            // (A stale count may exceed the awake places: the caller at least is awake.)
            const std::uint64_t a = awake(s) > idle_places ? awake(s) - idle_places : 1;
            if (2 * searching(s) >= a) return false;
            // seq_cst: a searcher count others act on (see notify_one()).
            if (state_.compare_exchange_weak(s, s + 1, std::memory_order_seq_cst,
                                             std::memory_order_relaxed))
                return true;
        }
    }

    /// Worker: stop searching because it found work. Returns true if it was the last searcher:
    /// the caller must then call notify_one() (there may be more work nobody looks for).
    bool end_search() noexcept {
        // seq_cst: pairs with the counter reads in notify_one().
        return searching(state_.fetch_sub(1, std::memory_order_seq_cst)) == 1;
    }

    /// Worker `i`: announce parking. After this the caller must re-check all queues
    /// (`has_work()`), then call `cancel_park(i)` if it found work or `park(i)` otherwise.
    void prepare_park(std::size_t i, bool was_searching) noexcept {
        // seq_cst: the parked bit must be visible to notify_one() before our re-check.
        parked_[i / 64].fetch_or(bit(i), std::memory_order_seq_cst);
        state_.fetch_sub(awake_one + (was_searching ? 1 : 0), std::memory_order_seq_cst);
        // seq_cst: step (2) of the protocol; pairs with the fence in notify_one().
        fence(ZUKI_MODEL_WEAKEN(idle_park_fence, std::memory_order_seq_cst,
                                std::memory_order_relaxed));
    }

    /// Worker `i`: the re-check found work; become awake (and searching) again.
    void cancel_park(std::size_t i) noexcept {
        // seq_cst: clearing our own bit races with notify_one() claiming it.
        if (parked_[i / 64].fetch_and(~bit(i), std::memory_order_seq_cst) & bit(i)) {
            state_.fetch_add(awake_one + 1, std::memory_order_seq_cst);
            return;
        }
        // A notifier claimed us first and counted us awake + searching: take its token.
        parkers_[i]->park();
    }

    /// Worker `i`: sleep until a notifier hands us a token. On return we count as awake and
    /// searching (the notifier accounted for it).
    void park(std::size_t i) noexcept { parkers_[i]->park(); }

    /// Worker `i` sleeps on this parker (e.g. to drive an I/O reactor while parked: the token
    /// it waits for is the same).
    Parker& parker(std::size_t i) const noexcept { return *parkers_[i]; }

    /// Wake one parked worker if nobody is searching. Call after publishing work.
    /// Returns true if a worker was woken.
    bool notify_one() noexcept {
        // seq_cst: step (b) of the protocol; pairs with the fence in prepare_park().
        fence(ZUKI_MODEL_WEAKEN(idle_notify_fence, std::memory_order_seq_cst,
                                std::memory_order_relaxed));
        return notify_one_fenced();
    }
    /// `notify_one()` for a caller that has already issued a seq_cst fence after publishing its
    /// work (step (b)) and before this call: the same protocol without a second fence.
    bool notify_one_fenced() noexcept {
        const std::uint64_t s = state_.load(std::memory_order_relaxed);
        if (searching(s) != 0 || awake(s) >= n_) return false;
        return wake_any();
    }

    /// Wake every parked worker (shutdown, join). The caller's seq_cst store that the workers
    /// re-check (stop flag, join flag) comes before: the fence makes that store and our read of
    /// the parked bits a Dekker pair with the worker's parked bit + fence + re-check.
    void notify_all() noexcept {
        fence(ZUKI_MODEL_WEAKEN(idle_notify_all_fence, std::memory_order_seq_cst,
                                std::memory_order_relaxed));
        while (wake_any()) {}
    }

    /// Worker `i` is about to sleep in the I/O driver; `leave_driver()` once it is back. A hint
    /// for `notify_one()`, which wakes a worker parked on its futex first.
    void enter_driver(std::size_t i) noexcept {
        driving_.store(i, std::memory_order_relaxed);  // relaxed: a hint (see wake_any)
    }
    void leave_driver() noexcept { driving_.store(~std::size_t{0}, std::memory_order_relaxed); }

    std::size_t searching_count() const noexcept {
        return searching(state_.load(std::memory_order_relaxed));
    }
    std::size_t awake_count() const noexcept {
        return awake(state_.load(std::memory_order_relaxed));
    }
    bool is_parked(std::size_t i) const noexcept {
        return (parked_[i / 64].load(std::memory_order_relaxed) & bit(i)) != 0;
    }

private:
    static constexpr std::uint64_t awake_one = std::uint64_t{1} << 32;
    static std::uint64_t pack(std::uint64_t searching, std::uint64_t awake) noexcept {
        return searching | (awake << 32);
    }
    static std::uint64_t searching(std::uint64_t s) noexcept { return s & 0xFFFF'FFFFu; }
    static std::uint64_t awake(std::uint64_t s) noexcept { return s >> 32; }
    static std::uint64_t bit(std::size_t i) noexcept { return std::uint64_t{1} << (i % 64); }

    // Wake a parked worker: one parked on its futex first, the one sleeping in the I/O driver
    // (driving_) only if no other is parked. Waking the driver costs an eventfd write and an
    // epoll return where a futex wake is one system call, and it leaves the reactor unwatched
    // until another worker parks in it.
    bool wake_any() noexcept {
        // relaxed: a hint; a stale value only changes which parked worker is woken.
        const std::size_t avoid = driving_.load(std::memory_order_relaxed);
        if (avoid < n_ && wake_any_except(avoid)) return true;
        return wake_any_except(n_);
    }
    // Claim and wake the lowest parked worker other than `avoid` (n_: none to avoid).
    bool wake_any_except(std::size_t avoid) noexcept {
        for (std::size_t w = 0; w < words_; ++w) {
            const std::uint64_t skip = avoid / 64 == w ? bit(avoid) : 0;
            std::uint64_t bits = parked_[w].load(std::memory_order_relaxed) & ~skip;
            while (bits != 0) {
                const std::uint64_t b = bits & (~bits + 1);  // lowest set bit
                // seq_cst: claiming the bit races with the worker's cancel_park().
                const std::uint64_t prev = parked_[w].fetch_and(~b, std::memory_order_seq_cst);
                if (prev & b) {
                    const std::size_t i = w * 64 + static_cast<std::size_t>(__builtin_ctzll(b));
                    state_.fetch_add(awake_one + 1, std::memory_order_seq_cst);
                    parkers_[i]->unpark();  // release: what was published before is visible
                    return true;
                }
                bits = prev & ~b & ~skip;
            }
        }
        return false;
    }
    alignas(cache_line) atomic<std::uint64_t> state_{0};
    atomic<std::size_t> driving_{~std::size_t{0}};  // the worker parked in the I/O driver, if any
    atomic<std::size_t> unattached_;  // reserved places nobody took (written rarely)
    const std::size_t n_;
    const std::size_t reserved_;
    const std::size_t words_;
    std::unique_ptr<atomic<std::uint64_t>[]> parked_;
    std::unique_ptr<Parker*[]> parkers_;
};

}  // namespace zuki::detail
