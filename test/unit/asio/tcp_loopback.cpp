#include <zuki/asio/use_future.hpp>
#define BOOST_TEST_MODULE zuki asio tcp loopback
#include <boost/test/unit_test.hpp>

// The echo server of example/tcp_echo_server.cpp (an Asio coroutine per connection, co_spawned
// on a WorkStealingExecutor) on an ephemeral loopback port, with many concurrent clients —
// half of them Zuki `Async` tasks using `zuki::use_future`, half Asio coroutines — each sending
// messages of random sizes and checking every echoed byte.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <zuki/core/async.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>

#include "common/watchdog.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// The full size (50 x 100) also under ThreadSanitizer: it takes a few seconds there. Scale the
// clients up with ZUKI_STRESS_SCALE.
constexpr int default_clients = 50;
constexpr int default_messages = 100;
constexpr std::size_t max_message = 4096;
constexpr std::uint32_t seed = 20260101;

int stress_scale() {
    const char* s = std::getenv("ZUKI_STRESS_SCALE");
    const int v = s ? std::atoi(s) : 1;
    return v > 0 ? v : 1;
}

// ---- the server ---------------------------------------------------------------------------
asio::awaitable<void> echo_session(tcp::socket socket, std::atomic<long>& echoed) {
    std::array<char, max_message> buf;
    for (;;) {
        auto [ec, n] =
            co_await socket.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
        if (ec) break;  // eof: the client is done
        co_await asio::async_write(socket, asio::buffer(buf.data(), n), asio::use_awaitable);
        echoed.fetch_add(static_cast<long>(n), std::memory_order_relaxed);
    }
}

asio::awaitable<void> listener(tcp::acceptor& acceptor, int connections,
                               std::atomic<long>& echoed) {
    for (int i = 0; i < connections; ++i) {
        tcp::socket s = co_await acceptor.async_accept(asio::use_awaitable);
        s.set_option(tcp::no_delay(true));
        asio::co_spawn(acceptor.get_executor(), echo_session(std::move(s), echoed), asio::detached);
    }
}

// ---- the clients: the same conversation written in both worlds ------------------------------
struct Conversation {
    explicit Conversation(int id) : rng(seed + static_cast<std::uint32_t>(id)) {}
    std::vector<char> next_message() {
        std::uniform_int_distribution<std::size_t> size(1, max_message);
        std::uniform_int_distribution<int> byte(0, 255);
        std::vector<char> m(size(rng));
        for (char& c : m) c = static_cast<char>(byte(rng));
        return m;
    }
    std::mt19937 rng;
};

// Returns the number of bytes verified, or -1 at the first mismatch.
zuki::Async<long> zuki_client(tcp::endpoint server, zuki::WorkStealingExecutor::executor_type ex,
                              int id, int messages) {
    tcp::socket s(ex);
    co_await s.async_connect(server, zuki::use_future);
    s.set_option(tcp::no_delay(true));
    Conversation conv(id);
    long verified = 0;
    std::vector<char> back;
    for (int m = 0; m < messages; ++m) {
        std::vector<char> msg = conv.next_message();
        co_await asio::async_write(s, asio::buffer(msg), zuki::use_future);
        back.assign(msg.size(), 0);
        const std::size_t n = co_await asio::async_read(s, asio::buffer(back), zuki::use_future);
        if (n != msg.size() || back != msg) co_return -1;
        verified += static_cast<long>(n);
    }
    s.shutdown(tcp::socket::shutdown_send);
    co_return verified;
}

asio::awaitable<long> asio_client(tcp::endpoint server, int id, int messages) {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await s.async_connect(server, asio::use_awaitable);
    s.set_option(tcp::no_delay(true));
    Conversation conv(id);
    long verified = 0;
    std::vector<char> back;
    for (int m = 0; m < messages; ++m) {
        std::vector<char> msg = conv.next_message();
        co_await asio::async_write(s, asio::buffer(msg), asio::use_awaitable);
        back.assign(msg.size(), 0);
        const std::size_t n = co_await asio::async_read(s, asio::buffer(back), asio::use_awaitable);
        if (n != msg.size() || back != msg) co_return -1;
        verified += static_cast<long>(n);
    }
    s.shutdown(tcp::socket::shutdown_send);
    co_return verified;
}

// What client `id` sends in total (replays its random sizes).
long expected_bytes(int id, int messages) {
    Conversation conv(id);
    long total = 0;
    for (int m = 0; m < messages; ++m) total += static_cast<long>(conv.next_message().size());
    return total;
}

}  // namespace

BOOST_AUTO_TEST_CASE(concurrent_clients_every_byte_echoed) {
    zuki::test::Watchdog dog(120s, "concurrent_clients_every_byte_echoed");
    const int clients = default_clients * stress_scale();
    const int messages = default_messages;

    zuki::WorkStealingExecutor pool(2);
    auto ex = pool.get_executor();
    tcp::acceptor acceptor(ex, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const tcp::endpoint server = acceptor.local_endpoint();
    BOOST_TEST_MESSAGE("echo server on " << server << ", " << clients << " clients x " << messages
                                         << " messages");
    std::atomic<long> echoed{0};
    auto listening = asio::co_spawn(ex, listener(acceptor, clients, echoed), asio::use_future);

    std::vector<zuki::JoinHandle<long>> zuki_clients;
    std::vector<std::future<long>> asio_clients;
    for (int id = 0; id < clients; ++id) {
        if (id % 2 == 0)
            zuki_clients.push_back(pool.spawn(zuki_client(server, ex, id, messages)));
        else
            asio_clients.push_back(
                asio::co_spawn(ex, asio_client(server, id, messages), asio::use_future));
    }

    long total = 0;
    for (int id = 0, z = 0, a = 0; id < clients; ++id) {
        const long got = id % 2 == 0 ? zuki_clients[z++].get() : asio_clients[a++].get();
        BOOST_TEST(got == expected_bytes(id, messages), "client " << id);
        total += got;
    }
    listening.get();
    pool.join();  // the sessions end when their clients shut down: all of them have finished
    BOOST_TEST(echoed.load() == total);
}
