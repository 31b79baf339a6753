// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `IoDriver`: the event source (Boost.Asio's reactor, asio/detail/reactor_driver.hpp) that an
/// executor's own threads drive, so sockets and timers need no thread of their own; and the
/// hand-off that lets exactly one thread at a time be inside it.
///
/// ## Who drives
/// The driver has a lock (`try_lock` / `unlock`). Its holder is the only thread inside the event
/// source: either a worker polling it without blocking (`poll`, every 61 tasks and whenever the
/// worker runs out of work), or a worker that found nothing to do and *parks in it*
/// (`Parker::park_driving(driver)`: `wait` blocks in epoll until an event, a timer, or an
/// `interrupt`). Every other parked worker sleeps on its own futex.
///
///     worker out of work ──▶ idle protocol: announce, re-check (park.hpp)
///        ├─ won the lock ──▶ park_driving: blocks in the event source; unpark() interrupts it
///        └─ lock busy   ──▶ park on its futex (the holder is awake, or is the driver)
///
/// Ready I/O found by `poll` or `wait` becomes ordinary tasks pushed to the calling worker's
/// queue (`IoTaskSink`): the worker that found them runs the first, the others are stealable and
/// an idle worker is woken for them, so one reactor round is spread over the pool.
///
/// ## Why no I/O is left unattended
/// Invariant: the lock holder is driving or awake. A poller holds the lock only for the poll; a
/// worker that fails to take it while parking parks on its futex knowing that the holder is
/// either the driver (which sees the event) or awake (and will poll again within 61 tasks, or
/// take the lock itself when it parks). So when every worker is parked, one of them drives.
///
/// ## Why no wake-up is lost
/// Waking the driver is `Parker::unpark`: its exchange reads PARKED_DRIVER and calls
/// `interrupt()`, whose contract is that a wait in progress, or the next one, returns. For Asio's
/// epoll reactor that is an `EPOLL_CTL_MOD` of an always-readable eventfd: the edge is queued in
/// the epoll instance even if the driver has not reached `epoll_wait` yet, and only the lock
/// holder ever calls `epoll_wait`, so nobody else can consume it. The idle protocol around it is
/// unchanged (the driver is a parked worker; notifiers claim its bit and unpark it). Checked by
/// test/model/io_driver.cpp with a model event source.
///
/// ## Activation
/// The event source is made with the first socket or timer, not with the executor (a pool that
/// never does I/O makes no epoll instance, eventfd or timerfd: issue 16). A worker chooses where
/// to sleep when it parks, so the workers that parked before the activation sleep on their
/// futexes, and nothing would drive. So the activating thread (`activate()`), after publishing it,
/// calls its sink's `io_activated()`, which for a pool is a notify: a seq_cst fence, then wake a
/// parked worker unless one is searching (for a single-threaded executor, an unpark of its thread,
/// whose Parker keeps the token if it is not asleep yet). With the parker's fence after its
/// announcement and its read of `is_active()` after that, this is the Dekker pair of every notify:
/// either the parker sees the event source active (and drives it, or leaves it to the lock holder,
/// who is awake), or the activator sees its parked bit and wakes it, and the woken worker parks
/// again, this time driving. A searching worker seen by the activator parks later, so it sees
/// `is_active()`. Checked by test/model/io_driver.cpp (suites "activated late"; planted bug
/// `io_activation_fence`).
///
/// Thread safety: `try_lock`, `interrupt`, `is_active` from any thread; `poll`, `wait` by the lock
/// holder; `attach_thread` / `detach_thread` and `drain_thread` by the thread concerned.

#include <chrono>
#include <cstddef>
#include <cstdint>

#include <zuki/detail/atomic.hpp>
#include <zuki/detail/parker.hpp>

namespace zuki::detail {

class TaskHeader;

/// Where an `IoDriver` delivers ready I/O: a null-terminated list of SCHEDULED tasks (linked
/// through `next`, each holding its queue reference, already counted as outstanding work),
/// pushed to the calling thread's queue. `continuation`: the completions were produced by the
/// task that just ran on this thread (an operation that completed at once), like a spawn from
/// it; otherwise they come from the event source (a poll or a drive).
class IoTaskSink {
public:
    virtual void io_ready(TaskHeader* head, std::size_t n, bool continuation) noexcept = 0;

