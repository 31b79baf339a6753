// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::Delay`, `zuki::delay(duration)` and `zuki::sleep_until(time_point)`: a future that
/// completes once a `std::chrono::steady_clock` deadline has passed.

#include <chrono>
#include <memory>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/future.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/core/waker.hpp>
#include <zuki/time/timer_service.hpp>

namespace zuki {

/// A future (`Poll<void>`) that completes at or after a deadline; never before it.
///
/// The deadline is fixed when the `Delay` is made. The first poll that finds the deadline not yet
/// passed registers with a `TimerService`: the one given, else the timers of the executor whose
/// thread polls it (driven by that executor's reactor: no thread), else the global service (a
/// thread of its own). It wakes the task at the deadline. A `Delay` whose deadline already passed
/// is ready on its first poll and never touches the timer thread; nor does one never polled.
///
/// @code
/// zuki::Async<void> heartbeat() {
///     for (;;) {
///         co_await zuki::delay(std::chrono::seconds(1));
///         send_ping();
///     }
/// }
/// @endcode
///
/// Polling again with a waker that would not wake the same task (`Waker::will_wake`) replaces
/// the stored one; the old one is released and will not be woken. Destroying a pending `Delay`
/// cancels it: its waker is released at once and never woken. Moving a `Delay` keeps its
/// registration. `poll` may throw `std::bad_alloc` or `std::system_error` (starting the timer
/// thread) on a registering poll; the `Delay` is then unchanged and may be polled again.
///
/// Thread safety: like every future, a `Delay` is polled by one thread at a time and may move
/// between threads between polls; it may be destroyed on any thread, concurrently with the timer
/// thread firing it. Distinct `Delay`s are independent.
class Delay {
public:
    using clock = std::chrono::steady_clock;

    /// A delay until `deadline`, registered with the global `TimerService` when first needed.
    explicit Delay(clock::time_point deadline) noexcept : deadline_(deadline) {}
    /// A delay until `deadline` on `service`, which must outlive this `Delay`.
    Delay(clock::time_point deadline, TimerService& service) noexcept
        : deadline_(deadline), service_(&service) {}

    Delay(Delay&& other) noexcept
        : deadline_(other.deadline_), service_(other.service_), owned_(std::move(other.owned_)),
          entry_(std::move(other.entry_)), done_(other.done_) {}
    Delay& operator=(Delay&& other) noexcept {
        if (this != &other) {
            cancel();
            deadline_ = other.deadline_;
            service_ = other.service_;
            owned_ = std::move(other.owned_);
            entry_ = std::move(other.entry_);
            done_ = other.done_;
        }
        return *this;
    }
    Delay(const Delay&) = delete;
    Delay& operator=(const Delay&) = delete;
    ~Delay() { cancel(); }

    /// Ready once the deadline has passed; otherwise registers (or refreshes) `cx.waker()`.
    Poll<void> poll(Context& cx) {
        if (done_) return Poll<void>::ready();
        if (entry_ && entry_->fired()) return finish();
        if (clock::now() >= deadline_) return finish();  // passed before the thread saw it
        if (!service_) choose_service();  // before the entry: cancel() needs it
        if (!entry_) entry_ = std::make_unique<detail::TimerEntry>(deadline_);
        switch (service_->arm(*entry_, cx.waker())) {
            case TimerService::ArmResult::Fired:
                return finish();
            case TimerService::ArmResult::Pending:
                break;
            case TimerService::ArmResult::Stopped:
                // The executor whose timers these were is gone (this Delay outlived its task):
                // carry on with the global service. (The global one stops only at exit.)
                if (owned_ != nullptr) {
                    owned_.reset();
                    service_ = &TimerService::global();
                    if (service_->arm(*entry_, cx.waker()) == TimerService::ArmResult::Fired)
                        return finish();
                }
                break;
        }
        return Poll<void>::pending();
    }

    /// The instant this delay completes at (or after).
    clock::time_point deadline() const noexcept { return deadline_; }
    /// True when the deadline has passed (the next poll will be ready).
    bool is_elapsed() const noexcept { return done_ || clock::now() >= deadline_; }

private:
    // The timers of the executor running this thread if it has its own (driven by its
    // reactor), else the global service.
    void choose_service() noexcept {
        if (std::shared_ptr<TimerService>* current = detail::current_timer_service();
            current != nullptr && *current != nullptr) {
            owned_ = *current;
            service_ = owned_.get();
        } else {
            service_ = &TimerService::global();
        }
    }
    Poll<void> finish() noexcept {
        cancel();
        done_ = true;
        return Poll<void>::ready();
    }
    // Unregisters (if needed) and frees the entry. A fired entry is no longer touched by the
    // service, so it is freed without taking the service's lock.
    void cancel() noexcept {
        if (!entry_) return;
        if (!entry_->fired()) service_->disarm(*entry_);
        entry_.reset();
    }

    clock::time_point deadline_;
    TimerService* service_ = nullptr;  // null until the first registering poll
    std::shared_ptr<TimerService> owned_;  // keeps an executor's service alive while used
    std::unique_ptr<detail::TimerEntry> entry_;  // null until the first registering poll
    bool done_ = false;  // poll returned ready
};

static_assert(Future<Delay>);

/// A `Delay` completing `duration` from now. Zero or negative durations give a delay that is
/// ready on its first poll; durations beyond the clock's range saturate (the delay never ends).
inline Delay delay(std::chrono::steady_clock::duration duration) noexcept {
    using clock = std::chrono::steady_clock;
    const clock::time_point now = clock::now();
    if (duration <= clock::duration::zero()) return Delay(now);
    // steady_clock counts from boot, so `max() - now` cannot overflow.
    if (duration >= clock::time_point::max() - now) return Delay(clock::time_point::max());
    return Delay(now + duration);
}

/// A `Delay` completing at `deadline` (ready on its first poll if it already passed).
inline Delay sleep_until(std::chrono::steady_clock::time_point deadline) noexcept {
    return Delay(deadline);
}

}  // namespace zuki
