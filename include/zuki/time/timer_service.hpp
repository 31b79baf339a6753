// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::TimerService`: the timers behind `zuki::Delay`, `zuki::sleep_until` and
/// `zuki::timeout`. It only ever talks to a task through its `Waker`, so any executor (and a
/// plain blocking poller) can use any instance.
///
/// Who fires the timers. An executor whose threads drive Asio's reactor (both executors, on the
/// verified Boost versions: asio/detail/reactor_driver.hpp) owns an instance *driven by that
/// reactor*: the earliest deadline is armed on one Asio timer of the executor, and its
/// completion, on one of the executor's threads, fires what is due (`fire_due`). A `Delay`
/// polled on such a thread registers there, so timers cost no thread. Anywhere else a `Delay`
/// uses `TimerService::global()`, which has a thread of its own, described next.
///
/// Algorithm. One background thread ("zuki-timer"), started lazily by the first registration,
/// owns a binary min-heap of registered entries ordered by (deadline, sequence). It sleeps on a
/// condition variable until the earliest deadline (or until a registration becomes the new
/// earliest), pops every due entry in heap order and wakes their wakers: deadline order, ties in
/// registration order. With nothing due it sleeps (an empty heap waits without a timeout; a far
/// deadline re-checks at most once an hour), so an idle service costs no CPU.
///
/// State. Each entry (`detail::TimerEntry`) is owned by the future that waits on it and knows its
/// position in the heap (`heap_index_`), so cancelling is an O(log n) removal, not a tombstone
/// left until the deadline (a short operation under a one-hour `timeout` must not hold memory for
/// an hour). The entry's `fired_` flag is the only lock-free field: the timer thread stores it,
/// with release, as its *last* access to an entry it pops; the owner loads it with acquire, after
/// which it may free the entry without taking the lock.
///
/// Why a mutex. Registration, waker update, cancellation and firing take one `std::mutex`. Timers
/// are not the task-submission hot path (that is the executors' lock-free queues), a critical
/// section here is a few dozen instructions (a heap sift), and the mutex makes "cancel from any
/// thread at any time" trivially correct. A lock-free timer wheel can replace it behind the same
/// interface if a benchmark ever shows contention.
///
/// Invariants.
/// - An entry is in the heap iff `heap_index_ != npos`; `heap_[e->heap_index_] == e`.
/// - `fired_` becomes true only when the entry leaves the heap by reaching its deadline.
/// - No `Waker::wake` or `Waker::drop` runs while the mutex is held: waking or releasing the last
///   reference to a task may destroy that task's future, which may hold another timer of this
///   service and re-enter it. Wakers are moved out under the lock and released after it. (Cloning
///   does run under the lock; a clone only adds a reference.)
///
/// Shutdown. `TimerService::global()` is created on first use and deliberately never destroyed
/// (the "NoDestructor" idiom), so a future may touch it at any time, even during or after static
/// destruction. A function-local static created with it stops and joins the thread at process
/// exit; stopping drops (without waking) the wakers still registered. A `Delay` destroyed after
/// that is safe; one polled after that is never woken (it completes if polled at or after its
/// deadline). A forked child does not inherit the timer thread; use timers only in the parent.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <zuki/core/waker.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/executor_thread.hpp>

namespace zuki {

class TimerService;

namespace detail {

/// One registration with a `TimerService`: a deadline and the waker to wake when it passes.
/// Owned by the future waiting on it (`Delay` keeps it in a `std::unique_ptr`, so the address is
/// stable while the future moves); the service refers to it only while it is in the heap, and
/// only under its mutex.
///
/// Thread safety: `deadline()` and `fired()` may be called from any thread; every other field is
/// guarded by the owning service's mutex.
class TimerEntry {
public:
    using clock = std::chrono::steady_clock;

    explicit TimerEntry(clock::time_point deadline) noexcept : deadline_(deadline) {}
    TimerEntry(const TimerEntry&) = delete;
    TimerEntry& operator=(const TimerEntry&) = delete;

    clock::time_point deadline() const noexcept { return deadline_; }

    /// True once the service popped this entry at its deadline and took its waker. After it
    /// returns true the service never touches the entry again, so the owner may free it.
    bool fired() const noexcept {
        // acquire: pairs with the release store in TimerService::run(), the service's last access.
        return fired_.load(std::memory_order_acquire);
    }

private:
    friend class zuki::TimerService;
    static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

    const clock::time_point deadline_;
    detail::atomic<bool> fired_{false};
    // Guarded by TimerService::mutex_.
    std::uint64_t sequence_ = 0;
    std::size_t heap_index_ = npos;
    Waker waker_ = Waker::noop();
};

}  // namespace detail

/// The timer driver: wakes registered wakers when their deadlines pass.
///
/// Most code never names it: `zuki::delay`, `zuki::sleep_until` and `zuki::timeout` use
/// `TimerService::global()`. A separate instance is useful for isolation (tests, an executor that
/// wants its own timer thread); such an instance must outlive every `Delay` registered with it.
///
/// @code
/// zuki::TimerService timers;                  // its own "zuki-timer" thread, started lazily
/// zuki::Delay d(std::chrono::steady_clock::now() + std::chrono::milliseconds(5), timers);
/// executor.spawn(std::move(d));               // any executor (or a blocking poller) drives it
/// ...
/// timers.stop();                              // optional: the destructor stops too
/// @endcode
///
/// The low-level interface (`arm`, `disarm`) is for futures that wait on a deadline; it works on
/// a `detail::TimerEntry` owned by the future. `Delay` is the reference user.
///
/// Thread safety: every member function may be called from any thread, concurrently. `arm` and
/// `disarm` for one entry must not race with each other (they come from the one future that owns
/// the entry, which is polled by one thread at a time). Wakers are woken on the timer thread.
class TimerService {
public:
    using clock = std::chrono::steady_clock;

