// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Future combinators: `map`, `then`, `join_all`, `join` and `select`.
///
/// Rules shared by every combinator here:
/// - **Lazy.** Building a combinator only stores its futures and functions; nothing is polled and
///   no function is called until the combinator itself is polled.
/// - **Same waker.** Children are polled with the `Context` the combinator was polled with, so a
///   child that is woken wakes the task that owns the combinator.
/// - **Owning.** A combinator owns its children (moved or copied in: pass move-only futures with
///   `std::move`). A combinator is movable when its children and functions are.
/// - **Exceptions propagate.** An exception thrown by a child's `poll`, or by a user function,
///   leaves the combinator's `poll` unchanged (nothing is caught or wrapped).
///   After a child's `poll` threw, the other children keep their state (finished outputs are
///   kept), so the combinator may be dropped or polled again; polling again polls the child that
///   threw again, so only do that if that child allows it. After the function of `map` or `then`
///   threw, the combinator counts as completed (polling it again throws `std::logic_error`).
/// - **Not after completion.** Once a combinator returned ready, polling it again throws
///   `std::logic_error`. A combinator destroys each child as soon as it is no longer needed
///   (`then`: the first future before the second is polled; `join_all` / `join`: each child when
///   it finishes; `select`: every child when the first one finishes).
/// - `void` outputs: `map` calls its function with no argument; `join` and `select` report a
///   `void` child as `std::monostate`; `join_all` over `void` futures is a `void` future.
/// - **Spawned tasks are cancelled, not detached.** A child that declares
///   `cancel_when_abandoned` (`zuki::JoinHandle`) is cancelled when the combinator gives up on
///   it: `join_all` and `join` cancel every unfinished JoinHandle child when one child throws
///   (the task's exception, or `TaskCancelled`), before the exception leaves `poll`; `select`
///   cancels the losing JoinHandles when it completes, and all of them when a child throws.
///   Dropping a combinator that has not completed drops its children as they are (a JoinHandle
///   dropped so detaches its task), as Tokio does; `zuki::JoinSet` cancels on destruction.

#include <concepts>
#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <zuki/core/context.hpp>
#include <zuki/core/future.hpp>
#include <zuki/core/poll.hpp>

