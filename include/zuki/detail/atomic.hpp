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
/// - Model-checking builds (`ZUKI_RELACY`, see test/model/ and doc/checking.md):
///   `detail::atomic<T>` is a thin wrapper over Relacy's `rl::atomic<T>` with the `std::atomic`
///   member functions the algorithms use, and `detail::fence(o)` is Relacy's fence. Every
///   operation records the caller's function and line, so a Relacy trace points into the real
///   headers. Only Relacy's core is included, not `relacy.hpp`: that one redefines `new`,
///   `assert` and `memory_order_*` as macros, which breaks the standard library.
///
/// Besides atomics and fences, the swap point has what the pool's protocols use around them, so
/// that the model checker compiles those protocols as they are: `per_thread<T, Tag>()` (a
/// `thread_local` value; one per Relacy thread in a model) and `spin_pause()` (`sched_yield`;
/// Relacy's yield); detail/mutex.hpp adds `mutex` (`std::mutex`; Relacy's mutex in a model),
/// apart because `<mutex>` alone costs as much to compile as the rest of Zuki's core.
///
/// `ZUKI_MODEL_WEAKEN(name, order, weaker)` serves the model checker and is inert everywhere
/// else: a memory order that a model-checking build compiled with `-DZUKI_MODEL_PLANT_BUG=name`
/// replaces by `weaker`, to show that the model checks catch the bug
/// (test/model/check_planted_bugs.sh). In every other build it is `order`.
/// `ZUKI_MODEL_PLANTED(name)` is the same for a bug that is not an ordering (an RMW replaced by
/// a plain store): true only in a model-checking build with `-DZUKI_MODEL_PLANT_BUG=name`, a
/// constant false everywhere else. (Capacities are
/// shrunk for the models through the objects' constructor arguments, e.g. a pool's
/// `local_queue_capacity`, as Tokio shrinks its queue under loom.)

#include <atomic>
#include <cstddef>

#if !defined(ZUKI_RELACY)
#include <sched.h>
#endif

#if defined(__SANITIZE_THREAD__) && !defined(ZUKI_TSAN)
#define ZUKI_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(thread_sanitizer) && !defined(ZUKI_TSAN)
#define ZUKI_TSAN 1
#endif
#endif

#if defined(ZUKI_RELACY)
#include <cstdint>
#include <string_view>
// Relacy's core, without relacy.hpp's macros and without its windows.h / pthread.h emulations
// (which are macros too): see the file comment. The order matters (relacy.hpp's own order).
// clang-format off
#include <relacy/base.hpp>
#include <relacy/context.hpp>
#include <relacy/context_base_impl.hpp>
#include <relacy/backoff.hpp>
#include <relacy/atomic_fence.hpp>
#include <relacy/atomic.hpp>
#include <relacy/var.hpp>
#include <relacy/thread_local.hpp>
#include <relacy/test_suite.hpp>
#include <relacy/dyn_thread.hpp>
#include <relacy/stdlib/mutex.hpp>
#include <relacy/stdlib/condition_variable.hpp>
#include <relacy/stdlib/semaphore.hpp>
#include <relacy/stdlib/event.hpp>
// clang-format on