    /// What `arm` did.
    enum class ArmResult {
        Pending,  ///< registered (or already registered): the waker will be woken at the deadline
        Fired,  ///< the deadline already fired; the future is ready
        Stopped,  ///< the service is stopped: nothing registered, nothing will wake the waker
    };

    /// What fires a service that has no thread of its own (an executor's reactor).
    class Driver {
    public:
        /// Arrange for `fire_due()` to be called at (or soon after) `deadline`, replacing any
        /// earlier arrangement. Called under the service's lock whenever the earliest deadline
        /// changes; must not call back into the service. False if it could not (no memory).
        virtual bool schedule(clock::time_point deadline) noexcept = 0;
        /// Before each new registration, under the service's lock: acquire what `schedule`
        /// needs, if not done yet (an executor's driver makes its event source here, with the
        /// first timer, not with the executor). May throw: the registration then fails with
        /// that exception and nothing changed.
        virtual void prepare() {}
        /// Nothing is registered any more: cancel the arrangement (under the service's lock; also
        /// from `stop()`, after which the driver is destroyed).
        virtual void cancel() noexcept = 0;
        virtual ~Driver() = default;
    };

    /// Creates a service; no thread is started until the first registration.
    TimerService();
    /// Creates a service fired by `driver` (no thread of its own). The driver is destroyed by
    /// `stop()`.
    explicit TimerService(std::unique_ptr<Driver> driver) noexcept;
    /// Stops (see `stop()`). Every `Delay` registered with this instance must already be gone,
    /// and it must not be destroyed from one of its own wakers (that is, on its timer thread).
    ~TimerService();
    TimerService(const TimerService&) = delete;
    TimerService& operator=(const TimerService&) = delete;

    /// The process-wide service used by `delay`, `sleep_until` and `timeout`. Never destroyed;
    /// its thread is stopped and joined at process exit. Throws `std::bad_alloc` only on the very
    /// first call.
    static TimerService& global();

    /// Registers `entry` to wake `waker` at its deadline, or, if it is already registered,
    /// replaces the stored waker when `waker` would not wake the same task (`will_wake`; no
    /// re-clone when it would). The first registration starts the timer thread.
    /// Throws `std::bad_alloc` or `std::system_error` (thread start); then nothing changed.
    ArmResult arm(detail::TimerEntry& entry, const Waker& waker);

    /// Removes `entry` if it is registered and releases its waker without waking it. Safe on an
    /// entry that fired, was never registered, or whose service stopped.
    void disarm(detail::TimerEntry& entry) noexcept;

    /// Stops the thread and joins it (unless called from the timer thread itself), then releases
    /// the wakers of all registered entries without waking them. Later `arm` calls return
    /// `Stopped`. Idempotent; a concurrent second call returns without waiting for the first.
    void stop() noexcept;

    /// For a driven service: wake every waker whose deadline has passed, then arrange for the
    /// next one. Called by the driver (on an executor's thread).
    void fire_due() noexcept;

    /// True after `stop()`.
    bool stopped() const;
    /// True while the timer thread has been started and not stopped.
    bool running() const;
    /// The number of registered entries that have neither fired nor been disarmed.
    std::size_t pending() const;

private:
    void run() noexcept;
    void ensure_thread_locked();
    bool earlier(const detail::TimerEntry* a, const detail::TimerEntry* b) const noexcept;
    void place(detail::TimerEntry* e, std::size_t i) noexcept;
    void sift_up(std::size_t i) noexcept;
    void sift_down(std::size_t i) noexcept;
    detail::TimerEntry* pop_front_locked() noexcept;
    void erase_locked(detail::TimerEntry& e) noexcept;

    /// Most wakers woken per lock hold; bounds both the pause seen by registrants and the
    /// preallocated batch (firing never allocates).
    static constexpr std::size_t fire_batch_capacity = 64;
    /// Longest single sleep: guards the condition variable against far deadlines (time_point::max).
    static constexpr clock::duration max_sleep = std::chrono::hours(1);

    mutable std::mutex mutex_;
    std::condition_variable wakeup_;  // the timer thread sleeps here
    std::vector<detail::TimerEntry*> heap_;  // guarded by mutex_
    std::uint64_t next_sequence_ = 0;  // guarded by mutex_
    bool stopping_ = false;  // guarded by mutex_
    bool started_ = false;  // guarded by mutex_
    std::thread thread_;  // guarded by mutex_
    std::vector<Waker> fire_batch_;  // timer thread only (reserved before start)
    std::unique_ptr<Driver> driver_;  // a driven service (then no thread); guarded by mutex_
};

namespace detail {
/// The driven timer service of the executor running on this thread, if it has one (set by the
/// executors for their threads; `Delay` registers there).
inline std::shared_ptr<TimerService>*& current_timer_service() noexcept {
    struct Tag;
    return per_thread<std::shared_ptr<TimerService>*, Tag>();
}
}  // namespace detail

}  // namespace zuki
