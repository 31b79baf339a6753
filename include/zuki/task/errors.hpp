// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Exceptions shared by every executor.

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <utility>

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

/// The default handler of exceptions that escape fire-and-forget work (detached tasks, queued
/// Asio handlers) when no handler was configured: one line on stderr, and the program goes on.
/// (The library itself never prints; this function is the default of the executors' handler
/// setting, which a program replaces to log its own way.)
inline void print_unhandled_exception(std::exception_ptr e) noexcept {
    try {
        std::rethrow_exception(std::move(e));
    } catch (const std::exception& x) {
        std::fprintf(stderr, "zuki: unhandled exception in a detached task: %s\n", x.what());
    } catch (...) {
        std::fputs("zuki: unhandled exception of unknown type in a detached task\n", stderr);
    }
}

}  // namespace zuki
