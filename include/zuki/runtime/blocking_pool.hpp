// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `detail::BlockingPool`: the elastic side pool that runs `spawn_blocking` calls, one per
/// executor (after Tokio's `runtime/blocking/pool.rs`).
///
/// A blocking call is an ordinary task (a `TaskCell` of `BlockingCall`, with a JoinHandle, owned
/// by the executor's scheduler and counted as its work), but it is queued here instead of on
/// the executor, and run by one of these threads, which may block as long as the call needs.
///
/// ## Threads
/// Made on demand: a submission wakes an idle thread if one is free, else starts a new one while
/// fewer than `max_threads` exist; beyond that calls queue (FIFO). A thread that stays idle for
/// `keep_alive` exits. Every thread is joined, none detached (Tokio's scheme): a thread that
/// exits leaves its handle in `last_exited_` and joins the one it found there, so at most one
/// exited thread waits to be joined, and `shutdown()` joins the last (which joined its
/// predecessor before exiting, and so on): when the executor's destructor returns, no blocking
/// thread is left, and none outlives the pool it runs on. Each thread sets
/// `Scheduler::current()` to the owner, so `zuki::spawn` and `Handle::current()` work inside a
/// blocking call. A blocking thread is no executor thread: `block_on` is allowed there.
///
/// ## Why a mutex
/// Blocking calls are rare and long by nature, and the pool needs a timed sleep (keep-alive):
/// one mutex and two condition variables guard everything (`m_`), as in Tokio. Nothing here is
/// on the executors' hot paths.
///
/// Thread safety: every member from any thread; `shutdown()` once, by the executor's destructor.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/task/detail/scheduler.hpp>

namespace zuki::detail {

class TaskHeader;

/// The future of a `spawn_blocking` task: calls `fn` once, on the blocking thread that runs it;
/// its output is what `fn` returns (as is, even if that is a future).
template <class Fn>
class BlockingCall {
public:
    using output_type = std::invoke_result_t<Fn&>;

    explicit BlockingCall(Fn fn) noexcept(std::is_nothrow_move_constructible_v<Fn>)
        : fn_(std::move(fn)) {}

    Poll<output_type> poll(Context&) {
        if constexpr (std::is_void_v<output_type>) {
            std::invoke(fn_);
            return Poll<void>::ready();
        } else {
            return Poll<output_type>::ready(std::invoke(fn_));
        }
    }

private:
    Fn fn_;
};

/// Settings of a blocking pool (from `WorkStealingConfig`, or the defaults).
struct BlockingPoolConfig {
    std::size_t max_threads = 512;
    std::chrono::steady_clock::duration keep_alive = std::chrono::seconds(10);
    /// Test / embedding hook called before each thread is started; if it throws, that thread
    /// counts as failed to start.
    std::function<void()> before_thread_start;
};

/// What a blocking pool holds right now (for `metrics()`).
struct BlockingPoolStats {
    std::size_t threads = 0;  ///< blocking threads alive
    std::size_t idle = 0;  ///< of which waiting for work
    std::size_t queued = 0;  ///< calls waiting for a thread
};

class BlockingPool {
public:
    BlockingPool(Scheduler& owner, BlockingPoolConfig config) noexcept
        : owner_(owner), cfg_(std::move(config)) {}
    BlockingPool(const BlockingPool&) = delete;
    BlockingPool& operator=(const BlockingPool&) = delete;
    ~BlockingPool() {
        // shutdown() joined every thread; a pool whose owner never started one has none.
        // (Inline: the model checks build the pool's owner without linking this library.)
        if (last_exited_ != nullptr) {
            last_exited_->handle.join();
            delete last_exited_;
        }
    }

    /// Queue `t` (SCHEDULED, holding its queue reference, already counted as the owner's work)
    /// and see that a thread runs it. Returns false, with `t` not queued (the caller still owns
    /// it), if no thread exists and none could be started (the failure was reported to the
    /// owner); a start that fails while other threads exist is reported and `t` waits for one
    /// of them. After `shutdown()`, `t` is cancelled (its JoinHandle throws `TaskCancelled`).
    bool submit(TaskHeader* t) noexcept;

    /// The owner's destructor: no more calls (later submissions are cancelled), cancel those
    /// still queued, and wait until every thread has left (a running call cannot be
    /// interrupted: this waits for it to return).
    void shutdown() noexcept;

    BlockingPoolStats stats() const {
        std::lock_guard lock(m_);
        return BlockingPoolStats{threads_, idle_, queued_};
    }

private:
    struct Thread {  // a thread's handle: made by start_thread, handed on by the thread at exit
        std::thread handle;
    };
    void run_thread(Thread* self) noexcept;
    bool start_thread() noexcept;  // under m_; false (reported) if it failed
    void push(TaskHeader* t) noexcept;  // under m_
    TaskHeader* pop() noexcept;  // under m_

    Scheduler& owner_;
    const BlockingPoolConfig cfg_;
    mutable std::mutex m_;
    std::condition_variable work_cv_;  // idle threads wait here for work (or the keep-alive)
    std::condition_variable exit_cv_;  // shutdown() waits here for the threads to leave
    // Guarded by m_: the FIFO of queued calls (linked through TaskHeader::next).
    TaskHeader* head_ = nullptr;
    TaskHeader* tail_ = nullptr;
    std::size_t queued_ = 0;
    std::size_t threads_ = 0;  // alive
    std::size_t idle_ = 0;  // alive and waiting in work_cv_
    std::size_t notified_ = 0;  // idle threads already woken for a queued call
    Thread* last_exited_ = nullptr;  // the last thread that exited, not joined yet
    bool shut_down_ = false;
};

}  // namespace zuki::detail