namespace zuki {

/// `T`, or `std::monostate` for `void`: how `join` and `select` report a `void` output.
template <class T>
using value_or_monostate_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

namespace detail {

/// A child that a combinator cancels, rather than merely drops, when it gives up on it
/// (`zuki::JoinHandle`: see the file comment).
template <class F>
concept CancelWhenAbandoned = requires(F& f) {
    requires F::cancel_when_abandoned;
    f.cancel();
    { f.valid() } -> std::convertible_to<bool>;
};
/// Give up on child `f`: cancel it if it is a `CancelWhenAbandoned` child still holding a task.
template <class F>
void abandon(F& f) noexcept {
    if constexpr (CancelWhenAbandoned<F>) {
        try {
            if (f.valid()) f.cancel();
        } catch (...) {  // cancel() of a valid handle does not throw; nothing to do otherwise
        }
    }
}
/// `child.poll(cx)`; when it throws and `F` is `CancelWhenAbandoned`, `on_throw()` first.
template <class F, class OnThrow>
auto poll_child(F& child, Context& cx, OnThrow&& on_throw) {
    if constexpr (CancelWhenAbandoned<F>) {
        try {
            return child.poll(cx);
        } catch (...) {
            on_throw();
            throw;
        }
    } else {
        (void)on_throw;
        return child.poll(cx);
    }
}

[[noreturn]] inline void throw_polled_after_completion(const char* what) {
    throw std::logic_error(std::string(what) + ": polled after completion");
}

/// The result of calling `fn` with the output of a future of `T` (no argument when `T` is void).
template <class Fn, class T>
struct invoke_with_output : std::invoke_result<Fn, T> {};
template <class Fn>
struct invoke_with_output<Fn, void> : std::invoke_result<Fn> {};

template <class Fn, class T>
concept invocable_with_output = (std::is_void_v<T> && std::invocable<Fn>) ||
                                (!std::is_void_v<T> && std::invocable<Fn, T>);

/// Call `fn` (as an rvalue: it is called once) with the ready output in `p`.
template <class Fn, class T>
decltype(auto) invoke_with_ready(Fn&& fn, Poll<T>&& p) {
    if constexpr (std::is_void_v<T>) {
        return std::invoke(std::forward<Fn>(fn));
    } else {
        return std::invoke(std::forward<Fn>(fn), std::move(p).value());
    }
}

/// Take the output of a ready poll as a value (`std::monostate` for void).
template <class T>
value_or_monostate_t<T> take_output(Poll<T>&& p) {
    if constexpr (std::is_void_v<T>) {
        return std::monostate{};
    } else {
        return std::move(p).value();
    }
}

}  // namespace detail

// ------------------------------------------------------------------------------------------------
// map
// ------------------------------------------------------------------------------------------------

/// The future returned by `map(fut, fn)`: yields `fn(output of fut)`.
///
/// @code
/// auto f = zuki::map(zuki::ready(20), [](int x) { return x + 1; });   // a future of 21
/// auto g = zuki::map(zuki::ready(), [] { return std::string("done"); });
/// @endcode
///
/// Thread safety: polled by one thread at a time, like any future; `fn` runs on the thread that
/// polls when `fut` becomes ready.
template <Future F, class Fn>
requires detail::invocable_with_output<Fn, output_t<F>>
class [[nodiscard]] Map {
    using result_type = typename detail::invoke_with_output<Fn, output_t<F>>::type;

public:
    /// `fn`'s result, without reference or cv-qualifiers (a returned reference is copied).
    using output_type =
        std::conditional_t<std::is_void_v<result_type>, void, std::remove_cvref_t<result_type>>;

    template <class F2, class Fn2>
    Map(F2&& fut, Fn2&& fn) : fut_(std::forward<F2>(fut)), fn_(std::forward<Fn2>(fn)) {}

    Poll<output_type> poll(Context& cx) {
        if (done_) detail::throw_polled_after_completion("zuki::map");
        auto p = fut_.poll(cx);
        if (p.is_pending()) return Poll<output_type>::pending();
        done_ = true;
        if constexpr (std::is_void_v<output_type>) {
            detail::invoke_with_ready(std::move(fn_), std::move(p));
            return Poll<void>::ready();
        } else {
            return Poll<output_type>::ready(
                detail::invoke_with_ready(std::move(fn_), std::move(p)));
        }
    }

private:
    F fut_;
    Fn fn_;
    bool done_ = false;
};

/// A future that yields `fn(output of fut)`; `fn()` when `fut` yields `void`. `fn` is called once,
/// as an rvalue, on the poll where `fut` becomes ready.
template <class F, class Fn>
requires Future<std::remove_cvref_t<F>> &&
    detail::invocable_with_output<std::decay_t<Fn>, output_t<std::remove_cvref_t<F>>>
        Map<std::remove_cvref_t<F>, std::decay_t<Fn>> map(F&& fut, Fn&& fn) {
    return {std::forward<F>(fut), std::forward<Fn>(fn)};
}

// ------------------------------------------------------------------------------------------------
// then
// ------------------------------------------------------------------------------------------------

namespace detail {
template <class Fn, class T>
using then_future_t = std::remove_cvref_t<typename invoke_with_output<Fn, T>::type>;
}  // namespace detail

/// The future returned by `then(fut, fn)`: when `fut` is ready, `fn(output)` makes a second future
/// and this yields that future's output.
///
/// @code
/// auto f = zuki::then(zuki::ready(2), [](int x) { return zuki::ready(x * 21); });  // yields 42
/// @endcode
///
/// The second future is polled on the same `poll()` call that made it, so its waker is
/// registered at once. `fut` is destroyed before the second future is first polled.
///
/// Thread safety: polled by one thread at a time, like any future.
template <Future F, class Fn>
requires detail::invocable_with_output<Fn, output_t<F>> &&
    Future<detail::then_future_t<Fn, output_t<F>>>
class [[nodiscard]] Then {
    using second_type = detail::then_future_t<Fn, output_t<F>>;

