// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `detail::mutex`: `std::mutex`, or Relacy's mutex under the model checker (the swap point of
/// detail/atomic.hpp, for the few protocols that take a lock on a rare path).

#include <zuki/detail/atomic.hpp>

#if !defined(ZUKI_RELACY)
#include <mutex>
#endif

namespace zuki::detail {

#if !defined(ZUKI_RELACY)

using mutex = std::mutex;

#else

/// `std::mutex`'s interface over Relacy's (the model checks the acquire/release edges).
class mutex {
public:
    void lock(model::where w = {}) { m_.lock(model::info(w)); }
    bool try_lock(model::where w = {}) { return m_.try_lock(model::info(w)); }
    void unlock(model::where w = {}) { m_.unlock(model::info(w)); }

private:
    rl::mutex m_;
};

#endif

}  // namespace zuki::detail
