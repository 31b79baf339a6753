// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Soak test (not a ctest test: scripts/soak.sh builds and runs it). A TCP echo server on a
// WorkStealingExecutor of 2 workers (the sessions of example/tcp_echo_server.cpp: one Asio
// coroutine per connection), on 127.0.0.1 with an ephemeral port, under 64 concurrent loopback
// clients for ZUKI_SOAK_SECONDS (default 60). The clients run on their own io_context thread,
// send messages of random sizes (1 B to 64 KiB) with random bytes, and check that every byte that
// comes back matches what they sent. About 1 message in 7 is cut short: the client writes part
// of it and then resets the connection (after reading part of the echo), closes it with the
// echo unread, or half-closes and reads the rest of the echo to the end; then it reconnects.
//
// Fails (exit 1) on: a byte that came back wrong; a server error other than those a
// disconnecting peer causes (eof, connection_reset, broken_pipe, operation_aborted); a client
// error on a connection it did not cut short; memory growth (VmRSS at the end of the load above
// 1.5 x its value after the warm-up + 16 MiB); file descriptors left open after shutdown; a hang
// (a watchdog aborts 60 s after the deadline). Prints one summary line.
//
//   ZUKI_SOAK_SECONDS   duration of the load (default 60; the warm-up is min(5, duration / 3))
//   ZUKI_SOAK_CLIENTS   concurrent clients (default 64)

#include <zuki/zuki.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include "../common/test_env.hpp"
#include "../common/watchdog.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;

namespace {

long env_long(const char* name, long fallback) {
    const char* s = std::getenv(name);
    if (s == nullptr || *s == '\0') return fallback;
    const long v = std::strtol(s, nullptr, 10);
    return v > 0 ? v : fallback;
}

long open_fds() {
    long n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

// Errors that a client that disconnects abruptly may cause on the server side.
bool expected_disconnect(const boost::system::error_code& ec) {
    return ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::operation_aborted;
}

struct Stats {
    // Server side (pool workers).
    std::atomic<long> sessions{0};
    std::atomic<long> live_sessions{0};
    std::atomic<long> server_bytes{0};
    std::atomic<long> server_errors{0};
    std::atomic<long> expected_server_errors{0};
    // Client side (the client thread).
    std::atomic<long> connections{0};
    std::atomic<long> messages{0};
    std::atomic<long> cut_short{0};
    std::atomic<long> bytes_verified{0};
    std::atomic<long> mismatches{0};
    std::atomic<long> client_errors{0};
    std::atomic<long> port_exhaustion{
        0};  // connect: address_not_available (TIME_WAIT), not a server fault

    std::mutex m;
    std::vector<std::string> notes;  // first few problems, guarded by m
    void note(const std::string& s) {
        std::lock_guard lock(m);
        if (notes.size() < 10) notes.push_back(s);
    }
};

// ---- server (as in example/tcp_echo_server.cpp, counting its errors) ---------------------------

asio::awaitable<void> session(tcp::socket socket, Stats& st) {
    st.sessions.fetch_add(1, std::memory_order_relaxed);
    st.live_sessions.fetch_add(1, std::memory_order_relaxed);
    std::array<char, 4096> buf;
    for (;;) {
        auto [ec, n] =
            co_await socket.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
        if (!ec) {
            auto [wec, _] = co_await asio::async_write(socket, asio::buffer(buf.data(), n),
                                                       asio::as_tuple(asio::use_awaitable));
            ec = wec;
            if (!ec) st.server_bytes.fetch_add(static_cast<long>(n), std::memory_order_relaxed);
        }
        if (ec) {
            if (expected_disconnect(ec)) {
                if (ec != asio::error::eof)
                    st.expected_server_errors.fetch_add(1, std::memory_order_relaxed);
            } else {
                st.server_errors.fetch_add(1, std::memory_order_relaxed);
                st.note("server session: " + ec.message());
            }
            break;
        }
    }
    st.live_sessions.fetch_sub(1, std::memory_order_relaxed);
}

asio::awaitable<void> listen(tcp::acceptor& acceptor, Stats& st) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) {
            st.server_errors.fetch_add(1, std::memory_order_relaxed);
            st.note("server accept: " + ec.message());
            continue;
        }
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        asio::co_spawn(acceptor.get_executor(), session(std::move(socket), st), asio::detached);
    }
}

// ---- clients
// --------------------------------------------------------------------------------------

std::size_t message_size(std::mt19937_64& rng) {
    const unsigned p = static_cast<unsigned>(rng() % 100);
    if (p < 50) return 1 + rng() % 256;
    if (p < 90) return 1 + rng() % 8192;
    return 1 + rng() % 65536;
}

