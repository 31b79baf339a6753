// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::WorkStealingConfig`: the settings of a `WorkStealingExecutor`.

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <string>

namespace zuki {

/// Settings of a `WorkStealingExecutor`. Every field has a sensible default; `validate()`
/// (called by the executor's constructor) throws `std::invalid_argument` naming the bad field.
///
/// @code
/// zuki::WorkStealingConfig cfg;
/// cfg.threads = 4;
/// cfg.stack_size = 256 * 1024;
/// cfg.on_unhandled_exception = [](std::exception_ptr) { /* log */ };
/// zuki::WorkStealingExecutor pool(cfg);
/// @endcode
struct WorkStealingConfig {
    /// Worker threads; 0 means `std::thread::hardware_concurrency()` (at least 1).
    std::size_t threads = 0;
    /// Stack size of each worker in bytes; 0 means the platform default. Otherwise at least
    /// 64 KiB (PTHREAD_STACK_MIN is far smaller, but a worker that polls futures needs room).
    std::size_t stack_size = 0;
    /// Capacity of each worker's deque: a power of two, 2 .. 2^20. Overflow goes to the global
    /// queue (the older half of the deque in one push). A thief claims half of a deque's tasks,
    /// at most 128, whatever the capacity. The default leaves room for a fork-join's depth-first
    /// backlog: with 256 places a skynet or UTS tree overflowed some 200 times per run, and
    /// each overflowed subtree, taken back from the global queue, was expanded breadth-first
    /// (2.9x oneTBB's time against 1.9x with 4,096, which never overflowed there). The cost is
    /// 48 KiB per worker (the slots and the overflow buffer).
    std::size_t local_queue_capacity = 4096;
    /// Chunks each priority lane of the global injection queue holds without allocating
    /// (1 .. 2^24). A chunk is one submission, batch or overflow; beyond this they spill to a
    /// locked list (never dropped).
    std::size_t global_queue_capacity = 4096;
    /// Threads that may work for the pool besides its own, through
    /// `WorkStealingExecutor::attach()` (at most 4096). Each is a place in the pool's fixed
    /// worker set, kept free until a thread takes it: an untaken place costs two pointers, and
    /// costs the workers nothing while they steal or park.
    std::size_t max_attached_threads = 8;
    /// Threads of the blocking pool that runs `spawn_blocking` calls, at most (at least 1):
    /// started on demand; calls beyond the cap queue (FIFO).
    std::size_t max_blocking_threads = 512;
    /// A blocking thread idle this long exits (at least 0).
    std::chrono::steady_clock::duration blocking_keep_alive = std::chrono::seconds(10);
    /// Help-first join: a task on a worker that awaits the JoinHandle of a task that has not
    /// completed first runs this worker's own queued tasks inline (its newest first, as TBB's
    /// `wait` and Cilk do), so a child spawned just before the await usually completes without
    /// suspending the parent, waking it or polling it again. Bounded: at most one periodic
    /// check interval of tasks (outside work, yielded tasks and I/O are not kept waiting) and
    /// half of the worker's stack. Set it to false where a task holds a blocking lock (a
    /// `std::mutex`) across `co_await` of a JoinHandle: a task run inline on the same thread
    /// could try to take that lock again.
    bool help_while_joining = true;
    /// Worker thread names are this prefix plus the worker index (Linux keeps 15 characters).
    /// A worker keeps its index when others fail to start (their places stay empty).
    std::string thread_name_prefix = "zuki-worker-";
    /// Called with an exception that escaped fire-and-forget work (a detached task or an Asio
    /// handler): on the worker that ran it, or, for a task that finished before its JoinHandle
    /// was dropped unread, on the thread dropping the handle. Default: print it to stderr and
    /// carry on. It must not throw (an exception from it is caught and printed).
    std::function<void(std::exception_ptr)> on_unhandled_exception;
    /// Test / embedding hook called before each worker thread is started, with its index; if it
    /// throws, that thread counts as failed to start (as if pthread_create failed).
    std::function<void(std::size_t)> before_thread_start;
    /// The same for each blocking thread (see `max_blocking_threads`): if it throws, that thread
    /// counts as failed to start (reported to `on_unhandled_exception`).
    std::function<void()> before_blocking_thread_start;

    /// Throws std::invalid_argument naming the first invalid field.
    void validate() const;
    /// The thread count after applying the 0 → hardware_concurrency rule.
    std::size_t resolved_threads() const noexcept;
};

}  // namespace zuki
