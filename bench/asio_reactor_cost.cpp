// What does running Asio networking on a WorkStealingExecutor cost, compared with an io_context?
//
// An execution context that is not an io_context has no reactor of its own: Boost.Asio 1.81
// creates a private `detail::scheduler` service for it, with one internal thread that runs the
// epoll reactor, and every I/O or timer completion travels reactor thread -> pool worker as a
// handler (see doc/asio.md, "How networking runs on the pool"). An io_context (and
// asio::thread_pool) run the reactor on their own threads, and an operation that completes at
// once (speculative read/write) goes to the running thread's private queue.
//
// Workloads, each with its server and its clients as Asio coroutines on the context measured:
//   post       co_await asio::post(ex, use_awaitable) in a loop: the executor alone, no reactor
//   timer      co_await steady_timer(0).async_wait: one reactor round trip per iteration
//   ping-pong  1 loopback TCP connection, 64-byte messages echoed: round-trip latency
//   16 conns   16 connections ping-ponging concurrently: round-trip throughput
//
// Contexts: io_context run by 1 thread (the reference), WorkStealingExecutor(1) and (2),
// asio::thread_pool(2), io_context run by 2 threads. Output: operations per second and the ratio
// to io_context(1) (> 1 means faster than the reference). Best of `--reps` runs (default 3).
//
//   bench_asio_reactor_cost [--quick] [--reps N]

#include <zuki/asio/use_future.hpp>
#include <zuki/zuki.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t message_size = 64;

// ---- workloads (coroutines on the measured context) --------------------------------------
asio::awaitable<void> post_loop(int n) {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < n; ++i) co_await asio::post(ex, asio::use_awaitable);
}

asio::awaitable<void> timer_loop(int n) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (int i = 0; i < n; ++i) {
        t.expires_after(std::chrono::nanoseconds(0));
        co_await t.async_wait(asio::use_awaitable);
    }
}

asio::awaitable<void> echo_session(tcp::socket s) {
    std::array<char, message_size> buf;
    try {
        for (;;) {
            co_await asio::async_read(s, asio::buffer(buf), asio::use_awaitable);
            co_await asio::async_write(s, asio::buffer(buf), asio::use_awaitable);
        }
    } catch (const std::exception&) {  // eof: the client is done
    }
}

asio::awaitable<void> accept_n(tcp::acceptor& acceptor, int n) {
    for (int i = 0; i < n; ++i) {
        tcp::socket s = co_await acceptor.async_accept(asio::use_awaitable);
        s.set_option(tcp::no_delay(true));
        asio::co_spawn(acceptor.get_executor(), echo_session(std::move(s)), asio::detached);
    }
}

asio::awaitable<void> ping_pong_client(tcp::endpoint server, int rounds) {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await s.async_connect(server, asio::use_awaitable);
    s.set_option(tcp::no_delay(true));
    std::array<char, message_size> out{}, in{};
    for (int i = 0; i < rounds; ++i) {
        out[0] = static_cast<char>(i);
        co_await asio::async_write(s, asio::buffer(out), asio::use_awaitable);
        co_await asio::async_read(s, asio::buffer(in), asio::use_awaitable);
        if (in[0] != out[0]) throw std::runtime_error("echo mismatch");
    }
}

// The same client as a Zuki task: `zuki::use_future` runs the completion handler inline on the
// reactor thread (it only stores the result and wakes the task), which saves one hop.
zuki::Async<void> zuki_ping_pong_client(zuki::WorkStealingExecutor::executor_type ex,
                                        tcp::endpoint server, int rounds) {
    tcp::socket s(ex);
    co_await s.async_connect(server, zuki::use_future);
    s.set_option(tcp::no_delay(true));
    std::array<char, message_size> out{}, in{};
    for (int i = 0; i < rounds; ++i) {
        out[0] = static_cast<char>(i);
        co_await asio::async_write(s, asio::buffer(out), zuki::use_future);
        co_await asio::async_read(s, asio::buffer(in), zuki::use_future);
        if (in[0] != out[0]) throw std::runtime_error("echo mismatch");
    }
}