    struct First {
        template <class F2, class Fn2>
        First(F2&& f, Fn2&& g) : fut(std::forward<F2>(f)), fn(std::forward<Fn2>(g)) {}
        F fut;
        Fn fn;
    };

public:
    using output_type = output_t<second_type>;

    template <class F2, class Fn2>
    Then(F2&& fut, Fn2&& fn)
        : state_(std::in_place_index<0>, std::forward<F2>(fut), std::forward<Fn2>(fn)) {}

    Poll<output_type> poll(Context& cx) {
        if (state_.index() == 0) {
            First& first = std::get<0>(state_);
            auto p = first.fut.poll(cx);
            if (p.is_pending()) return Poll<output_type>::pending();
            // fn runs while `first` is still alive; then the first future is destroyed.
            try {
                state_.template emplace<1>(
                    detail::invoke_with_ready(std::move(first.fn), std::move(p)));
            } catch (...) {
                state_.template emplace<2>();  // fn (or the move of its future) threw: completed
                throw;
            }
        }
        if (state_.index() != 1) detail::throw_polled_after_completion("zuki::then");
        auto p = std::get<1>(state_).poll(cx);
        if (p.is_ready()) state_.template emplace<2>();
        return p;
    }

private:
    std::variant<First, second_type, std::monostate> state_;  // monostate: completed
};

/// A future that runs `fut`, calls `fn` with its output (no argument for `void`), and then runs
/// the future `fn` returned, yielding its output.
template <class F, class Fn>
requires Future<std::remove_cvref_t<F>> &&
    detail::invocable_with_output<std::decay_t<Fn>, output_t<std::remove_cvref_t<F>>> &&
    Future<detail::then_future_t<std::decay_t<Fn>, output_t<std::remove_cvref_t<F>>>>
        Then<std::remove_cvref_t<F>, std::decay_t<Fn>> then(F&& fut, Fn&& fn) {
    return {std::forward<F>(fut), std::forward<Fn>(fn)};
}

// ------------------------------------------------------------------------------------------------
// join_all
// ------------------------------------------------------------------------------------------------

/// The future returned by `join_all(futures)`: waits for all of them, yields their outputs in input
/// order (`std::vector<output_t<F>>`), or `void` when `F` yields `void`.
///
/// Each poll polls every child that has not finished yet, in input order; a finished child is
/// destroyed at once and its output kept. An empty vector is ready on the first poll. Over
/// `JoinHandle`s: when one task fails (its exception, or `TaskCancelled`, leaves `poll`), the
/// tasks still running are cancelled, not detached (as `JoinSet::join_all`).
///
/// @code
/// std::vector<zuki::AnyFuture<int>> fs;
/// fs.push_back(zuki::ready(1));
/// fs.push_back(zuki::ready(2));
/// auto all = zuki::join_all(std::move(fs));   // yields std::vector<int>{1, 2}
/// @endcode
///
/// Thread safety: polled by one thread at a time, like any future.
template <Future F>
class [[nodiscard]] JoinAll {
    using child_output = output_t<F>;
    using slot_type = std::variant<F, value_or_monostate_t<child_output>>;

public:
    using output_type =
        std::conditional_t<std::is_void_v<child_output>, void, std::vector<child_output>>;

    explicit JoinAll(std::vector<F> futures) : remaining_(futures.size()) {
        slots_.reserve(futures.size());
        for (F& f : futures) slots_.emplace_back(std::in_place_index<0>, std::move(f));
    }

