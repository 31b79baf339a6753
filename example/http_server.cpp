// A minimal HTTP/1.1 server on a WorkStealingExecutor: keep-alive, pipelining, one fixed
// response. One Asio coroutine per connection, co_spawned on the pool.
//
//   example_http_server                      # self-check: ephemeral port, in-process keep-alive
//                                            # clients verify every response, exit 0
//   example_http_server --serve 8080 [N]     # serve on 0.0.0.0:8080 with N workers (default: one
//                                            # per core) until killed; load it with
//                                            #   wrk -t2 -c64 -d10s http://127.0.0.1:8080/
//
// Not a real web server: it answers every request with "Hello, world!", understands
// Content-Length request bodies (skipped), `Connection: close` / `keep-alive` and HTTP/1.0.

#include <zuki/zuki.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <future>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view body = "Hello, world!";
constexpr std::size_t max_header = 16 * 1024;

std::string lower(std::string_view s) {
    std::string r(s);
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
    return r;
}

// The value of header `name` (lower case) in `head`, or empty.
std::string header_value(std::string_view head, std::string_view name) {
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos + 2 < head.size()) {
        const std::size_t start = pos + 2;
        const std::size_t end = head.find("\r\n", start);
        const std::string_view line = head.substr(start, end - start);
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos && lower(line.substr(0, colon)) == name) {
            std::string_view v = line.substr(colon + 1);
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
            while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
            return std::string(v);
        }
        pos = end;
    }
    return {};
}

std::string make_response(bool keep_alive) {
    std::string r =
        "HTTP/1.1 200 OK\r\nServer: zuki\r\nContent-Type: text/plain\r\nContent-Length: ";
    r += std::to_string(body.size());
    r += keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
    r += body;
    return r;
}
const std::string keep_alive_response = make_response(true);
const std::string close_response = make_response(false);

