// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 5. ping_pong: 1,000 concurrent pairs exchanging one message each way. ns per round trip, from
//    the root task's start to the last pair's end.

#include <zuki/detail/atomic_waker.hpp>

#include <memory>
#include <utility>

#include "harness/sync.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

// A single-use channel for Zuki futures (Zuki has none yet; Tokio's oneshot in a few lines). The
// message carries no value, so the channel is only the library's one-shot handshake: send() is
// the completer, poll_recv() the poller (see zuki/detail/atomic_waker.hpp for the protocol).
class Oneshot {
public:
    void send() noexcept { signal_.complete(); }
    zuki::Poll<void> poll_recv(zuki::Context& cx) {
        if (signal_.poll_done(cx.waker())) return zuki::Poll<void>::ready();
        return zuki::Poll<void>::pending();
    }

private:
    zuki::detail::AtomicWaker signal_;
};
// Both directions of a pair in one allocation, shared by ping and pong.
struct PingPair {
    Oneshot to_pong;
    Oneshot to_ping;
};
struct Recv {
    std::shared_ptr<PingPair> pair;
    Oneshot* ch;
    zuki::Poll<void> poll(zuki::Context& cx) { return ch->poll_recv(cx); }
};
// Await recv(...), not Recv{...}: GCC 12 destroys an aggregate-initialised temporary operand of
// co_await twice (once at a wrong address); a prvalue returned by a function is fine.
Recv recv(std::shared_ptr<PingPair> pair, Oneshot* ch) { return Recv{std::move(pair), ch}; }
zuki::Async<void> zuki_pong(std::shared_ptr<PingPair> p) {
    co_await recv(p, &p->to_pong);
    p->to_ping.send();
}
zuki::Async<void> zuki_ping(zuki::WorkStealingExecutor& pool) {
    auto p = std::make_shared<PingPair>();
    pool.spawn_detached(zuki_pong(p));
    p->to_pong.send();
    co_await recv(p, &p->to_ping);
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
