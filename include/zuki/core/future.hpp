// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// The `zuki::Future` concept, `zuki::output_t<F>`, and the leaf futures `ready()` and
/// `pending()`.

#include <type_traits>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>

namespace zuki {

/// A future is any object with `poll(Context&)` returning a `Poll<T>`.
///
/// Polling contract (the same as Zuki's and Rust's):
/// - `poll` must not block. It returns `Poll<T>::pending()` when it cannot finish yet, and then
///   it must arrange for `cx.waker()` (a clone of it) to be woken when progress is possible;
/// - once `poll` returned ready, the future must not be polled again;
/// - a future is polled by one thread at a time; executors may move it between polls (across
///   threads for `WorkStealingExecutor`), so keep it movable and free of thread affinity.
template <class F>
concept Future = std::is_object_v<F> && requires(F& f, Context& cx) {
    {f.poll(cx)};
    requires detail::is_poll<decltype(f.poll(cx))>::value;
};

/// The value type a future yields: `output_t<F>` is `T` for `Poll<T> F::poll(Context&)`.
template <Future F>
using output_t = typename decltype(std::declval<F&>().poll(std::declval<Context&>()))::value_type;

/// A future that is ready immediately with a value.
template <class T>
class Ready {
public:
    explicit Ready(T v) : value_(std::move(v)) {}
    Poll<T> poll(Context&) { return Poll<T>::ready(std::move(value_)); }

private:
    T value_;
};

/// A future that is ready immediately with no value.
template <>
class Ready<void> {
public:
    Poll<void> poll(Context&) noexcept { return Poll<void>::ready(); }
};

/// A future that never completes (it never wakes its task either).
template <class T>
class Pending {
public:
    Poll<T> poll(Context&) noexcept { return Poll<T>::pending(); }
};

/// `ready(v)`: a future of `v`. `ready()`: a ready `void` future.
template <class T>
Ready<std::decay_t<T>> ready(T&& v) {
    return Ready<std::decay_t<T>>(std::forward<T>(v));
}
inline Ready<void> ready() noexcept { return {}; }

/// `pending<T>()`: a future that stays pending forever.
template <class T = void>
Pending<T> pending() noexcept {
    return {};
}

}  // namespace zuki
