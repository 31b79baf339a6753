// A TCP echo server on a WorkStealingExecutor: one Asio coroutine per connection, co_spawned on
// the pool, exactly as it would be on boost::asio::thread_pool.
//
//   example_tcp_echo_server                 # self-check: ephemeral port, in-process clients, exit
//   0 example_tcp_echo_server --serve 5555    # a real server on 0.0.0.0:5555 until killed
//                                           # (try: nc 127.0.0.1 5555)
//
// The self-check starts the server on 127.0.0.1, port 0 (the kernel picks a free one), runs
// clients as coroutines on the same pool, and verifies every echoed byte.

#include <zuki/zuki.hpp>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <future>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// One connection: echo until the peer closes.
asio::awaitable<void> session(tcp::socket socket) {
    std::array<char, 4096> buf;
    for (;;) {
        auto [ec, n] =
            co_await socket.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;  // eof or reset
        auto [wec, _] = co_await asio::async_write(socket, asio::buffer(buf.data(), n),
                                                   asio::as_tuple(asio::use_awaitable));
        if (wec) co_return;
    }
}

// Accept forever (until the acceptor is closed), one coroutine per connection.
asio::awaitable<void> listen(tcp::acceptor& acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;
        socket.set_option(tcp::no_delay(true));
        asio::co_spawn(acceptor.get_executor(), session(std::move(socket)), asio::detached);
    }
}

// A client: sends `rounds` messages, checks each echo byte by byte. Returns bytes verified.
asio::awaitable<long> client(tcp::endpoint server, int id, int rounds) {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await s.async_connect(server, asio::use_awaitable);
    s.set_option(tcp::no_delay(true));
    long verified = 0;
    for (int r = 0; r < rounds; ++r) {
        std::string msg = "client " + std::to_string(id) + " round " + std::to_string(r) + " ";
        msg.append(static_cast<std::size_t>((id * 131 + r * 17) % 2000),
                   static_cast<char>('a' + r % 26));
        co_await asio::async_write(s, asio::buffer(msg), asio::use_awaitable);
        std::string back(msg.size(), '\0');
        co_await asio::async_read(s, asio::buffer(back), asio::use_awaitable);
        if (back != msg) throw std::runtime_error("echo mismatch for client " + std::to_string(id));
        verified += static_cast<long>(back.size());
    }
    s.shutdown(tcp::socket::shutdown_send);
    co_return verified;
}

int serve(unsigned short port) {
    zuki::WorkStealingExecutor pool;  // one worker per core
    tcp::acceptor acceptor(pool.get_executor(), tcp::endpoint(tcp::v4(), port));
    std::printf("echo server on %s:%u (%zu workers); Ctrl-C to stop\n",
                acceptor.local_endpoint().address().to_string().c_str(),
                acceptor.local_endpoint().port(), pool.thread_count());
    std::fflush(stdout);
    asio::co_spawn(pool.get_executor(), listen(acceptor), asio::detached);
    pool.join();  // never returns: the listener is outstanding work forever
    return 0;
}

int self_check() {
    constexpr int clients = 16;
    constexpr int rounds = 50;
    zuki::WorkStealingExecutor pool(2);
    auto ex = pool.get_executor();
    tcp::acceptor acceptor(ex, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const tcp::endpoint server = acceptor.local_endpoint();
    std::printf("echo server on %s:%u\n", server.address().to_string().c_str(), server.port());
    // The listener runs on a strand, so closing the acceptor later (on the same strand) never
    // races with the coroutine using it.
    auto strand = asio::make_strand(ex);
    auto listening = asio::co_spawn(strand, listen(acceptor), asio::use_future);

    std::vector<std::future<long>> results;
    for (int id = 0; id < clients; ++id)
        results.push_back(asio::co_spawn(ex, client(server, id, rounds), asio::use_future));
    long total = 0;
    bool ok = true;
    for (auto& r : results) {
        try {
            total += r.get();
        } catch (const std::exception& e) {
            std::printf("client failed: %s\n", e.what());
            ok = false;
        }
    }
    // Stop accepting: close the acceptor on the listener's strand.
    asio::post(strand, [&] { acceptor.close(); });
    listening.get();
    pool.join();  // sessions end as their clients shut down
    std::printf("%d clients x %d rounds: %ld bytes echoed and verified: %s\n", clients, rounds,
                total, ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}

int main(int argc, char** argv) {
    try {
        if (argc == 3 && std::strcmp(argv[1], "--serve") == 0)
            return serve(static_cast<unsigned short>(std::atoi(argv[2])));
        if (argc != 1) {
            std::fprintf(stderr, "usage: %s [--serve PORT]\n", argv[0]);
            return 2;
        }
        return self_check();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
