// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::test::Watchdog`: turns a hang into a failure.

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace zuki::test {

/// Aborts the process, with a message on stderr, unless destroyed within `limit`.
///
/// A deadlocked test never returns, so no assertion can catch it; a `Watchdog` around the
/// risky part turns "CI times out after an hour" into "abort after 30 s naming the scope".
///
/// @code
/// BOOST_AUTO_TEST_CASE(all_timers_fire) {
///     zuki::test::Watchdog w(std::chrono::seconds(30), "all_timers_fire");
///     ... // may hang if the code under test is broken
/// }   // destroyed in time: nothing happens
/// @endcode
///
/// Thread safety: construct and destroy on the same thread; it owns one background thread that
/// sleeps on a condition variable (no CPU while waiting).
class Watchdog {
public:
    Watchdog(std::chrono::steady_clock::duration limit, std::string what)
        : what_(std::move(what)), thread_([this, limit] { watch(limit); }) {}
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
    ~Watchdog() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            done_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }

private:
    void watch(std::chrono::steady_clock::duration limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        std::unique_lock<std::mutex> lock(mutex_);
        if (cv_.wait_until(lock, until, [this] { return done_; })) return;
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(limit).count();
        std::fprintf(stderr,
                     "zuki::test::Watchdog: \"%s\" did not finish within %lld ms; aborting\n",
                     what_.c_str(), static_cast<long long>(ms));
        std::fflush(stderr);
        std::abort();
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;  // guarded by mutex_
    std::string what_;
    std::thread thread_;  // last: starts after the members it reads are built
};

}  // namespace zuki::test
