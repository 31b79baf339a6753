// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// hello_priorities: spawn tasks of every priority on a SingleThreadedExecutor and watch them run
// Critical first, then High, Normal and Low — first come, first served within a level.

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/task/task_priority.hpp>

namespace {

/// A future that prints its name and the priority it was spawned with when it runs.
struct Hello {
    std::string name;
    zuki::TaskPriority priority;
    std::vector<std::string>* order;
    zuki::Poll<void> poll(zuki::Context&) {
        const char* level = priority == zuki::TaskPriority::Critical ? "Critical"
                            : priority == zuki::TaskPriority::High   ? "High"
                            : priority == zuki::TaskPriority::Normal ? "Normal"
                                                                     : "Low";
        std::printf("  %-8s %s\n", level, name.c_str());
        order->push_back(name);
        return zuki::Poll<void>::ready();
    }
};

}  // namespace

int main() {
    using zuki::TaskPriority;
    std::vector<std::string> order;
    zuki::SingleThreadedExecutor ex;

    // Spawned in this order...
    const std::pair<const char*, TaskPriority> tasks[] = {
        {"tidy the logs", TaskPriority::Low},     {"answer a request", TaskPriority::Normal},
        {"heartbeat", TaskPriority::High},        {"shut the valve", TaskPriority::Critical},
        {"answer another", TaskPriority::Normal}, {"compact the cache", TaskPriority::Low},
        {"renew the lease", TaskPriority::High},
    };
    std::printf("spawned:\n");
    for (const auto& [name, prio] : tasks) {
        std::printf("  %s\n", name);
        ex.spawn(Hello{name, prio, &order}, prio).detach();
    }
    // (spawn_high / spawn_low are shorthands)
    ex.spawn_high(Hello{"spawn_high", TaskPriority::High, &order}).detach();
    ex.spawn_low(Hello{"spawn_low", TaskPriority::Low, &order}).detach();

    // ...run by priority.
    std::printf("ran:\n");
    ex.run();

    const std::vector<std::string> expected = {
        "shut the valve", "heartbeat",     "renew the lease",   "spawn_high", "answer a request",
        "answer another", "tidy the logs", "compact the cache", "spawn_low"};
    if (order != expected) {
        std::printf("unexpected order\n");
        return 1;
    }
    std::printf("%zu tasks ran in priority order; task_count() = %zu\n", order.size(),
                ex.task_count());
    return 0;
}
