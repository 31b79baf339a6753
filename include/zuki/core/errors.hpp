// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Exceptions shared by every executor.

#include <stdexcept>

namespace zuki {

/// Thrown by `JoinHandle::get()` (and yielded through `co_await handle`) when the task was
/// cancelled — by `JoinHandle::cancel()` or because its executor shut down before it finished.
class TaskCancelled : public std::runtime_error {
public:
    TaskCancelled() : std::runtime_error("zuki: the task was cancelled before it completed") {}
};

/// Thrown when a task is submitted to an executor that has been stopped or is being destroyed.
class ExecutorStopped : public std::runtime_error {
public:
    explicit ExecutorStopped(const char* what) : std::runtime_error(what) {}
};

}  // namespace zuki
