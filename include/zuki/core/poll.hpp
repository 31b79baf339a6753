// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::Poll<T>`: the result of polling a future once — ready with a value, or pending.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace zuki {

namespace detail {
/// Where a `Poll<T>` keeps its value: `std::optional<T>`, except for a small trivially copyable
/// `T` (an `int`, a `long`, a pointer), whose flag is a whole word. A `Poll<long>` is returned
/// in two registers, and the compiler builds it in memory first: with `optional`'s one-byte
/// flag that is a byte store and then an 8-byte load of the same word, which the CPU cannot
/// forward from its store buffer (a stall of ~10 cycles on every poll that returns one: two
/// thirds of the samples of `JoinHandle<long>::poll` and `Async<long>::poll` in the skynet
/// profile, doc/benchmarks.md, thirteenth stop). A word-sized flag is stored and loaded whole.
template <class T>
inline constexpr bool poll_word_flag = std::is_trivially_copyable_v<T> &&
                                       sizeof(T) <= sizeof(std::uintptr_t) &&
                                       alignof(T) <= alignof(std::uintptr_t);

template <class T, bool WordFlag = poll_word_flag<T>>
class PollStorage {
public:
    PollStorage() noexcept = default;
    template <class... A>
    explicit PollStorage(std::in_place_t, A&&... a) : v_(std::in_place, std::forward<A>(a)...) {}
    bool has_value() const noexcept { return v_.has_value(); }
    T& get() noexcept { return *v_; }
    const T& get() const noexcept { return *v_; }

private:
    std::optional<T> v_;
};

template <class T>
class PollStorage<T, true> {
public:
    PollStorage() noexcept : none_() {}
    template <class... A>
    explicit PollStorage(std::in_place_t, A&&... a) : v_(std::forward<A>(a)...), ready_(1) {}
    bool has_value() const noexcept { return ready_ != 0; }
    T& get() noexcept { return v_; }
    const T& get() const noexcept { return v_; }

private:
    union {
        unsigned char none_;  // pending: no value
        T v_;
    };
    std::uintptr_t ready_ = 0;
};
}  // namespace detail

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
    T& value() & { return check(), value_.get(); }
    const T& value() const& { return check(), value_.get(); }
    T&& value() && { return check(), std::move(value_.get()); }

private:
    template <class... A>
    explicit Poll(std::in_place_t, A&&... a) : value_(std::in_place, std::forward<A>(a)...) {}
    void check() const {
        if (!value_.has_value()) throw PollPending();
    }
    detail::PollStorage<T> value_;
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