double zuki_echo_run(std::size_t threads, int connections, int rounds) {
    zuki::WorkStealingExecutor pool(threads);
    auto ex = pool.get_executor();
    tcp::acceptor acceptor(ex, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const auto server = acceptor.local_endpoint();
    auto accepting = asio::co_spawn(ex, accept_n(acceptor, connections), asio::use_future);
    const auto t0 = Clock::now();
    std::vector<zuki::JoinHandle<void>> clients;
    for (int c = 0; c < connections; ++c)
        clients.push_back(pool.spawn(zuki_ping_pong_client(ex, server, rounds)));
    for (auto& h : clients) h.get();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    accepting.get();
    pool.join();
    return s;
}

// Runs `connections` clients × `rounds` round trips against an echo server, all on `ex`.
// Returns the seconds the clients took (connections established inside the measurement).
double echo_run(const asio::any_io_executor& ex, int connections, int rounds) {
    tcp::acceptor acceptor(ex, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const auto server = acceptor.local_endpoint();
    auto accepting = asio::co_spawn(ex, accept_n(acceptor, connections), asio::use_future);
    const auto t0 = Clock::now();
    std::vector<std::future<void>> clients;
    for (int c = 0; c < connections; ++c)
        clients.push_back(asio::co_spawn(ex, ping_pong_client(server, rounds), asio::use_future));
    for (auto& f : clients) f.get();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    accepting.get();
    return s;
}

double coroutine_run(const asio::any_io_executor& ex, asio::awaitable<void> a) {
    const auto t0 = Clock::now();
    asio::co_spawn(ex, std::move(a), asio::use_future).get();
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- contexts ---------------------------------------------------------------------------------
// A context under test: make() builds it, returns its executor and a function that tears it
// down (waits for its threads).
struct ContextUnderTest {
    std::string name;
    std::function<double(const std::function<double(const asio::any_io_executor&)>&)> with;
};

template <class Body>
double with_io_context(int threads, const Body& body) {
    asio::io_context io(threads);
    auto guard = asio::make_work_guard(io);
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i) ts.emplace_back([&] { io.run(); });
    const double s = body(io.get_executor());
    guard.reset();
    for (auto& t : ts) t.join();
    return s;
}

std::vector<ContextUnderTest> contexts() {
    using Body = std::function<double(const asio::any_io_executor&)>;
    return {
        {"io_context (1 thread)", [](const Body& b) { return with_io_context(1, b); }},
        {"WorkStealingExecutor(1)",
         [](const Body& b) {
             zuki::WorkStealingExecutor pool(1);
             const double s = b(pool.get_executor());
             pool.join();
             return s;
         }},
        {"WorkStealingExecutor(2)",
         [](const Body& b) {
             zuki::WorkStealingExecutor pool(2);
             const double s = b(pool.get_executor());
             pool.join();
             return s;
         }},
        {"asio::thread_pool(2)",
         [](const Body& b) {
             asio::thread_pool pool(2);
             const double s = b(pool.get_executor());
             pool.join();
             return s;
         }},
        {"io_context (2 threads)", [](const Body& b) { return with_io_context(2, b); }},
    };
}

struct Workload {
    std::string name;
    std::string unit;
    double ops;  // operations per run
    std::function<double(const asio::any_io_executor&)> run;
};

}  // namespace

int main(int argc, char** argv) {
    bool quick = false;
    int reps = 3;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = std::max(1, std::atoi(argv[++i]));
        else {
            std::fprintf(stderr, "usage: %s [--quick] [--reps N]\n", argv[0]);
            return 2;
        }
    }
    const int scale = quick ? 1 : 5;
    const int posts = 40000 * scale, timers = 10000 * scale, rounds = 4000 * scale;
    const int conns = 16, conn_rounds = 1000 * scale;

    const std::vector<Workload> workloads = {
        {"post", "posts/s", double(posts),
         [&](const asio::any_io_executor& ex) { return coroutine_run(ex, post_loop(posts)); }},
        {"timer(0)", "waits/s", double(timers),
         [&](const asio::any_io_executor& ex) { return coroutine_run(ex, timer_loop(timers)); }},
        {"ping-pong 1 conn", "round trips/s", double(rounds),
         [&](const asio::any_io_executor& ex) { return echo_run(ex, 1, rounds); }},
        {"ping-pong 16 conns", "round trips/s", double(conns) * conn_rounds,
         [&](const asio::any_io_executor& ex) { return echo_run(ex, conns, conn_rounds); }},
    };

    std::printf("Asio reactor cost: %u hardware threads, best of %d, %s sizes\n",
                std::thread::hardware_concurrency(), reps, quick ? "quick" : "full");
    std::vector<double> references;
    for (const auto& w : workloads) {
        std::printf("\n%-20s %-26s %14s %10s %12s\n", w.name.c_str(), "context", w.unit.c_str(),
                    "us/op", "vs io_ctx(1)");
        double reference = 0;
        for (const auto& c : contexts()) {
            double best = 1e300;
            for (int r = 0; r < reps; ++r) best = std::min(best, c.with(w.run));
            const double rate = w.ops / best;
            if (reference == 0) reference = rate;
            std::printf("%-20s %-26s %14.0f %10.2f %12.2f\n", "", c.name.c_str(), rate, 1e6 / rate,
                        rate / reference);
            std::fflush(stdout);
        }
        references.push_back(reference);
    }

    // The clients as zuki::Async tasks with zuki::use_future (server: the same Asio coroutines).
    const struct {
        const char* name;
        int connections, rounds;
        double reference;
    } zuki_rows[] = {{"ping-pong 1 conn", 1, rounds, references[2]},
                     {"ping-pong 16 conns", conns, conn_rounds, references[3]}};
    for (const auto& z : zuki_rows) {
        std::printf("\n%-20s %-26s %14s %10s %12s\n", z.name, "clients: Async+use_future",
                    "round trips/s", "us/op", "vs io_ctx(1)");
        for (std::size_t threads : {1, 2}) {
            double best = 1e300;
            for (int r = 0; r < reps; ++r)
                best = std::min(best, zuki_echo_run(threads, z.connections, z.rounds));
            const double rate = double(z.connections) * z.rounds / best;
            std::printf("%-20s WorkStealingExecutor(%zu)    %14.0f %10.2f %12.2f\n", "", threads,
                        rate, 1e6 / rate, rate / z.reference);
            std::fflush(stdout);
        }
    }
    return 0;
}
