// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::Poll<T>`: the result of polling a future once — ready with a value, or pending.

#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace zuki {

/// Thrown by `Poll<T>::value()` when the poll is pending.
class PollPending : public std::logic_error {
public:
    PollPending() : std::logic_error("zuki::Poll::value: the poll is pending, it holds no value") {}
};

/// The outcome of one `poll()` of a future: `ready(value)` or `pending()`.
///
/// @code
/// zuki::Poll<int> p = zuki::Poll<int>::ready(42);
/// if (p.is_ready()) use(std::move(p).value());
/// @endcode
///
/// Thread safety: a value type; distinct objects may be used from distinct threads.
template <class T>
class [[nodiscard]] Poll {
    static_assert(!std::is_reference_v<T>, "zuki::Poll<T>: T must be an object type or void");

public:
    using value_type = T;

    /// A ready poll holding `value`.
    static Poll ready(T value) { return Poll(std::in_place, std::move(value)); }
    /// A pending poll.
    static Poll pending() noexcept { return Poll(); }

    /// Default-constructed polls are pending.
    Poll() noexcept = default;
    /// Implicitly wrap a value as ready, so `return 42;` works in a `poll()` returning `Poll<int>`.
    template <class U = T>
    requires std::is_constructible_v<T, U&&> &&
        (!std::is_same_v<std::remove_cvref_t<U>, Poll>)Poll(U&& v)
        : value_(std::in_place, std::forward<U>(v)) {}

    bool is_ready() const noexcept { return value_.has_value(); }
    bool is_pending() const noexcept { return !value_.has_value(); }
    explicit operator bool() const noexcept { return is_ready(); }

    /// The value; throws `PollPending` if pending.
    T& value() & { return check(), *value_; }
    const T& value() const& { return check(), *value_; }
    T&& value() && { return check(), std::move(*value_); }

private:
    template <class... A>
    explicit Poll(std::in_place_t, A&&... a) : value_(std::in_place, std::forward<A>(a)...) {}
    void check() const {
        if (!value_) throw PollPending();
    }
    std::optional<T> value_;
};

/// `Poll<void>`: ready (with no value) or pending.
template <>
class [[nodiscard]] Poll<void> {
public:
    using value_type = void;
    static Poll ready() noexcept { return Poll(true); }
    static Poll pending() noexcept { return Poll(false); }
    Poll() noexcept = default;
    bool is_ready() const noexcept { return ready_; }
    bool is_pending() const noexcept { return !ready_; }
    explicit operator bool() const noexcept { return ready_; }
    /// Throws `PollPending` if pending.
    void value() const {
        if (!ready_) throw PollPending();
    }

private:
    explicit Poll(bool r) noexcept : ready_(r) {}
    bool ready_ = false;
};

namespace detail {
template <class P>
struct is_poll : std::false_type {};
template <class T>
struct is_poll<Poll<T>> : std::true_type {};
}  // namespace detail

}  // namespace zuki
