// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Test helper: `zuki::test::Latch`, a thread-safe future of `int` that stays pending until the
/// test releases it (from any thread), and counts the futures holding it that are still alive.

#include <atomic>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/core/waker.hpp>

namespace zuki::test {

/// What the test controls of a `Latch`.
struct LatchState {
    std::mutex m;
    bool released = false;  // guarded by m
    int value = 0;  // guarded by m
    std::vector<Waker> wakers;  // guarded by m: every Latch future pending on this state
    std::atomic<int> live{0};  // Latch futures alive
    std::atomic<int> polls{0};

    /// Make the latch ready with `v` and wake every future waiting on it.
    void release(int v = 0) {
        std::vector<Waker> ws;
        {
            std::lock_guard lock(m);
            released = true;
            value = v;
            ws.swap(wakers);
        }
        for (Waker& w : ws) w.wake();
    }
};

/// A move-only future of `int`: pending until `state->release(v)`, then ready with `v`. Many
/// Latch futures may wait on one state; each pending poll keeps its task's waker.
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
        for (const Waker& w : s_->wakers)
            if (w.will_wake(cx.waker())) return Poll<int>::pending();
        s_->wakers.push_back(cx.waker());
        return Poll<int>::pending();
    }

private:
    std::shared_ptr<LatchState> s_;
};

inline std::shared_ptr<LatchState> make_latch() { return std::make_shared<LatchState>(); }

}  // namespace zuki::test