    Poll<output_type> poll(Context& cx) {
        if (done_) detail::throw_polled_after_completion("zuki::join_all");
        for (slot_type& slot : slots_) {
            if (slot.index() != 0) continue;
            auto p = detail::poll_child(std::get<0>(slot), cx, [this] { abandon_unfinished(); });
            if (p.is_pending()) continue;
            auto out = detail::take_output(std::move(p));
            slot.template emplace<1>(std::move(out));  // destroys the child
            --remaining_;
        }
        if (remaining_ != 0) return Poll<output_type>::pending();
        done_ = true;
        if constexpr (std::is_void_v<output_type>) {
            slots_.clear();
            return Poll<void>::ready();
        } else {
            output_type out;
            out.reserve(slots_.size());
            for (slot_type& slot : slots_) out.push_back(std::move(std::get<1>(slot)));
            slots_.clear();
            return Poll<output_type>::ready(std::move(out));
        }
    }

private:
    void abandon_unfinished() noexcept {
        for (slot_type& slot : slots_)
            if (slot.index() == 0) detail::abandon(std::get<0>(slot));
    }

    std::vector<slot_type> slots_;  // a child until it finishes, then its output
    std::size_t remaining_;
    bool done_ = false;
};

/// A future that waits for every future in `futures` and yields their outputs in input order.
template <Future F>
JoinAll<F> join_all(std::vector<F> futures) {
    return JoinAll<F>(std::move(futures));
}

// ------------------------------------------------------------------------------------------------
// join
// ------------------------------------------------------------------------------------------------

/// The future returned by `join(f1, f2, ...)`: waits for all, yields `std::tuple` of their outputs
/// (`std::monostate` for `void`), in argument order.
///
/// Each poll polls every unfinished child, left to right; a finished child is destroyed at once
/// and its output kept.
///
/// @code
/// auto j = zuki::join(zuki::ready(1), zuki::ready(), zuki::ready(std::string("x")));
/// // yields std::tuple<int, std::monostate, std::string>{1, {}, "x"}
/// @endcode
///
/// Thread safety: polled by one thread at a time, like any future.
template <Future... Fs>
class [[nodiscard]] Join {
    template <class F>
    using slot_type = std::variant<F, value_or_monostate_t<output_t<F>>>;  // child, then output

public:
    using output_type = std::tuple<value_or_monostate_t<output_t<Fs>>...>;

    template <class... Gs>
    requires(sizeof...(Gs) == sizeof...(Fs)) explicit Join(std::in_place_t, Gs&&... futures)
        : slots_(slot_type<Fs>(std::in_place_index<0>, std::forward<Gs>(futures))...) {}

    Poll<output_type> poll(Context& cx) {
        if (done_) detail::throw_polled_after_completion("zuki::join");
        bool all = poll_all(cx, std::index_sequence_for<Fs...>{});
        if (!all) return Poll<output_type>::pending();
        done_ = true;
        return Poll<output_type>::ready(take_all(std::index_sequence_for<Fs...>{}));
    }

private:
    template <std::size_t I>
    bool poll_one(Context& cx) {
        auto& slot = std::get<I>(slots_);
        if (slot.index() == 0) {
            auto p = detail::poll_child(std::get<0>(slot), cx, [this] {
                abandon_unfinished(std::index_sequence_for<Fs...>{});
            });
            if (p.is_pending()) return false;
            auto out = detail::take_output(std::move(p));
            slot.template emplace<1>(std::move(out));  // destroys the child
        }
        return true;
    }
    template <std::size_t... I>
    bool poll_all(Context& cx, std::index_sequence<I...>) {
        bool all = true;
        ((all = poll_one<I>(cx) && all), ...);  // every child, left to right
        return all;
    }
    template <std::size_t... I>
    void abandon_unfinished(std::index_sequence<I...>) noexcept {
        auto one = [](auto& slot) {
            if (slot.index() == 0) detail::abandon(std::get<0>(slot));
        };
        (one(std::get<I>(slots_)), ...);
    }
    template <std::size_t... I>
    output_type take_all(std::index_sequence<I...>) {
        return output_type(std::move(std::get<1>(std::get<I>(slots_)))...);
    }

