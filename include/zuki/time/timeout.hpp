// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::timeout(future, duration)` and `zuki::timeout_at(future, time_point)`: run a future
/// against a deadline. Their output is a `zuki::TimeoutResult<T>`; `zuki::TimedOut` is what its
/// `value()` throws when the deadline won.

#include <chrono>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/future.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/time/delay.hpp>

namespace zuki {

/// Thrown by `TimeoutResult<T>::value()` when the deadline passed before the future completed.
class TimedOut : public std::runtime_error {
public:
    TimedOut() : std::runtime_error("zuki::timeout: the future did not complete in time") {}
};

/// The output of `timeout()`: the inner future's value, or the fact that the deadline won.
///
/// @code
/// auto r = co_await zuki::timeout(read_frame(sock), std::chrono::seconds(5));
/// if (r.timed_out()) return reconnect();
/// Frame f = std::move(r).value();                  // would throw zuki::TimedOut if timed out
/// @endcode
///
/// Thread safety: a value type; distinct objects may be used from distinct threads.
template <class T>
class [[nodiscard]] TimeoutResult {
    static_assert(!std::is_reference_v<T>, "zuki::TimeoutResult<T>: T must be an object type");

public:
    using value_type = T;

    /// The inner future completed with `value`.
    static TimeoutResult completed(T value) { return TimeoutResult(std::move(value)); }
    /// The deadline passed first.
    static TimeoutResult expired() noexcept { return TimeoutResult(); }

    bool timed_out() const noexcept { return !value_.has_value(); }
    bool has_value() const noexcept { return value_.has_value(); }
    /// True when a value is there (the inner future won).
    explicit operator bool() const noexcept { return value_.has_value(); }

    /// The value; throws `TimedOut` if the deadline won.
    T& value() & { return check(), *value_; }
    const T& value() const& { return check(), *value_; }
    T&& value() && { return check(), std::move(*value_); }

private:
    TimeoutResult() noexcept = default;
    explicit TimeoutResult(T&& value) : value_(std::move(value)) {}
    void check() const {
        if (!value_) throw TimedOut();
    }
    std::optional<T> value_;
};

/// `TimeoutResult<void>`: completed, or timed out.
template <>
class [[nodiscard]] TimeoutResult<void> {
public:
    using value_type = void;

    static TimeoutResult completed() noexcept { return TimeoutResult(true); }
    static TimeoutResult expired() noexcept { return TimeoutResult(false); }

    bool timed_out() const noexcept { return !completed_; }
    bool has_value() const noexcept { return completed_; }
    explicit operator bool() const noexcept { return completed_; }
    /// Returns if the inner future completed; throws `TimedOut` if the deadline won.
    void value() const {
        if (!completed_) throw TimedOut();
    }

private:
    explicit TimeoutResult(bool completed) noexcept : completed_(completed) {}
    bool completed_;
};

/// A future that races `F` against a deadline; made by `timeout()` / `timeout_at()`.
///
/// Each poll polls the inner future first, then the deadline: a ready inner future wins even if
/// the deadline has already passed. When the deadline wins, the inner future is destroyed before
/// the timed-out result is returned (whatever it holds, sockets, locks, child tasks' handles, is
/// released then, not when the `Timeout` itself is destroyed). When the inner future wins, the
/// timer registration is cancelled at once.
///
/// @code
/// zuki::Async<void> fetch(Client& c) {
///     zuki::TimeoutResult<Reply> r = co_await zuki::timeout(c.get("/"), std::chrono::seconds(2));
///     if (!r) log("gave up after 2 s");
/// }
/// @endcode
///
/// Thread safety: as for any future: polled by one thread at a time, movable between threads
/// between polls. Exceptions from the inner `poll` propagate; the `Timeout` may be polled again.
/// Polling it again after it returned ready throws `std::logic_error`.
template <Future F>
class Timeout {
public:
    using clock = std::chrono::steady_clock;
    using output_type = TimeoutResult<output_t<F>>;

    Timeout(F inner, Delay deadline)
        : deadline_(deadline.deadline()), inner_(std::in_place, std::move(inner)),
          delay_(std::in_place, std::move(deadline)) {}

    Poll<output_type> poll(Context& cx) {
        // Contract violation, but cheap to turn into an error instead of undefined behaviour.
        if (!inner_) throw std::logic_error("zuki::Timeout: polled again after it completed");
        if constexpr (std::is_void_v<output_t<F>>) {
            if (inner_->poll(cx).is_ready()) {
                finish();
                return Poll<output_type>::ready(output_type::completed());
            }
        } else {
            auto p = inner_->poll(cx);
            if (p.is_ready()) {
                output_type out = output_type::completed(std::move(p).value());
                finish();
                return Poll<output_type>::ready(std::move(out));
            }
        }
        if (delay_->poll(cx).is_ready()) {
            finish();  // drops the inner future now
            return Poll<output_type>::ready(output_type::expired());
        }
        return Poll<output_type>::pending();
    }

    /// The deadline this timeout was made with.
    clock::time_point deadline() const noexcept { return deadline_; }

private:
    void finish() noexcept {
        delay_.reset();  // cancels the registration
        inner_.reset();  // destroys the inner future (its value, if any, was moved out)
    }

    clock::time_point deadline_;
    std::optional<F> inner_;  // empty once complete
    std::optional<Delay> delay_;  // empty once complete
};

/// Races `future` against `duration` from now (zero or negative: already passed, yet a ready
/// `future` still wins). The result's `timed_out()` says who won.
template <class F>
requires Future<std::remove_cvref_t<F>> Timeout<std::remove_cvref_t<F>>
timeout(F&& future, std::chrono::steady_clock::duration duration) {
    return Timeout<std::remove_cvref_t<F>>(std::forward<F>(future), zuki::delay(duration));
}

/// Races `future` against the instant `deadline`.
template <class F>
requires Future<std::remove_cvref_t<F>> Timeout<std::remove_cvref_t<F>>
timeout_at(F&& future, std::chrono::steady_clock::time_point deadline) {
    return Timeout<std::remove_cvref_t<F>>(std::forward<F>(future), zuki::sleep_until(deadline));
}

}  // namespace zuki
