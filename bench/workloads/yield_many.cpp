// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 4. yield_many: 200 tasks each yielding 1,000 times. ns per yield.

#include "harness/sync.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

zuki::Async<void> zuki_yielder() {
    for (int i = 0; i < yields_per_task; ++i) co_await zuki::yield_now();
    arrive();
}
double yield_many(ZukiImpl z) {
    S.done.reset(yield_tasks);
    const auto t0 = now_ns();
    for (int i = 0; i < yield_tasks; ++i) z.pool.spawn_detached(zuki_yielder());
    return per_op(t0, S.done.wait("yield_many"), double(yield_tasks) * yields_per_task);
}
template <class Ex>
struct AsioYielder {  // "yield" = re-post itself
    Ex ex;
    int left;
    void operator()() {
        if (left-- == 0) return arrive();
        boost::asio::post(ex, std::move(*this));
    }
};
template <class Ex>
double yield_many(AsioImpl<Ex> a) {
    S.done.reset(yield_tasks);
    const auto t0 = now_ns();
    for (int i = 0; i < yield_tasks; ++i)
        boost::asio::post(a.ex, AsioYielder<Ex>{a.ex, yields_per_task});
    return per_op(t0, S.done.wait("yield_many"), double(yield_tasks) * yields_per_task);
}
struct TbbYielder {  // "yield" = re-enqueue itself (FIFO, so the others run first)
    tbb::task_arena* arena;
    int left;
    void operator()() const {
        if (left == 0) return arrive();
        arena->enqueue(TbbYielder{arena, left - 1});
    }
};
double yield_many(TbbImpl t) {
    S.done.reset(yield_tasks);
    const auto t0 = now_ns();
    for (int i = 0; i < yield_tasks; ++i) t.arena.enqueue(TbbYielder{&t.arena, yields_per_task});
    return per_op(t0, S.done.wait("yield_many"), double(yield_tasks) * yields_per_task);
}

}  // namespace

void add_yield_many(Suite& s) {
    s.add("yield_many",
          {make_row("yield_many", "ns/yield", Dir::lower, TargetKind::vs_best, 0.5, "<= 0.5",
                    every_backend())},
          s.reps_short, every_backend(), s.single([](auto impl) { return yield_many(impl); }));
}

}  // namespace zuki_bench
