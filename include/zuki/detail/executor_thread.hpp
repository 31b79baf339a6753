// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Marks the threads that run executor loops (pool workers, a thread inside
/// `SingleThreadedExecutor::run()`), so a call that would block such a thread (`JoinHandle::get`,
/// `block_on`, `join`) throws instead of deadlocking.

#include <zuki/detail/atomic.hpp>

namespace zuki::detail {

/// How many executor loops the calling thread is inside (0 on a plain thread).
inline int& executor_thread_depth() noexcept {
    struct Tag;
    return per_thread<int, Tag>();
}

/// True on a thread that runs some executor's tasks.
inline bool on_executor_thread() noexcept { return executor_thread_depth() > 0; }

/// Counts the calling thread as an executor thread for the scope's lifetime.
class ExecutorThreadScope {
public:
    ExecutorThreadScope() noexcept { ++executor_thread_depth(); }
    ~ExecutorThreadScope() { --executor_thread_depth(); }
    ExecutorThreadScope(const ExecutorThreadScope&) = delete;
    ExecutorThreadScope& operator=(const ExecutorThreadScope&) = delete;
};

}  // namespace zuki::detail
