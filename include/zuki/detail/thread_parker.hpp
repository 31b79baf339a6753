// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `ThreadParker`: lets a plain (non-executor) thread sleep until a `Waker` fires. Used by
/// `JoinHandle::get()` and `block_on`.

#include <atomic>
#include <cstdint>

#include <zuki/core/waker.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/futex.hpp>

namespace zuki::detail {

/// Marks threads that run executor loops, so blocking calls that would deadlock them throw.
inline thread_local int executor_thread_depth = 0;

class ThreadParker {
public:
    /// A parker owned by the caller (one reference) — create with `make()`.
    static ThreadParker* make() { return new ThreadParker(); }

    /// A waker that unparks this parker (adds a reference).
    Waker waker() noexcept {
        refs_.fetch_add(1, std::memory_order_relaxed);
        return Waker(this, &vtable);
    }
    /// Sleep until `unpark()` was called since the last `park()` returned.
    void park() noexcept {
        // acquire: pairs with the release exchange in unpark(), so what the waker published
        // before waking is visible after we return.
        while (state_.exchange(0, std::memory_order_acquire) == 0) futex_wait(state_, 0);
    }
    void unpark() noexcept {
        // release: pairs with the acquire exchange in park(). The futex re-checks the word
        // atomically with sleeping, so this store followed by the wake cannot be lost.
        if (state_.exchange(1, std::memory_order_release) == 0) futex_wake(state_, 1);
    }
    void release() noexcept {
        // acq_rel: the last release sees all other holders' accesses before deleting.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

private:
    ThreadParker() = default;
    static const void* clone(const void* p) noexcept {
        static_cast<ThreadParker*>(const_cast<void*>(p))
            ->refs_.fetch_add(1, std::memory_order_relaxed);
        return p;
    }
    static void wake(const void* p) noexcept {
        auto* self = static_cast<ThreadParker*>(const_cast<void*>(p));
        self->unpark();
        self->release();
    }
    static void wake_by_ref(const void* p) noexcept {
        static_cast<ThreadParker*>(const_cast<void*>(p))->unpark();
    }
    static void drop(const void* p) noexcept {
        static_cast<ThreadParker*>(const_cast<void*>(p))->release();
    }
    static constexpr WakerVTable vtable{&clone, &wake, &wake_by_ref, &drop};

    atomic<std::uint32_t> state_{0};
    atomic<std::uint32_t> refs_{1};
};

/// Owning handle to a ThreadParker.
class ParkerRef {
public:
    ParkerRef() : p_(ThreadParker::make()) {}
    ParkerRef(const ParkerRef&) = delete;
    ParkerRef& operator=(const ParkerRef&) = delete;
    ~ParkerRef() { p_->release(); }
    ThreadParker* operator->() const noexcept { return p_; }

private:
    ThreadParker* p_;
};

}  // namespace zuki::detail
