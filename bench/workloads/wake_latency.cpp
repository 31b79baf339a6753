// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 10. wake_latency: idle pool, outside post -> task start. Microseconds, p50 and p99 of 2,000.
//     Two spacings: 1 ms (every pool long asleep) and 200 us with a 1 us timer slack on the
//     posting thread (the shape of a paced producer: a pool that spins before it sleeps, or
//     sleeps deeper, shows here). And the 200 us spacing with a poster that keeps its CPU
//     after the post (it spins until the task started, as a producer that goes on computing
//     does): the woken thread cannot have the poster's CPU, and a pool whose threads wander
//     to the other CPU between wakes pays that CPU's exit from idle (eighteenth stop).

#include <sys/prctl.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness/options.hpp"
#include "harness/sync.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

void record_start() noexcept {
    S.t1.store(now_ns(), std::memory_order_relaxed);
    S.done.fire();
}
// Precise sleeps on the posting thread for the run's duration (the kernel's default slack of
// 50 us would blur a 200 us spacing).
class TimerSlack {
public:
    explicit TimerSlack(unsigned long ns)
        : old_(static_cast<unsigned long>(prctl(PR_GET_TIMERSLACK))) {
        prctl(PR_SET_TIMERSLACK, ns);
    }
    ~TimerSlack() { prctl(PR_SET_TIMERSLACK, old_); }
    TimerSlack(const TimerSlack&) = delete;
    TimerSlack& operator=(const TimerSlack&) = delete;

private:
    unsigned long old_;
};

// How the posting thread waits for the task to start: asleep on a latch, or spinning on it.
enum class Poster { sleeps, spins };

// The spinning poster's wait: until the task stored its start time (S.t1, reset before the
// post), or give up as a hang.
void spin_until_started(const char* what) {
    const std::int64_t give_up = now_ns() + std::int64_t(run_timeout_s) * 1'000'000'000;
    while (S.t1.load(std::memory_order_acquire) == 0) {
        if (now_ns() > give_up) die(std::string("timed out waiting for ") + what + " (a hang?)");
    }
}

template <class Submit>
std::vector<double> wake_latency(std::chrono::microseconds gap, Submit submit,
                                 Poster poster = Poster::sleeps) {
    const TimerSlack slack(gap < std::chrono::microseconds(1000) ? 1000 : 50'000);
    std::vector<double> us;
    us.reserve(wake_samples);
    for (int i = 0; i < wake_samples; ++i) {
        std::this_thread::sleep_for(gap);  // let the pool go idle (park)
        S.done.reset(1);
        S.t1.store(0, std::memory_order_relaxed);
        const auto t0 = now_ns();
        submit();
        if (poster == Poster::spins)
            spin_until_started("wake_latency_busy_poster");
        else
            S.done.wait("wake_latency");
        us.push_back(double(S.t1.load() - t0) / 1e3);
    }
    std::sort(us.begin(), us.end());
    auto pct = [&](double p) { return us[std::min(us.size() - 1, std::size_t(p * us.size()))]; };
    return {pct(0.50), pct(0.99)};
}
std::chrono::microseconds wake_gap() {
    if (opt.wake_gap_us > 0) return std::chrono::microseconds(opt.wake_gap_us);
    return std::chrono::microseconds(1000);  // > the time any pool spins before sleeping
}
std::vector<double> wake_latency(ZukiImpl z, std::chrono::microseconds gap,
                                 Poster poster = Poster::sleeps) {
    return wake_latency(
        gap, [&] { zspawn(z.pool, [] { record_start(); }); }, poster);
}
template <class Ex>
std::vector<double> wake_latency(AsioImpl<Ex> a, std::chrono::microseconds gap,
                                 Poster poster = Poster::sleeps) {
    return wake_latency(
        gap, [&] { boost::asio::post(a.ex, [] { record_start(); }); }, poster);
}
std::vector<double> wake_latency(TbbImpl t, std::chrono::microseconds gap,
                                 Poster poster = Poster::sleeps) {
    return wake_latency(
        gap, [&] { t.arena.enqueue([] { record_start(); }); }, poster);
}

}  // namespace

void add_wake_latency(Suite& s) {
    Workload& w = s.add("wake_latency",
                        {make_row("wake_latency_p50", "us", Dir::lower, TargetKind::vs_best, 1.0,
                                  "<= 1.0", every_backend()),
                         make_row("wake_latency_p99", "us", Dir::lower, TargetKind::vs_best, 1.5,
                                  "<= 1.5", every_backend())},
                        s.reps_latency, every_backend(), [p = &s.pools](Backend b) {
                            return with_backend(
                                b, *p, [](auto impl) { return wake_latency(impl, wake_gap()); });
                        });
    w.warmup = 1;  // one warm-up pass of 2,000 samples is plenty
    Workload& paced = s.add("wake_latency_200us",
                            {make_row("wake_latency_200us_p50", "us", Dir::lower,
                                      TargetKind::vs_best, 1.0, "<= 1.0", every_backend()),
                             make_row("wake_latency_200us_p99", "us", Dir::lower,
                                      TargetKind::vs_best, 1.5, "<= 1.5", every_backend())},
                            s.reps_latency, every_backend(), [p = &s.pools](Backend b) {
                                return with_backend(b, *p, [](auto impl) {
                                    return wake_latency(impl, std::chrono::microseconds(200));
                                });
                            });
    paced.warmup = 1;
    Workload& busy =
        s.add("wake_latency_busy_poster",
              {make_row("wake_latency_busy_poster_p50", "us", Dir::lower, TargetKind::vs_best, 1.0,
                        "<= 1.0", every_backend()),
               make_row("wake_latency_busy_poster_p99", "us", Dir::lower, TargetKind::vs_best, 1.5,
                        "<= 1.5", every_backend())},
              s.reps_latency, every_backend(), [p = &s.pools](Backend b) {
                  return with_backend(b, *p, [](auto impl) {
                      return wake_latency(impl, std::chrono::microseconds(200), Poster::spins);
                  });
              });
    busy.warmup = 1;
}

}  // namespace zuki_bench