    std::tuple<slot_type<Fs>...> slots_;
    bool done_ = false;
};

/// A future that waits for all of `futures` and yields a `std::tuple` of their outputs.
template <class... Fs>
requires(Future<std::remove_cvref_t<Fs>>&&...) Join<std::remove_cvref_t<Fs>...> join(
    Fs&&... futures) {
    return Join<std::remove_cvref_t<Fs>...>(std::in_place, std::forward<Fs>(futures)...);
}

// ------------------------------------------------------------------------------------------------
// select
// ------------------------------------------------------------------------------------------------

/// The future returned by `select(f1, f2, ...)`: completes with the first child to become ready.
///
/// Yields `std::variant<value_or_monostate_t<output_t<Fs>>...>` whose `index()` is the position
/// of the child that finished (constructed with `std::in_place_index`, so equal output types are
/// told apart by position). Each poll polls the children left to right and stops at the first one
/// that is ready, so when several could finish the leftmost wins: the result is deterministic.
/// When select completes, every child (the winner and all losers) is destroyed before `poll`
/// returns; losers are dropped, never polled again (a losing `JoinHandle` has its task
/// cancelled first, not detached: see the file comment).
///
/// @code
/// auto s = zuki::select(zuki::pending<int>(), zuki::ready(7));
/// // yields std::variant<int, int> with index() == 1 and std::get<1>(v) == 7
/// @endcode
///
/// Thread safety: polled by one thread at a time, like any future.
template <Future... Fs>
requires(sizeof...(Fs) >= 2) class [[nodiscard]] Select {
public:
    using output_type = std::variant<value_or_monostate_t<output_t<Fs>>...>;

    template <class... Gs>
    requires(sizeof...(Gs) == sizeof...(Fs)) explicit Select(std::in_place_t, Gs&&... futures)
        : children_(std::in_place, std::forward<Gs>(futures)...) {}

    Poll<output_type> poll(Context& cx) {
        if (!children_) detail::throw_polled_after_completion("zuki::select");
        std::optional<output_type> out;
        poll_until_ready(cx, out, std::index_sequence_for<Fs...>{});
        if (!out) return Poll<output_type>::pending();
        abandon_all(std::index_sequence_for<Fs...>{});  // losing JoinHandles: cancelled
        children_.reset();  // drop the winner and every loser
        return Poll<output_type>::ready(std::move(*out));
    }

private:
    template <std::size_t... I>
    void abandon_all(std::index_sequence<I...>) noexcept {
        (detail::abandon(std::get<I>(*children_)), ...);
    }
    template <std::size_t I>
    bool poll_one(Context& cx, std::optional<output_type>& out) {
        auto p = detail::poll_child(std::get<I>(*children_), cx,
                                    [this] { abandon_all(std::index_sequence_for<Fs...>{}); });
        if (p.is_pending()) return false;
        out.emplace(std::in_place_index<I>, detail::take_output(std::move(p)));
        return true;
    }
    template <std::size_t... I>
    void poll_until_ready(Context& cx, std::optional<output_type>& out, std::index_sequence<I...>) {
        (poll_one<I>(cx, out) || ...);  // left to right, stops at the first ready child
    }

    std::optional<std::tuple<Fs...>> children_;  // empty once completed
};

/// A future that completes with whichever of `futures` is ready first (leftmost on a tie); the
/// others are dropped.
template <class... Fs>
requires(sizeof...(Fs) >= 2) && (Future<std::remove_cvref_t<Fs>> &&
                                 ...) Select<std::remove_cvref_t<Fs>...> select(Fs&&... futures) {
    return Select<std::remove_cvref_t<Fs>...>(std::in_place, std::forward<Fs>(futures)...);
}

}  // namespace zuki
