// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Test helper: `zuki::test::CountingWaker`, a wake target that counts every vtable call made on
/// the wakers it hands out.

#include <atomic>

#include <zuki/core/waker.hpp>

namespace zuki::test {

/// Hands out `Waker`s pointing at itself and counts `clone`, `wake`, `wake_by_ref` and `drop`.
/// Not owning: it must outlive every waker it made. `live()` is the number of references that
/// have been created (made or cloned) and not yet released (dropped or woken by value).
///
/// Thread safety: the counters are atomic; wakers may be used from any thread.
class CountingWaker {
public:
    CountingWaker() = default;
    CountingWaker(const CountingWaker&) = delete;
    CountingWaker& operator=(const CountingWaker&) = delete;

    /// A new reference (counted in `made`, not in `clones`).
    Waker make() {
        made.fetch_add(1, std::memory_order_relaxed);
        return Waker(this, &vtable);
    }

    int live() const { return made.load() + clones.load() - drops.load() - wakes.load(); }
    /// Wakes of both kinds.
    int total_wakes() const { return wakes.load() + wakes_by_ref.load(); }

    std::atomic<int> made{0};
    std::atomic<int> clones{0};
    std::atomic<int> wakes{0};
    std::atomic<int> wakes_by_ref{0};
    std::atomic<int> drops{0};

    static const WakerVTable vtable;

private:
    static CountingWaker* self(const void* d) {
        return const_cast<CountingWaker*>(static_cast<const CountingWaker*>(d));
    }
    static const void* do_clone(const void* d) {
        self(d)->clones.fetch_add(1, std::memory_order_relaxed);
        return d;
    }
    static void do_wake(const void* d) { self(d)->wakes.fetch_add(1, std::memory_order_relaxed); }
    static void do_wake_by_ref(const void* d) {
        self(d)->wakes_by_ref.fetch_add(1, std::memory_order_relaxed);
    }
    static void do_drop(const void* d) { self(d)->drops.fetch_add(1, std::memory_order_relaxed); }
};

inline const WakerVTable CountingWaker::vtable{&CountingWaker::do_clone, &CountingWaker::do_wake,
                                               &CountingWaker::do_wake_by_ref,
                                               &CountingWaker::do_drop};

}  // namespace zuki::test
