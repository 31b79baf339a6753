// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// What the tests read from their environment: `ZUKI_STRESS_SCALE`, whether this is a
/// sanitizer build, the process's thread count (to check that workers are gone) and its open
/// file descriptors.

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>

namespace zuki::test {

/// True in ThreadSanitizer and AddressSanitizer builds (tests shrink their loops there).
#if defined(ZUKI_TSAN) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif

/// The `ZUKI_STRESS_SCALE` multiplier for stress loops (default 1; invalid values count as 1).
inline std::size_t stress_scale() {
    const char* s = std::getenv("ZUKI_STRESS_SCALE");
    if (s == nullptr || *s == '\0') return 1;
    const long v = std::strtol(s, nullptr, 10);
    return v > 0 ? static_cast<std::size_t>(v) : 1;
}

/// The number after `key` (e.g. "Threads:") in /proc/self/status; -1 if unreadable.
inline long process_status_field(const std::string& key) {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
    return -1;
}

/// Open file descriptors of this process now (entries of /proc/self/fd, counting the one this
/// listing holds); -1 if unreadable.
inline long process_fds() {
    std::error_code ec;
    long n = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec))
        ++n;
    return ec ? -1 : n;
}

/// Threads of this process now ("Threads:" of /proc/self/status); -1 if unreadable.
inline int process_threads() { return static_cast<int>(process_status_field("Threads:")); }

/// Resident set size of this process in KiB ("VmRSS:" of /proc/self/status); -1 if unreadable.
inline long process_rss_kib() { return process_status_field("VmRSS:"); }

/// Waits up to `limit` for the thread count to be `baseline` again. pthread_join can return a
/// moment before the kernel drops the thread from the count (the joiner is woken when the
/// thread clears its tid, before it is reaped).
inline bool threads_back_to(int baseline,
                            std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (process_threads() != baseline) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
}

}  // namespace zuki::test