#if defined(ZUKI_MODEL_PLANT_BUG)
#define ZUKI_MODEL_STR2(x) #x
#define ZUKI_MODEL_STR(x) ZUKI_MODEL_STR2(x)
#define ZUKI_MODEL_WEAKEN(name, order, weaker)                                                     \
    (std::string_view(ZUKI_MODEL_STR(ZUKI_MODEL_PLANT_BUG)) == #name ? (weaker) : (order))
#define ZUKI_MODEL_PLANTED(name) (std::string_view(ZUKI_MODEL_STR(ZUKI_MODEL_PLANT_BUG)) == #name)
#endif
#endif
#if !defined(ZUKI_MODEL_WEAKEN)
#define ZUKI_MODEL_WEAKEN(name, order, weaker) (order)
#define ZUKI_MODEL_PLANTED(name) false
#endif

namespace zuki::detail {

#if !defined(ZUKI_RELACY)

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

/// The calling thread's value of a per-thread variable (`Tag` tells variables of one type
/// apart); value-initialised on first use.
template <class T, class Tag>
T& per_thread() noexcept {
    thread_local T value{};
    return value;
}

/// Let other threads run (a spinning loop's back-off; its one caller is a searching worker,
/// between its steal rounds).
///
/// A `sched_yield` on purpose, measured against `pause` loops (doc/benchmarks.md, eighth stop).
/// A worker that yielded while searching is later woken without preempting the thread that
/// woke it (none of 2,000 wake-ups from outside ran before the poster's `post` returned, against
/// 50-70 % for `thread_pool`'s threads and for a `pause`; likely the kernel's EEVDF accounting
/// of the yield). That costs a wake-up from outside into an idle pool ~20 % at the median (the
/// poster runs on until it blocks), and buys the fork-join and message-passing shapes their
/// speed: a worker woken by another worker runs beside it instead of taking its CPU (with
/// `pause` loops of 0.6 or 1.4 us, ping_pong and chained_spawn took 1.5-3x as long; yielding
/// only while another worker is awake kept chained_spawn's loss).
inline void spin_pause() noexcept { ::sched_yield(); }

#else  // ZUKI_RELACY

namespace model {
/// The caller's function, file and line, for Relacy's history (what Relacy's `$` gives).
struct where {
    where(const char* func = __builtin_FUNCTION(), const char* file = __builtin_FILE(),
          unsigned line = __builtin_LINE()) noexcept
        : func(func), file(file), line(line) {}
    const char* func;
    const char* file;
    unsigned line;
};
inline rl::debug_info info(const where& w) noexcept {
    return rl::debug_info(w.func, w.file, w.line);
}
inline rl::memory_order order(std::memory_order o) noexcept {
    switch (o) {
        case std::memory_order_relaxed:
            return rl::mo_relaxed;
        case std::memory_order_consume:
            return rl::mo_consume;
        case std::memory_order_acquire:
            return rl::mo_acquire;
        case std::memory_order_release:
            return rl::mo_release;
        case std::memory_order_acq_rel:
            return rl::mo_acq_rel;
        default:
            return rl::mo_seq_cst;
    }
}
}  // namespace model

/// `std::atomic<T>`'s interface over `rl::atomic<T>` (only what Zuki's algorithms use).
template <class T>
class atomic {
public:
    atomic() noexcept : atomic(T{}) {}  // value-initialised, as std::atomic since C++20
    atomic(T v, model::where w = {}) noexcept {  // NOLINT: like std::atomic
        a_.store(v, rl::mo_relaxed, model::info(w));
    }
    atomic(const atomic&) = delete;
    atomic& operator=(const atomic&) = delete;

    T load(std::memory_order o = std::memory_order_seq_cst, model::where w = {}) const noexcept {
        return a_.load(model::order(o), model::info(w));
    }
    void store(T v, std::memory_order o = std::memory_order_seq_cst, model::where w = {}) noexcept {
        a_.store(v, model::order(o), model::info(w));
    }
    T exchange(T v, std::memory_order o = std::memory_order_seq_cst, model::where w = {}) noexcept {
        return a_.exchange(v, model::order(o), model::info(w));
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order success,
                               std::memory_order failure, model::where w = {}) noexcept {
        return a_.compare_exchange_weak(expected, desired, model::order(success), model::info(w),
                                        model::order(failure), model::info(w));
    }
    bool compare_exchange_weak(T& expected, T desired,
                               std::memory_order o = std::memory_order_seq_cst,
                               model::where w = {}) noexcept {
        return a_.compare_exchange_weak(expected, desired, model::order(o), model::info(w));
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order success,
                                 std::memory_order failure, model::where w = {}) noexcept {
        return a_.compare_exchange_strong(expected, desired, model::order(success), model::info(w),
                                          model::order(failure), model::info(w));
    }
    bool compare_exchange_strong(T& expected, T desired,
                                 std::memory_order o = std::memory_order_seq_cst,
                                 model::where w = {}) noexcept {
        return a_.compare_exchange_strong(expected, desired, model::order(o), model::info(w));
    }
    T fetch_add(T v, std::memory_order o = std::memory_order_seq_cst,
                model::where w = {}) noexcept {
        return a_.fetch_add(v, model::order(o), model::info(w));
    }
    T fetch_sub(T v, std::memory_order o = std::memory_order_seq_cst,
                model::where w = {}) noexcept {
        return a_.fetch_sub(v, model::order(o), model::info(w));
    }
    T fetch_and(T v, std::memory_order o = std::memory_order_seq_cst,
                model::where w = {}) noexcept {
        return a_.fetch_and(v, model::order(o), model::info(w));
    }
    T fetch_or(T v, std::memory_order o = std::memory_order_seq_cst, model::where w = {}) noexcept {
        return a_.fetch_or(v, model::order(o), model::info(w));
    }

    /// The Relacy object itself (the futex model parks on it).
    rl::atomic<T>& relacy() noexcept { return a_; }

private:
    rl::atomic<T> a_;
};

/// Relacy's fence. A relaxed fence does nothing, as in the standard (and a planted bug that
/// weakens a fence to relaxed removes it).
inline void fence(std::memory_order order, model::where w = {}) noexcept {
    if (order != std::memory_order_relaxed)
        rl::atomic_thread_fence(model::order(order), model::info(w));
}

/// The explored execution, as far as per-thread values care: a model that may fail while a
/// thread is inside a per-thread scope bumps it at the start of each execution
/// (test/model/pool.hpp's make_pool). Relacy replays a failing execution to print its history,
/// and the scope a cut-short execution left set must not carry into the replay (attach.cpp's
/// planted bug then threw "attach: called on an executor thread" instead of reporting).
inline unsigned& model_execution() noexcept {
    static unsigned e = 0;
    return e;
}
/// One value per Relacy thread (fibres share the OS thread's `thread_local`s), value-initialised
/// again in each execution that `model_execution()` tells apart. A model resets what it set
/// before its thread ends.
inline constexpr unsigned max_model_threads = 16;
template <class T, class Tag>
T& per_thread() noexcept {
    struct Slot {
        unsigned execution = 0;
        T value{};
    };
    static Slot slots[max_model_threads]{};
    Slot& s = slots[rl::ctx().current_thread()];
    if (s.execution != model_execution()) {
        s.execution = model_execution();
        s.value = T{};
    }
    return s.value;
}

inline void spin_pause(model::where w = {}) noexcept { rl::yield(1, model::info(w)); }

#endif  // ZUKI_RELACY

/// The size of a cache line for padding hot atomics apart (false sharing).
inline constexpr std::size_t cache_line = 64;

}  // namespace zuki::detail
