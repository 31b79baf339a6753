// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 11. idle_cpu: CPU time the process burns in one idle second with only this pool alive,
//     as a percentage of one core. idle_cpu_io: the same with a listening acceptor (an
//     async_accept pending) and a steady_timer an hour away on the pool (not oneTBB): where
//     the workers drive the reactor, one of them sleeps in epoll_wait, and must stay asleep.
//
// Measured first, with only one pool alive at a time (oneTBB last, since its worker threads
// outlive its arena), so it is a row of the table but not a Workload of the interleaved runs.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <type_traits>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "harness/options.hpp"
#include "harness/sync.hpp"
#include "harness/watchdog.hpp"
#include "workloads/spawn_many_remote.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

std::size_t idle_row = 0;  // the table rows, added by add_idle_cpu()
std::size_t idle_io_row = 0;

double idle_cpu_once() {
    const auto c0 = process_cpu_ns();
    const auto w0 = now_ns();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const auto c1 = process_cpu_ns();
    const auto w1 = now_ns();
    return 100.0 * double(c1 - c0) / double(w1 - w0);
}

std::vector<Backend> asio_backends() {
    return {Backend::zuki, Backend::zuki_asio, Backend::asio_tp, Backend::io_context};
}

// idle_cpu_once() `reps` times into `c`, with an acceptor listening (accept pending) and a timer
// pending on `ex`; both are cancelled and their handlers waited for afterwards.
template <class Ex>
void idle_with_io(Ex ex, Figure& c, int reps) {
    namespace net = boost::asio;
    net::ip::tcp::acceptor acc(ex, net::ip::tcp::endpoint(net::ip::address_v4::loopback(), 0));
    net::steady_timer timer(ex, std::chrono::hours(1));
    std::atomic<int> done{0};
    acc.async_accept([&](const boost::system::error_code&, net::ip::tcp::socket) { ++done; });
    timer.async_wait([&](const boost::system::error_code&) { ++done; });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // settle and park
    for (int r = 0; r < reps; ++r) c.runs.push_back(idle_cpu_once());
    net::post(ex, [&] {  // on the executor, where the operations' handlers run
        acc.close();
        timer.cancel();
    });
    while (done.load() != 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace

void add_idle_cpu(Suite&) {
    idle_row = add_row(make_row("idle_cpu", "% of a core", Dir::lower, TargetKind::absolute, 0.05,
                                "<= 0.05 %", every_backend()));
    idle_io_row = add_row(make_row("idle_cpu_io", "% of a core", Dir::lower, TargetKind::absolute,
                                   0.05, "<= 0.05 %", asio_backends()));
}

void run_idle_cpu(Suite& s) {
    std::printf("  %-28s", "idle_cpu");
    std::fflush(stdout);
    const auto start = now_ns();
    for (Backend b : enabled) {
        watchdog->arm(std::string("idle_cpu on ") + name_of(b), run_timeout_s);
        s.pools.create(b);
        // Warm up: every worker has run something; then let the pool settle and park.
        with_backend(b, s.pools, [](auto impl) { return spawn_many_remote(impl); });
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        watchdog->arm(std::string("idle_cpu on ") + name_of(b), run_timeout_s);
        auto& c = table[idle_row].cell(b);
        for (int r = 0; r < (opt.reps_override > 0 ? opt.reps_override : s.reps_idle); ++r)
            c.runs.push_back(idle_cpu_once());
        summarise(c);
        if (b != Backend::tbb) {
            auto& cio = table[idle_io_row].cell(b);
            const int reps = opt.reps_override > 0 ? opt.reps_override : s.reps_idle;
            with_backend(b, s.pools, [&](auto impl) {
                if constexpr (std::is_same_v<decltype(impl), ZukiImpl>)
                    idle_with_io(impl.pool.get_executor(), cio, reps);
                else if constexpr (!std::is_same_v<decltype(impl), TbbImpl>)
                    idle_with_io(impl.ex, cio, reps);
                return 0;
            });
            summarise(cio);
        }
        s.pools.destroy(b);
        watchdog->disarm();
    }
    std::printf(" %6.1f s\n", double(now_ns() - start) / 1e9);
}

}  // namespace zuki_bench
