// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Zuki's synchronisation primitives for futures: `oneshot`, `mpsc`, `Notify`, `Semaphore`.

#include <zuki/sync/mpsc.hpp>
#include <zuki/sync/notify.hpp>
#include <zuki/sync/oneshot.hpp>
#include <zuki/sync/semaphore.hpp>
#include <zuki/sync/send_result.hpp>
