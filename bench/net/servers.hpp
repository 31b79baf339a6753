// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// The servers of bench_net, one source for every backend: classic Asio callback style (each
// session owned by the shared_ptr its pending handler holds), templated on the executor type so
// every backend runs the same code with its own concrete executor (no type erasure).
//
//   Listener<Ex>     accepts on 127.0.0.1:0; each accepted socket gets the executor that
//                    `next_executor` returns (the same one, or round-robin for
//                    io_context_per_thread), TCP_NODELAY, and a session
//   EchoSession      async_read_some into a buffer, async_write it back, loop
//   HttpSession      async_read_until "\r\n\r\n", async_write a fixed 200 response with
//                    Content-Length, loop (HTTP/1.1 keep-alive; the request is not parsed)
//   TimerLoop        zero-length steady_timer waits one after the other
//   TimerStorm       many timers at once, each re-armed for 0-2 ms after every wait (a server's
//                    per-connection timeouts and periodic ticks)
//
// Threads: a session has one operation in flight at a time, so its handlers never run
// concurrently (no strand needed). The listener's accept chain is likewise sequential.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "harness/clock.hpp"

namespace zuki_bench::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// The one response of the HTTP server (and what the built-in HTTP client expects).
inline constexpr std::string_view http_body = "Hello, World!";
inline constexpr std::string_view http_response = "HTTP/1.1 200 OK\r\n"
                                                  "Content-Type: text/plain\r\n"
                                                  "Content-Length: 13\r\n"
                                                  "\r\n"
                                                  "Hello, World!";
static_assert(http_response.size() > http_body.size() &&
              http_response.substr(http_response.size() - http_body.size()) == http_body);

template <class Ex>
class EchoSession : public std::enable_shared_from_this<EchoSession<Ex>> {
public:
    explicit EchoSession(asio::basic_stream_socket<tcp, Ex> socket) : socket_(std::move(socket)) {}

    void start() { read(); }

private:
    void read() {
        socket_.async_read_some(asio::buffer(buf_),
                                [self = this->shared_from_this()](error_code ec, std::size_t n) {
                                    if (!ec) self->write(n);
                                });
    }
    void write(std::size_t n) {
        asio::async_write(socket_, asio::buffer(buf_, n),
                          [self = this->shared_from_this()](error_code ec, std::size_t) {
                              if (!ec) self->read();
                          });
    }

    asio::basic_stream_socket<tcp, Ex> socket_;
    std::array<char, 4096> buf_;
};

template <class Ex>
class HttpSession : public std::enable_shared_from_this<HttpSession<Ex>> {
public:
    explicit HttpSession(asio::basic_stream_socket<tcp, Ex> socket) : socket_(std::move(socket)) {}

    void start() { read(); }

private:
    void read() {
        asio::async_read_until(socket_, in_, "\r\n\r\n",
                               [self = this->shared_from_this()](error_code ec, std::size_t n) {
                                   if (ec) return;
                                   self->in_.consume(n);  // the request, headers and all
                                   self->write();
                               });
    }
    void write() {
        asio::async_write(socket_, asio::buffer(http_response.data(), http_response.size()),
                          [self = this->shared_from_this()](error_code ec, std::size_t) {
                              if (!ec) self->read();
                          });
    }

    asio::basic_stream_socket<tcp, Ex> socket_;
    asio::streambuf in_{64 * 1024};  // a request larger than this ends the session
};

// Accepts until closed; `Session` is EchoSession<Ex> or HttpSession<Ex>.
template <class Ex, template <class> class Session>
class Listener {
public:
    Listener(const Ex& ex, std::function<Ex()> next_executor)
        : acceptor_(ex, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
          next_executor_(std::move(next_executor)) {}

    unsigned short port() const { return acceptor_.local_endpoint().port(); }

    void start() { accept(); }

    /// Closes the acceptor on its own executor (the pending accept completes with
    /// operation_aborted and is not renewed).
    void close() {
        asio::post(acceptor_.get_executor(), [this] { acceptor_.close(); });
    }

private:
    void accept() {
        acceptor_.async_accept(next_executor_(),
                               [this](error_code ec, asio::basic_stream_socket<tcp, Ex> s) {
                                   if (ec == asio::error::operation_aborted) return;
                                   if (!ec) {
                                       s.set_option(tcp::no_delay(true), ec);
                                       std::make_shared<Session<Ex>>(std::move(s))->start();
                                   }
                                   accept();
                               });
    }

    asio::basic_socket_acceptor<tcp, Ex> acceptor_;
    std::function<Ex()> next_executor_;
};

// `n` zero-length timer waits in a row; `done(ns)` gets the time from the first wait's start to
// the last one's completion.
template <class Ex>
class TimerLoop {
public:
    TimerLoop(const Ex& ex, long n, std::function<void(std::int64_t)> done)
        : timer_(ex), left_(n), done_(std::move(done)) {}

    void start() {
        t0_ = now_ns();
        next();
    }

private:
    void next() {
        timer_.expires_after(std::chrono::nanoseconds(0));
        timer_.async_wait([this](error_code) {
            if (--left_ > 0)
                next();
            else
                done_(now_ns() - t0_);
        });
    }

    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, Ex>
        timer_;
    long left_;
    std::function<void(std::int64_t)> done_;
    std::int64_t t0_ = 0;
};

// `timers` steady_timers at once, each waiting `waits` times in a row for a pseudo-random 0-2 ms
// (its own xorshift, so every run and backend waits the same times); `done(ns)` gets the time
// from the start to the last wait's completion. Each timer has one wait in flight, so its
// handlers never run concurrently; the count of timers still waiting is shared.
template <class Ex>
class TimerStorm {
public:
    TimerStorm(const Ex& ex, std::size_t timers, long waits, std::function<void(std::int64_t)> done)
        : done_(std::move(done)), running_(timers) {
        chains_.reserve(timers);
        for (std::size_t i = 0; i < timers; ++i) chains_.emplace_back(ex, waits, i);
    }

    // Arms every timer (from a thread of the executor's, or any thread for a thread-safe one).
    void start() {
        t0_ = now_ns();
        for (Chain& c : chains_) next(c);
    }

private:
    struct Chain {
        Chain(const Ex& ex, long waits, std::size_t i)
            : timer(ex), left(waits), rng(0x9E3779B97F4A7C15ull * (i + 1)) {}
        asio::basic_waitable_timer<std::chrono::steady_clock,
                                   asio::wait_traits<std::chrono::steady_clock>, Ex>
            timer;
        long left;
        std::uint64_t rng;
    };

    void next(Chain& c) {
        c.rng ^= c.rng << 13;
        c.rng ^= c.rng >> 7;
        c.rng ^= c.rng << 17;
        c.timer.expires_after(std::chrono::microseconds(c.rng % 2000));
        c.timer.async_wait([this, &c](error_code) {
            if (--c.left > 0)
                next(c);
            else if (running_.fetch_sub(1, std::memory_order_acq_rel) == 1)
                done_(now_ns() - t0_);
        });
    }

    std::vector<Chain> chains_;  // reserved up front: the handlers hold references
    std::function<void(std::int64_t)> done_;
    std::atomic<std::size_t> running_;
    std::int64_t t0_ = 0;
};

}  // namespace zuki_bench::net