// One connection: answer requests until the client closes or asks to.
asio::awaitable<void> session(tcp::socket socket) {
    std::string buf;
    std::string out;  // responses of the requests already buffered (pipelining): one write
    for (;;) {
        auto [ec, n] =
            co_await asio::async_read_until(socket, asio::dynamic_buffer(buf, max_header),
                                            "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;  // eof, reset, or a header too large
        const std::string head = buf.substr(0, n);
        buf.erase(0, n);
        const bool http10 = head.find(" HTTP/1.0\r\n") != std::string::npos;
        const std::string connection = lower(header_value(head, "connection"));
        const bool keep_alive = http10 ? connection == "keep-alive" : connection != "close";
        if (const std::string cl = header_value(head, "content-length"); !cl.empty()) {
            const std::size_t len = std::strtoul(cl.c_str(), nullptr, 10);  // skip the body
            if (buf.size() < len) {
                auto [rec, _] = co_await asio::async_read(socket, asio::dynamic_buffer(buf),
                                                          asio::transfer_exactly(len - buf.size()),
                                                          asio::as_tuple(asio::use_awaitable));
                if (rec) co_return;
            }
            buf.erase(0, len);
        }
        out += keep_alive ? keep_alive_response : close_response;
        // More complete requests already buffered? Answer them in the same write.
        if (keep_alive && buf.find("\r\n\r\n") != std::string::npos) continue;
        auto [wec, _] = co_await asio::async_write(socket, asio::buffer(out),
                                                   asio::as_tuple(asio::use_awaitable));
        out.clear();
        if (wec || !keep_alive) break;
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> listen(tcp::acceptor& acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;
        socket.set_option(tcp::no_delay(true));
        asio::co_spawn(acceptor.get_executor(), session(std::move(socket)), asio::detached);
    }
}

// ---- self-check client ---------------------------------------------------------------------

// Reads one response; returns its body, checks status and framing; "" on a malformed response.
asio::awaitable<std::string> read_response(tcp::socket& s, std::string& buf, bool& server_closes) {
    const std::size_t n = co_await asio::async_read_until(s, asio::dynamic_buffer(buf), "\r\n\r\n",
                                                          asio::use_awaitable);
    const std::string head = buf.substr(0, n);
    buf.erase(0, n);
    if (head.rfind("HTTP/1.1 200 OK\r\n", 0) != 0) co_return std::string();
    server_closes = lower(header_value(head, "connection")) == "close";
    const std::size_t len = std::strtoul(header_value(head, "content-length").c_str(), nullptr, 10);
    if (buf.size() < len)
        co_await asio::async_read(s, asio::dynamic_buffer(buf),
                                  asio::transfer_exactly(len - buf.size()), asio::use_awaitable);
    std::string b = buf.substr(0, len);
    buf.erase(0, len);
    co_return b;
}

// `requests` keep-alive requests one at a time, then `pipelined` in one write, then a final
// `Connection: close` request after which the server must close. Returns responses verified.
asio::awaitable<int> client(tcp::endpoint server, int requests, int pipelined) {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await s.async_connect(server, asio::use_awaitable);
    s.set_option(tcp::no_delay(true));
    const std::string get =
        "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: zuki-selfcheck\r\n\r\n";
    const std::string post =
        "POST /submit HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello";
    std::string buf;
    int ok = 0;
    bool closes = false;
    for (int i = 0; i < requests; ++i) {
        co_await asio::async_write(s, asio::buffer(i % 10 == 9 ? post : get), asio::use_awaitable);
        if (co_await read_response(s, buf, closes) == body && !closes) ++ok;
    }
    std::string burst;
    for (int i = 0; i < pipelined; ++i) burst += i % 2 ? post : get;
    co_await asio::async_write(s, asio::buffer(burst), asio::use_awaitable);
    for (int i = 0; i < pipelined; ++i)
        if (co_await read_response(s, buf, closes) == body && !closes) ++ok;
    const std::string last = "GET /bye HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    co_await asio::async_write(s, asio::buffer(last), asio::use_awaitable);
    if (co_await read_response(s, buf, closes) == body && closes) ++ok;
    char c;
    auto [ec, n] =
        co_await s.async_read_some(asio::buffer(&c, 1), asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::eof && n == 0) ++ok;  // the server closed the connection
    co_return ok;
}

int serve(unsigned short port, std::size_t threads) {
    zuki::WorkStealingExecutor pool(threads);  // 0: one worker per core
    tcp::acceptor acceptor(pool.get_executor(), tcp::endpoint(tcp::v4(), port));
    std::printf("HTTP server on http://%s:%u/ (%zu workers); Ctrl-C to stop\n",
                acceptor.local_endpoint().address().to_string().c_str(),
                acceptor.local_endpoint().port(), pool.thread_count());
    std::fflush(stdout);
    asio::co_spawn(pool.get_executor(), listen(acceptor), asio::detached);
    pool.join();  // never returns
    return 0;
}

int self_check() {
    constexpr int connections = 8;
    constexpr int requests = 250;
    constexpr int pipelined = 20;
    zuki::WorkStealingExecutor pool(2);
    auto ex = pool.get_executor();
    tcp::acceptor acceptor(ex, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const tcp::endpoint server = acceptor.local_endpoint();
    std::printf("HTTP server on http://%s:%u/\n", server.address().to_string().c_str(),
                server.port());
    auto strand = asio::make_strand(ex);  // the listener and the close that stops it
    auto listening = asio::co_spawn(strand, listen(acceptor), asio::use_future);

    std::vector<std::future<int>> results;
    for (int c = 0; c < connections; ++c)
        results.push_back(
            asio::co_spawn(ex, client(server, requests, pipelined), asio::use_future));
    int ok = 0;
    bool failed = false;
    for (auto& r : results) {
        try {
            ok += r.get();
        } catch (const std::exception& e) {
            std::printf("client failed: %s\n", e.what());
            failed = true;
        }
    }
    asio::post(strand, [&] { acceptor.close(); });
    listening.get();
    pool.join();
    const int expected = connections * (requests + pipelined + 2);
    std::printf("%d connections: %d of %d checks passed (keep-alive, pipelining, close): %s\n",
                connections, ok, expected, ok == expected && !failed ? "OK" : "FAILED");
    return ok == expected && !failed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if ((argc == 3 || argc == 4) && std::strcmp(argv[1], "--serve") == 0)
            return serve(static_cast<unsigned short>(std::atoi(argv[2])),
                         argc == 4 ? static_cast<std::size_t>(std::atoi(argv[3])) : 0);
        if (argc != 1) {
            std::fprintf(stderr, "usage: %s [--serve PORT [THREADS]]\n", argv[0]);
            return 2;
        }
        return self_check();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
