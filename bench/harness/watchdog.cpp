// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

#include "harness/watchdog.hpp"

#include <cstdint>
#include <utility>

#include "harness/options.hpp"

namespace zuki_bench {

Watchdog* watchdog = nullptr;

Watchdog::Watchdog() : thread_([this] { loop(); }) {}

Watchdog::~Watchdog() {
    {
        std::lock_guard l(m_);
        quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void Watchdog::arm(std::string what, double seconds) {
    {
        std::lock_guard l(m_);
        what_ = std::move(what);
        deadline_ = std::chrono::steady_clock::now() +
                    std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6));
        armed_ = true;
    }
    cv_.notify_all();
}

void Watchdog::disarm() {
    std::lock_guard l(m_);
    armed_ = false;
}

void Watchdog::set_suite_deadline(double seconds) {
    std::lock_guard l(m_);
    suite_deadline_ = std::chrono::steady_clock::now() +
                      std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6));
    suite_seconds_ = seconds;
}

void Watchdog::loop() {
    std::unique_lock l(m_);
    for (;;) {
        if (quit_) return;
        auto until = suite_deadline_;
        if (armed_ && deadline_ < until) until = deadline_;
        cv_.wait_until(l, until);
        if (quit_) return;
        const auto now = std::chrono::steady_clock::now();
        if (now >= suite_deadline_)
            die("watchdog: the whole suite exceeded " + std::to_string(int(suite_seconds_)) +
                " s (during '" + what_ + "'); aborting");
        if (armed_ && now >= deadline_)
            die("watchdog: '" + what_ + "' did not finish in time (a hang?); aborting");
    }
}

}  // namespace zuki_bench
