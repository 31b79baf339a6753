// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/sync/mpsc.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki sync mpsc
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
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
using zuki::sync::MpscReceiver;
using zuki::sync::MpscSender;
using zuki::sync::SendStatus;
using zuki::test::CountingWaker;

BOOST_AUTO_TEST_CASE(a_capacity_of_zero_is_refused) {
    try {
        (void)zuki::sync::mpsc<int>(0);
        BOOST_FAIL("no exception");
    } catch (const std::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()) == "zuki::sync::mpsc: the capacity must be at least 1");
    }
}

BOOST_AUTO_TEST_CASE(values_arrive_in_order_and_try_send_reports_full) {
    auto [tx, rx] = zuki::sync::mpsc<int>(2);
    BOOST_TEST(tx.capacity() == 2u);
    BOOST_TEST(tx.try_send(1).sent());
    BOOST_TEST(zuki::test::block_on(tx.send(2)).sent());
    auto full = tx.try_send(3);
    BOOST_TEST(full.is_full());
    BOOST_TEST(full.value() == 3);
    BOOST_TEST(*rx.try_recv() == 1);
    BOOST_TEST(tx.try_send(3).sent());
    BOOST_TEST(*zuki::test::block_on(rx.recv()) == 2);
    BOOST_TEST(*zuki::test::block_on(rx.recv()) == 3);
    BOOST_TEST(!rx.try_recv().has_value());
    BOOST_TEST(!rx.is_closed());
}

BOOST_AUTO_TEST_CASE(a_sender_waits_while_full_and_proceeds_after_a_recv) {
    CountingWaker cw;
    zuki::Waker w = cw.make();
    Context cx(w);
    auto [tx, rx] = zuki::sync::mpsc<int>(1);
    BOOST_TEST(tx.try_send(1).sent());
    auto send = tx.send(2);
    BOOST_TEST(send.poll(cx).is_pending());  // back-pressure
    BOOST_TEST(cw.total_wakes() == 0);
    BOOST_TEST(*rx.try_recv() == 1);  // frees the cell: the waiting send is woken
    BOOST_TEST(cw.total_wakes() == 1);
    auto r = send.poll(cx);
    BOOST_REQUIRE(r.is_ready());
    BOOST_TEST(r.value().sent());
    BOOST_TEST(*rx.try_recv() == 2);
}

