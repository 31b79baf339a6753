// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// stranded_child: an idle pool; one task spawns a child and then runs on (spinning until the
// child started, at most 20 ms), the shape of issue 15's "stranded LIFO work". Figures: the
// child's start delay after its spawn, p50 and max of 200 samples (us). On zuki the child is a
// spawn from inside a task (it lands in the worker's LIFO slot, where only the watcher can take
// it: concurrent/idle_set.hpp); on zuki_asio and the Asio anchors a plain asio::post from inside
// a handler (a queue the others see, and a wake); oneTBB: task_group::run inside an enqueued
// task (the worker's own deque, stealable at once).

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include <tbb/task_group.h>

#include "harness/sync.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

constexpr int samples = 200;
constexpr auto give_up = std::chrono::milliseconds(20);

void child_started() noexcept { S.t1.store(now_ns(), std::memory_order_release); }
// The parent's part after its spawn: run on until the child started (or give up).
void run_on() noexcept {
    const std::int64_t until = now_ns() + std::chrono::nanoseconds(give_up).count();
    while (S.t1.load(std::memory_order_acquire) == 0 && now_ns() < until) {}
}

// `parent(record)` submits a task that calls record() (its spawn time), spawns the child and runs
// on; we wait for the child.
template <class SubmitParent>
std::vector<double> stranded(SubmitParent submit_parent) {
    std::vector<double> us;
    us.reserve(samples);
    for (int i = 0; i < samples; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the pool goes idle
        S.t1.store(0);
        S.t0.store(0);
        S.done.reset(1);
        submit_parent();
        S.done.wait("stranded_child");
        us.push_back(double(S.t1.load() - S.t0.load()) / 1e3);
    }
    std::sort(us.begin(), us.end());
    return {us[us.size() / 2], us.back()};
}
// The parent, around its spawn of the child.
template <class Spawn>
void parent(Spawn spawn) {
    S.t0.store(now_ns(), std::memory_order_relaxed);
    spawn();
    run_on();
    arrive();
}

std::vector<double> run(ZukiImpl z) {
    return stranded([&] {
        zspawn(z.pool, [&pool = z.pool] { parent([&] { zspawn(pool, child_started); }); });
    });
}
template <class Ex>
std::vector<double> run(AsioImpl<Ex> a) {
    return stranded([&] {
        boost::asio::post(a.ex,
                          [ex = a.ex] { parent([&] { boost::asio::post(ex, child_started); }); });
    });
}
std::vector<double> run(TbbImpl t) {
    return stranded([&] {
        t.arena.enqueue([] {
            tbb::task_group g;
            parent([&] { g.run(child_started); });
            g.wait();
        });
    });
}

}  // namespace

void add_stranded_child(Suite& s) {
    Workload& w = s.add(
        "stranded_child",
        {make_row("stranded_child_p50", "us", Dir::lower, TargetKind::none, 0, "", every_backend()),
         make_row("stranded_child_max", "us", Dir::lower, TargetKind::absolute, 1000, "<= 1000 us",
                  every_backend())},
        s.reps_latency, every_backend(), [p = &s.pools](Backend b) {
            return with_backend(b, *p, [](auto impl) { return run(impl); });
        });
    w.warmup = 1;
}

}  // namespace zuki_bench
