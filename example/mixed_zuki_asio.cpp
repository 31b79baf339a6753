// Zuki tasks and Asio coroutines on one WorkStealingExecutor, awaiting each other.
//
// - Zuki side: `zuki::Async` tasks await a `steady_timer` and socket operations through the
//   `zuki::use_future` completion token.
// - Asio side: an `asio::awaitable` coroutine spawns Zuki tasks and awaits their JoinHandles
//   with `zuki::as_awaitable`; errors cross over as exceptions both ways.
// - `zuki::spawn_awaitable` runs that coroutine as a Zuki task: its JoinHandle is awaited from a
//   Zuki `Async` (and `get()` blocks main until the whole program is done).
//
// Everything runs on the same two workers. Self-checking: exits 0 when every result is right.

#include <zuki/asio/awaitable.hpp>
#include <zuki/asio/use_future.hpp>
#include <zuki/zuki.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Pool = zuki::WorkStealingExecutor;

// ---- an upper-casing echo service (Asio coroutines) -----------------------------------------
asio::awaitable<void> shout_session(tcp::socket s) {
    std::array<char, 1024> buf;
    for (;;) {
        auto [ec, n] =
            co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        for (std::size_t i = 0; i < n; ++i)
            if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] = static_cast<char>(buf[i] - 'a' + 'A');
        co_await asio::async_write(s, asio::buffer(buf.data(), n), asio::use_awaitable);
    }
}
asio::awaitable<void> shout_server(tcp::acceptor& acceptor, int connections) {
    for (int i = 0; i < connections; ++i)
        asio::co_spawn(acceptor.get_executor(),
                       shout_session(co_await acceptor.async_accept(asio::use_awaitable)),
                       asio::detached);
}

// ---- Zuki tasks that use Asio I/O -------------------------------------------------------------
// Wait `delay` on an Asio timer, then send `word` to the service and return its answer.
zuki::Async<std::string> ask(Pool::executor_type ex, tcp::endpoint server, std::string word,
                             std::chrono::milliseconds delay) {
    asio::steady_timer timer(ex, delay);
    co_await timer.async_wait(zuki::use_future);  // an Asio timer awaited by a Zuki task

    tcp::socket s(ex);
    co_await s.async_connect(server, zuki::use_future);
    co_await asio::async_write(s, asio::buffer(word), zuki::use_future);
    std::string answer(word.size(), '\0');
    const std::size_t n = co_await asio::async_read(s, asio::buffer(answer), zuki::use_future);
    answer.resize(n);
    co_return answer;
}

// A Zuki task whose socket operation fails: the error code arrives as system_error.
zuki::Async<std::string> ask_nobody(Pool::executor_type ex, tcp::endpoint closed_port) {
    tcp::socket s(ex);
    co_await s.async_connect(closed_port, zuki::use_future);  // throws connection_refused
    co_return "unreachable";
}

// ---- an Asio coroutine that awaits Zuki tasks ---------------------------------------------
asio::awaitable<std::string> conductor(Pool::executor_type ex, tcp::endpoint server,
                                       tcp::endpoint closed) {
    // Start three Zuki tasks at once; the later ones finish first. This coroutine runs on one
    // of the pool's workers, so zuki::spawn finds the pool by itself.
    std::vector<zuki::JoinHandle<std::string>> asks;
    asks.push_back(zuki::spawn(ask(ex, server, "zuki", 30ms)));
    asks.push_back(zuki::spawn(ask(ex, server, "and", 20ms)));
    asks.push_back(zuki::spawn(ask(ex, server, "asio", 10ms)));
    std::string sentence;
    for (auto& h : asks) sentence += co_await zuki::as_awaitable(std::move(h)) + " ";

    // A Zuki failure becomes an exception in the Asio coroutine.
    try {
        co_await zuki::as_awaitable(zuki::spawn(ask_nobody(ex, closed)));
        sentence += "(no error?) ";
    } catch (const boost::system::system_error& e) {
        std::printf("  asio coroutine caught the zuki task's error: %s\n",
                    e.code().message().c_str());
        sentence += "TOGETHER";
    }
    co_return sentence;
}

// ---- a Zuki task awaiting the Asio coroutine ------------------------------------------------
zuki::Async<std::string> main_task(Pool& pool, tcp::endpoint server, tcp::endpoint closed) {
    zuki::JoinHandle<std::string> h =
        zuki::spawn_awaitable(pool, conductor(pool.get_executor(), server, closed));
    std::string s = co_await h;  // a JoinHandle like any other
    co_return s;
}

int main() {
    try {
        Pool pool(2);
        auto ex = pool.get_executor();
        tcp::acceptor acceptor(ex, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        const tcp::endpoint server = acceptor.local_endpoint();
        asio::co_spawn(ex, shout_server(acceptor, 3), asio::detached);

        // A port nobody listens on: bind one, note it, close it.
        tcp::endpoint closed;
        {
            tcp::acceptor tmp(ex, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
            closed = tmp.local_endpoint();
        }

        const auto t0 = std::chrono::steady_clock::now();
        const std::string result = pool.block_on(main_task(pool, server, closed));
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - t0)
                            .count();
        std::printf("  result: \"%s\" after %lld ms on %zu workers\n", result.c_str(),
                    static_cast<long long>(ms), pool.thread_count());
        pool.join();
        const bool ok = result == "ZUKI AND ASIO TOGETHER";
        std::puts(ok ? "mixed Zuki/Asio program: OK" : "mixed Zuki/Asio program: WRONG RESULT");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
