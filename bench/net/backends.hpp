// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// The server backends of bench_net, named the same on both sides of the pipe: the parent passes
// the name to the child (`--serve <backend> <workload> --threads N`), the child builds it.
//
//   zuki                   zuki::WorkStealingExecutor(N): its workers drive Asio's reactor
//   io_context             one boost::asio::io_context run by N threads
//   io_context_per_thread  N io_contexts, each run by one thread; accepted sockets go round-robin
//                          (the io_context-per-thread design of Asio's HTTP server 2 example)
//   thread_pool            boost::asio::thread_pool(N)

#include <optional>
#include <string>
#include <string_view>

namespace zuki_bench::net {

enum class NetBackend { zuki, io_context, io_context_per_thread, thread_pool };
inline constexpr NetBackend all_net_backends[] = {NetBackend::zuki, NetBackend::io_context,
                                                  NetBackend::io_context_per_thread,
                                                  NetBackend::thread_pool};

inline const char* name_of(NetBackend b) {
    switch (b) {
        case NetBackend::zuki:
            return "zuki";
        case NetBackend::io_context:
            return "io_context";
        case NetBackend::io_context_per_thread:
            return "io_context_per_thread";
        case NetBackend::thread_pool:
            return "thread_pool";
    }
    return "?";
}

inline std::optional<NetBackend> parse_backend(std::string_view s) {
    for (NetBackend b : all_net_backends)
        if (s == name_of(b)) return b;
    return std::nullopt;
}

// One server configuration: a backend and its thread count.
struct ServerSpec {
    NetBackend backend = NetBackend::zuki;
    int threads = 2;
};

}  // namespace zuki_bench::net
