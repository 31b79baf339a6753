// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// The one swap point for every atomic used by Zuki's concurrent algorithms.
///
/// - Normal builds: `detail::atomic<T>` is `std::atomic<T>` and `detail::fence(o)` is
///   `std::atomic_thread_fence(o)`.
/// - ThreadSanitizer builds (`ZUKI_TSAN`): TSan does not model `atomic_thread_fence`, so a fence
///   becomes a seq_cst read-modify-write on a process-wide dummy atomic. On every real machine
///   that RMW is at least as strong as the fence, and TSan sees an ordinary atomic operation.
/// - Model-checking builds (`ZUKI_RELACY`, see test/model/): reserved for Relacy's `rl::atomic`.
///
/// Code that wants shrinkable capacities under the model checker reads `ZUKI_MODEL_CAPACITY`.

#include <atomic>
#include <cstddef>

#if defined(__SANITIZE_THREAD__) && !defined(ZUKI_TSAN)
#define ZUKI_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(thread_sanitizer) && !defined(ZUKI_TSAN)
#define ZUKI_TSAN 1
#endif
#endif

namespace zuki::detail {

template <class T>
using atomic = std::atomic<T>;

#if defined(ZUKI_TSAN)
inline std::atomic<unsigned> tsan_fence_word{0};
#endif

/// A memory fence that survives ThreadSanitizer (see the file comment).
inline void fence(std::memory_order order) noexcept {
#if defined(ZUKI_TSAN)
    (void)order;
    tsan_fence_word.fetch_add(0, std::memory_order_seq_cst);
#else
    std::atomic_thread_fence(order);
#endif
}

/// The size of a cache line for padding hot atomics apart (false sharing).
inline constexpr std::size_t cache_line = 64;

}  // namespace zuki::detail
