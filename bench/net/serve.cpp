// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

#include "net/serve.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <zuki/zuki.hpp>

#include "net/backends.hpp"
#include "net/servers.hpp"

namespace zuki_bench::net {

namespace {

enum class Workload { echo, http, timer };

[[noreturn]] void fail(const std::string& msg) {
    std::fprintf(stderr, "bench_net --serve: %s\n", msg.c_str());
    std::fflush(stderr);
    std::_Exit(4);
}

void reply(const std::string& line) {
    if (std::printf("%s\n", line.c_str()) < 0 || std::fflush(stdout) != 0)
        fail("cannot write to stdout");
}

std::int64_t cpu_us() {
    rusage u{};
    if (getrusage(RUSAGE_SELF, &u) != 0) fail("getrusage failed");
    return (std::int64_t{u.ru_utime.tv_sec} + std::int64_t{u.ru_stime.tv_sec}) * 1'000'000 +
           u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

// ---- the backends: an executor for the listener and the timers, the executor of each accepted
// socket, and a graceful join (what a server does on shutdown) --------------------------------

struct ZukiBackend {
    zuki::WorkStealingExecutor pool;
    explicit ZukiBackend(int n) : pool(static_cast<std::size_t>(n)) {}
    auto executor() { return pool.get_executor(); }
    auto next_executor() { return executor(); }
    void join() { pool.join(); }
};

struct IoContextBackend {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> guard;
    std::vector<std::thread> threads;
    explicit IoContextBackend(int n) : io(n), guard(io.get_executor()) {
        for (int i = 0; i < n; ++i) threads.emplace_back([this] { io.run(); });
    }
    ~IoContextBackend() { join(); }
    auto executor() { return io.get_executor(); }
    auto next_executor() { return executor(); }
    void join() {
        guard.reset();
        for (auto& t : threads)
            if (t.joinable()) t.join();
    }
};

// Asio's HTTP server 2 design: one io_context per thread (concurrency hint 1), the listener on
// the first, each accepted socket on the next one round-robin.
struct IoContextPerThreadBackend {
    std::vector<std::unique_ptr<asio::io_context>> ios;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    std::vector<std::thread> threads;
    std::size_t next = 0;  // only the accept chain (one operation at a time) touches it
    explicit IoContextPerThreadBackend(int n) {
        for (int i = 0; i < n; ++i) {
            ios.push_back(std::make_unique<asio::io_context>(1));
            guards.emplace_back(ios.back()->get_executor());
        }
        for (auto& io : ios) threads.emplace_back([c = io.get()] { c->run(); });
    }
    ~IoContextPerThreadBackend() { join(); }
    auto executor() { return ios.front()->get_executor(); }
    auto next_executor() { return ios[next++ % ios.size()]->get_executor(); }
    void join() {
        for (auto& g : guards) g.reset();
        for (auto& t : threads)
            if (t.joinable()) t.join();
    }
};

struct ThreadPoolBackend {
    asio::thread_pool pool;
    explicit ThreadPoolBackend(int n) : pool(static_cast<std::size_t>(n)) {}
    auto executor() { return pool.get_executor(); }
    auto next_executor() { return executor(); }
    void join() { pool.join(); }
};

// ---- the command loop ---------------------------------------------------------------------------

template <class Backend>
int serve_with(Backend& backend, Workload w) {
    using Ex = decltype(backend.executor());
    const Ex ex = backend.executor();
    auto next = [&backend] { return backend.next_executor(); };
    // Destroyed after backend.join(), while the backend (the caller's) still exists.
    std::optional<Listener<Ex, EchoSession>> echo;
    std::optional<Listener<Ex, HttpSession>> http;
    std::vector<std::unique_ptr<TimerLoop<Ex>>> timer_loops;
    std::vector<std::unique_ptr<TimerStorm<Ex>>> storms;

    unsigned short port = 0;
    if (w == Workload::echo) {
        echo.emplace(ex, next);
        port = echo->port();
        echo->start();
    } else if (w == Workload::http) {
        http.emplace(ex, next);
        port = http->port();
        http->start();
    }
    reply(std::to_string(port));

    char line[256];
    while (std::fgets(line, sizeof line, stdin) != nullptr) {
        std::string_view cmd(line);
        while (!cmd.empty() && (cmd.back() == '\n' || cmd.back() == '\r')) cmd.remove_suffix(1);
        if (cmd == "mark") {
            reply(std::to_string(cpu_us()));
        } else if (cmd.rfind("timer ", 0) == 0 && w == Workload::timer) {
            const long n = std::strtol(std::string(cmd.substr(6)).c_str(), nullptr, 10);
            if (n <= 0) fail("bad timer count");
            std::promise<std::int64_t> took;
            auto loop = std::make_unique<TimerLoop<Ex>>(
                ex, n, [&took](std::int64_t ns) { took.set_value(ns); });
            asio::post(ex, [l = loop.get()] { l->start(); });
            reply(std::to_string(took.get_future().get()));
            timer_loops.push_back(std::move(loop));
        } else if (cmd.rfind("storm ", 0) == 0 && w == Workload::timer) {
            // storm TIMERS WAITS
            char* end = nullptr;
            const std::string args(cmd.substr(6));
            const long timers = std::strtol(args.c_str(), &end, 10);
            const long waits = std::strtol(end, nullptr, 10);
            if (timers <= 0 || waits <= 0) fail("bad storm arguments");
            std::promise<std::int64_t> took;
            auto storm =
                std::make_unique<TimerStorm<Ex>>(ex, static_cast<std::size_t>(timers), waits,
                                                 [&took](std::int64_t ns) { took.set_value(ns); });
            asio::post(ex, [s = storm.get()] { s->start(); });
            reply(std::to_string(took.get_future().get()));
            storms.push_back(std::move(storm));
        } else {
            fail("unknown command '" + std::string(cmd) + "'");
        }
    }

    // stdin closed: shut down like a server, bounded.
    alarm(20);
    if (echo) echo->close();
    if (http) http->close();
    backend.join();
    return 0;
}

}  // namespace

int serve_main(int argc, char** argv) {
    // bench_net --serve <backend> <workload> [--threads N]
    if (argc < 4) fail("usage: --serve <backend> <workload> [--threads N]");
    const auto b = parse_backend(argv[2]);
    if (!b) fail(std::string("unknown backend ") + argv[2]);
    const std::string_view wname = argv[3];
    Workload w;
    if (wname == "echo")
        w = Workload::echo;
    else if (wname == "http")
        w = Workload::http;
    else if (wname == "timer")
        w = Workload::timer;
    else
        fail(std::string("unknown workload ") + argv[3]);
    int threads = 2;
    for (int i = 4; i < argc; ++i) {
        if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = std::atoi(argv[++i]);
        else
            fail(std::string("unknown argument ") + argv[i]);
    }
    if (threads < 1 || threads > 1024) fail("--threads must be in 1..1024");

    switch (*b) {
        case NetBackend::zuki: {
            ZukiBackend backend(threads);
            return serve_with(backend, w);
        }
        case NetBackend::io_context: {
            IoContextBackend backend(threads);
            return serve_with(backend, w);
        }
        case NetBackend::io_context_per_thread: {
            IoContextPerThreadBackend backend(threads);
            return serve_with(backend, w);
        }
        case NetBackend::thread_pool: {
            ThreadPoolBackend backend(threads);
            return serve_with(backend, w);
        }
    }
    return 4;
}

}  // namespace zuki_bench::net
