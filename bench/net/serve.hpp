// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// The server side of bench_net: the hidden mode `bench_net --serve <backend> <workload>
// [--threads N]`, run in a child process that the parent forks and execs (server_process.hpp).
//
// Protocol on the child's stdin / stdout, one line each way:
//   child, at start      "<port>\n"      (0 for the timer workload, which listens on nothing)
//   "mark\n"          -> "<cpu_us>\n"    getrusage(RUSAGE_SELF) user + system, in microseconds
//   "timer <n>\n"     -> "<ns>\n"        timer workload only: n zero-length steady_timer waits in
//                                        a row on the backend; the time they took
//   end of stdin      -> the child closes its listener, shuts its backend down gracefully (as a
//                        server would: join / run() returning) and exits 0; a shutdown longer
//                        than 20 s ends it with SIGALRM.
// Errors go to stderr and end the child with a non-zero status.
//
// Workloads: `echo` (EchoSession), `http` (HttpSession), `timer` (TimerLoop); servers.hpp.

namespace zuki_bench::net {

/// The whole child process; `argv[1]` is "--serve". Returns the exit status.
int serve_main(int argc, char** argv);

}  // namespace zuki_bench::net
