// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::TaskPriority` and `zuki::TaskId`.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>

namespace zuki {

/// The priority of a task. `SingleThreadedExecutor` runs ready tasks strictly by priority
/// (Critical > High > Normal > Low, FIFO within a level); `WorkStealingExecutor` documents its
/// own, weaker meaning in its header.
enum class TaskPriority : std::uint8_t { Low = 0, Normal = 1, High = 2, Critical = 3 };

/// Number of priority levels.
inline constexpr std::size_t task_priority_levels = 4;

inline std::ostream& operator<<(std::ostream& os, TaskPriority p) {
    switch (p) {
        case TaskPriority::Low:
            return os << "Low";
        case TaskPriority::Normal:
            return os << "Normal";
        case TaskPriority::High:
            return os << "High";
        case TaskPriority::Critical:
            return os << "Critical";
    }
    return os << "TaskPriority(" << static_cast<int>(p) << ')';
}

/// A task's identity, unique within the process for its lifetime (a 64-bit counter).
class TaskId {
public:
    constexpr TaskId() noexcept = default;
    constexpr explicit TaskId(std::uint64_t v) noexcept : value_(v) {}
    constexpr std::uint64_t value() const noexcept { return value_; }
    friend constexpr auto operator<=>(TaskId, TaskId) noexcept = default;
    friend std::ostream& operator<<(std::ostream& os, TaskId id) {
        return os << "task#" << id.value_;
    }

private:
    std::uint64_t value_ = 0;
};

}  // namespace zuki

template <>
struct std::hash<zuki::TaskId> {
    std::size_t operator()(zuki::TaskId id) const noexcept {
        return std::hash<std::uint64_t>{}(id.value());
    }
};
