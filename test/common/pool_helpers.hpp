// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Helpers shared by the tests of `WorkStealingExecutor`: `pool_config(n)`, `call(fn)` (a
/// future made from a callable), `SpinGate` (holds the worker that polls it until the test
/// opens it), `HeldWorker` (a SpinGate spawned and waited for), `wait_until(pred)`,
/// `spin_for(d)` and `what_of<E>(fn)`.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/runtime/work_stealing_config.hpp>

namespace zuki::test {

/// A default configuration with `threads` workers.
inline WorkStealingConfig pool_config(std::size_t threads) {
    WorkStealingConfig c;
    c.threads = threads;
    return c;
}

/// A future that calls `fn` once, on its first poll, and is ready with its result.
template <class Fn>
class Call {
public:
    using R = std::invoke_result_t<Fn&>;
    explicit Call(Fn fn) : fn_(std::move(fn)) {}
    Poll<R> poll(Context&) {
        if constexpr (std::is_void_v<R>) {
            fn_();
            return Poll<void>::ready();
        } else {
            return Poll<R>::ready(fn_());
        }
    }

private:
    Fn fn_;
};
template <class Fn>
Call<Fn> call(Fn fn) {
    return Call<Fn>(std::move(fn));
}

/// What the test sees and controls of a `SpinGate`: how many polled it, and the gate.
struct SpinGateState {
    std::atomic<std::size_t> started{0};
    std::atomic<bool> open{false};
};

/// Blocks the worker that polls it until opened (to hold a pool still while the test queues
/// work), then is ready with 1.
///
/// @code
/// auto gate = std::make_shared<zuki::test::SpinGateState>();
/// auto g = ex.spawn(zuki::test::SpinGate(gate));
/// zuki::test::wait_until([&] { return gate->started.load(std::memory_order_acquire) == 1; });
/// ... // the only worker is held: what is spawned now stays queued
/// gate->open.store(true, std::memory_order_release);
/// @endcode
///
/// Thread safety: the state is shared by atomics; the test opens the gate from any thread.
class SpinGate {
public:
    explicit SpinGate(std::shared_ptr<SpinGateState> s) : s_(std::move(s)) {}
    Poll<int> poll(Context&) {
        // release: pairs with the test's acquire wait on `started`.
        s_->started.fetch_add(1, std::memory_order_release);
        // acquire: pairs with the test's release store that opens the gate.
        while (!s_->open.load(std::memory_order_acquire)) std::this_thread::yield();
        return Poll<int>::ready(1);
    }

private:
    std::shared_ptr<SpinGateState> s_;
};

/// Waits (sleeping 50 us between checks) up to `limit` for `pred`; true if it held.
template <class Pred>
bool wait_until(Pred pred, std::chrono::steady_clock::duration limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return true;
}

/// Holds one worker of a pool with a `SpinGate` task, spawned from outside, until `release()`
/// or destruction: the constructor returns once a worker polls it.
class HeldWorker {
public:
    template <class Pool>
    explicit HeldWorker(Pool& pool) : gate_(std::make_shared<SpinGateState>()) {
        pool.spawn(SpinGate(gate_)).detach();
        wait_until([&] { return gate_->started.load(std::memory_order_acquire) == 1; });
    }
    ~HeldWorker() { release(); }
    HeldWorker(const HeldWorker&) = delete;
    HeldWorker& operator=(const HeldWorker&) = delete;
    void release() noexcept { gate_->open.store(true, std::memory_order_release); }

private:
    std::shared_ptr<SpinGateState> gate_;
};

/// Busy-waits for `d` (keeps the calling thread on its CPU, unlike a sleep).
inline void spin_for(std::chrono::nanoseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {}
}

/// The `what()` of the `E` that `f()` throws, or "<no exception>".
template <class E, class F>
std::string what_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "<no exception>";
}

}  // namespace zuki::test
