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
///
/// Under the model checker (`ZUKI_RELACY`) the word is a `detail::atomic` over Relacy's and the
/// sleep is Relacy's wait set: `futex_wait` reads the newest value of the word (an RMW that adds
/// 0: the kernel reads it under the futex bucket lock, which the wake also takes) and parks
/// without a preemption point in between; `futex_wake` unparks. A sleeper that is never woken
/// is then a blocked thread, and a run in which every thread is blocked is reported by Relacy
/// as a DEADLOCK: that is how the model checks find lost wake-ups. No spurious wake-ups are
/// modelled (callers loop, so they could only hide bugs, never add them).

#include <atomic>
#include <chrono>
#include <cstdint>

#include <zuki/detail/atomic.hpp>

#if defined(ZUKI_RELACY)
// Relacy's wait sets come with detail/atomic.hpp.
#elif defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#endif

namespace zuki::detail {

#if defined(ZUKI_RELACY)

// The model's futex wait: read the newest value and join the wait set with no preemption point
// in between (see the file comment); `timed` lets Relacy end the wait as a timeout.
inline void model_futex_wait(atomic<std::uint32_t>& word, std::uint32_t expected, bool timed,
                             model::where w) noexcept {
    rl::context& c = rl::ctx();
    c.sched();
    bool sleep;
    {
        rl::preemption_disabler no_preemption(c);
        sleep = word.relacy().fetch_add(0, rl::mo_relaxed, model::info(w)) == expected;
    }
    if (sleep) word.relacy().wait(c, timed, /*allow_spurious_wakeup=*/false, model::info(w));
}

/// Sleep while `word == expected` (spurious returns allowed; callers loop).
inline void futex_wait(atomic<std::uint32_t>& word, std::uint32_t expected,
                       model::where w = {}) noexcept {
    model_futex_wait(word, expected, /*timed=*/false, w);
}

/// `futex_wait` that may also return when `timeout` passed (modelled as: may time out).
inline void futex_wait_for(atomic<std::uint32_t>& word, std::uint32_t expected,
                           std::chrono::nanoseconds, model::where w = {}) noexcept {
    model_futex_wait(word, expected, /*timed=*/true, w);
}

/// Wake up to `count` threads sleeping on `word`.
inline void futex_wake(atomic<std::uint32_t>& word, int count, model::where w = {}) noexcept {
    rl::context& c = rl::ctx();
    c.sched();
    word.relacy().wake(c, static_cast<rl::thread_id_t>(count), model::info(w));
}

#else

#if defined(__linux__)
// FUTEX_WAIT on `word` while it holds `expected`, for at most `timeout` (null: no limit).
inline void linux_futex_wait(atomic<std::uint32_t>& word, std::uint32_t expected,
                             const timespec* timeout) noexcept {
    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
              timeout, nullptr, 0);
}
#endif

/// Sleep while `word == expected` (spurious returns allowed; callers loop).
inline void futex_wait(atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
#if defined(__linux__)
    linux_futex_wait(word, expected, nullptr);
#else
    word.wait(expected, std::memory_order_acquire);
#endif
}

/// `futex_wait` that also returns once `timeout` passed.
inline void futex_wait_for(atomic<std::uint32_t>& word, std::uint32_t expected,
                           std::chrono::nanoseconds timeout) noexcept {
    if (timeout <= std::chrono::nanoseconds::zero()) return;
#if defined(__linux__)
    timespec ts;
    ts.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(timeout.count() % 1'000'000'000);
    linux_futex_wait(word, expected, &ts);
#else
    (void)timeout;
    word.wait(expected, std::memory_order_acquire);  // no timed wait: a spurious-free wait
#endif
}

/// Wake up to `count` threads sleeping on `word`.
inline void futex_wake(atomic<std::uint32_t>& word, int count) noexcept {
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

#endif  // ZUKI_RELACY

}  // namespace zuki::detail
