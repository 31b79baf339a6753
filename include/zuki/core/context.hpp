// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::Context`: what a future receives when it is polled.

#include <zuki/core/waker.hpp>

namespace zuki {

/// The context of one `poll()`: gives the future the `Waker` of the task polling it.
///
/// @code
/// zuki::Waker w = zuki::Waker::noop();
/// zuki::Context cx(w);
/// auto p = my_future.poll(cx);
/// @endcode
///
/// Thread safety: a `Context` lives on the stack of one `poll()` call and is used by that thread
/// only; clone the waker (`Waker w = cx.waker();`) to keep it beyond the call.
class Context {
public:
    explicit Context(const Waker& waker) noexcept : waker_(&waker) {}
    /// A `Context` keeps a pointer to its waker: a temporary would dangle
    /// (`Context cx(Waker::noop());`), so binding one is a compile error.
    explicit Context(const Waker&&) = delete;
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    /// The waker of the task being polled. Valid for the duration of the `poll()` call.
    const Waker& waker() const noexcept { return *waker_; }

private:
    const Waker* waker_;
};

}  // namespace zuki
