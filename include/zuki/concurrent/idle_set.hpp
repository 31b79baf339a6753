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
/// A worker whose thread failed to start leaves its place the same way (`vacate`): the pool
/// builds the set before it starts any thread, so that workers run at once, with no start gate.
///
/// ## The watcher (tasks in a busy worker's LIFO slot)
/// A task spawned or woken by a running task waits in its worker's LIFO slot, which notifies
/// nobody (runtime/work_stealing/worker.hpp). If the running task goes on for long, the slot's
/// task must still reach an idle worker: one parked worker at a time, the *watcher*, sleeps
/// with a timeout while other workers are awake, and on waking steals a slot's task whose owner
/// has been running the same task all along. Two rules keep a watcher whenever one is needed
/// (some worker awake with a filled slot, some worker parked):
/// - A worker that parks while others are awake and nobody watches becomes the watcher
///   (`try_watch`); the others park without a timeout. The watcher keeps the role while others
///   are awake and gives it up when it wakes (`end_watch`).
/// - When no watcher may be left while a worker runs, a request is raised (`need_watcher_`):
///   by the next worker to become awake after every worker was parked without a timeout (a
///   notifier's claim or a cancelled park: both RMWs on `state_` that read `awake == 0`, see
///   `woke`), by a thread that attaches, and by a watcher that woke to work
///   (`hand_off_watch`). The next fill of an empty LIFO slot anywhere consumes it and notifies
///   (`watcher_wanted`, `request_watcher`), so a parked worker wakes, finds someone awake, and
///   parks again as the watcher. Whoever raised it did so before running anything, so its own
///   fills see it. A watcher that woke to work also looks at the other workers' slots once
///   after raising the request, and consumes it at once if one is filled: a slot filled on a
///   third worker while the old watcher still watched (no request was up) gets a watcher
///   too. (What is left unbounded by the watch period is a fill racing that look, seen by
///   neither: it waits for the next fill anywhere or a worker's park. Closing it would need
///   a Dekker pair, a full fence on every fill of a LIFO slot.)
///
/// Thread safety: `notify_one`, `notify_all` from any thread; `attach(i)` by the thread that
/// took place `i`, before it runs a worker loop there; the other calls by worker `i` about
/// itself. The parkers belong to the workers (the set only unparks them) and must outlive the
/// set.

#include <cstddef>
#include <cstdint>
#include <memory>

#include <zuki/detail/aligned_memory.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/parker.hpp>

namespace zuki::detail {

class IdleSet : public AlignedAllocated {
public:
    /// A set of `workers` workers, all awake, and `reserved` places after them for workers that
    /// attach later (see the file comment); worker `i` sleeps on `*parkers[i]`.
    IdleSet(std::size_t workers, Parker* const* parkers, std::size_t reserved = 0)
        : unattached_(reserved), n_(workers + reserved), words_((n_ + 63) / 64),
          parked_(std::make_unique<atomic<std::uint64_t>[]>(words_)),
          parkers_(std::make_unique<Parker*[]>(n_)) {
        for (std::size_t i = 0; i < workers; ++i) parkers_[i] = parkers[i];
        state_.store(pack(0, n_), std::memory_order_relaxed);
        watcher_.store(n_, std::memory_order_relaxed);
    }

    /// Every place, reserved ones included.
    std::size_t size() const noexcept { return n_; }

    /// The thread that took reserved place `i`, before its first call as worker `i`: it sleeps
    /// on `*p`. (It already counts as awake.) A notifier reads `parkers_[i]` only after claiming
    /// the parked bit that worker `i` set itself, so the RMW pair orders this write before it.
    void attach(std::size_t i, Parker* p) noexcept {
        parkers_[i] = p;
        // relaxed: only the searcher bound and the watcher rules read it, as a hint.
        unattached_.fetch_sub(1, std::memory_order_relaxed);
        // A worker awake without an increment of state_: the workers parked may all be
        // sleeping without a timeout.
        need_watcher_.store(true, std::memory_order_relaxed);
    }

    /// One worker's place will never have a worker (its thread failed to start; the others
    /// may run already): from now on it counts as a reserved place nobody took. It has counted
    /// as awake from the start and never parks, so nobody ever claims it; only the count of
    /// untaken places changes.
    void vacate() noexcept {
        // relaxed: only the searcher bound and the watcher rules read it, as a hint.
        unattached_.fetch_add(1, std::memory_order_relaxed);
    }

    /// Worker: try to become a searcher. Refused when enough workers already search
    /// (2 * searching >= awake, not counting reserved places nobody took), to bound the CPU
    /// burnt on fruitless stealing.
    bool try_begin_search() noexcept {
        // relaxed: a bound on spinning, not a correctness condition.
        const std::uint64_t idle_places = unattached_places();
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
            woke(state_.fetch_add(awake_one + 1, std::memory_order_seq_cst));
            return;
        }
        // A notifier claimed us first and counted us awake + searching: take its token.
        parkers_[i]->park();
    }

    /// Worker `i`: sleep until a notifier hands us a token. On return we count as awake and
    /// searching (the notifier accounted for it).
    void park(std::size_t i) noexcept { parkers_[i]->park(); }