// Reads until eof; returns the bytes read (appended to `got`).
asio::awaitable<void> read_to_eof(tcp::socket& s, std::vector<char>& got) {
    std::array<char, 8192> buf;
    for (;;) {
        auto [ec, n] =
            co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
        got.insert(got.end(), buf.data(), buf.data() + n);
        if (ec == asio::error::eof) co_return;
        if (ec) throw boost::system::system_error(ec);
    }
}

bool same(const std::vector<char>& a, std::size_t a_len, const std::vector<char>& b) {
    return b.size() == a_len && std::memcmp(a.data(), b.data(), a_len) == 0;
}

asio::awaitable<void> client(int id, tcp::endpoint server, Clock::time_point deadline, Stats& st) {
    std::mt19937_64 rng(0x5eed0000u + static_cast<unsigned>(id));
    auto ex = co_await asio::this_coro::executor;
    std::vector<char> out;
    std::vector<char> in;
    while (Clock::now() < deadline) {
        tcp::socket s(ex);
        auto [cec] = co_await s.async_connect(server, asio::as_tuple(asio::use_awaitable));
        if (cec) {
            if (cec == boost::system::errc::address_not_available) {
                st.port_exhaustion.fetch_add(1, std::memory_order_relaxed);
            } else {
                st.client_errors.fetch_add(1, std::memory_order_relaxed);
                st.note("client connect: " + cec.message());
            }
            asio::steady_timer pause(ex, std::chrono::milliseconds(10));
            co_await pause.async_wait(asio::use_awaitable);
            continue;
        }
        st.connections.fetch_add(1, std::memory_order_relaxed);
        s.set_option(tcp::no_delay(true));
        const int messages = 1 + static_cast<int>(rng() % 40);
        bool open = true;
        try {
            for (int m = 0; m < messages && open && Clock::now() < deadline; ++m) {
                const std::size_t size = message_size(rng);
                out.resize(size);
                for (auto& c : out) c = static_cast<char>(rng());
                if (size > 1 && rng() % 7 == 0) {
                    // Cut the message short and disconnect.
                    const std::size_t part = 1 + rng() % (size - 1);
                    co_await asio::async_write(s, asio::buffer(out.data(), part),
                                               asio::use_awaitable);
                    switch (rng() % 3) {
                        case 0: {  // read some of the echo, then reset the connection
                            in.resize(1 + rng() % part);
                            co_await asio::async_read(s, asio::buffer(in), asio::use_awaitable);
                            if (std::memcmp(in.data(), out.data(), in.size()) != 0) {
                                st.mismatches.fetch_add(1, std::memory_order_relaxed);
                                st.note("client " + std::to_string(id) + ": partial echo differs");
                            } else {
                                st.bytes_verified.fetch_add(static_cast<long>(in.size()),
                                                            std::memory_order_relaxed);
                            }
                            s.set_option(asio::socket_base::linger(true, 0));  // RST on close
                            s.close();
                            break;
                        }
                        case 1:  // close with the echo unread (the kernel resets the connection)
                            s.close();
                            break;
                        default: {  // half-close: the whole part comes back, then eof
                            s.shutdown(tcp::socket::shutdown_send);
                            in.clear();
                            co_await read_to_eof(s, in);
                            if (!same(out, part, in)) {
                                st.mismatches.fetch_add(1, std::memory_order_relaxed);
                                st.note("client " + std::to_string(id) +
                                        ": echo of a half-closed message differs (" +
                                        std::to_string(in.size()) + " of " + std::to_string(part) +
                                        " bytes)");
                            } else {
                                st.bytes_verified.fetch_add(static_cast<long>(part),
                                                            std::memory_order_relaxed);
                            }
                            s.close();
                            break;
                        }
                    }
                    st.cut_short.fetch_add(1, std::memory_order_relaxed);
                    open = false;
                } else {
                    in.resize(size);
                    co_await (asio::async_write(s, asio::buffer(out), asio::use_awaitable) &&
                              asio::async_read(s, asio::buffer(in), asio::use_awaitable));
                    if (in != out) {
                        st.mismatches.fetch_add(1, std::memory_order_relaxed);
                        st.note("client " + std::to_string(id) + ": echo of a " +
                                std::to_string(size) + "-byte message differs");
                    } else {
                        st.bytes_verified.fetch_add(static_cast<long>(size),
                                                    std::memory_order_relaxed);
                    }
                    st.messages.fetch_add(1, std::memory_order_relaxed);
                }
            }
            if (open) {  // a clean goodbye: nothing more comes back
                s.shutdown(tcp::socket::shutdown_send);
                in.clear();
                co_await read_to_eof(s, in);
                if (!in.empty()) {
                    st.mismatches.fetch_add(1, std::memory_order_relaxed);
                    st.note("client " + std::to_string(id) +
                            ": unexpected bytes after the last echo");
                }
                s.close();
            }
        } catch (const boost::system::system_error& e) {
            st.client_errors.fetch_add(1, std::memory_order_relaxed);
            st.note("client " + std::to_string(id) + ": " + e.code().message());
            boost::system::error_code ignored;
            s.close(ignored);
        }
    }
}

}  // namespace

