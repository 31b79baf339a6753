// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Blocking on a 32-bit atomic word: Linux futex, with `std::atomic::wait` elsewhere.
///
/// We do not use `std::atomic::wait` on Linux: libstdc++ 12 has a lost-wake-up bug in it
/// (GCC bug 106772, the reason Taskflow carries its own event count). The futex syscall has the
/// exact semantics we argue with: `futex_wait(w, v)` sleeps only if `*w == v` at the moment the
/// kernel checks, atomically with queueing the sleeper, so a `futex_wake` after any store that
/// changes `*w` cannot be lost.

#include <atomic>
#include <cstdint>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace zuki::detail {

/// Sleep while `word == expected` (spurious returns allowed; callers loop).
inline void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
#if defined(__linux__)
    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
              nullptr, nullptr, 0);
#else
    word.wait(expected, std::memory_order_acquire);
#endif
}

/// Wake up to `count` threads sleeping on `word`.
inline void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
#if defined(__linux__)
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count,
              nullptr, nullptr, 0);
#else
    if (count == 1)
        word.notify_one();
    else
        word.notify_all();
#endif
}

}  // namespace zuki::detail
