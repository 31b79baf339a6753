// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 5. ping_pong: 1,000 concurrent pairs exchanging one message each way. ns per round trip, from
//    the root task's start to the last pair's end.

#include <zuki/sync/oneshot.hpp>

#include <utility>

#include "harness/sync.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

// The message carries no data: one zuki::sync::oneshot per direction.
struct Ball {};
using BallSender = zuki::sync::OneshotSender<Ball>;
using BallReceiver = zuki::sync::OneshotReceiver<Ball>;

zuki::Async<void> zuki_pong(BallReceiver from_ping, BallSender to_ping) {
    co_await std::move(from_ping);
    (void)to_ping.send(Ball{});
}
zuki::Async<void> zuki_ping(zuki::WorkStealingExecutor& pool) {
    auto to_pong = zuki::sync::oneshot<Ball>();
    auto to_ping = zuki::sync::oneshot<Ball>();
    pool.spawn_detached(zuki_pong(std::move(to_pong.second), std::move(to_ping.first)));
    (void)to_pong.first.send(Ball{});
    co_await std::move(to_ping.second);
    arrive();
}
zuki::Async<void> zuki_ping_root(zuki::WorkStealingExecutor& pool) {
    S.t0.store(now_ns(), std::memory_order_relaxed);
    for (int i = 0; i < ping_pairs; ++i) pool.spawn_detached(zuki_ping(pool));
    co_return;
}
double ping_pong(ZukiImpl z) {
    S.done.reset(ping_pairs);
    z.pool.spawn_detached(zuki_ping_root(z.pool));
    const auto t1 = S.done.wait("ping_pong");
    return per_op(S.t0.load(), t1, ping_pairs);
}
template <class Ex>
double ping_pong(AsioImpl<Ex> a) {  // ping posts pong (the message), pong posts the reply
    S.done.reset(ping_pairs);
    boost::asio::post(a.ex, [ex = a.ex] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        for (int i = 0; i < ping_pairs; ++i)
            boost::asio::post(ex, [ex] {
                boost::asio::post(ex, [ex] { boost::asio::post(ex, [] { arrive(); }); });
            });
    });
    const auto t1 = S.done.wait("ping_pong");
    return per_op(S.t0.load(), t1, ping_pairs);
}
double ping_pong(TbbImpl t) {  // the same three task spawns per pair, with task_group::run
    S.done.reset(ping_pairs);
    t.arena.enqueue([] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        tbb::task_group tg;
        for (int i = 0; i < ping_pairs; ++i)
            tg.run([&tg] { tg.run([&tg] { tg.run([] { arrive(); }); }); });
        tg.wait();
    });
    const auto t1 = S.done.wait("ping_pong");
    return per_op(S.t0.load(), t1, ping_pairs);
}

}  // namespace

void add_ping_pong(Suite& s) {
    s.add("ping_pong",
          {make_row("ping_pong", "ns/round trip", Dir::lower, TargetKind::vs_best, 0.5, "<= 0.5",
                    every_backend())},
          s.reps_short, every_backend(), s.single([](auto impl) { return ping_pong(impl); }));
}

}  // namespace zuki_bench
