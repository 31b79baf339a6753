// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 3. spawn_many_remote_busy: the same while every worker runs a task that keeps re-submitting
//    itself (one spinner per worker).

#include "harness/sync.hpp"
#include "workloads/spawn_many_remote.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

zuki::Async<void> zuki_spinner() {
    S.aux.arrive();  // started
    while (!S.stop.load(std::memory_order_relaxed)) co_await zuki::yield_now();
    S.aux.arrive();  // stopped
}
template <class Ex>
struct AsioSpinner {
    Ex ex;
    bool started = false;
    void operator()() {
        if (!started) {
            started = true;
            S.aux.arrive();
        }
        if (S.stop.load(std::memory_order_relaxed)) {
            S.aux.arrive();
            return;
        }
        boost::asio::post(ex, std::move(*this));
    }
};
struct TbbSpinner {
    tbb::task_arena* arena;
    bool started = false;
    void operator()() const {
        if (!started) S.aux.arrive();
        if (S.stop.load(std::memory_order_relaxed)) {
            S.aux.arrive();
            return;
        }
        arena->enqueue(TbbSpinner{arena, true});
    }
};

template <class Impl, class StartOne>
double remote_busy(Impl impl, std::size_t workers, StartOne start_one) {
    S.stop.store(false);
    S.aux.reset(static_cast<long>(workers));
    for (std::size_t i = 0; i < workers; ++i) start_one();
    S.aux.wait("spinners to start");
    S.aux.reset(static_cast<long>(workers));
    const double r = spawn_many_remote(impl);
    S.stop.store(true);
    S.aux.wait("spinners to stop");
    return r;
}
double spawn_many_remote_busy(ZukiImpl z, std::size_t n) {
    return remote_busy(z, n, [&] { z.pool.spawn_detached(zuki_spinner()); });
}
template <class Ex>
double spawn_many_remote_busy(AsioImpl<Ex> a, std::size_t n) {
    return remote_busy(a, n, [&] { boost::asio::post(a.ex, AsioSpinner<Ex>{a.ex}); });
}
double spawn_many_remote_busy(TbbImpl t, std::size_t n) {
    return remote_busy(t, n, [&] { t.arena.enqueue(TbbSpinner{&t.arena}); });
}

}  // namespace

void add_spawn_many_remote_busy(Suite& s) {
    s.add("spawn_many_remote_busy",
          {make_row("spawn_many_remote_busy", "ns/task", Dir::lower, TargetKind::vs_best, 0.5,
                    "<= 0.5", every_backend())},
          s.reps_short, every_backend(),
          s.single([n = s.workers](auto impl) { return spawn_many_remote_busy(impl, n); }));
}

}  // namespace zuki_bench