int main() {
    const long seconds = env_long("ZUKI_SOAK_SECONDS", 60);
    const int clients = static_cast<int>(env_long("ZUKI_SOAK_CLIENTS", 64));
    const auto warmup = std::chrono::milliseconds(std::min<long>(5000, seconds * 1000 / 3));
    zuki::test::Watchdog watchdog(std::chrono::seconds(seconds + 60), "echo_soak");
    Stats st;
    long rss_start = 0, rss_end = 0, rss_after = 0;
    const long fds_before = open_fds();
    long fds_after = 0;
    std::size_t workers = 0;
    try {
        {
            zuki::WorkStealingExecutor pool(2);
            workers = pool.thread_count();
            auto ex = pool.get_executor();
            tcp::acceptor acceptor(ex, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
            const tcp::endpoint server = acceptor.local_endpoint();
            auto strand = asio::make_strand(ex);
            auto listening = asio::co_spawn(strand, listen(acceptor, st), asio::use_future);

            const auto start = Clock::now();
            const auto deadline = start + std::chrono::seconds(seconds);
            asio::io_context client_io(1);
            for (int id = 0; id < clients; ++id) {
                asio::co_spawn(client_io, client(id, server, deadline, st),
                               [&st](std::exception_ptr e) {
                                   if (!e) return;
                                   st.client_errors.fetch_add(1, std::memory_order_relaxed);
                                   try {
                                       std::rethrow_exception(e);
                                   } catch (const std::exception& x) {
                                       st.note(std::string("client coroutine: ") + x.what());
                                   }
                               });
            }
            std::thread client_thread([&] { client_io.run(); });

            std::this_thread::sleep_until(start + warmup);
            rss_start = zuki::test::process_rss_kib();
            std::this_thread::sleep_until(deadline - std::chrono::milliseconds(100));
            rss_end = zuki::test::process_rss_kib();
            client_thread.join();  // every client finished its last message and said goodbye

            asio::post(strand, [&] { acceptor.close(); });
            listening.get();
            pool.join();  // every session ended (each client closed its connection)
            rss_after = zuki::test::process_rss_kib();
        }
        fds_after = open_fds();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_soak: %s\n", e.what());
        return 1;
    }

    const long rss_limit = rss_start + rss_start / 2 + 16 * 1024;
    const bool rss_ok = rss_end <= rss_limit;
    const bool ok = st.mismatches.load() == 0 && st.server_errors.load() == 0 &&
                    st.client_errors.load() == 0 && rss_ok && fds_after == fds_before &&
                    st.live_sessions.load() == 0 && st.messages.load() > 0;
    for (const auto& n : st.notes) std::printf("echo_soak: %s\n", n.c_str());
    if (!rss_ok)
        std::printf("echo_soak: RSS grew from %ld KiB to %ld KiB (limit %ld KiB)\n", rss_start,
                    rss_end, rss_limit);
    if (fds_after != fds_before)
        std::printf("echo_soak: %ld file descriptors open before, %ld after\n", fds_before,
                    fds_after);
    std::printf("echo_soak: %ld s, %d clients, %zu workers: %ld connections (%ld cut short "
                "mid-message), %ld messages, %ld "
                "bytes verified, %ld mismatches; server: %ld sessions, %ld errors (%ld expected "
                "disconnects); %ld client "
                "errors, %ld connects refused for lack of ports; RSS %ld KiB after warm-up, %ld "
                "KiB at the end, %ld KiB "
                "after shutdown: %s\n",
                seconds, clients, workers, st.connections.load(), st.cut_short.load(),
                st.messages.load(), st.bytes_verified.load(), st.mismatches.load(),
                st.sessions.load(), st.server_errors.load(), st.expected_server_errors.load(),
                st.client_errors.load(), st.port_exhaustion.load(), rss_start, rss_end, rss_after,
                ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}