    /// The event source has just become active (`IoDriver::is_active()` is true: the first
    /// socket or timer made it), on the thread that made it. Threads that parked before chose
    /// their futex, since there was nothing to drive: the executor must make sure one of them
    /// drives now (see "Activation" in the file comment). Never called twice.
    virtual void io_activated() noexcept = 0;

protected:
    ~IoTaskSink() = default;
};

/// An executor thread that is not about to sleep polls the driver (a system call) every 61
/// tasks, and the work-stealing searcher every round, but only if nobody did for this long:
/// tiny tasks would otherwise pay for an epoll_wait every 61 of them (a fork-join of 100 ns
/// tasks spent 13% of its time there). Events are never missed: a thread that sleeps blocks in
/// the driver; this bounds how late a busy executor notices them, on top of the task in
/// progress. (0 in model checks, which have no clock.)
#if defined(ZUKI_RELACY)
inline constexpr std::int64_t io_busy_poll_period_ns = 0;
#else
inline constexpr std::int64_t io_busy_poll_period_ns = 50'000;
#endif

/// The busy-poll period adapts to the load (`next_busy_poll_period`): a poll that delivered at
/// least `io_busy_poll_batch` operations doubles it, up to `io_busy_poll_period_max_ns`; one
/// that delivered fewer sets it back to `io_busy_poll_period_ns`. A poll has a fixed cost
/// besides its events: the epoll_wait, and, with Asio's reactor, a timerfd re-arm whenever a
/// timer had expired (a re-arm to a time already past fires the timer interrupt at once: 20 us
/// a poll on the project's VM). When every poll finds a batch, events come faster than a busy
/// executor polls, and polling less often spreads that cost over more of them: 10,000 timers
/// re-armed in a loop on a busy pool of 2 paid 4.2 us of CPU a wait against io_context's 3.0,
/// whose threads poll once per pass over their queue. On a busy executor an event then waits
/// at most the longer period (0.8 ms) on top of the task in progress; a thread that runs out of
/// work parks in the driver and sees it at once, and a quiet period brings the short one back.
inline constexpr std::size_t io_busy_poll_batch = 8;
inline constexpr std::int64_t io_busy_poll_period_max_ns = 16 * io_busy_poll_period_ns;

/// The busy-poll period after a poll that delivered `delivered` operations, `period` before.
inline constexpr std::int64_t next_busy_poll_period(std::int64_t period,
                                                    std::size_t delivered) noexcept {
    if (delivered < io_busy_poll_batch) return io_busy_poll_period_ns;
    return period * 2 < io_busy_poll_period_max_ns ? period * 2 : io_busy_poll_period_max_ns;
}

/// The monotonic clock in nanoseconds (for io_busy_poll_period_ns).
inline std::int64_t monotonic_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

class IoDriver : public ParkDriver {
public:
    /// True once the event source exists (the first socket or timer was made): before that there
    /// is nothing to poll and workers park on their futexes only.
    bool is_active() const noexcept {
        // acquire: pairs with activate()'s release store (the event source is published). A
        // parker's load comes after the seq_cst fence of its announcement, which with the fence
        // in io_activated() makes the activation's Dekker pair (see "Activation").
        return active_.load(std::memory_order_acquire);
    }

    bool try_lock() noexcept {
        // relaxed pre-check: skip the RMW when the lock is visibly taken.
        if (locked_.load(std::memory_order_relaxed)) return false;
        // acquire: pairs with the release store in unlock(): the previous holder's work inside
        // the event source happens before ours.
        return !locked_.exchange(true, std::memory_order_acquire);
    }
    /// A look: is a thread inside the event source now? (relaxed: a hint, which may be stale.)
    bool locked_hint() const noexcept { return locked_.load(std::memory_order_relaxed); }
    void unlock() noexcept {
        locked_.store(false, ZUKI_MODEL_WEAKEN(io_lock_release, std::memory_order_release,
                                               std::memory_order_relaxed));
    }

    /// Lock holder: deliver whatever is ready now, without blocking. Returns how many
    /// operations it delivered or completed (0: nothing was ready).
    virtual std::size_t poll() noexcept = 0;

    /// Room for one thread's registration, kept by whoever owns the thread's place (a worker,
    /// the single-threaded executor): a thread that starts and ends allocates nothing for it
    /// (a short-lived pool's threads then never touch the heap, issue 16).
    struct alignas(std::max_align_t) RegistrationRoom {
        unsigned char bytes[256];
    };
    /// The calling thread will run the executor's tasks (for its lifetime or a drive): register
    /// it with the event source (Asio: a scheduler thread, so completions it posts stay
    /// thread-private). Returns an opaque registration for `detach_thread`, made in `room`
    /// (or, were it too small for this Boost version's, on the heap: then it may throw
    /// `std::bad_alloc`). `room` must stay put until `detach_thread`.
    virtual void* attach_thread(RegistrationRoom& room) = 0;
    virtual void detach_thread(void* registration) noexcept = 0;
    /// Deliver the completions the calling thread's last task produced (thread-private).
    virtual void drain_thread(void* registration) noexcept = 0;

    virtual ~IoDriver() = default;

protected:
    /// The event source exists: publish it, then tell `sink` (see "Activation").
    void activate(IoTaskSink& sink) noexcept {
        // release: publishes the event source to is_active()'s loads. The store-load order with
        // the sink's read of the parked bits comes from the fence in io_activated().
        active_.store(true, std::memory_order_release);
        sink.io_activated();
    }

private:
    alignas(cache_line) atomic<bool> locked_{false};
    atomic<bool> active_{false};
};

}  // namespace zuki::detail
