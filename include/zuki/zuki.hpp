// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// The umbrella header: everything public in Zuki — the futures of `<zuki/core.hpp>`, both
/// executors (each a Boost.Asio execution context), their settings and metrics, and the Asio
/// bridges (`use_future`, `as_awaitable`, `spawn_awaitable`).

#include <zuki/asio/awaitable.hpp>
#include <zuki/asio/executor.hpp>
#include <zuki/asio/use_future.hpp>
#include <zuki/core.hpp>
#include <zuki/runtime/metrics.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/runtime/work_stealing_config.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>
#include <zuki/sync.hpp>
