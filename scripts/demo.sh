#!/usr/bin/env bash
# The demonstration: a release build with benchmarks, then the benchmark
# table (Zuki vs boost::asio::thread_pool, io_context run by N threads, and
# oneTBB) in quick mode (about two minutes on 2 cores), then the networking
# benchmark bench_net in quick mode (echo and HTTP servers, many timers,
# latency; about two minutes more; it uses wrk for HTTP when wrk is installed). The CSV files and
# the PNG chart go to build/bench/ (doc/benchmarks.md explains the figures).
# Without the benchmark (no oneTBB), runs every example instead.
#
#   scripts/demo.sh            # extra arguments go to bench_zuki, e.g.
#   scripts/demo.sh --threads 4 --out /tmp/results   (bench_zuki --help lists them)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
# shellcheck source=scripts/common.sh
source scripts/common.sh

# Same configuration as scripts/test.sh's release stage, benchmarks forced on.
zuki_configure_release -DZUKI_BUILD_BENCH=ON
cmake --build build/release --parallel "${ZUKI_JOBS:-2}"

if [[ -x build/release/bench/bench_zuki ]]; then
    echo
    echo "== build/release/bench/bench_zuki --quick --out build/bench $*"
    build/release/bench/bench_zuki --quick --out build/bench "$@"
    echo
    echo "== build/release/bench/bench_net --quick --out build/bench"
    exec build/release/bench/bench_net --quick --out build/bench
fi

shopt -s nullglob
examples=(build/release/example/example_*)
if ((${#examples[@]} == 0)); then
    echo "demo.sh: no benchmark and no examples built yet: nothing to demonstrate"
    exit 0
fi
for e in "${examples[@]}"; do
    [[ -x $e && -f $e ]] || continue
    echo
    echo "== $e"
    "$e"
done
