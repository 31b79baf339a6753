// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Memory soak (not a ctest test: scripts/soak.sh builds and runs it; issue 15.6). Small tasks
// made and completed tens of millions of times on a WorkStealingExecutor of 2 workers, in the
// four ways programs make them, interleaved in every round of 1 M:
//
//   outside   a plain thread spawns `Async` tasks in batches of 10,000 and waits for each handle
//             (the cells are made on that thread and freed on the workers);
//   inside    two driver tasks spawn 64 children at a time and `co_await` their handles (made and
//             freed on the workers, often not the same one: steals);
//   detached  a plain thread `spawn_detached`s with at most 4,096 in flight;
//   posted    a plain thread `asio::post`s handlers with at most 4,096 in flight.
//
// After a warm-up (ZUKI_SOAK_WARMUP_M rounds, default 10: the recycling caches, the allocator's
// arenas and the queues' reserves reach their size) the resident set is sampled, then the load
// goes on for ZUKI_SOAK_TASKS_M rounds (default 50). Fails (exit 1) if the resident set at the
// end is more than 10 % above that sample (issue 15's bound), or if a task's result is wrong or
// one is lost. Also prints malloc's bytes in use and held: growth of the first is memory the
// program keeps (it was the recycling cache's unbounded depot until issue 15 item 6: 11.6 ->
// 19.5 MB over 50 M tasks), growth of the second alone would be fragmentation.
// Prints the resident set every 10 rounds and one summary line.

#include <zuki/zuki.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>

#include <malloc.h>

#include "../common/test_env.hpp"
#include "../common/watchdog.hpp"

namespace {

constexpr long round_size = 1'000'000;  // tasks per round, a quarter in each shape
constexpr long window = 4096;  // in flight, for the shapes that do not wait per batch

long env_long(const char* name, long fallback) {
    const char* s = std::getenv(name);
    if (s == nullptr || *s == '\0') return fallback;
    const long v = std::strtol(s, nullptr, 10);
    return v > 0 ? v : fallback;
}

std::atomic<long> completed{0};  // by the detached and posted shapes (relaxed: a counter)

zuki::Async<long> leaf(long v) { co_return v; }

zuki::Async<void> counted() {
    completed.fetch_add(1, std::memory_order_relaxed);
    co_return;
}

// Spawns `n` children, 64 at a time, awaits each; returns the sum of what they returned.
zuki::Async<long> driver(zuki::WorkStealingExecutor& pool, long first, long n) {
    std::vector<zuki::JoinHandle<long>> hs;
    hs.reserve(64);
    long sum = 0;
    for (long i = 0; i < n; i += 64) {
        for (long k = i; k < std::min(n, i + 64); ++k) hs.push_back(pool.spawn(leaf(first + k)));
        for (auto& h : hs) sum += co_await std::move(h);
        hs.clear();
    }
    co_return sum;
}

// What malloc holds: bytes in use by the program, and bytes taken from the system (glibc's
// mallinfo2: arenas + mmapped blocks), in KiB. Their gap is the allocator's free space: growth of
// the first is memory the program keeps; growth of the second alone is fragmentation.
struct Heap {
    long used_kib, total_kib;
};
Heap heap() {
    const struct mallinfo2 m = mallinfo2();
    return {static_cast<long>((m.uordblks + m.hblkhd) / 1024),
            static_cast<long>((m.arena + m.hblkhd) / 1024)};
}

long sum_of(long first, long n) { return n * first + n * (n - 1) / 2; }

// Waits until at most `in_flight` of the `issued` counted tasks are still running.
void throttle(long issued, long in_flight) {
    while (issued - completed.load(std::memory_order_relaxed) > in_flight)
        std::this_thread::yield();
}

// One round: round_size tasks, a quarter in each shape. Returns false on a wrong result.
bool one_round(zuki::WorkStealingExecutor& pool, long& issued) {
    const long q = round_size / 4;
    bool ok = true;
    // outside
    std::vector<zuki::JoinHandle<long>> hs;
    hs.reserve(10'000);
    for (long i = 0; i < q; i += 10'000) {
        for (long k = i; k < std::min(q, i + 10'000); ++k) hs.push_back(pool.spawn(leaf(k)));
        long sum = 0;
        for (auto& h : hs) sum += h.get();
        ok = ok && sum == sum_of(i, static_cast<long>(hs.size()));
        hs.clear();
    }
    // inside: two drivers, so both workers make and free
    auto a = pool.spawn(driver(pool, 0, q / 2));
    auto b = pool.spawn(driver(pool, q / 2, q - q / 2));
    ok = ok && a.get() + b.get() == sum_of(0, q);
    // detached
    for (long i = 0; i < q; ++i) {
        pool.spawn_detached(counted());
        throttle(++issued, window);
    }
    // posted
    for (long i = 0; i < q; ++i) {
        boost::asio::post(pool, [] { completed.fetch_add(1, std::memory_order_relaxed); });
        throttle(++issued, window);
    }
    throttle(issued, 0);
    return ok;
}

}  // namespace

int main() {
    const long warmup = env_long("ZUKI_SOAK_WARMUP_M", 10);
    const long rounds = env_long("ZUKI_SOAK_TASKS_M", 50);
    // A generous watchdog: a round takes about half a second on 2 busy cores.
    zuki::test::Watchdog watchdog(std::chrono::seconds(60 + 10 * (warmup + rounds)),
                                  "task memory soak");
    zuki::WorkStealingExecutor pool(2);
    long issued = 0;
    bool ok = true;
    const auto t0 = std::chrono::steady_clock::now();
    for (long r = 0; r < warmup; ++r) ok = one_round(pool, issued) && ok;
    const long rss_warm = zuki::test::process_rss_kib();
    const Heap heap_warm = heap();
    std::printf("task_memory_soak: %ld M tasks of warm-up, VmRSS %ld KiB, heap in use %ld KiB of "
                "%ld\n",
                warmup, rss_warm, heap_warm.used_kib, heap_warm.total_kib);
    long rss_max = rss_warm;
    for (long r = 1; r <= rounds; ++r) {
        ok = one_round(pool, issued) && ok;
        const long now = zuki::test::process_rss_kib();
        rss_max = std::max(rss_max, now);
        if (r % 10 == 0 || r == rounds) {
            const Heap h = heap();
            std::printf(
                "task_memory_soak: +%ld M tasks, VmRSS %ld KiB, heap in use %ld KiB of %ld\n", r,
                now, h.used_kib, h.total_kib);
        }
        std::fflush(stdout);
    }
    const long rss_end = zuki::test::process_rss_kib();
    const long limit = rss_warm + rss_warm / 10;  // issue 15: within 10 %
    const bool lost = completed.load() != issued;
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const bool pass = ok && !lost && rss_warm > 0 && rss_end <= limit;
    std::printf("task_memory_soak: %s: %ld M tasks in %.1f s; VmRSS %ld KiB after the warm-up, "
                "%ld KiB at the end (max %ld, limit +10 %%: %ld)%s%s\n",
                pass ? "PASS" : "FAIL", warmup + rounds, secs, rss_warm, rss_end, rss_max, limit,
                ok ? "" : "; a wrong result", lost ? "; tasks lost" : "");
    return pass ? 0 : 1;
}
