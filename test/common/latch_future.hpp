// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Test helper: `zuki::test::Latch`, a thread-safe future of `int` that stays pending until the
/// test releases it (from any thread), and counts the futures holding it that are still alive.
///
/// Built on `zuki::sync::Notify`: each Latch makes its `notified()` future when it is
/// constructed, and `release()` publishes the value and calls `notify_waiters()`, which
/// completes every Latch made before it (polled or not); a Latch made after sees `released`.

#include <atomic>
#include <memory>
#include <optional>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/sync/notify.hpp>

namespace zuki::test {

/// What the test controls of a `Latch`.
struct LatchState {
    std::atomic<bool> released{false};
    std::atomic<int> value{0};  // written before `released`
    zuki::sync::Notify notify;
    std::atomic<int> live{0};  // Latch futures alive
    std::atomic<int> polls{0};

    /// Make the latch ready with `v` and wake every future waiting on it. Call once.
    void release(int v = 0) {
        value.store(v, std::memory_order_relaxed);  // published by the release store below
        // release: pairs with the acquire load in Latch::poll().
        released.store(true, std::memory_order_release);
        notify.notify_waiters();
    }
};

/// A move-only future of `int`: pending until `state->release(v)`, then ready with `v`. Many
/// Latch futures may wait on one state.
class Latch {
public:
    explicit Latch(std::shared_ptr<LatchState> s)
        : s_(std::move(s)), notified_(s_->notify.notified()) {
        s_->live.fetch_add(1);
    }
    Latch(Latch&& o) noexcept : s_(std::move(o.s_)), notified_(std::move(o.notified_)) {}
    Latch(const Latch&) = delete;
    Latch& operator=(const Latch&) = delete;
    Latch& operator=(Latch&&) = delete;
    ~Latch() {
        notified_.reset();  // before the state (and its Notify) may go
        if (s_) s_->live.fetch_sub(1);
    }
    Poll<int> poll(Context& cx) {
        s_->polls.fetch_add(1);
        // acquire: pairs with the release store in LatchState::release() (the value is visible).
        if (!s_->released.load(std::memory_order_acquire)) {
            if (notified_->poll(cx).is_pending()) return Poll<int>::pending();
        }
        notified_.reset();  // done with it (a later poll sees `released`)
        // relaxed: ordered after `released` (read above, or through notify_waiters()'s wake).
        return Poll<int>::ready(s_->value.load(std::memory_order_relaxed));
    }

private:
    std::shared_ptr<LatchState> s_;
    std::optional<zuki::sync::Notify::Notified> notified_;  // made at construction
};

inline std::shared_ptr<LatchState> make_latch() { return std::make_shared<LatchState>(); }

}  // namespace zuki::test
