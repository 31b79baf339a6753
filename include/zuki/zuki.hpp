// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// The umbrella header: everything public in Zuki.

#include <zuki/asio/awaitable.hpp>
#include <zuki/asio/executor.hpp>
#include <zuki/asio/use_future.hpp>
#include <zuki/core/any_future.hpp>
#include <zuki/core/async.hpp>
#include <zuki/core/combinators.hpp>
#include <zuki/core/context.hpp>
#include <zuki/core/errors.hpp>
#include <zuki/core/future.hpp>
#include <zuki/core/join_handle.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/core/task_priority.hpp>
#include <zuki/core/waker.hpp>
#include <zuki/core/yield_now.hpp>
#include <zuki/runtime/metrics.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/runtime/work_stealing_config.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>
#include <zuki/time/delay.hpp>
#include <zuki/time/timeout.hpp>
