// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// Synchronisation used by every backend alike: the latch that ends a timed interval, the gate
// that starts producer threads together, and the state of the run in progress.
//
// Everything an arriving task calls is defined here, inline, so every workload's translation unit
// compiles the same code on its measured path as the single-file bench did.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "harness/clock.hpp"
#include "harness/options.hpp"
#include "harness/watchdog.hpp"

namespace zuki_bench {

// Counts down; the last arrival records the time and wakes the (sleeping, never spinning) waiter.
class Latch {
public:
    void reset(long n) {
        remaining_.store(n, std::memory_order_relaxed);
        std::lock_guard l(m_);
        fired_ = false;
        end_ns_ = 0;
    }
    void arrive() noexcept {
        // acq_rel: the last arrival sees every other arrival's writes before it fires.
        if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) fire();
    }
    void fire() noexcept {
        const std::int64_t t = now_ns();
        // Notify under the lock: once the waiter returns, nobody touches this latch any more.
        std::lock_guard l(m_);
        end_ns_ = t;
        fired_ = true;
        cv_.notify_all();
    }
    /// Returns the time of the firing arrival.
    std::int64_t wait(const char* what) {
        std::unique_lock l(m_);
        if (!cv_.wait_for(l, std::chrono::seconds(int(run_timeout_s)), [&] { return fired_; }))
            die(std::string("timed out waiting for ") + what + " (a hang?); aborting");
        return end_ns_;
    }

private:
    std::atomic<long> remaining_{0};
    std::mutex m_;
    std::condition_variable cv_;
    bool fired_ = false;
    std::int64_t end_ns_ = 0;
};

// Start gate for producer threads (they sleep until opened).
class Gate {
public:
    void open() {
        std::lock_guard l(m_);
        open_ = true;
        cv_.notify_all();
    }
    void wait() {
        std::unique_lock l(m_);
        cv_.wait(l, [&] { return open_; });
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    bool open_ = false;
};

// State of the run in progress. One instance for the whole program (runs are sequential), so a
// late straggler of a finished run never touches freed memory.
struct Shared {
    Latch done;  // the measured work finished
    Latch aux;  // spinners started / stopped
    std::atomic<std::int64_t> t0{0};
    std::atomic<std::int64_t> t1{0};
    std::atomic<bool> stop{false};
    std::atomic<long> result{0};
};
extern Shared S;

inline void arrive() noexcept { S.done.arrive(); }

// The pause between two runs: it lets the previous run's pool go idle (park).
inline void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(1)); }

}  // namespace zuki_bench
