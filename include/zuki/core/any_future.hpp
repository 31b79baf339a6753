// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::AnyFuture<T>`: an owning, move-only, type-erased future of `T`.

#include <concepts>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/future.hpp>
#include <zuki/core/poll.hpp>

namespace zuki {

namespace detail {

/// The operations `AnyFuture<T>` needs on the erased future.
template <class T>
struct AnyFutureVTable {
    Poll<T> (*poll)(void* self, Context& cx);
    void (*destroy)(void* self) noexcept;
};

template <class F, class T>
struct AnyFutureOps {
    static Poll<T> poll(void* self, Context& cx) { return static_cast<F*>(self)->poll(cx); }
    static void destroy(void* self) noexcept { delete static_cast<F*>(self); }
    static constexpr AnyFutureVTable<T> vtable{&poll, &destroy};
};

}  // namespace detail

/// An owning, move-only, type-erased future whose output is `T` (`T` may be `void`).
///
/// Any `Future` whose `output_t` is exactly `T` converts to `AnyFuture<T>` implicitly; the future
/// is moved to the heap (one allocation) and polled through a function table. Moving an
/// `AnyFuture` moves a pointer: it never throws and never moves the erased future, so the erased
/// future need not be movable after construction. A default-constructed or moved-from
/// `AnyFuture` is empty: `valid()` is false and `poll()` throws `std::logic_error`.
///
/// @code
/// std::vector<zuki::AnyFuture<int>> fs;
/// fs.push_back(zuki::ready(1));                                  // Ready<int>
/// fs.push_back(zuki::map(zuki::ready(2), [](int x) { return x * 10; }));
/// auto all = zuki::join_all(std::move(fs));                      // a future of {1, 20}
/// zuki::AnyFuture f = zuki::ready(std::string("hi"));            // CTAD: AnyFuture<std::string>
/// @endcode
///
/// Thread safety: like the future it holds. Distinct objects may be used from distinct threads;
/// one object is polled by one thread at a time, and may move between threads between polls
/// (when the erased future allows it).
template <class T>
class [[nodiscard]] AnyFuture {
    static_assert(!std::is_reference_v<T>, "zuki::AnyFuture<T>: T must be an object type or void");

public:
    using output_type = T;

    /// An empty `AnyFuture` (`valid()` is false).
    AnyFuture() noexcept = default;

    /// Erase `f` (moved or copied into a new heap object).
    template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, AnyFuture>) &&
        Future<std::remove_cvref_t<F>>&& std::is_same_v<output_t<std::remove_cvref_t<F>>, T>&& std::
            constructible_from<std::remove_cvref_t<F>, F> AnyFuture(
                F&& f)  // NOLINT(google-explicit-constructor): implicit on purpose
        : AnyFuture(std::in_place_type<std::remove_cvref_t<F>>, std::forward<F>(f)) {}

    /// Construct an `F` in place from `args` (for futures that cannot be moved).
    template <class F, class... Args>
    requires Future<F> && std::is_same_v<output_t<F>, T> && std::constructible_from<F, Args...>
    explicit AnyFuture(std::in_place_type_t<F>, Args&&... args)
        : self_(new F(std::forward<Args>(args)...)), vtable_(&detail::AnyFutureOps<F, T>::vtable) {}

    AnyFuture(AnyFuture&& other) noexcept
        : self_(std::exchange(other.self_, nullptr)),
          vtable_(std::exchange(other.vtable_, nullptr)) {}
    AnyFuture& operator=(AnyFuture&& other) noexcept {
        if (this != &other) {
            reset();
            self_ = std::exchange(other.self_, nullptr);
            vtable_ = std::exchange(other.vtable_, nullptr);
        }
        return *this;
    }
    AnyFuture(const AnyFuture&) = delete;
    AnyFuture& operator=(const AnyFuture&) = delete;
    ~AnyFuture() { reset(); }

    /// Poll the erased future. Throws `std::logic_error` if this `AnyFuture` is empty; whatever
    /// the erased future's `poll` throws propagates unchanged.
    Poll<T> poll(Context& cx) {
        if (self_ == nullptr) {
            throw std::logic_error(
                "zuki::AnyFuture::poll: the AnyFuture is empty (default-constructed, moved-from or "
                "reset)");
        }
        return vtable_->poll(self_, cx);
    }

    /// True if this holds a future.
    bool valid() const noexcept { return self_ != nullptr; }

    /// Destroy the held future, if any; afterwards `valid()` is false.
    void reset() noexcept {
        if (self_ != nullptr) {
            vtable_->destroy(std::exchange(self_, nullptr));
            vtable_ = nullptr;
        }
    }

    friend void swap(AnyFuture& a, AnyFuture& b) noexcept {
        std::swap(a.self_, b.self_);
        std::swap(a.vtable_, b.vtable_);
    }

private:
    void* self_ = nullptr;
    const detail::AnyFutureVTable<T>* vtable_ = nullptr;
};

/// `AnyFuture f = some_future;` deduces `AnyFuture<output_t<decltype(some_future)>>`.
template <class F>
requires Future<F> AnyFuture(F)
->AnyFuture<output_t<F>>;

}  // namespace zuki
