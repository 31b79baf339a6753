// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki runtime work_stealing_executor wake_storm
#include <boost/test/unit_test.hpp>

// Wake storms: four threads wake one task over and over (by reference and by value) while it is
// idle, queued and running; it is never polled concurrently and never polled more often than
// it was woken.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "common/pool_helpers.hpp"
#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::Context;
using zuki::Poll;
using zuki::WorkStealingExecutor;
using zuki::test::sanitized;
using zuki::test::spin_for;
using zuki::test::stress_scale;

namespace {

struct StormState {
    std::atomic<bool> in_poll{false};
    std::atomic<int> overlaps{0};
    std::atomic<std::uint64_t> polls{0};
    std::atomic<bool> finish{false};
    std::mutex m;
    std::optional<zuki::Waker> waker;  // guarded by m
    std::atomic<bool> have_waker{false};
};

class StormFuture {
public:
    explicit StormFuture(std::shared_ptr<StormState> s) : s_(std::move(s)) {}
    Poll<std::uint64_t> poll(Context& cx) {
        // acq_rel: an overlapping poll on another thread would see `true` here.
        if (s_->in_poll.exchange(true, std::memory_order_acq_rel))
            s_->overlaps.fetch_add(1, std::memory_order_relaxed);
        const std::uint64_t n = s_->polls.fetch_add(1, std::memory_order_relaxed) + 1;
        spin_for(1us);  // widen the window for wakes that arrive while running
        if (!s_->have_waker.load(std::memory_order_relaxed)) {
            std::lock_guard lock(s_->m);
            s_->waker.emplace(cx.waker());
            // release: pairs with the storm threads' acquire load.
            s_->have_waker.store(true, std::memory_order_release);
        }
        // acquire: pairs with the release store of the final flag.
        const bool fin = s_->finish.load(std::memory_order_acquire);
        // release: pairs with the exchange above on the next poll.
        s_->in_poll.store(false, std::memory_order_release);
        if (fin) return Poll<std::uint64_t>::ready(n);
        return Poll<std::uint64_t>::pending();
    }

private:
    std::shared_ptr<StormState> s_;
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_wake_storm_never_polls_a_task_concurrently) {
    zuki::test::Watchdog w(120s, "wake storm");
    const int per_thread = (sanitized ? 2'000 : 10'000) * static_cast<int>(stress_scale());
    WorkStealingExecutor ex(4);
    auto s = std::make_shared<StormState>();
    auto h = ex.spawn(StormFuture(s));
    std::vector<std::thread> storm;
    for (int k = 0; k < 4; ++k) {
        storm.emplace_back([&, k] {
            while (!s->have_waker.load(std::memory_order_acquire)) std::this_thread::yield();
            zuki::Waker mine = [&] {
                std::lock_guard lock(s->m);
                return *s->waker;  // a clone
            }();
            for (int i = 0; i < per_thread; ++i) {
                if ((i + k) % 2 == 0) {
                    mine.wake_by_ref();
                } else {
                    zuki::Waker c = mine;  // clone, wake by value
                    c.wake();
                }
                if (i % 16 == 15) {
                    // Let polls interleave with the storm: wait (briefly) for the next poll, so
                    // wakes land while the task is idle, queued and running alike.
                    const std::uint64_t p = s->polls.load(std::memory_order_relaxed);
                    const auto until = std::chrono::steady_clock::now() + 2ms;
                    while (s->polls.load(std::memory_order_relaxed) == p &&
                           std::chrono::steady_clock::now() < until)
                        std::this_thread::yield();
                }
            }
        });
    }
    for (auto& t : storm) t.join();
    BOOST_TEST(!h.is_finished());
    s->finish.store(true, std::memory_order_release);
    {
        std::lock_guard lock(s->m);
        s->waker->wake_by_ref();
    }
    const std::uint64_t polls = h.get();
    BOOST_TEST(s->overlaps.load() == 0);
    BOOST_TEST(polls >= 2u);
    BOOST_TEST(polls <= static_cast<std::uint64_t>(4 * per_thread + 2));
    std::cout << "wake storm: " << 4 * per_thread << " wakes, " << polls << " polls\n";
    {
        std::lock_guard lock(s->m);
        s->waker.reset();
    }
}
