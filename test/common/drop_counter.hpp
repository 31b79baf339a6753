// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::test::DropRegistry` and `zuki::test::DropCounter`: count live instances and
/// destructions per id, for leak and exactly-once checks.

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace zuki::test {

/// Per-id counters shared by the `DropCounter`s made from it. Must outlive them.
///
/// @code
/// zuki::test::DropRegistry reg(100);
/// { auto f = make_future_holding(zuki::test::DropCounter(reg, 7)); }
/// BOOST_TEST(reg.live(7) == 0);
/// BOOST_TEST(reg.drops(7) == 1);       // destroyed exactly once
/// @endcode
///
/// Thread safety: counters are atomics; instances may be made and destroyed on any thread.
/// Reads give exact values once the test synchronised with the threads that made or destroyed
/// instances (join, a future's completion, ...).
class DropRegistry {
public:
    explicit DropRegistry(std::size_t ids)
        : size_(ids), created_(std::make_unique<std::atomic<std::int64_t>[]>(ids)),
          dropped_(std::make_unique<std::atomic<std::int64_t>[]>(ids)) {
        for (std::size_t i = 0; i < ids; ++i) {
            created_[i].store(0, std::memory_order_relaxed);
            dropped_[i].store(0, std::memory_order_relaxed);
        }
    }

    std::size_t size() const noexcept { return size_; }
    /// Instances of `id` constructed (not counting moves).
    std::int64_t created(std::size_t id) const noexcept {
        // relaxed: a counter; the test synchronises with the threads that bumped it.
        return created_[id].load(std::memory_order_relaxed);
    }
    /// Instances of `id` destroyed (moved-from shells do not count).
    std::int64_t drops(std::size_t id) const noexcept {
        // relaxed: as in created().
        return dropped_[id].load(std::memory_order_relaxed);
    }
    /// Instances of `id` alive now.
    std::int64_t live(std::size_t id) const noexcept { return created(id) - drops(id); }
    /// Instances alive now, over all ids.
    std::int64_t total_live() const noexcept {
        std::int64_t n = 0;
        for (std::size_t i = 0; i < size_; ++i) n += live(i);
        return n;
    }

private:
    friend class DropCounter;
    void on_create(std::size_t id) noexcept {
        assert(id < size_);
        // relaxed: a counter (see created()).
        created_[id].fetch_add(1, std::memory_order_relaxed);
    }
    void on_drop(std::size_t id) noexcept {
        // relaxed: a counter (see created()).
        dropped_[id].fetch_add(1, std::memory_order_relaxed);
    }

    std::size_t size_;
    std::unique_ptr<std::atomic<std::int64_t>[]> created_;
    std::unique_ptr<std::atomic<std::int64_t>[]> dropped_;
};

/// A move-only token that reports its construction and destruction to a `DropRegistry` under an
/// id. Moving transfers the token (the moved-from object becomes an empty shell that counts
/// nothing), so one logical instance is destroyed exactly once however often it moves. Put one
/// inside a future, a closure or a value to check it is destroyed, and destroyed once.
///
/// Thread safety: like any value type; the counting itself is thread-safe.
class DropCounter {
public:
    DropCounter(DropRegistry& registry, std::size_t id) noexcept : registry_(&registry), id_(id) {
        registry_->on_create(id_);
    }
    DropCounter(DropCounter&& other) noexcept
        : registry_(std::exchange(other.registry_, nullptr)), id_(other.id_) {}
    DropCounter& operator=(DropCounter&& other) noexcept {
        if (this != &other) {
            reset();
            registry_ = std::exchange(other.registry_, nullptr);
            id_ = other.id_;
        }
        return *this;
    }
    DropCounter(const DropCounter&) = delete;
    DropCounter& operator=(const DropCounter&) = delete;
    ~DropCounter() { reset(); }

    std::size_t id() const noexcept { return id_; }
    /// False for a moved-from shell.
    bool is_live() const noexcept { return registry_ != nullptr; }

private:
    void reset() noexcept {
        if (registry_) std::exchange(registry_, nullptr)->on_drop(id_);
    }
    DropRegistry* registry_;
    std::size_t id_;
};

}  // namespace zuki::test
