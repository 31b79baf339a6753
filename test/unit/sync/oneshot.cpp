// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/sync/oneshot.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki sync oneshot
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <zuki/core/async.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>

#include "common/block_on.hpp"
#include "common/counting_waker.hpp"
#include "common/drop_counter.hpp"
#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::Async;
using zuki::Context;
using zuki::sync::RecvError;
using zuki::test::CountingWaker;

BOOST_AUTO_TEST_CASE(a_value_sent_before_the_poll_is_received_at_once) {
    auto [tx, rx] = zuki::sync::oneshot<std::string>();
    BOOST_TEST(tx.send("hello").sent());
    BOOST_TEST(zuki::test::block_on(std::move(rx)) == "hello");
    BOOST_CHECK_THROW((void)tx.send("again"), std::logic_error);  // one shot
}

BOOST_AUTO_TEST_CASE(a_pending_receiver_is_woken_once_by_the_send) {
    CountingWaker cw;
    zuki::Waker w = cw.make();
    Context cx(w);
    auto [tx, rx] = zuki::sync::oneshot<int>();
    BOOST_TEST(rx.poll(cx).is_pending());
    BOOST_TEST(!rx.try_recv().has_value());
    BOOST_TEST(tx.send(5).sent());
    BOOST_TEST(cw.total_wakes() == 1);
    auto p = rx.poll(cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value() == 5);
    BOOST_CHECK_THROW((void)rx.poll(cx), std::logic_error);  // polled after completion
}

BOOST_AUTO_TEST_CASE(dropping_the_sender_without_sending_fails_the_receiver) {
    CountingWaker cw;
    zuki::Waker w = cw.make();
    Context cx(w);
    auto [tx, rx] = zuki::sync::oneshot<int>();
    BOOST_TEST(rx.poll(cx).is_pending());
    { auto gone = std::move(tx); }
    BOOST_TEST(cw.total_wakes() == 1);
    BOOST_CHECK_THROW((void)rx.poll(cx), RecvError);
}

BOOST_AUTO_TEST_CASE(sending_to_a_dropped_receiver_gives_the_value_back) {
    auto [tx, rx] = zuki::sync::oneshot<std::unique_ptr<int>>();
    BOOST_TEST(!tx.is_closed());
    { auto gone = std::move(rx); }
    BOOST_TEST(tx.is_closed());
    auto r = tx.send(std::make_unique<int>(9));
    BOOST_TEST(r.is_closed());
    BOOST_TEST(*r.value() == 9);
}

BOOST_AUTO_TEST_CASE(a_value_sent_to_a_receiver_dropped_later_is_destroyed_once) {
    zuki::test::DropRegistry reg(1);
    {
        auto [tx, rx] = zuki::sync::oneshot<zuki::test::DropCounter>();
        BOOST_TEST(tx.send(zuki::test::DropCounter(reg, 0)).sent());
        (void)rx;  // dropped with the value in it, never polled
    }
    BOOST_TEST(reg.created(0) == 1);
    BOOST_TEST(reg.drops(0) == 1);
}

BOOST_AUTO_TEST_CASE(a_dropped_pending_receiver_releases_its_waker) {
    CountingWaker cw;
    zuki::Waker w = cw.make();
    Context cx(w);
    auto [tx, rx] = zuki::sync::oneshot<int>();
    BOOST_TEST(rx.poll(cx).is_pending());
    { auto gone = std::move(rx); }
    BOOST_TEST(cw.live() == 1);  // only `w`
    BOOST_TEST(tx.send(1).is_closed());
    BOOST_TEST(cw.total_wakes() == 0);
}

BOOST_AUTO_TEST_CASE(send_and_receive_race_across_threads_without_loss) {
    zuki::test::Watchdog wd(120s, "oneshot race");
    const int n = 5000 * static_cast<int>(zuki::test::stress_scale());
    for (int i = 0; i < n; ++i) {
        auto [tx, rx] = zuki::sync::oneshot<int>();
        std::thread t([tx = std::move(tx), i]() mutable { (void)tx.send(i); });
        BOOST_REQUIRE(zuki::test::block_on(std::move(rx)) == i);
        t.join();
    }
}

BOOST_AUTO_TEST_CASE(tasks_on_both_executors_await_a_oneshot) {
    zuki::test::Watchdog wd(120s, "oneshot on executors");
    {
        zuki::WorkStealingExecutor pool(std::size_t{2});
        std::vector<zuki::JoinHandle<int>> hs;
        std::vector<zuki::sync::OneshotSender<int>> txs;
        for (int i = 0; i < 100; ++i) {
            auto [tx, rx] = zuki::sync::oneshot<int>();
            txs.push_back(std::move(tx));
            hs.push_back(pool.spawn([](zuki::sync::OneshotReceiver<int> rx) -> Async<int> {
                co_return co_await std::move(rx) * 2;
            }(std::move(rx))));
        }
        for (int i = 0; i < 100; ++i) BOOST_TEST(txs[i].send(i).sent());
        for (int i = 0; i < 100; ++i) BOOST_TEST(hs[i].get() == 2 * i);
    }
    zuki::SingleThreadedExecutor ex;
    auto [tx, rx] = zuki::sync::oneshot<int>();
    auto h = ex.spawn([](zuki::sync::OneshotReceiver<int> rx) -> Async<int> {
        try {
            co_return co_await std::move(rx);
        } catch (const RecvError&) {
            co_return -1;
        }
    }(std::move(rx)));
    (void)ex.poll();
    { auto gone = std::move(tx); }
    BOOST_TEST(ex.block_on(std::move(h)) == -1);
}
