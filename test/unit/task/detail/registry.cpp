// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/task/detail/registry.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki task detail registry
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "common/watchdog.hpp"

// The registry stores TaskHeader pointers and never dereferences them: the tests use distinct
// addresses inside an array as stand-ins.

using zuki::detail::TaskHeader;
using zuki::detail::TaskRegistry;

namespace {

int stress_scale() {
    const char* s = std::getenv("ZUKI_STRESS_SCALE");
    const int v = s ? std::atoi(s) : 1;
    return v > 0 ? v : 1;
}

/// `n` distinct fake task pointers, and the way back from a pointer to its number.
class FakeTasks {
public:
    explicit FakeTasks(std::size_t n) : storage_(std::make_unique<Slot[]>(n)), n_(n) {}
    TaskHeader* operator[](std::size_t i) const {
        return reinterpret_cast<TaskHeader*>(&storage_[i]);
    }
    std::size_t index_of(TaskHeader* t) const {
        return static_cast<std::size_t>(reinterpret_cast<Slot*>(t) - storage_.get());
    }
    std::size_t size() const { return n_; }

private:
    struct alignas(64) Slot {
        unsigned char pad[64];
    };
    std::unique_ptr<Slot[]> storage_;
    std::size_t n_;
};

std::vector<TaskHeader*> drain_all(TaskRegistry& r) {
    std::vector<TaskHeader*> out;
    r.drain([&](TaskHeader* t) { out.push_back(t); });
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(insert_gives_fresh_indices_and_remove_takes_each_once) {
    TaskRegistry r;
    FakeTasks tasks(3);
    const auto a = r.insert(tasks[0]);
    const auto b = r.insert(tasks[1]);
    const auto c = r.insert(tasks[2]);
    BOOST_TEST(a == 0u);
    BOOST_TEST(b == 1u);
    BOOST_TEST(c == 2u);
    BOOST_TEST(r.remove(b));
    BOOST_TEST(!r.remove(b));  // already taken
    const auto left = drain_all(r);
    BOOST_TEST(left.size() == 2u);
    BOOST_TEST((std::set<TaskHeader*>(left.begin(), left.end()) ==
                std::set<TaskHeader*>{tasks[0], tasks[2]}));
}

BOOST_AUTO_TEST_CASE(a_removed_index_is_reused) {
    TaskRegistry r;
    FakeTasks tasks(4);
    const auto a = r.insert(tasks[0]);
    const auto b = r.insert(tasks[1]);
    BOOST_TEST(r.remove(a));
    BOOST_TEST(r.remove(b));
    // The free list is a stack: the last index freed comes back first.
    BOOST_TEST(r.insert(tasks[2]) == b);
    BOOST_TEST(r.insert(tasks[3]) == a);
    BOOST_TEST(r.insert(tasks[0]) == 2u);  // free list empty again: a fresh index
    BOOST_TEST(drain_all(r).size() == 3u);
}

BOOST_AUTO_TEST_CASE(drain_hands_over_every_live_task_once_and_remove_then_fails) {
    TaskRegistry r;
    constexpr std::size_t n = 1000;  // spans several chunks (256, 512, ...)
    FakeTasks tasks(n);
    std::vector<std::uint32_t> idx(n);
    for (std::size_t i = 0; i < n; ++i) idx[i] = r.insert(tasks[i]);
    for (std::size_t i = 0; i < n; i += 3) BOOST_TEST(r.remove(idx[i]));
    std::vector<int> seen(n, 0);
    for (TaskHeader* t : drain_all(r)) ++seen[tasks.index_of(t)];
    for (std::size_t i = 0; i < n; ++i) BOOST_TEST(seen[i] == (i % 3 == 0 ? 0 : 1));
    for (std::size_t i = 1; i < n; i += 3) BOOST_TEST(!r.remove(idx[i]));  // the drainer took it
    BOOST_TEST(drain_all(r).empty());
}

BOOST_AUTO_TEST_CASE(concurrent_insert_remove_exactly_once_with_unique_indices) {
    zuki::test::Watchdog dog(std::chrono::seconds(120), "registry insert/remove race");
    constexpr int threads = 4;
    const int per_thread = 100'000 * stress_scale();
    constexpr std::size_t batch = 64;  // each thread holds up to this many live entries
    TaskRegistry r;
    FakeTasks tasks(threads * batch);
    // owner[idx]: which fake task holds index idx now (+1; 0 = free). Live entries never exceed
    // threads * batch, so neither do indices.
    std::vector<std::atomic<std::size_t>> owner(threads * batch);
    std::atomic<int> duplicate_index{0}, failed_remove{0}, out_of_range{0};

    std::vector<std::thread> ts;
    for (int th = 0; th < threads; ++th) {
        ts.emplace_back([&, th] {
            std::vector<std::uint32_t> held;
            held.reserve(batch);
            int done = 0;
            while (done < per_thread) {
                for (std::size_t k = 0; k < batch && done < per_thread; ++k, ++done) {
                    const std::size_t id = static_cast<std::size_t>(th) * batch + k;
                    const std::uint32_t idx = r.insert(tasks[id]);
                    if (idx >= owner.size()) {
                        out_of_range.fetch_add(1);
                        continue;
                    }
                    if (owner[idx].exchange(id + 1, std::memory_order_relaxed) != 0)
                        duplicate_index.fetch_add(1);
                    held.push_back(idx);
                }
                for (std::uint32_t idx : held) {
                    // Clear ownership before remove(): after it, another thread may get idx.
                    owner[idx].store(0, std::memory_order_relaxed);
                    if (!r.remove(idx)) failed_remove.fetch_add(1);
                }
                held.clear();
            }
        });
    }
    for (auto& t : ts) t.join();
    BOOST_TEST(duplicate_index.load() == 0);
    BOOST_TEST(failed_remove.load() == 0);
    BOOST_TEST(out_of_range.load() == 0);
    BOOST_TEST(drain_all(r).empty());
}

BOOST_AUTO_TEST_CASE(drain_after_concurrent_removes_finds_exactly_the_survivors) {
    zuki::test::Watchdog dog(std::chrono::seconds(120), "registry drain after removes");
    constexpr int threads = 4;
    const std::size_t per_thread = 20'000 * static_cast<std::size_t>(stress_scale());
    TaskRegistry r;
    FakeTasks tasks(threads * per_thread);
    std::vector<std::uint32_t> idx(tasks.size());
    {
        std::vector<std::thread> ts;
        for (int th = 0; th < threads; ++th) {
            ts.emplace_back([&, th] {
                const std::size_t base = static_cast<std::size_t>(th) * per_thread;
                for (std::size_t i = 0; i < per_thread; ++i)
                    idx[base + i] = r.insert(tasks[base + i]);
                // Remove every other one, while the other threads still insert.
                for (std::size_t i = 0; i < per_thread; i += 2) (void)r.remove(idx[base + i]);
            });
        }
        for (auto& t : ts) t.join();
    }
    std::vector<int> seen(tasks.size(), 0);
    for (TaskHeader* t : drain_all(r)) ++seen[tasks.index_of(t)];
    int wrong = 0;
    for (std::size_t i = 0; i < tasks.size(); ++i)
        if (seen[i] != ((i % per_thread) % 2 == 0 ? 0 : 1)) ++wrong;
    BOOST_TEST(wrong == 0);
}
