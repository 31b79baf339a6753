// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// The typed part of a task: `TaskOutputCell<T>` (the output slot a `JoinHandle<T>` reads) and
/// `TaskCell<F>` (the future, destroyed as soon as it completes or is cancelled).

#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include <zuki/core/async.hpp>
#include <zuki/core/future.hpp>
#include <zuki/detail/recycling_allocator.hpp>
#include <zuki/task/detail/header.hpp>

namespace zuki::detail {

struct VoidValue {};
struct CancelledOutput {};

template <class T>
using stored_t = std::conditional_t<std::is_void_v<T>, VoidValue, T>;

/// The output of a task. Written once by the completing thread before COMPLETE is released;
/// read by the JoinHandle after it acquired COMPLETE.
template <class T>
class TaskOutputCell : public TaskHeader {
public:
    using TaskHeader::TaskHeader;
    std::variant<std::monostate, stored_t<T>, std::exception_ptr, CancelledOutput> output;
};

template <Future F>
class TaskCell final : public TaskOutputCell<output_t<F>>, public Recycled {
    using T = output_t<F>;
    using Base = TaskOutputCell<T>;

public:
    template <class G>
    TaskCell(G&& f, Scheduler* s, TaskPriority p, bool join_interest) try
        : Base(&vtable, s, p, join_interest), future_(std::forward<G>(f)) {
    } catch (...) {
        // The header's constructor took a scheduler reference; if constructing the future
        // throws, the cell never existed and nobody else would give that reference back.
        s->release();
    }
    ~TaskCell() { drop_future(); }

    // Task memory comes from the per-thread recycling cache (Recycled): a spawn-heavy program
    // reuses the same few blocks instead of going to malloc for every task.
    using Recycled::operator new;
    using Recycled::operator delete;

private:
    void drop_future() noexcept {
        if (alive_) {
            alive_ = false;
            future_.~F();
        }
    }
    static PollOutcome poll_fn(TaskHeader* h, Context& cx) noexcept {
        auto* self = static_cast<TaskCell*>(h);
        try {
            auto p = poll_future(self->future_, cx);
            if (p.is_pending()) return PollOutcome::pending;
            if constexpr (std::is_void_v<T>)
                self->output.template emplace<1>();
            else
                self->output.template emplace<1>(std::move(p).value());
            self->drop_future();
            return PollOutcome::ready;
        } catch (...) {
            self->output.template emplace<2>(std::current_exception());
            self->drop_future();
            return PollOutcome::threw;
        }
    }
    // A spawned coroutine is polled with its poll inlined here (one call less per poll).
    [[gnu::always_inline]] static auto poll_future(F& f, Context& cx) {
        if constexpr (is_async<F>)
            return AsyncAccess::poll(f, cx);
        else
            return f.poll(cx);
    }
    static void cancel_fn(TaskHeader* h) noexcept {
        auto* self = static_cast<TaskCell*>(h);
        self->drop_future();
        self->output.template emplace<3>();
    }
    static std::exception_ptr exception_fn(TaskHeader* h) noexcept {
        auto* self = static_cast<TaskCell*>(h);
        auto* e = std::get_if<2>(&self->output);
        return e ? *e : std::exception_ptr();
    }
    static void destroy_fn(TaskHeader* h) noexcept { delete static_cast<TaskCell*>(h); }

public:
    static constexpr TaskVTable vtable{&poll_fn, &cancel_fn, &exception_fn, &destroy_fn};

private:
    bool alive_ = true;
    union {
        F future_;
    };
};

}  // namespace zuki::detail
