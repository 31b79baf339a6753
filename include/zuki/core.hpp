// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// The entry point for code that uses Zuki's futures without an executor or Asio: `Poll`,
/// `Waker`, `Context`, the `Future` concept, `AnyFuture`, `Async` coroutines, the combinators,
/// `yield_now`, the timer futures (`delay`, `sleep_until`, `timeout`), and the task types a
/// library may take or return (`JoinHandle`, `TaskPriority`, `TaskId`, the task errors).
/// Standard library only: about a third of `<zuki/zuki.hpp>` to preprocess (doc/design.md
/// gives the figures). `<zuki/zuki.hpp>` adds the executors and the Boost.Asio bridge.

#include <zuki/core/any_future.hpp>
#include <zuki/core/async.hpp>
#include <zuki/core/combinators.hpp>
#include <zuki/core/context.hpp>
#include <zuki/core/future.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/core/waker.hpp>
#include <zuki/core/yield_now.hpp>
#include <zuki/task/errors.hpp>
#include <zuki/task/handle.hpp>
#include <zuki/task/join_handle.hpp>
#include <zuki/task/join_set.hpp>
#include <zuki/task/task_priority.hpp>
#include <zuki/time/delay.hpp>
#include <zuki/time/timeout.hpp>
