// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// starvation: every worker is kept busy by a handler that does ~10 us of work and then posts
// itself again (a polling loop, a game tick, a chunked computation), while an outside thread
// posts 10,000 small handlers. Figures: the time until all 10,000 ran (ms), and each one's wait
// from its post to its start, mean and max (us). On the zuki backend the busy tasks re-spawn
// themselves and the outside work is spawned; on zuki_asio both are asio::post, as on the Asio
// anchors; oneTBB uses task_arena::enqueue for both.
//
// The posting thread is a third busy thread: with 2 workers on 2 cores the kernel takes the CPU
// from it for a whole time slice (about 4 ms, seen on every backend), and a task whose post was
// under way then waits that long before anyone can see it. So the maximum is also reported over
// the tasks whose post the poster was not descheduled in (post call under 50 us; a post takes
// well under 1 us), with how many posts were left out: `starvation_wait_max_pool`, the pool's own
// share, which the 2 ms bar of issue 11 is checked against. The raw maximum stays in the table.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "harness/sync.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

constexpr int outside_tasks = 10'000;
constexpr auto busy_work = std::chrono::microseconds(10);

// Per run: when each outside task was posted and when it started.
struct Record {
    std::vector<std::int64_t> posted = std::vector<std::int64_t>(outside_tasks);
    std::vector<std::int64_t> returned = std::vector<std::int64_t>(outside_tasks);  // post done
    std::vector<std::int64_t> started = std::vector<std::int64_t>(outside_tasks);
};
// A post call longer than this had the poster descheduled in it.
constexpr std::int64_t interrupted_post_ns = 50'000;
Record* R = nullptr;

void busy() noexcept {
    const auto until = std::chrono::steady_clock::now() + busy_work;
    while (std::chrono::steady_clock::now() < until) {}
}
void outside_task(int i) noexcept {
    R->started[static_cast<std::size_t>(i)] = now_ns();
    arrive();
}

// A busy handler: work, then post itself again, until S.stop.
template <class Post>
struct Busy {
    Post post;
    bool started = false;
    void operator()() const {  // const: oneTBB's enqueue calls it so
        if (!started) S.aux.arrive();
        if (S.stop.load(std::memory_order_relaxed)) {
            S.aux.arrive();
            return;
        }
        busy();
        post(Busy{post, true});
    }
};

template <class StartBusy, class PostOutside>
std::vector<double> starvation(std::size_t workers, StartBusy start_busy, PostOutside post) {
    Record rec;
    R = &rec;
    S.stop.store(false);
    S.aux.reset(static_cast<long>(workers));
    for (std::size_t i = 0; i < workers; ++i) start_busy();
    S.aux.wait("busy handlers to start");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // every worker busy
    S.aux.reset(static_cast<long>(workers));
    S.done.reset(outside_tasks);
    const std::int64_t t0 = now_ns();
    for (int i = 0; i < outside_tasks; ++i) {
        rec.posted[static_cast<std::size_t>(i)] = now_ns();
        post(i);
        rec.returned[static_cast<std::size_t>(i)] = now_ns();
    }
    const std::int64_t t1 = S.done.wait("the outside tasks");
    S.stop.store(true);
    S.aux.wait("busy handlers to stop");
    double sum = 0, worst = 0, worst_pool = 0;
    int interrupted = 0;
    for (std::size_t i = 0; i < outside_tasks; ++i) {
        const double us = double(rec.started[i] - rec.posted[i]) / 1e3;
        sum += us;
        worst = std::max(worst, us);
        if (rec.returned[i] - rec.posted[i] < interrupted_post_ns)
            worst_pool = std::max(worst_pool, us);
        else
            ++interrupted;
    }
    R = nullptr;
    return {double(t1 - t0) / 1e6, sum / outside_tasks, worst, worst_pool, double(interrupted)};
}

std::vector<double> run(ZukiImpl z, std::size_t workers) {
    auto respawn = [&pool = z.pool](auto self) { zspawn(pool, std::move(self)); };
    return starvation(
        workers, [&] { zspawn(z.pool, Busy<decltype(respawn)>{respawn}); },
        [&](int i) { zspawn(z.pool, [i] { outside_task(i); }); });
}
template <class Ex>
std::vector<double> run(AsioImpl<Ex> a, std::size_t workers) {
    auto repost = [ex = a.ex](auto self) { boost::asio::post(ex, std::move(self)); };
    return starvation(
        workers, [&] { boost::asio::post(a.ex, Busy<decltype(repost)>{repost}); },
        [&](int i) { boost::asio::post(a.ex, [i] { outside_task(i); }); });
}
std::vector<double> run(TbbImpl t, std::size_t workers) {
    auto requeue = [arena = &t.arena](auto self) { arena->enqueue(std::move(self)); };
    return starvation(
        workers, [&] { t.arena.enqueue(Busy<decltype(requeue)>{requeue}); },
        [&](int i) { t.arena.enqueue([i] { outside_task(i); }); });
}

}  // namespace

void add_starvation(Suite& s) {
    s.add("starvation",
          {make_row("starvation_total", "ms", Dir::lower, TargetKind::vs_best, 1.5, "<= 1.5",
                    every_backend()),
           make_row("starvation_wait_mean", "us", Dir::lower, TargetKind::none, 0, "",
                    every_backend()),
           make_row("starvation_wait_max", "us", Dir::lower, TargetKind::none, 0, "",
                    every_backend()),
           make_row("starvation_wait_max_pool", "us", Dir::lower, TargetKind::absolute, 2000,
                    "<= 2000 us", every_backend()),
           make_row("starvation_posts_interrupted", "posts", Dir::lower, TargetKind::none, 0, "",
                    every_backend())},
          s.reps_short, every_backend(), [p = &s.pools, n = s.workers](Backend b) {
              return with_backend(b, *p, [n](auto impl) { return run(impl, n); });
          });
}

}  // namespace zuki_bench
