// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// The load generators of bench_net, run in the parent process against a server child:
//
// - Built-in closed-loop clients on one boost::asio::io_context run by one thread: each
//   connection sends a request, waits for the whole reply, checks it, and sends the next.
//   `echo`: a 64-byte message with a pattern that depends on the connection and the sequence
//   number; every echoed byte is compared (mismatched bytes are counted; any is an error).
//   `http`: "GET / HTTP/1.1" keep-alive; the status line and the body are checked.
// - wrk (`wrk -t1 -cC -dDs --latency`), when it is on PATH, for http.
//
// Measurement: connect, warm up (`warmup_s`), then a window: the request count, the wall time
// and the server's CPU time (ServerProcess::mark) are read at its start and its end; CPU per
// request = CPU delta / requests in the window. The clients then stop between two exchanges and
// close their connections. Any error (connect, I/O, a bad reply) ends the program via die().
//
// Thread safety: the caller's thread runs one load at a time; the watchdog bounds its waits.

#include <cstdint>
#include <optional>
#include <string>

#include "net/server_process.hpp"

namespace zuki_bench::net {

struct LoadResult {
    std::uint64_t requests = 0;  // completed in the window
    double seconds = 0;  // window length
    std::int64_t server_cpu_us = 0;  // server CPU time in the window

    double per_second() const { return seconds > 0 ? double(requests) / seconds : 0; }
    double cpu_us_per_request() const {
        return requests > 0 ? double(server_cpu_us) / double(requests) : 0;
    }
};

/// `connections` echo clients exchanging `message_size`-byte messages.
LoadResult echo_load(ServerProcess& server, int connections, std::size_t message_size,
                     double warmup_s, double window_s);

/// `connections` keep-alive HTTP/1.1 clients. `window_s` <= 0: warm-up only (result empty).
LoadResult http_load(ServerProcess& server, int connections, double warmup_s, double window_s);

/// The path of wrk if it is on PATH.
std::optional<std::string> find_wrk();

/// Warms up with the built-in HTTP client, then runs `wrk -t1 -c<connections> -d<seconds>s
/// --latency` and takes its request count and Requests/sec; the CPU marks bracket wrk's run.
LoadResult wrk_load(const std::string& wrk, ServerProcess& server, int connections, int seconds,
                    double warmup_s);

}  // namespace zuki_bench::net
