// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::Waker`: a thread-safe, reference-counted handle that tells an executor a task can make
/// progress. Built from a raw vtable (like Rust's `RawWaker`) so any executor or user type can
/// make one.

#include <utility>

namespace zuki {

/// The four operations behind a `Waker`. `data` is whatever the maker chose (usually a pointer to
/// a reference-counted object). Every function must be callable from any thread.
struct WakerVTable {
    /// Make a new reference to the same wake target; returns the data for the new `Waker`.
    const void* (*clone)(const void* data);
    /// Wake the target and release this reference.
    void (*wake)(const void* data);
    /// Wake the target and keep this reference.
    void (*wake_by_ref)(const void* data);
    /// Release this reference without waking.
    void (*drop)(const void* data);
};

/// Tells an executor that the task owning it should be polled again.
///
/// Copying a `Waker` clones it (a new reference to the same task); destroying it releases the
/// reference. A moved-from `Waker` is a no-op waker. Waking a task that already completed does
/// nothing.
///
/// @code
/// struct Flag { std::atomic<bool> set{false}; zuki::Waker waiter = zuki::Waker::noop(); };
/// zuki::Poll<void> poll(zuki::Context& cx) {   // inside a hand-written future
///     if (flag->set.load()) return zuki::Poll<void>::ready();
///     flag->waiter = cx.waker();               // clone: keep it to wake us later
///     return zuki::Poll<void>::pending();
/// }
/// @endcode
///
/// Thread safety: `wake()`, `wake_by_ref()`, copying and destroying may happen on any thread,
/// concurrently with each other and with the task running. A single `Waker` object is not
/// itself synchronised (like `std::shared_ptr`): two threads must not modify the same object.
class Waker {
public:
    /// Adopt one reference described by `(data, vtable)`.
    Waker(const void* data, const WakerVTable* vtable) noexcept : data_(data), vtable_(vtable) {}

    /// A waker that does nothing (for polling outside any executor).
    static Waker noop() noexcept { return Waker(nullptr, &noop_vtable_); }

    Waker(const Waker& other) : data_(other.vtable_->clone(other.data_)), vtable_(other.vtable_) {}
    Waker(Waker&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)),
          vtable_(std::exchange(other.vtable_, &noop_vtable_)) {}
    Waker& operator=(const Waker& other) {
        if (this != &other) *this = Waker(other);
        return *this;
    }
    Waker& operator=(Waker&& other) noexcept {
        if (this != &other) {
            release();
            data_ = std::exchange(other.data_, nullptr);
            vtable_ = std::exchange(other.vtable_, &noop_vtable_);
        }
        return *this;
    }
    ~Waker() { release(); }

    /// Wake the task and release this reference; afterwards this is a no-op waker.
    void wake() noexcept {
        const void* d = std::exchange(data_, nullptr);
        const WakerVTable* vt = std::exchange(vtable_, &noop_vtable_);
        vt->wake(d);
    }
    /// Wake the task and keep this reference.
    void wake_by_ref() const noexcept { vtable_->wake_by_ref(data_); }

    /// True if waking `other` is guaranteed to wake the same task as this one (same data and
    /// vtable). A future that stored a waker uses it to skip re-cloning when polled again.
    bool will_wake(const Waker& other) const noexcept {
        return data_ == other.data_ && vtable_ == other.vtable_;
    }

    /// The raw parts, for executors that recognise their own wakers.
    const void* data() const noexcept { return data_; }
    const WakerVTable* vtable() const noexcept { return vtable_; }

private:
    void release() noexcept {
        if (vtable_ != &noop_vtable_) vtable_->drop(data_);
    }
    static const void* noop_clone(const void* d) noexcept { return d; }
    static void noop_fn(const void*) noexcept {}
    static constexpr WakerVTable noop_vtable_{&noop_clone, &noop_fn, &noop_fn, &noop_fn};

    const void* data_;
    const WakerVTable* vtable_;
};

}  // namespace zuki