    // ---- the watcher (see the file comment) ----------------------------------------------
    /// Worker `i`, between `prepare_park` and sleeping: become the watcher if another worker is
    /// awake and nobody watches. True: sleep with a timeout, and call `end_watch` on waking.
    bool try_watch(std::size_t i) noexcept {
        // (others_awake reads the count after prepare_park's RMW on state_, so it is that value
        // or a later one: a worker counted awake there is seen.)
        if (!others_awake()) return false;
        std::size_t none = n_;
        // relaxed: the RMW alone makes the role exclusive; nothing is published through it (a
        // parker that found it taken, and sleeps without a timeout, is covered by the request
        // rules above, not by an ordering with end_watch).
        return watcher_.compare_exchange_strong(none, i, std::memory_order_relaxed,
                                                std::memory_order_relaxed);
    }
    /// The watcher, between its timed sleeps: is another worker still awake? (If not, it gives
    /// the role up and sleeps until woken: see `woke` for who asks for a watcher next.)
    bool others_awake() const noexcept {
        // relaxed: the watcher is still parked, so the count is the others'; a worker that
        // becomes awake after this read finds awake == 0 before its increment and asks for a
        // watcher (woke()).
        return awake(state_.load(std::memory_order_relaxed)) > unattached_places();
    }
    /// An awake worker: is it the only one (every other worker parked)? A hint: a worker
    /// woken right after the read is missed.
    bool alone_awake() const noexcept {
        // relaxed: a hint (see above); the caller's own count is part of the awake count.
        return awake(state_.load(std::memory_order_relaxed)) <= unattached_places() + 1;
    }
    /// The watcher, on waking (for whatever reason): give the role up.
    void end_watch() noexcept {
        // relaxed: see try_watch().
        watcher_.store(n_, std::memory_order_relaxed);
    }
    /// A worker that was the watcher found work (it was woken, or it took a task itself): the
    /// workers parked while it watched sleep without a timeout, so ask for a watcher again, as
    /// after an all-parked pool: the next fill of an empty LIFO slot wakes a parked worker,
    /// which parks again as the watcher. (Waking one here at once put a second wake-up and an
    /// eventfd write in front of every task that woke the watcher: 5 -> 15 us per wake into
    /// an idle pool.)
    void hand_off_watch() noexcept {
        // relaxed: see watcher_wanted(); written before this worker runs its task.
        if (!need_watcher_.load(std::memory_order_relaxed))
            need_watcher_.store(true, std::memory_order_relaxed);
    }
    /// A worker filled its empty LIFO slot: true if a watcher is wanted (then call
    /// `request_watcher`). One relaxed load of a line written only when the pool goes from
    /// all-parked to busy.
    bool watcher_wanted() const noexcept {
        // relaxed: set before the worker that set it ran anything (program order); any other
        // reader that misses it is a worker that became awake later, and the flag's consumer
        // notifies for all of them.
        return need_watcher_.load(std::memory_order_relaxed);
    }
    /// Consume the request and wake a parked worker (which parks again as the watcher).
    void request_watcher() noexcept {
        // relaxed: one consumer notifies; the notify carries the ordering it needs.
        if (need_watcher_.exchange(false, std::memory_order_relaxed)) notify_one();
    }

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
    // The watcher too is woken last: it would hand its role to another parked worker.
    bool wake_any() noexcept {
        // relaxed: hints; a stale value only changes which parked worker is woken.
        const std::size_t driver = driving_.load(std::memory_order_relaxed);
        const std::size_t watcher = watcher_.load(std::memory_order_relaxed);
        if ((driver < n_ || watcher < n_) && wake_any_except(driver, watcher)) return true;
        if (driver < n_ && wake_any_except(driver, n_)) return true;
        return wake_any_except(n_, n_);
    }
    // Claim and wake the lowest parked worker other than `a` and `b` (n_: none to avoid).
    bool wake_any_except(std::size_t a, std::size_t b) noexcept {
        for (std::size_t w = 0; w < words_; ++w) {
            const std::uint64_t skip =
                (a / 64 == w ? bit(a) : 0) | (b < n_ && b / 64 == w ? bit(b) : 0);
            std::uint64_t bits = parked_[w].load(std::memory_order_relaxed) & ~skip;
            while (bits != 0) {
                const std::uint64_t b = bits & (~bits + 1);  // lowest set bit
                // seq_cst: claiming the bit races with the worker's cancel_park().
                const std::uint64_t prev = parked_[w].fetch_and(~b, std::memory_order_seq_cst);
                if (prev & b) {
                    const std::size_t i = w * 64 + static_cast<std::size_t>(__builtin_ctzll(b));
                    woke(state_.fetch_add(awake_one + 1, std::memory_order_seq_cst));
                    parkers_[i]->unpark();  // release: what was published before is visible
                    return true;
                }
                bits = prev & ~b & ~skip;
            }
        }
        return false;
    }
    // A worker became awake; `prev` is the state before. If no worker was awake, every parked
    // worker may sleep without a timeout: ask for a watcher (see the file comment).
    void woke(std::uint64_t prev) noexcept {
        if (awake(prev) > unattached_places()) return;
        // relaxed: see watcher_wanted(); written before the woken worker runs anything (the
        // notifier's unpark releases it, a cancelled park is the worker itself).
        if (!need_watcher_.load(std::memory_order_relaxed))
            need_watcher_.store(true, std::memory_order_relaxed);
    }
    std::size_t unattached_places() const noexcept {
        // relaxed: reserved places taken since are awake workers we may miss; attach() then
        // asks for a watcher itself.
        return unattached_.load(std::memory_order_relaxed);
    }

    alignas(cache_line) atomic<std::uint64_t> state_{0};
    atomic<std::size_t> driving_{~std::size_t{0}};  // the worker parked in the I/O driver, if any
    atomic<std::size_t> unattached_;  // reserved places nobody took (written rarely)
    const std::size_t n_;
    const std::size_t words_;
    std::unique_ptr<atomic<std::uint64_t>[]> parked_;
    std::unique_ptr<Parker*[]> parkers_;
    // The watcher (n_: none), and the request for one; each on a line of its own (read on
    // paths that state_'s traffic should not slow down).
    alignas(cache_line) atomic<std::size_t> watcher_;
    alignas(cache_line) atomic<bool> need_watcher_{false};
};

}  // namespace zuki::detail
