#!/usr/bin/env bash
# Soak tests, two plain -O2 programs built here from the sources (so they measure the library as
# a user builds it; test/soak/ is not globbed by test/CMakeLists.txt):
#
# 1. echo_soak: the TCP echo server of example/tcp_echo_server.cpp on a WorkStealingExecutor
#    (2 workers), on 127.0.0.1, under 64 concurrent loopback clients that send random-sized
#    messages, verify every echoed byte and disconnect at random mid-message. Fails on a wrong
#    byte, a server error other than a disconnect, memory growth or leaked file descriptors.
#    See test/soak/echo_soak.cpp.
# 2. task_memory_soak: 60 M small tasks (10 M of warm-up, then 50 M) made and completed in four
#    ways (outside spawn + get, spawn + co_await inside tasks, spawn_detached, asio::post). Fails
#    if the resident set grows more than 10 % after the warm-up (issue 15) or a task is lost or
#    wrong. See test/soak/task_memory_soak.cpp.
#
# Each prints one summary line.
#
#   scripts/soak.sh                           # 60 s of echo load + ~30 s of tasks (+ the build)
#   ZUKI_SOAK_SECONDS=10 scripts/soak.sh      # shorter echo load
#   ZUKI_SOAK_CLIENTS=16 scripts/soak.sh      # fewer clients
#   ZUKI_SOAK_TASKS_M=10 scripts/soak.sh      # fewer tasks after the warm-up (millions)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
source scripts/common.sh

seconds="${ZUKI_SOAK_SECONDS:-60}"
out=build/soak
mkdir -p "$out"
mapfile -t sources < <(find src -name '*.cpp' | sort)
for program in echo_soak task_memory_soak; do
    echo "soak.sh: building $out/$program"
    # -Wno-mismatched-new-delete: GCC 12 false positive on asio::co_spawn (see CMakeLists.txt).
    "$(zuki_gxx)" -std=c++20 -O2 -g -Wall -Wextra -Wno-mismatched-new-delete \
        -Iinclude "test/soak/$program.cpp" "${sources[@]}" -pthread -o "$out/$program"
done
echo "soak.sh: echo_soak for ${seconds} s"
# Each program has its own watchdog; `timeout` is the last resort.
ZUKI_SOAK_SECONDS="$seconds" timeout --kill-after=10 $((seconds + 120)) "$out/echo_soak"
echo "soak.sh: task_memory_soak"
timeout --kill-after=10 900 "$out/task_memory_soak"
