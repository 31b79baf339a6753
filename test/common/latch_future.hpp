// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Test helper: `zuki::test::Latch`, a thread-safe future of `int` that stays pending until the
/// test releases it (from any thread), and counts the futures holding it that are still alive.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/core/waker.hpp>

namespace zuki::test {

/// What the test controls of a `Latch`.
struct LatchState {
    std::mutex m;
    bool released = false;  // guarded by m
    int value = 0;  // guarded by m
    std::optional<Waker> waker;  // guarded by m
    std::atomic<int> live{0};  // Latch futures alive
    std::atomic<int> polls{0};

    /// Make the latch ready with `v` and wake its waiter.
    void release(int v = 0) {
        std::optional<Waker> w;
        {
            std::lock_guard lock(m);
            released = true;
            value = v;
            w.swap(waker);
        }
        if (w) w->wake();
    }
};

/// A move-only future of `int`: pending until `state->release(v)`, then ready with `v`.
class Latch {
public:
    explicit Latch(std::shared_ptr<LatchState> s) : s_(std::move(s)) { s_->live.fetch_add(1); }
    Latch(Latch&& o) noexcept : s_(std::move(o.s_)) {}
    Latch(const Latch&) = delete;
    Latch& operator=(const Latch&) = delete;
    Latch& operator=(Latch&&) = delete;
    ~Latch() {
        if (s_) s_->live.fetch_sub(1);
    }
    Poll<int> poll(Context& cx) {
        s_->polls.fetch_add(1);
        std::lock_guard lock(s_->m);
        if (s_->released) return Poll<int>::ready(s_->value);
        s_->waker = cx.waker();
        return Poll<int>::pending();
    }

private:
    std::shared_ptr<LatchState> s_;
};

inline std::shared_ptr<LatchState> make_latch() { return std::make_shared<LatchState>(); }

}  // namespace zuki::test
