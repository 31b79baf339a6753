// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/sync/notify.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki sync notify
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <optional>
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
using zuki::sync::Notify;
using zuki::test::CountingWaker;

BOOST_AUTO_TEST_CASE(notify_one_with_nobody_waiting_stores_one_permit) {
    Notify n;
    n.notify_one();
    n.notify_one();  // still one permit
    CountingWaker cw;
    zuki::Waker w = cw.make();
    Context cx(w);
    Notify::Notified a = n.notified();
    BOOST_TEST(a.poll(cx).is_ready());
    Notify::Notified b = n.notified();
    BOOST_TEST(b.poll(cx).is_pending());
    n.notify_one();
    BOOST_TEST(cw.total_wakes() == 1);
    BOOST_TEST(b.poll(cx).is_ready());
}

BOOST_AUTO_TEST_CASE(notify_one_wakes_the_longest_waiting_future_only) {
    Notify n;
    CountingWaker c1, c2;
    zuki::Waker w1 = c1.make(), w2 = c2.make();
    Context cx1(w1), cx2(w2);
    Notify::Notified a = n.notified(), b = n.notified();
    BOOST_TEST(a.poll(cx1).is_pending());
    BOOST_TEST(b.poll(cx2).is_pending());
    n.notify_one();
    BOOST_TEST(c1.total_wakes() == 1);
    BOOST_TEST(c2.total_wakes() == 0);
    BOOST_TEST(a.poll(cx1).is_ready());
    BOOST_TEST(b.poll(cx2).is_pending());
    n.notify_one();
    BOOST_TEST(b.poll(cx2).is_ready());
}

BOOST_AUTO_TEST_CASE(notify_waiters_wakes_every_future_made_before_it_and_stores_nothing) {
    Notify n;
    CountingWaker c1;
    zuki::Waker w1 = c1.make();
    Context cx(w1);
    Notify::Notified polled = n.notified();
    Notify::Notified unpolled = n.notified();
    BOOST_TEST(polled.poll(cx).is_pending());
    n.notify_waiters();
    BOOST_TEST(c1.total_wakes() == 1);
    BOOST_TEST(polled.poll(cx).is_ready());
    BOOST_TEST(unpolled.poll(cx).is_ready());  // made before the call: notified too
    Notify::Notified later = n.notified();
    BOOST_TEST(later.poll(cx).is_pending());  // no permit was stored
}

BOOST_AUTO_TEST_CASE(a_dropped_future_that_was_chosen_by_notify_one_passes_it_on) {
    Notify n;
    CountingWaker c1, c2;
    zuki::Waker w1 = c1.make(), w2 = c2.make();
    Context cx1(w1), cx2(w2);
    std::optional<Notify::Notified> a(n.notified());
    Notify::Notified b = n.notified();
    BOOST_TEST(a->poll(cx1).is_pending());
    BOOST_TEST(b.poll(cx2).is_pending());
    n.notify_one();  // chooses `a`
    a.reset();  // ... which never sees it: `b` gets it
    BOOST_TEST(c2.total_wakes() == 1);
    BOOST_TEST(b.poll(cx2).is_ready());
    BOOST_TEST(c1.live() == 1);  // the dropped future's waker clone is gone
}

BOOST_AUTO_TEST_CASE(a_dropped_notified_future_with_nobody_behind_it_stores_the_permit) {
    Notify n;
    CountingWaker cw;
    zuki::Waker w = cw.make();
    Context cx(w);
    {
        Notify::Notified a = n.notified();
        BOOST_TEST(a.poll(cx).is_pending());
        n.notify_one();
    }
    Notify::Notified b = n.notified();
    BOOST_TEST(b.poll(cx).is_ready());
    {
        Notify::Notified c = n.notified();
        BOOST_TEST(c.poll(cx).is_pending());
    }  // dropped while queued: removes itself, nothing stored
    Notify::Notified d = n.notified();
    BOOST_TEST(d.poll(cx).is_pending());
    n.notify_one();
    BOOST_TEST(d.poll(cx).is_ready());
}

BOOST_AUTO_TEST_CASE(a_plain_thread_blocks_until_another_thread_notifies) {
    zuki::test::Watchdog wd(120s, "notify ping-pong between threads");
    Notify ping, pong;
    const int rounds = 2000 * static_cast<int>(zuki::test::stress_scale());
    int data = 0;  // handed over by the notifications (TSan checks the happens-before)
    int wrong = 0;  // Boost.Test assertions are for the main thread only
    std::thread t([&] {
        for (int i = 0; i < rounds; ++i) {
            zuki::test::block_on(ping.notified());
            if (data != 2 * i + 1) ++wrong;
            ++data;
            pong.notify_one();
        }
    });
    for (int i = 0; i < rounds; ++i) {
        ++data;
        ping.notify_one();
        zuki::test::block_on(pong.notified());
    }
    t.join();
    BOOST_TEST(wrong == 0);
    BOOST_TEST(data == 2 * rounds);
}

BOOST_AUTO_TEST_CASE(tasks_on_the_pool_wait_for_notify_waiters) {
    zuki::test::Watchdog wd(120s, "notify_waiters on the pool");
    Notify n;
    std::atomic<int> started{0};
    zuki::WorkStealingExecutor pool(std::size_t{3});
    std::vector<zuki::JoinHandle<int>> hs;
    for (int i = 0; i < 50; ++i)
        hs.push_back(pool.spawn([](Notify& n, std::atomic<int>& started) -> Async<int> {
            auto f = n.notified();
            started.fetch_add(1);
            co_await f;
            co_return 1;
        }(n, started)));
    while (started.load() < 50) std::this_thread::sleep_for(1ms);
    n.notify_waiters();  // every future was made before: all complete
    int sum = 0;
    for (auto& h : hs) sum += h.get();
    BOOST_TEST(sum == 50);
}

BOOST_AUTO_TEST_CASE(the_single_threaded_executor_waits_on_notified) {
    zuki::SingleThreadedExecutor ex;
    Notify n;
    auto h = ex.spawn([](Notify& n) -> Async<int> {
        co_await n.notified();
        co_return 7;
    }(n));
    (void)ex.poll();
    n.notify_one();
    BOOST_TEST(ex.block_on(std::move(h)) == 7);
}
