// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Boost.Asio's reactor, driven by an executor's own threads (runtime/io_driver.hpp says how):
/// `install_reactor_driver` makes the execution context's Asio scheduler without a thread of its
/// own and returns the `IoDriver` through which the executor's threads run it. It relies on
/// Asio internals, so it exists only for the Boost versions it was verified against
/// (src/asio/reactor_driver.cpp); elsewhere, or when the build sets
/// `ZUKI_ASIO_REACTOR_THREAD` (CMake option `ZUKI_ASIO_REACTOR_ON_WORKERS=OFF`), it returns null
/// and Asio runs its reactor on a thread of its own, as for any execution context that is not an
/// `io_context`.

#include <boost/asio/execution_context.hpp>

#include <zuki/runtime/io_driver.hpp>
#include <zuki/task/detail/scheduler.hpp>

namespace zuki::detail {

/// Make `ctx`'s Asio scheduler service (before any I/O object exists) and return the driver
/// (owned by `ctx`, a service of it), or null on the fallback path. Ready I/O is delivered to
/// `sink` as run-once tasks of `handlers` (the scheduler the executor gives its Asio handlers).
IoDriver* install_reactor_driver(boost::asio::execution_context& ctx, IoTaskSink& sink,
                                 Scheduler* handlers);

/// True if this build drives Asio's reactor on the executors' threads (false: the fallback, a
/// reactor thread of Asio's own).
bool reactor_on_executor_threads() noexcept;

}  // namespace zuki::detail
