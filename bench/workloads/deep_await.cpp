// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// deep_await: 20 tasks, each a chain of 1,000 coroutines awaiting each other, whose innermost
// yields 1,000 times (issue 15, item 1: what a wake costs at depth). ns per yield, comparable
// with yield_many's (depth 1). On zuki, `Async`s awaiting `Async`s; on zuki_asio and the Asio
// anchors, `boost::asio::awaitable`s awaiting each other in one `co_spawn`, the innermost
// yielding with `co_await boost::asio::post(ex, use_awaitable)`. oneTBB has no coroutines: no
// column.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "harness/sync.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

constexpr int deep_tasks = 20;
constexpr int deep_levels = 1'000;
constexpr int deep_yields = 1'000;

zuki::Async<int> zuki_level(int n) {
    if (n == 0) {
        for (int i = 0; i < deep_yields; ++i) co_await zuki::yield_now();
        co_return 0;
    }
    co_return 1 + co_await zuki_level(n - 1);
}
zuki::Async<void> zuki_chain() {
    (void)co_await zuki_level(deep_levels);
    arrive();
}
double deep_await(ZukiImpl z) {
    S.done.reset(deep_tasks);
    const auto t0 = now_ns();
    for (int i = 0; i < deep_tasks; ++i) z.pool.spawn_detached(zuki_chain());
    return per_op(t0, S.done.wait("deep_await"), double(deep_tasks) * deep_yields);
}

template <class Ex>
boost::asio::awaitable<int> asio_level(Ex ex, int n) {
    if (n == 0) {
        for (int i = 0; i < deep_yields; ++i)
            co_await boost::asio::post(ex, boost::asio::use_awaitable);
        co_return 0;
    }
    co_return 1 + co_await asio_level(ex, n - 1);
}
template <class Ex>
boost::asio::awaitable<void> asio_chain(Ex ex) {
    (void)co_await asio_level(ex, deep_levels);
    arrive();
}
template <class Ex>
double deep_await(AsioImpl<Ex> a) {
    S.done.reset(deep_tasks);
    const auto t0 = now_ns();
    for (int i = 0; i < deep_tasks; ++i) {
        boost::asio::co_spawn(a.ex, asio_chain(a.ex), boost::asio::detached);
    }
    return per_op(t0, S.done.wait("deep_await"), double(deep_tasks) * deep_yields);
}
double deep_await(TbbImpl) { return 0; }  // not run: no coroutines

std::vector<Backend> coroutine_backends() {
    return {Backend::zuki, Backend::zuki_asio, Backend::asio_tp, Backend::io_context};
}

}  // namespace

void add_deep_await(Suite& s) {
    s.add("deep_await",
          {make_row("deep_await_1000", "ns/yield", Dir::lower, TargetKind::vs_best, 1.0, "<= 1.0",
                    coroutine_backends())},
          s.reps_short, coroutine_backends(), s.single([](auto impl) { return deep_await(impl); }));
}

}  // namespace zuki_bench
