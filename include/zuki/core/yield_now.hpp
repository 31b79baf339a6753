// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::yield_now()`: a future that gives the executor one chance to run something else.

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>

namespace zuki {

/// The future returned by `yield_now()`: pending on its first poll (after waking its own task with
/// `wake_by_ref`, so the task is rescheduled at once), ready on the next.
///
/// @code
/// zuki::Async<void> crunch(std::vector<Item>& items) {
///     for (std::size_t i = 0; i < items.size(); ++i) {
///         process(items[i]);
///         if (i % 1024 == 1023) co_await zuki::yield_now();   // let other tasks run
///     }
/// }
/// @endcode
///
/// Thread safety: polled by one thread at a time, like any future.
class [[nodiscard]] YieldNow {
public:
    Poll<void> poll(Context& cx) noexcept {
        if (yielded_) return Poll<void>::ready();
        yielded_ = true;
        cx.waker().wake_by_ref();
        return Poll<void>::pending();
    }

private:
    bool yielded_ = false;
};

/// A future that yields control once: pending (waking itself) on the first poll, then ready.
inline YieldNow yield_now() noexcept { return {}; }

}  // namespace zuki
