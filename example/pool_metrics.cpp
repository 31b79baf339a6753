// Running the pool by its metrics: a once-a-second line of utilisation per worker, task rate,
// queue depths, I/O events and blocking threads, while a mixed load runs (CPU tasks that fork,
// Asio timers, and blocking calls).
//
//   example_pool_metrics [seconds] [period_ms]   # default: 3 s, a line every 1000 ms; exit 0

#include <zuki/zuki.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/steady_timer.hpp>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Some CPU work that forks: sum 0..n-1 by halves.
zuki::Async<long> fork_sum(long lo, long hi) {
    if (hi - lo <= 2000) {
        long s = 0;
        for (long i = lo; i < hi; ++i) s += i;
        co_return s;
    }
    const long mid = lo + (hi - lo) / 2;
    zuki::JoinHandle<long> left = zuki::spawn(fork_sum(lo, mid));
    const long right = co_await fork_sum(mid, hi);
    co_return co_await std::move(left) + right;
}

// A timer that re-arms itself every millisecond until `stop`.
void tick(boost::asio::steady_timer& t, const std::atomic<bool>& stop) {
    t.expires_after(1ms);
    t.async_wait([&t, &stop](boost::system::error_code ec) {
        if (!ec && !stop.load()) tick(t, stop);
    });
}

}  // namespace

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
    const auto period = std::chrono::milliseconds(argc > 2 ? std::atoi(argv[2]) : 1000);

    zuki::WorkStealingConfig cfg;
    cfg.threads = 2;
    cfg.blocking_keep_alive = 500ms;
    const auto born = Clock::now();  // every busy interval a worker counts lies after this
    zuki::WorkStealingExecutor pool(cfg);

    std::atomic<bool> stop{false};
    // The load: a feeder keeps the pool about half busy with fork-joins and blocking calls.
    std::thread feeder([&] {
        while (!stop.load()) {
            auto sum = pool.spawn(fork_sum(0, 5'000'000));
            auto io = pool.spawn_blocking([] { std::this_thread::sleep_for(5ms); });
            (void)sum.get();
            io.get();
            std::this_thread::sleep_for(2ms);
        }
    });
    std::vector<std::unique_ptr<boost::asio::steady_timer>> timers;
    for (int i = 0; i < 4; ++i) {
        timers.push_back(std::make_unique<boost::asio::steady_timer>(pool));
        tick(*timers.back(), stop);
    }

    // The monitor: differences of two readings over the period.
    zuki::Metrics prev = pool.metrics();
    auto prev_t = Clock::now();
    const auto end = prev_t + std::chrono::duration<double>(seconds);
    bool sane = true;
    std::uint64_t tasks_total = 0;
    while (Clock::now() < end) {
        std::this_thread::sleep_for(period);
        const zuki::Metrics m = pool.metrics();
        const auto now = Clock::now();
        const double dt = std::chrono::duration<double>(now - prev_t).count();
        std::string util;
        // A worker adds its busy time at its periodic checks and when it sleeps, so one period's
        // share can read above 100% (time it was busy in the previous period, counted in this
        // one; a thread preempted between two checks makes that lag long). What always holds:
        // the counter never decreases, and as it sums disjoint intervals of the steady clock
        // that ended before it was read, it never exceeds the time since the pool was built.
        const auto alive_ns = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - born).count());
        for (std::size_t i = 0; i < m.workers.size(); ++i) {
            sane = sane && m.workers[i].busy_ns >= prev.workers[i].busy_ns &&
                   m.workers[i].busy_ns <= alive_ns;
            const double busy = static_cast<double>(m.workers[i].busy_ns - prev.workers[i].busy_ns);
            const double pct = 100.0 * busy / (dt * 1e9);
            char w[32];
            std::snprintf(w, sizeof w, "%s%.0f%%", i == 0 ? "" : " ", pct);
            util += w;
        }
        const zuki::WorkerMetrics now_total = m.total(), prev_total = prev.total();
        const std::uint64_t ran = now_total.tasks_run - prev_total.tasks_run;
        tasks_total += ran;
        std::int64_t global = 0;
        for (std::int64_t q : m.global_queued) global += q;
        std::printf(
            "util [%s]  tasks %.0f/s  io %.0f/s  alive %lld  global %lld  local %llu  blocking "
            "%zu (%zu idle, %zu queued)\n",
            util.c_str(), static_cast<double>(ran) / dt,
            static_cast<double>(now_total.io_events - prev_total.io_events) / dt,
            static_cast<long long>(m.tasks_alive), static_cast<long long>(global),
            static_cast<unsigned long long>(now_total.local_queued), m.blocking_threads,
            m.blocking_idle, m.blocking_queued);
        std::fflush(stdout);
        prev = m;
        prev_t = now;
    }
    stop = true;
    feeder.join();
    pool.join();  // the timers' last waits end, then the workers stop
    if (!sane || tasks_total == 0) {
        std::printf("FAILED: %s\n", sane ? "no task ran" : "busy time out of range");
        return 1;
    }
    std::printf("ok\n");
    return 0;
}
