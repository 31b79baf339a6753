// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// Every wait of bench_zuki is bounded: a run that overstays its deadline, or a suite that
// overstays --timeout, aborts the program with the name of what was running.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace zuki_bench {

// Seconds one run (one backend, one repetition) may take before the watchdog fires.
inline constexpr double run_timeout_s = 60.0;

// One thread that sleeps on a condition variable until the armed deadline (no periodic wake-ups,
// so it costs nothing during idle_cpu). A run that overstays its deadline aborts the program.
class Watchdog {
public:
    Watchdog();
    ~Watchdog();
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

    void arm(std::string what, double seconds);
    void disarm();
    void set_suite_deadline(double seconds);

private:
    void loop();

    std::mutex m_;
    std::condition_variable cv_;
    std::string what_ = "start-up";
    std::chrono::steady_clock::time_point deadline_{};
    std::chrono::steady_clock::time_point suite_deadline_ =
        std::chrono::steady_clock::now() + std::chrono::hours(24);
    double suite_seconds_ = 86400;
    bool armed_ = false;
    bool quit_ = false;
    std::thread thread_;
};

// The program's watchdog while main() runs (null before and after).
extern Watchdog* watchdog;

}  // namespace zuki_bench
