// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Test helper: `zuki::test::Gate<T>`, a move-only future that stays pending until the test opens
/// it, and counts its polls and drops.

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/core/waker.hpp>

namespace zuki::test {

/// What the test sees and controls of a `Gate` (single-threaded use).
struct GateState {
    bool opened = false;
    int value = 0;  // what an opened Gate<int> yields
    std::exception_ptr error;  // when set, every poll throws it
    int polls = 0;
    int drops = 0;  // Gate objects holding this state that were destroyed
    int live = 0;  // Gate objects holding this state now
    std::optional<Waker> waker;  // the waker of the latest pending poll

    /// Open the gate and wake (by value) the waker of the latest pending poll, if any.
    void open(int v = 0) {
        opened = true;
        value = v;
        wake();
    }
    /// Make every later poll throw `e`, and wake the waiter.
    void fail(std::exception_ptr e) {
        error = std::move(e);
        wake();
    }
    void wake() {
        if (waker) {
            Waker w = std::move(*waker);
            waker.reset();
            w.wake();
        }
    }
};

/// A move-only future of `T` (`int` or `void`): pending until `state->open()`. A pending poll
/// keeps a clone of the context's waker (re-cloned only when it would not wake the same task).
template <class T = int>
class Gate {
    static_assert(std::is_same_v<T, int> || std::is_void_v<T>);

public:
    explicit Gate(std::shared_ptr<GateState> s) : s_(std::move(s)) { ++s_->live; }
    Gate(Gate&& other) noexcept : s_(std::move(other.s_)) {}
    Gate(const Gate&) = delete;
    Gate& operator=(const Gate&) = delete;
    Gate& operator=(Gate&&) = delete;
    ~Gate() {
        if (s_) {
            ++s_->drops;
            --s_->live;
        }
    }

    Poll<T> poll(Context& cx) {
        ++s_->polls;
        if (s_->error) std::rethrow_exception(s_->error);
        if (!s_->opened) {
            if (!s_->waker || !s_->waker->will_wake(cx.waker())) s_->waker = cx.waker();
            return Poll<T>::pending();
        }
        if constexpr (std::is_void_v<T>) {
            return Poll<void>::ready();
        } else {
            return Poll<T>::ready(s_->value);
        }
    }

private:
    std::shared_ptr<GateState> s_;
};

/// A fresh gate state.
inline std::shared_ptr<GateState> make_gate_state() { return std::make_shared<GateState>(); }

}  // namespace zuki::test
