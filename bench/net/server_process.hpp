// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// The parent's handle on one server child: fork + exec of this same program in its `--serve`
// mode (serve.hpp has the protocol), so the server's CPU time is its process's own and the load
// generator's never mixes in.
//
// The child dies with the parent (PR_SET_PDEATHSIG), and sees end of file on its stdin when the
// parent closes it or exits. Every call here blocks; the caller's watchdog bounds it. Any error,
// including a child that exits with a non-zero status or a signal, ends the program via die().
//
// Thread safety: one thread uses a ServerProcess.

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "net/backends.hpp"

namespace zuki_bench::net {

class ServerProcess {
public:
    /// Starts `<this program> --serve <backend> <workload> --threads N` and reads its port.
    ServerProcess(const ServerSpec& spec, const std::string& workload);
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    unsigned short port() const { return port_; }

    /// The child's user + system CPU time so far (µs).
    std::int64_t mark();

    /// Sends one command line and returns the reply line.
    std::string command(const std::string& line);

    /// Closes the child's stdin and waits for it to exit; dies unless it exits with status 0.
    void finish();

private:
    std::string read_line();
    [[noreturn]] void lost_child(const std::string& what);

    std::string what_;
    pid_t pid_ = -1;
    std::FILE* to_child_ = nullptr;
    std::FILE* from_child_ = nullptr;
    unsigned short port_ = 0;
};

/// The path of this program (/proc/self/exe resolved), which the children exec.
const std::string& self_path();

}  // namespace zuki_bench::net
