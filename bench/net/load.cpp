// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

#include "net/load.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "harness/clock.hpp"
#include "harness/options.hpp"  // die()
#include "net/servers.hpp"  // http_body, the reply the HTTP client expects

namespace zuki_bench::net {

namespace {

// Shared by the clients of one load (they all run on the one client thread) and the thread
// that measures.
struct LoadState {
    // Written by the client thread only, read by the measuring thread: relaxed is enough, the
    // counts are sampled, not synchronised with.
    std::atomic<std::uint64_t> done{0};
    std::atomic<std::uint64_t> mismatched_bytes{0};
    std::atomic<int> connected{0};
    std::atomic<int> finished{0};
    std::atomic<int> errors{0};
    // Set by the measuring thread; a client stops before its next request.
    std::atomic<bool> stop{false};
    std::mutex m;
    std::string first_error;

    void count() noexcept {
        done.store(done.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    void error(const std::string& what) {
        {
            std::lock_guard l(m);
            if (first_error.empty()) first_error = what;
        }
        errors.fetch_add(1, std::memory_order_relaxed);
    }
};

template <class Derived>
class Client : public std::enable_shared_from_this<Derived> {
public:
    Client(asio::io_context& io, int id, LoadState& st) : socket_(io), id_(id), st_(st) {}

    void start(const tcp::endpoint& ep) {
        socket_.async_connect(ep, [self = this->shared_from_this()](error_code ec) {
            if (ec) return self->fail("connect", ec);
            self->socket_.set_option(tcp::no_delay(true), ec);
            self->st_.connected.fetch_add(1, std::memory_order_relaxed);
            self->next();
        });
    }

protected:
    // The next request, or the end once stop is set.
    void next() {
        if (st_.stop.load(std::memory_order_relaxed)) {
            error_code ignored;
            socket_.shutdown(tcp::socket::shutdown_both, ignored);
            socket_.close(ignored);
            st_.finished.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        static_cast<Derived*>(this)->exchange();
    }
    void fail(const char* what, error_code ec) {
        st_.error(std::string(what) + " on connection " + std::to_string(id_) + ": " +
                  ec.message());
        error_code ignored;
        socket_.close(ignored);
        st_.finished.fetch_add(1, std::memory_order_relaxed);
    }
    void fail(const std::string& what) {
        st_.error(what + " on connection " + std::to_string(id_));
        error_code ignored;
        socket_.close(ignored);
        st_.finished.fetch_add(1, std::memory_order_relaxed);
    }

    tcp::socket socket_;
    int id_;
    LoadState& st_;
};

class EchoClient : public Client<EchoClient> {
public:
    EchoClient(asio::io_context& io, int id, LoadState& st, std::size_t size)
        : Client(io, id, st), out_(size), in_(size) {}

    void exchange() {
        for (std::size_t i = 0; i < out_.size(); ++i)
            out_[i] = static_cast<unsigned char>(id_ * 131 + seq_ * 7 + i * 13);
        asio::async_write(socket_, asio::buffer(out_),
                          [self = shared_from_this()](error_code ec, std::size_t) {
                              if (ec) return self->fail("echo write", ec);
                              self->receive();
                          });
    }

private:
    void receive() {
        asio::async_read(socket_, asio::buffer(in_),
                         [self = shared_from_this()](error_code ec, std::size_t) {
                             if (ec) return self->fail("echo read", ec);
                             self->check();
                         });
    }
    void check() {
        std::uint64_t bad = 0;
        for (std::size_t i = 0; i < in_.size(); ++i) bad += in_[i] != out_[i];
        if (bad != 0) st_.mismatched_bytes.fetch_add(bad, std::memory_order_relaxed);
        st_.count();
        ++seq_;
        next();
    }

    std::vector<unsigned char> out_, in_;
    unsigned seq_ = 0;
};

class HttpClient : public Client<HttpClient> {
public:
    HttpClient(asio::io_context& io, int id, LoadState& st) : Client(io, id, st) {}

    void exchange() {
        static constexpr std::string_view request = "GET / HTTP/1.1\r\n"
                                                    "Host: 127.0.0.1\r\n"
                                                    "\r\n";
        asio::async_write(socket_, asio::buffer(request.data(), request.size()),
                          [self = shared_from_this()](error_code ec, std::size_t) {
                              if (ec) return self->fail("http write", ec);
                              self->read_head();
                          });
    }

private:
    void read_head() {
        asio::async_read_until(socket_, in_, "\r\n\r\n",
                               [self = shared_from_this()](error_code ec, std::size_t n) {
                                   if (ec) return self->fail("http read", ec);
                                   self->parse_head(n);
                               });
    }
    void parse_head(std::size_t n) {
        const std::string_view head(static_cast<const char*>(in_.data().data()), n);
        if (head.rfind("HTTP/1.1 200 ", 0) != 0) return fail("http: not a 200 response");
        const auto at = head.find("Content-Length:");
        if (at == std::string_view::npos) return fail("http: no Content-Length");
        const std::size_t length = std::strtoul(head.data() + at + 15, nullptr, 10);
        in_.consume(n);
        if (length != http_body.size()) return fail("http: wrong Content-Length");
        if (in_.size() >= length) return check_body(length);
        asio::async_read(socket_, in_, asio::transfer_exactly(length - in_.size()),
                         [self = shared_from_this(), length](error_code ec, std::size_t) {
                             if (ec) return self->fail("http read body", ec);
                             self->check_body(length);
                         });
    }
    void check_body(std::size_t length) {
        const std::string_view body(static_cast<const char*>(in_.data().data()), length);
        if (body != http_body) return fail("http: wrong body");
        in_.consume(length);
        st_.count();
        next();
    }

    asio::streambuf in_;
};

void wait_until(const auto& done) {
    while (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void sleep_s(double s) {
    if (s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

// Connects `connections` clients on one client thread, warms up, measures one window (unless
// window_s <= 0), stops the clients and checks what they saw.
template <class C, class... Args>
LoadResult closed_loop(ServerProcess& server, int connections, double warmup_s, double window_s,
                       const char* what, const Args&... args) {
    asio::io_context io(1);
    LoadState st;
    const tcp::endpoint ep(asio::ip::address_v4::loopback(), server.port());
    for (int i = 0; i < connections; ++i) std::make_shared<C>(io, i, st, args...)->start(ep);
    std::thread client_thread([&io] { io.run(); });
    auto check = [&] {
        if (st.errors.load(std::memory_order_relaxed) != 0) {
            std::lock_guard l(st.m);
            die(std::string(what) + " client: " + std::to_string(st.errors.load()) +
                " connection error(s), the first: " + st.first_error);
        }
    };
    wait_until([&] {
        return st.connected.load(std::memory_order_relaxed) +
                   st.errors.load(std::memory_order_relaxed) >=
               connections;
    });
    check();
    sleep_s(warmup_s);
    check();

    LoadResult r;
    if (window_s > 0) {
        const std::int64_t t0 = now_ns();
        const std::uint64_t n0 = st.done.load(std::memory_order_relaxed);
        const std::int64_t cpu0 = server.mark();
        sleep_s(window_s);
        const std::int64_t t1 = now_ns();
        const std::uint64_t n1 = st.done.load(std::memory_order_relaxed);
        const std::int64_t cpu1 = server.mark();
        r.requests = n1 - n0;
        r.seconds = double(t1 - t0) / 1e9;
        r.server_cpu_us = cpu1 - cpu0;
    }

    st.stop.store(true, std::memory_order_relaxed);
    wait_until([&] { return st.finished.load(std::memory_order_relaxed) >= connections; });
    client_thread.join();  // run() returns: every client closed, nothing pending
    check();
    if (const auto bad = st.mismatched_bytes.load(std::memory_order_relaxed); bad != 0)
        die(std::string(what) + " client: " + std::to_string(bad) +
            " echoed byte(s) differ from what was sent");
    if (window_s > 0 && r.requests == 0)
        die(std::string(what) + ": no request completed in the measured window");
    return r;
}

}  // namespace

LoadResult echo_load(ServerProcess& server, int connections, std::size_t message_size,
                     double warmup_s, double window_s) {
    return closed_loop<EchoClient>(server, connections, warmup_s, window_s, "echo", message_size);
}

LoadResult http_load(ServerProcess& server, int connections, double warmup_s, double window_s) {
    return closed_loop<HttpClient>(server, connections, warmup_s, window_s, "http");
}

std::optional<std::string> find_wrk() {
    const char* path = std::getenv("PATH");
    std::stringstream ss(path ? path : "");
    for (std::string dir; std::getline(ss, dir, ':');) {
        if (dir.empty()) continue;
        const std::string p = dir + "/wrk";
        if (access(p.c_str(), X_OK) == 0) return p;
    }
    return std::nullopt;
}

LoadResult wrk_load(const std::string& wrk, ServerProcess& server, int connections, int seconds,
                    double warmup_s) {
    http_load(server, connections, warmup_s, 0);
    if (wrk.find('\'') != std::string::npos) die("the path of wrk contains a quote");
    const std::string cmd =
        "'" + wrk + "' -t1 -c" + std::to_string(connections) + " -d" + std::to_string(seconds) +
        "s --latency http://127.0.0.1:" + std::to_string(server.port()) + "/ 2>&1";
    const std::int64_t cpu0 = server.mark();
    std::FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) die("cannot run " + cmd);
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
    const int rc = pclose(p);
    const std::int64_t cpu1 = server.mark();
    if (rc != 0) die("wrk failed (status " + std::to_string(rc) + "):\n" + out);
    if (out.find("Socket errors") != std::string::npos || out.find("Non-2xx") != std::string::npos)
        die("wrk reported errors:\n" + out);

    // "  123456 requests in 3.00s, 10.2MB read" and "Requests/sec:  41152.00"
    LoadResult r;
    const auto in = out.find(" requests in ");
    const auto rps = out.find("Requests/sec:");
    if (in == std::string::npos || rps == std::string::npos)
        die("cannot parse wrk's output:\n" + out);
    auto line_start = out.rfind('\n', in);
    line_start = line_start == std::string::npos ? 0 : line_start + 1;
    r.requests = std::strtoull(out.c_str() + line_start, nullptr, 10);
    const double rate = std::strtod(out.c_str() + rps + 13, nullptr);
    if (r.requests == 0 || !(rate > 0)) die("wrk completed no request:\n" + out);
    r.seconds = double(r.requests) / rate;
    r.server_cpu_us = cpu1 - cpu0;
    return r;
}

}  // namespace zuki_bench::net
