// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

#include <zuki/task/detail/header.hpp>

namespace zuki::detail {

namespace {
// Ids are handed to each thread in blocks so a spawn touches no shared cache line.
constexpr std::uint64_t id_block = 1024;
std::atomic<std::uint64_t> next_id_block{1};
}  // namespace

TaskId next_task_id() noexcept {
    thread_local std::uint64_t next = 0;
    thread_local std::uint64_t end = 0;
    if (next == end) {
        // relaxed: only uniqueness matters, which the RMW gives by itself.
        next = next_id_block.fetch_add(id_block, std::memory_order_relaxed);
        end = next + id_block;
    }
    return TaskId(next++);
}

}  // namespace zuki::detail
