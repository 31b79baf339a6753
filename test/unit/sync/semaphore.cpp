// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/sync/semaphore.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki sync semaphore
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <zuki/core/async.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>

#include "common/block_on.hpp"
#include "common/counting_waker.hpp"
#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::Async;
using zuki::Context;
using zuki::sync::AcquireError;
using zuki::sync::Semaphore;
using zuki::sync::SemaphorePermit;
using zuki::test::CountingWaker;

BOOST_AUTO_TEST_CASE(free_permits_are_taken_at_once_and_given_back_by_the_permit) {
    Semaphore sem(3);
    {
        SemaphorePermit p = zuki::test::block_on(sem.acquire(2));
        BOOST_TEST(p.num_permits() == 2u);
        BOOST_TEST(sem.available_permits() == 1u);
        std::optional<SemaphorePermit> q = sem.try_acquire(2);
        BOOST_TEST(!q.has_value());
        std::optional<SemaphorePermit> r = sem.try_acquire();
        BOOST_TEST(r.has_value());
        BOOST_TEST(sem.available_permits() == 0u);
    }
    BOOST_TEST(sem.available_permits() == 3u);
}

BOOST_AUTO_TEST_CASE(forget_keeps_the_permits_and_release_adds_new_ones) {
    Semaphore sem(2);
    sem.try_acquire(2)->forget();
    BOOST_TEST(sem.available_permits() == 0u);
    sem.release(5);
    BOOST_TEST(sem.available_permits() == 5u);
    BOOST_CHECK_THROW(sem.acquire(Semaphore::max_permits + 1), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(zero_permits_are_granted_at_once_even_behind_waiters) {
    Semaphore sem(0);
    CountingWaker cw;
    zuki::Waker w = cw.make();
    Context cx(w);
    Semaphore::Acquire waiting = sem.acquire(1);
    BOOST_TEST(waiting.poll(cx).is_pending());
    BOOST_TEST(zuki::test::block_on(sem.acquire(0)).num_permits() == 0u);
    BOOST_TEST(sem.try_acquire(0).has_value());
    sem.close();
    BOOST_CHECK_THROW(zuki::test::block_on(sem.acquire(0)), AcquireError);
}

BOOST_AUTO_TEST_CASE(a_waiter_is_woken_by_a_release_and_gets_its_permits) {
    Semaphore sem(0);
    CountingWaker cw;
    zuki::Waker w = cw.make();
    Context cx(w);
    Semaphore::Acquire a = sem.acquire(2);
    BOOST_TEST(a.poll(cx).is_pending());
    sem.release(1);  // not enough yet: the waiter keeps it
    BOOST_TEST(cw.total_wakes() == 0);
    BOOST_TEST(sem.available_permits() == 0u);
    sem.release(2);  // one more than needed: it goes to the word
    BOOST_TEST(cw.total_wakes() == 1);
    BOOST_TEST(sem.available_permits() == 1u);
    {
        auto p = a.poll(cx);
        BOOST_REQUIRE(p.is_ready());
        BOOST_TEST(p.value().num_permits() == 2u);
    }
    BOOST_TEST(sem.available_permits() == 3u);
}

BOOST_AUTO_TEST_CASE(waiters_are_served_in_fifo_order_and_newcomers_do_not_overtake) {
    Semaphore sem(0);
    CountingWaker cw1, cw2;
    zuki::Waker w1 = cw1.make(), w2 = cw2.make();
    Context cx1(w1), cx2(w2);
    Semaphore::Acquire big = sem.acquire(3);
    Semaphore::Acquire small = sem.acquire(1);
    BOOST_TEST(big.poll(cx1).is_pending());
    BOOST_TEST(small.poll(cx2).is_pending());
    sem.release(2);  // both go to `big` (first), `small` waits
    BOOST_TEST(cw1.total_wakes() == 0);
    BOOST_TEST(cw2.total_wakes() == 0);
    BOOST_TEST(!sem.try_acquire(1).has_value());  // no overtaking
    sem.release(2);
    BOOST_TEST(cw1.total_wakes() == 1);
    BOOST_TEST(cw2.total_wakes() == 1);
    BOOST_TEST(big.poll(cx1).is_ready());
    BOOST_TEST(small.poll(cx2).is_ready());
    BOOST_TEST(sem.available_permits() == 4u);
}

BOOST_AUTO_TEST_CASE(a_dropped_pending_acquire_passes_its_partial_grant_to_the_next_waiter) {
    Semaphore sem(1);
    CountingWaker cw1, cw2;
    zuki::Waker w1 = cw1.make(), w2 = cw2.make();
    Context cx1(w1), cx2(w2);
    std::optional<Semaphore::Acquire> first(sem.acquire(2));  // takes the 1 free permit along
    Semaphore::Acquire second = sem.acquire(1);
    BOOST_TEST(first->poll(cx1).is_pending());
    BOOST_TEST(second.poll(cx2).is_pending());
    first.reset();  // cancelled: its permit goes to `second`
    BOOST_TEST(cw1.live() == 1);  // only w1 itself: the waiter's clone was dropped
    BOOST_TEST(cw2.total_wakes() == 1);
    BOOST_TEST(second.poll(cx2).is_ready());
    BOOST_TEST(sem.available_permits() == 1u);
}

BOOST_AUTO_TEST_CASE(a_granted_but_unseen_acquire_that_is_dropped_loses_no_permit) {
    Semaphore sem(0);
    CountingWaker cw;
    zuki::Waker w = cw.make();
    Context cx(w);
    {
        Semaphore::Acquire a = sem.acquire(2);
        BOOST_TEST(a.poll(cx).is_pending());
        sem.release(2);  // granted and woken, but never polled again
        BOOST_TEST(cw.total_wakes() == 1);
    }
    BOOST_TEST(sem.available_permits() == 2u);
    {
        Semaphore::Acquire a = sem.acquire(1);  // dropped before its first poll
    }
    BOOST_TEST(sem.available_permits() == 2u);
}

BOOST_AUTO_TEST_CASE(close_fails_pending_and_later_acquires_and_keeps_the_permits) {
    Semaphore sem(1);
    CountingWaker cw;
    zuki::Waker w = cw.make();
    Context cx(w);
    Semaphore::Acquire a = sem.acquire(3);
    BOOST_TEST(a.poll(cx).is_pending());
    sem.close();
    BOOST_TEST(sem.is_closed());
    BOOST_TEST(cw.total_wakes() == 1);
    BOOST_CHECK_THROW((void)a.poll(cx), AcquireError);
    BOOST_TEST(sem.available_permits() == 1u);  // its partial grant went back
    BOOST_CHECK_THROW(zuki::test::block_on(sem.acquire()), AcquireError);
    BOOST_TEST(!sem.try_acquire().has_value());
    try {
        zuki::test::block_on(sem.acquire());
    } catch (const AcquireError& e) {
        BOOST_TEST(std::string(e.what()) == "zuki::sync::Semaphore: the semaphore is closed");
    }
}

BOOST_AUTO_TEST_CASE(plain_threads_block_on_acquire_and_the_permit_count_is_never_exceeded) {
    zuki::test::Watchdog wd(120s, "semaphore plain threads");
    constexpr int limit = 3;
    Semaphore sem(limit);
    std::atomic<int> inside{0}, max_inside{0};
    const int rounds = 2000 * static_cast<int>(zuki::test::stress_scale());
    std::vector<std::thread> ts;
    for (int t = 0; t < 6; ++t)
        ts.emplace_back([&] {
            for (int i = 0; i < rounds / 6; ++i) {
                SemaphorePermit p = zuki::test::block_on(sem.acquire());
                const int now = inside.fetch_add(1) + 1;
                int m = max_inside.load();
                while (now > m && !max_inside.compare_exchange_weak(m, now)) {}
                if (i % 7 == 0) std::this_thread::yield();
                inside.fetch_sub(1);
            }
        });
    for (auto& t : ts) t.join();
    BOOST_TEST(max_inside.load() <= limit);
    BOOST_TEST(sem.available_permits() == static_cast<std::size_t>(limit));
}

namespace {
Async<int> guarded_increment(Semaphore& sem, int& counter) {
    SemaphorePermit p = co_await sem.acquire();
    const int v = counter;  // a data race (TSan) if two tasks were inside at once
    co_await zuki::ready();
    counter = v + 1;
    co_return 1;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_one_permit_semaphore_is_a_mutex_across_pool_workers) {
    zuki::test::Watchdog wd(120s, "semaphore as mutex on the pool");
    Semaphore sem(1);
    int counter = 0;
    const int n = 2000 * static_cast<int>(zuki::test::stress_scale());
    {
        zuki::WorkStealingExecutor pool(std::size_t{4});
        std::vector<zuki::JoinHandle<int>> hs;
        for (int i = 0; i < n; ++i) hs.push_back(pool.spawn(guarded_increment(sem, counter)));
        for (auto& h : hs) BOOST_TEST(h.get() == 1);
    }
    BOOST_TEST(counter == n);
    BOOST_TEST(sem.available_permits() == 1u);
}

BOOST_AUTO_TEST_CASE(the_single_threaded_executor_waits_on_a_semaphore) {
    zuki::SingleThreadedExecutor ex;
    Semaphore sem(0);
    auto h = ex.spawn([](Semaphore& s) -> Async<std::size_t> {
        SemaphorePermit p = co_await s.acquire(2);
        co_return p.num_permits();
    }(sem));
    (void)ex.poll();  // runs the task until it waits
    sem.release(2);
    BOOST_TEST(ex.block_on(std::move(h)) == 2u);
}
