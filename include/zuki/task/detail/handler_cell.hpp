// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `HandlerCell<H, Alloc>`: a run-once Asio completion handler carried by the same task node as
/// a Zuki future, so both flow through the same queues. It has no JoinHandle and is not in the
/// registry (it is always queued or running until it ran, so shutdown finds it by draining the
/// queues); an exception escaping it goes to the executor's exception handler.
///
/// Memory: the handler's associated allocator (rebound), or — when that is the default
/// `std::allocator` — the per-thread recycling cache.

#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include <zuki/detail/recycling_allocator.hpp>
#include <zuki/task/detail/header.hpp>

namespace zuki::detail {

template <class Alloc>
inline constexpr bool is_default_allocator_v =
    std::is_same_v<typename std::allocator_traits<Alloc>::template rebind_alloc<char>,
                   std::allocator<char>>;

template <class H, class Alloc>
class HandlerCell final : public TaskHeader {
    using CellAlloc = typename std::allocator_traits<Alloc>::template rebind_alloc<HandlerCell>;

public:
    /// Allocate and construct a cell (SCHEDULED, one reference: the queue's). Throws what the
    /// allocator or the handler's move throws; nothing is left behind then.
    template <class F>
    static HandlerCell* make(F&& f, const Alloc& alloc, Scheduler* s) {
        if constexpr (is_default_allocator_v<Alloc>) {
            void* mem = RecyclingCache::allocate(sizeof(HandlerCell));
            try {
                return ::new (mem) HandlerCell(std::forward<F>(f), alloc, s);
            } catch (...) {
                RecyclingCache::deallocate(mem, sizeof(HandlerCell));
                throw;
            }
        } else {
            CellAlloc a(alloc);
            HandlerCell* mem = std::allocator_traits<CellAlloc>::allocate(a, 1);
            try {
                return ::new (static_cast<void*>(mem)) HandlerCell(std::forward<F>(f), alloc, s);
            } catch (...) {
                std::allocator_traits<CellAlloc>::deallocate(a, mem, 1);
                throw;
            }
        }
    }

private:
    template <class F>
    HandlerCell(F&& f, const Alloc& alloc, Scheduler* s) try
        : TaskHeader(&vtable, s, TaskPriority::Normal, /*join_interest=*/false,
                     /*registered=*/false),
          alloc_(alloc), handler_(std::forward<F>(f)) {
    } catch (...) {
        s->release();  // the header's constructor took a scheduler reference
    }
    ~HandlerCell() { drop_handler(); }

    void drop_handler() noexcept {
        if (alive_) {
            alive_ = false;
            handler_.~H();
        }
    }
    static PollOutcome poll_fn(TaskHeader* h, Context&) noexcept {
        auto* self = static_cast<HandlerCell*>(h);
        try {
            // Move the handler out and destroy its slot before the upcall (Asio's rule: state
            // owned by a handler is released before the upcall). The cell's memory itself is
            // returned when the task completes, after the upcall: it is also the task node the
            // executor still holds. So, unlike asio::thread_pool, an operation the handler
            // starts cannot reuse this very block; with the default allocator it comes from the
            // per-thread recycling cache instead (a free block of the same size is usually
            // there), with a custom allocator it is one more allocation while the upcall runs.
            H handler(std::move(self->handler_));
            self->drop_handler();
            handler();  // as an lvalue, as Asio invokes what its executors run
            return PollOutcome::ready;
        } catch (...) {
            self->drop_handler();
            self->error_ = std::current_exception();
            return PollOutcome::threw;
        }
    }
    static void cancel_fn(TaskHeader* h) noexcept { static_cast<HandlerCell*>(h)->drop_handler(); }
    static std::exception_ptr exception_fn(TaskHeader* h) noexcept {
        return static_cast<HandlerCell*>(h)->error_;
    }
    static void destroy_fn(TaskHeader* h) noexcept {
        auto* self = static_cast<HandlerCell*>(h);
        if constexpr (is_default_allocator_v<Alloc>) {
            self->~HandlerCell();
            RecyclingCache::deallocate(self, sizeof(HandlerCell));
        } else {
            CellAlloc a(self->alloc_);
            self->~HandlerCell();
            std::allocator_traits<CellAlloc>::deallocate(a, self, 1);
        }
    }

public:
    static constexpr TaskVTable vtable{&poll_fn, &cancel_fn, &exception_fn, &destroy_fn};

private:
    [[no_unique_address]] Alloc alloc_;
    bool alive_ = true;
    std::exception_ptr error_;
    union {
        H handler_;
    };
};

}  // namespace zuki::detail
