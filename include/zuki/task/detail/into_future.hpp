// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// What `spawn` accepts (`zuki::Spawnable`): a future, or a plain invocable that the task calls
/// once, on the thread that polls it first (`detail::InvokeFuture`).

#include <concepts>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include <zuki/core/future.hpp>

namespace zuki {

/// What every `spawn` accepts: a `Future`, or an invocable taking no argument. An invocable
/// becomes a task that calls it once when first polled; the task's output is what it returns
/// (`pool.spawn([] { return 42; })` yields 42), or, if it returns a future (a coroutine lambda,
/// say), that future's output: the task then runs the returned future, and keeps the invocable
/// (and so its captures) alive until the future completed. A type that is both a future and an
/// invocable is spawned as a future.
template <class F>
concept Spawnable = Future<std::decay_t<F>> ||
    (std::is_object_v<std::decay_t<F>>&& std::invocable<std::decay_t<F>&>&&
         std::move_constructible<std::decay_t<F>>);

namespace detail {

/// The future of a spawned invocable (see `zuki::Spawnable`).
template <class Fn>
class InvokeFuture {
    using R = std::invoke_result_t<Fn&>;
    static constexpr bool returns_future = Future<R>;
    struct NoFuture {};
    template <class X, bool = Future<X>>
    struct output_of {
        using type = X;
    };
    template <class X>
    struct output_of<X, true> {
        using type = output_t<X>;
    };

public:
    using output_type = typename output_of<R>::type;

    explicit InvokeFuture(Fn fn) noexcept(std::is_nothrow_move_constructible_v<Fn>)
        : fn_(std::move(fn)) {}

    Poll<output_type> poll(Context& cx) {
        if constexpr (returns_future) {
            if (!future_) future_.emplace(Call{fn_});  // the future is built in place
            return future_->poll(cx);
        } else if constexpr (std::is_void_v<output_type>) {
            std::invoke(fn_);
            return Poll<void>::ready();
        } else {
            return Poll<output_type>::ready(std::invoke(fn_));
        }
    }

private:
    // Converts to the invocable's result: lets optional::emplace build it in place (guaranteed
    // copy elision), so a future that cannot move still works.
    struct Call {
        Fn& fn;
        operator R() const { return std::invoke(fn); }
    };

    Fn fn_;  // outlives the future it returned: a coroutine lambda's captures live in it
    [[no_unique_address]] std::conditional_t<returns_future, std::optional<R>, NoFuture> future_;
};

/// The future a `Spawnable` runs as: itself if it is a future, else an `InvokeFuture`.
template <class F>
using spawn_future_t =
    std::conditional_t<Future<std::decay_t<F>>, std::decay_t<F>, InvokeFuture<std::decay_t<F>>>;

/// Turn a `Spawnable` into the future its task runs.
template <Spawnable F>
spawn_future_t<F> into_future(F&& f) {
    if constexpr (Future<std::decay_t<F>>)
        return std::forward<F>(f);
    else
        return InvokeFuture<std::decay_t<F>>(std::forward<F>(f));
}

}  // namespace detail

/// The output of the task that spawning `F` makes (see `Spawnable`).
template <Spawnable F>
using spawn_output_t = output_t<detail::spawn_future_t<F>>;

}  // namespace zuki
