#!/usr/bin/env bash
# Soak test: the TCP echo server of example/tcp_echo_server.cpp on a WorkStealingExecutor
# (2 workers), on 127.0.0.1, under 64 concurrent loopback clients that send random-sized
# messages, verify every echoed byte and disconnect at random mid-message. Fails on a wrong
# byte, a server error other than a disconnect, memory growth or leaked file descriptors, and
# prints one summary line. See test/soak/echo_soak.cpp.
#
#   scripts/soak.sh                           # 60 s of load (plus the build, ~15 s)
#   ZUKI_SOAK_SECONDS=10 scripts/soak.sh      # shorter
#   ZUKI_SOAK_CLIENTS=16 scripts/soak.sh      # fewer clients
#
# Not a ctest test (test/soak/ is not globbed by test/CMakeLists.txt): a plain -O2 program built
# here from the sources, so it measures the library as a user builds it.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
source scripts/common.sh

seconds="${ZUKI_SOAK_SECONDS:-60}"
out=build/soak
mkdir -p "$out"
echo "soak.sh: building $out/echo_soak"
# -Wno-mismatched-new-delete: GCC 12 false positive on asio::co_spawn (see CMakeLists.txt).
"$(zuki_gxx)" -std=c++20 -O2 -g -Wall -Wextra -Wno-mismatched-new-delete \
    -Iinclude test/soak/echo_soak.cpp src/*.cpp -pthread -o "$out/echo_soak"
echo "soak.sh: running for ${seconds} s"
# The program has its own watchdog (deadline + 60 s); this is the last resort.
ZUKI_SOAK_SECONDS="$seconds" timeout --kill-after=10 $((seconds + 120)) "$out/echo_soak"
