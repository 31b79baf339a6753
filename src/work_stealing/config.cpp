// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// WorkStealingConfig: validation and the resolved thread count.

#include <zuki/runtime/work_stealing_config.hpp>

#include <stdexcept>
#include <thread>

namespace zuki {

void WorkStealingConfig::validate() const {
    if (threads > 4096)
        throw std::invalid_argument("zuki::WorkStealingConfig::threads: at most 4096 workers");
    if (max_attached_threads > 4096)
        throw std::invalid_argument(
            "zuki::WorkStealingConfig::max_attached_threads: at most 4096 attached threads");
    if (max_blocking_threads < 1)
        throw std::invalid_argument(
            "zuki::WorkStealingConfig::max_blocking_threads: must be at least 1");
    if (blocking_keep_alive < std::chrono::steady_clock::duration::zero())
        throw std::invalid_argument(
            "zuki::WorkStealingConfig::blocking_keep_alive: must not be negative");
    if (stack_size != 0 && stack_size < 64 * 1024)
        throw std::invalid_argument(
            "zuki::WorkStealingConfig::stack_size: must be 0 (default) or at least 65536 bytes");
    // The deque's steal-half claim takes at most capacity/2 items, and the owner pops without a
    // CAS only below that depth (concurrent/chase_lev_deque.hpp): any power of two works.
    if (local_queue_capacity < 2 || local_queue_capacity > (std::size_t{1} << 20) ||
        (local_queue_capacity & (local_queue_capacity - 1)) != 0)
        throw std::invalid_argument(
            "zuki::WorkStealingConfig::local_queue_capacity: must be a power of two in [2, 2^20]");
    if (global_queue_capacity < 1 || global_queue_capacity > (std::size_t{1} << 24))
        throw std::invalid_argument(
            "zuki::WorkStealingConfig::global_queue_capacity: must be in [1, 2^24]");
}

std::size_t WorkStealingConfig::resolved_threads() const noexcept {
    if (threads != 0) return threads;
    const unsigned hc = std::thread::hardware_concurrency();
    return hc == 0 ? 1 : hc;
}

}  // namespace zuki
