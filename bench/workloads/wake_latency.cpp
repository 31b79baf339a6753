// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 10. wake_latency: idle pool, outside post -> task start. Microseconds, p50 and p99 of 2,000.
//     Two spacings: 1 ms (every pool long asleep) and 200 us with a 1 us timer slack on the
//     posting thread (the shape of a paced producer: a pool that spins before it sleeps, or
//     sleeps deeper, shows here).

#include <sys/prctl.h>

#include <algorithm>
#include <chrono>
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

template <class Submit>
std::vector<double> wake_latency(std::chrono::microseconds gap, Submit submit) {
    const TimerSlack slack(gap < std::chrono::microseconds(1000) ? 1000 : 50'000);
    std::vector<double> us;
    us.reserve(wake_samples);
    for (int i = 0; i < wake_samples; ++i) {
        std::this_thread::sleep_for(gap);  // let the pool go idle (park)
        S.done.reset(1);
        const auto t0 = now_ns();
        submit();
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
std::vector<double> wake_latency(ZukiImpl z, std::chrono::microseconds gap) {
    return wake_latency(gap, [&] { zspawn(z.pool, [] { record_start(); }); });
}
template <class Ex>
std::vector<double> wake_latency(AsioImpl<Ex> a, std::chrono::microseconds gap) {
    return wake_latency(gap, [&] { boost::asio::post(a.ex, [] { record_start(); }); });
}
std::vector<double> wake_latency(TbbImpl t, std::chrono::microseconds gap) {
    return wake_latency(gap, [&] { t.arena.enqueue([] { record_start(); }); });
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
}

}  // namespace zuki_bench