BOOST_AUTO_TEST_CASE(recv_yields_nothing_once_every_sender_is_gone_and_the_channel_drained) {
    CountingWaker cw;
    zuki::Waker w = cw.make();
    Context cx(w);
    auto [tx, rx] = zuki::sync::mpsc<int>(4);
    MpscSender<int> tx2 = tx;
    BOOST_TEST(tx.try_send(1).sent());
    tx.reset();
    auto recv = rx.recv();
    auto p = recv.poll(cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(*p.value() == 1);
    auto recv2 = rx.recv();
    BOOST_TEST(recv2.poll(cx).is_pending());  // tx2 is still there
    BOOST_TEST(tx2.try_send(2).sent());
    BOOST_TEST(cw.total_wakes() == 1);
    tx2 = MpscSender<int>(tx2);  // a copy replaces it: still one sender
    BOOST_TEST(!rx.is_closed());
    { auto gone = std::move(tx2); }  // the last sender
    BOOST_TEST(rx.is_closed());
    auto q = recv2.poll(cx);
    BOOST_REQUIRE(q.is_ready());
    BOOST_TEST(*q.value() == 2);  // queued values are still delivered
    BOOST_TEST(!zuki::test::block_on(rx.recv()).has_value());
}

BOOST_AUTO_TEST_CASE(dropping_the_receiver_fails_pending_and_later_sends_with_the_value_back) {
    CountingWaker cw;
    zuki::Waker w = cw.make();
    Context cx(w);
    zuki::test::DropRegistry reg(3);
    auto [tx, rx] = zuki::sync::mpsc<zuki::test::DropCounter>(1);
    BOOST_TEST(tx.try_send(zuki::test::DropCounter(reg, 0)).sent());
    auto send = tx.send(zuki::test::DropCounter(reg, 1));
    BOOST_TEST(send.poll(cx).is_pending());
    { auto gone = std::move(rx); }
    BOOST_TEST(reg.drops(0) == 1);  // the queued value went with the receiver
    BOOST_TEST(cw.total_wakes() == 1);
    auto r = send.poll(cx);
    BOOST_REQUIRE(r.is_ready());
    BOOST_TEST(r.value().is_closed());
    BOOST_TEST(reg.live(1) == 1);  // given back, alive in the result
    BOOST_TEST(tx.is_closed());
    BOOST_TEST(tx.try_send(zuki::test::DropCounter(reg, 2)).is_closed());
}

BOOST_AUTO_TEST_CASE(a_dropped_pending_send_loses_nothing_and_keeps_no_cell) {
    CountingWaker cw1, cw2;
    zuki::Waker w1 = cw1.make(), w2 = cw2.make();
    Context cx1(w1), cx2(w2);
    auto [tx, rx] = zuki::sync::mpsc<int>(1);
    BOOST_TEST(tx.try_send(1).sent());
    std::optional<MpscSender<int>::Send> a(tx.send(2));
    auto b = tx.send(3);
    BOOST_TEST(a->poll(cx1).is_pending());
    BOOST_TEST(b.poll(cx2).is_pending());
    a.reset();  // cancelled before it got a cell: `2` is never sent
    BOOST_TEST(*rx.try_recv() == 1);  // the cell goes to `b`
    BOOST_TEST(cw2.total_wakes() == 1);
    BOOST_TEST(b.poll(cx2).is_ready());
    BOOST_TEST(*rx.try_recv() == 3);
    BOOST_TEST(!rx.try_recv().has_value());
    {
        std::optional<MpscSender<int>::Send> c(tx.send(4));
        BOOST_TEST(c->poll(cx1).is_ready());  // room: sent in its first poll
    }
    BOOST_TEST(*rx.try_recv() == 4);
    // A send granted its cell but dropped before seeing it hands the cell on.
    BOOST_TEST(tx.try_send(5).sent());
    {
        auto d = tx.send(6);
        BOOST_TEST(d.poll(cx1).is_pending());
        BOOST_TEST(*rx.try_recv() == 5);  // grants the cell to `d`, which is dropped unseen
    }
    BOOST_TEST(tx.try_send(7).sent());  // the cell came back
    BOOST_TEST(*rx.try_recv() == 7);
}

BOOST_AUTO_TEST_CASE(a_dropped_pending_recv_loses_no_value) {
    CountingWaker cw;
    zuki::Waker w = cw.make();
    Context cx(w);
    auto [tx, rx] = zuki::sync::mpsc<int>(2);
    {
        auto r = rx.recv();
        BOOST_TEST(r.poll(cx).is_pending());
        BOOST_TEST(tx.try_send(1).sent());  // wakes `r`, which is dropped unpolled
        BOOST_TEST(cw.total_wakes() == 1);
    }
    auto r2 = rx.recv();
    auto p = r2.poll(cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(*p.value() == 1);
}

namespace {
Async<void> produce(MpscSender<std::size_t> tx, std::size_t producer, std::size_t per) {
    for (std::size_t i = 0; i < per; ++i) {
        auto r = co_await tx.send(producer * per + i);
        if (!r.sent()) throw std::runtime_error("receiver gone");
    }
}
Async<std::size_t> consume(MpscReceiver<std::size_t> rx, std::vector<int>& seen, std::size_t per) {
    std::vector<std::size_t> next(seen.size() / per, 0);
    std::size_t n = 0;
    while (std::optional<std::size_t> v = co_await rx.recv()) {
        ++seen[*v];
        const std::size_t p = *v / per;
        if (*v % per != next[p]) throw std::runtime_error("out of order within a producer");
        ++next[p];
        ++n;
    }
    co_return n;
}
}  // namespace

BOOST_AUTO_TEST_CASE(many_producers_on_the_pool_deliver_every_value_exactly_once) {
    zuki::test::Watchdog wd(240s, "mpsc stress on the pool");
    const std::size_t producers = 8;
    const std::size_t per = 2000 * zuki::test::stress_scale();
    std::vector<int> seen(producers * per, 0);
    std::size_t got = 0;
    {
        zuki::WorkStealingExecutor pool(std::size_t{4});
        auto [tx, rx] = zuki::sync::mpsc<std::size_t>(4);  // small: lots of back-pressure
        auto consumer = pool.spawn(consume(std::move(rx), seen, per));
        std::vector<zuki::JoinHandle<void>> hs;
        for (std::size_t p = 0; p < producers; ++p) hs.push_back(pool.spawn(produce(tx, p, per)));
        tx.reset();
        for (auto& h : hs) h.get();
        got = consumer.get();
    }
    BOOST_TEST(got == producers * per);
    std::size_t wrong = 0;
    for (int s : seen) wrong += s != 1;
    BOOST_TEST(wrong == 0u);  // each value exactly once
}

BOOST_AUTO_TEST_CASE(plain_threads_send_and_receive_with_block_on) {
    zuki::test::Watchdog wd(240s, "mpsc plain threads");
    const std::size_t producers = 4;
    const std::size_t per = 2000 * zuki::test::stress_scale();
    std::vector<int> seen(producers * per, 0);
    auto [tx, rx] = zuki::sync::mpsc<std::size_t>(3);
    std::atomic<int> not_sent{0};  // Boost.Test assertions are for the main thread only
    std::vector<std::thread> ts;
    for (std::size_t p = 0; p < producers; ++p)
        ts.emplace_back([tx = tx, p, per, &not_sent]() mutable {
            for (std::size_t i = 0; i < per; ++i) {
                if (i % 2 == 0) {
                    if (!zuki::test::block_on(tx.send(p * per + i)).sent()) not_sent.fetch_add(1);
                } else {
                    auto r = tx.try_send(p * per + i);
                    while (r.is_full()) r = tx.try_send(std::move(r).value());
                    if (!r.sent()) not_sent.fetch_add(1);
                }
            }
        });
    tx.reset();
    std::size_t n = zuki::test::block_on(consume(std::move(rx), seen, per));
    for (auto& t : ts) t.join();
    BOOST_TEST(not_sent.load() == 0);
    BOOST_TEST(n == producers * per);
    std::size_t wrong = 0;
    for (int s : seen) wrong += s != 1;
    BOOST_TEST(wrong == 0u);
}

BOOST_AUTO_TEST_CASE(the_single_threaded_executor_runs_producer_and_consumer) {
    zuki::SingleThreadedExecutor ex;
    const std::size_t per = 500;
    std::vector<int> seen(2 * per, 0);
    auto [tx, rx] = zuki::sync::mpsc<std::size_t>(1);
    ex.spawn_detached(produce(tx, 0, per));
    ex.spawn_detached(produce(tx, 1, per));
    tx.reset();
    BOOST_TEST(ex.block_on(consume(std::move(rx), seen, per)) == 2 * per);
}
