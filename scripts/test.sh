#!/usr/bin/env bash
# The one test command: builds and runs every Zuki test.
#
#   scripts/test.sh                          # all stages
#   ZUKI_STAGES="release tsan" scripts/test.sh   # a subset, for iteration
#   ZUKI_STRESS_SCALE=10 scripts/test.sh     # bigger stress tests (default 1)
#   ZUKI_JOBS=4 scripts/test.sh              # build/ctest parallelism (default 2)
#   ZUKI_B2_ARGS="toolset=clang" ...         # extra arguments for b2
#
# Stages (each in its own build directory under build/):
#   release    g++, -O2 with assertions, -Werror; tests + examples (+ bench
#              compiled when oneTBB is present); ctest
#   tsan       g++, ZUKI_SANITIZE=thread (defines ZUKI_TSAN=1); ctest
#   asan       g++, ZUKI_SANITIZE=address (ASan + UBSan); ctest
#   fallback   g++ -O2 with ZUKI_ASIO_REACTOR_ON_WORKERS=OFF (Asio's own reactor thread, the
#              path other Boost versions take); the Asio, runtime and time tests + examples
#   clang      clang-format-14 check of the whole tree, then clang++-14,
#              -Werror, builds everything; compile only
#   consumers  install (static and shared) to a temporary prefix, then build
#              and run test/consumer/find_package against it, and build and
#              run test/consumer/add_subdirectory
#   b2         b2 via Jamroot/Jamfile: libzuki + run test/unit/**
#   model      Relacy model checks in test/model/, then the planted-bug check
#   soak       scripts/soak.sh: the echo server under 64 churning loopback
#              clients for ZUKI_SOAK_SECONDS (default 60 s here; checks every
#              byte, memory growth and file descriptors), then 60 M small
#              tasks four ways (no runaway RSS growth; the 10 % target reported)
#
# Stops at the first failure (non-zero exit). On success the last line is
# "N passed, 0 failed", N = ctest tests passed over all stages.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/deps.sh
# shellcheck source=scripts/common.sh
source scripts/common.sh

export ZUKI_STRESS_SCALE="${ZUKI_STRESS_SCALE:-1}"
jobs="${ZUKI_JOBS:-2}"

all_stages=(release tsan asan fallback clang consumers b2 model soak)
read -r -a stages <<<"${ZUKI_STAGES:-${all_stages[*]}}"
for s in "${stages[@]}"; do
    [[ " ${all_stages[*]} " == *" $s "* ]] || {
        echo "test.sh: unknown stage '$s' (stages: ${all_stages[*]})" >&2
        exit 2
    }
done

total_passed=0
current=setup
summary=()
on_exit() {
    local rc=$?
    if ((rc != 0)); then
        echo
        echo "test.sh: FAILED in stage \"$current\" (exit $rc)"
    fi
}
trap on_exit EXIT

banner() {
    echo
    echo "================================================================"
    echo "== $*"
    echo "================================================================"
}

# run_ctest <build dir> [ctest args...]: run, tee a log, add to total_passed.
run_ctest() {
    local dir=$1
    shift
    local log="$dir/ctest.log" n
    ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@" 2>&1 | tee "$log"
    n=$(sed -nE 's/.*tests passed, 0 tests failed out of ([0-9]+).*/\1/p' "$log" | tail -n1)
    if [[ -z $n ]]; then
        if grep -q 'No tests were found' "$log"; then
            n=0
        else
            echo "test.sh: could not read the ctest summary in $log" >&2
            return 1
        fi
    fi
    stage_tests=$((stage_tests + n))
    total_passed=$((total_passed + n))
}

build() { cmake --build "$1" --parallel "$jobs"; }

# --- stages ----------------------------------------------------------------

stage_release() {
    zuki_configure_release -DZUKI_BUILD_MODEL_TESTS=OFF
    build build/release
    run_ctest build/release
}

stage_tsan() {
    cmake -S . -B build/tsan -G Ninja \
        -DCMAKE_CXX_COMPILER="$(zuki_gxx)" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
        -DZUKI_SANITIZE=thread -DZUKI_WERROR=ON \
        -DZUKI_BUILD_TESTS=ON -DZUKI_BUILD_EXAMPLES=ON -DZUKI_BUILD_BENCH=OFF
    build build/tsan
    # GCC 12's TSan cannot map its shadow memory with more than 28 bits of
    # mmap ASLR entropy (newer kernels default to 32): run without ASLR then.
    local rnd
    rnd=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)
    if ((rnd > 28)) && command -v setarch >/dev/null 2>&1 &&
        setarch "$(uname -m)" -R true 2>/dev/null; then
        echo "test.sh: vm.mmap_rnd_bits=$rnd, running TSan tests with ASLR off"
        ctest() { setarch "$(uname -m)" -R ctest "$@"; }
        run_ctest build/tsan
        unset -f ctest
    else
        run_ctest build/tsan
    fi
}

stage_asan() {
    # No -Werror here: ASan instrumentation makes GCC 12's flow-based warnings
    # (-Wstringop-overflow, -Warray-bounds, -Wmaybe-uninitialized) prone to
    # false positives inside libstdc++; release and clang hold the warnings
    # line. (tsan keeps -Werror, with -Wtsan demoted to a plain warning
    # because Boost.Asio's own fences trip it; see CMakeLists.txt.)
    cmake -S . -B build/asan -G Ninja \
        -DCMAKE_CXX_COMPILER="$(zuki_gxx)" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
        -DZUKI_SANITIZE=address -DZUKI_WERROR=OFF \
        -DZUKI_BUILD_TESTS=ON -DZUKI_BUILD_EXAMPLES=ON -DZUKI_BUILD_BENCH=OFF
    build build/asan
    run_ctest build/asan
}

stage_fallback() {
    cmake -S . -B build/fallback -G Ninja \
        -DCMAKE_CXX_COMPILER="$(zuki_gxx)" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2" \
        -DZUKI_WERROR=ON -DZUKI_SANITIZE= -DZUKI_ASIO_REACTOR_ON_WORKERS=OFF \
        -DZUKI_BUILD_TESTS=ON -DZUKI_BUILD_EXAMPLES=ON -DZUKI_BUILD_BENCH=OFF
    # Only what networking and timers touch: the Asio, runtime and time tests and the examples.
    local targets
    targets=$(ninja -C build/fallback -t targets all |
        grep -oE '^(test_unit_(asio|runtime|time)[A-Za-z0-9_]*|example_[A-Za-z0-9_]*):' |
        tr -d ':' | sort -u)
    # shellcheck disable=SC2086
    cmake --build build/fallback --parallel "$jobs" --target $targets
    run_ctest build/fallback -R '^(test_unit_(asio|runtime|time)|example_)'
}

stage_clang() {
    # The tree is formatted with .clang-format (clang-format-14 -i on every .hpp/.cpp).
    echo "--- clang-format-14 --dry-run --Werror"
    git ls-files '*.hpp' '*.cpp' | xargs clang-format-14 --dry-run --Werror
    echo "clang-format: clean"
    # Compile only, unoptimised (fast): clang's warnings come from its front end.
    cmake -S . -B build/clang -G Ninja \
        -DCMAKE_CXX_COMPILER=clang++-14 \
        -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0" \
        -DZUKI_WERROR=ON -DZUKI_SANITIZE= \
        -DZUKI_BUILD_TESTS=ON -DZUKI_BUILD_EXAMPLES=ON \
        -DZUKI_BUILD_BENCH="$(zuki_on_if_tbb)" \
        -DZUKI_BUILD_MODEL_TESTS=OFF  # Relacy's `$` macros need GCC
    build build/clang
}

stage_consumers() {
    local base=build/consumer link shared prefix f
    rm -rf "$base"
    for link in static shared; do
        [[ $link == shared ]] && shared=ON || shared=OFF
        prefix="$root/$base/prefix-$link"
        echo "--- install ($link) to $prefix"
        cmake -S . -B "$base/lib-$link" -G Ninja \
            -DCMAKE_CXX_COMPILER="$(zuki_gxx)" -DCMAKE_BUILD_TYPE=Release \
            -DBUILD_SHARED_LIBS=$shared \
            -DZUKI_BUILD_TESTS=OFF -DZUKI_BUILD_EXAMPLES=OFF -DZUKI_BUILD_BENCH=OFF \
            -DCMAKE_INSTALL_PREFIX="$prefix"
        build "$base/lib-$link"
        cmake --install "$base/lib-$link"
        for f in include/zuki/zuki.hpp lib/cmake/zuki/zukiConfig.cmake \
            lib/cmake/zuki/zukiConfigVersion.cmake lib/cmake/zuki/zukiTargets.cmake; do
            [[ -e $prefix/$f ]] || { echo "test.sh: install lacks $f" >&2; return 1; }
        done

        echo "--- find_package(zuki CONFIG) consumer ($link)"
        cmake -S test/consumer/find_package -B "$base/find_package-$link" -G Ninja \
            -DCMAKE_CXX_COMPILER="$(zuki_gxx)" -DCMAKE_BUILD_TYPE=Release \
            -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
        build "$base/find_package-$link"
        "$base/find_package-$link/consumer"
        echo "find_package consumer ($link): ok"
    done

    echo "--- add_subdirectory consumer"
    cmake -S test/consumer/add_subdirectory -B "$base/add_subdirectory" -G Ninja \
        -DCMAKE_CXX_COMPILER="$(zuki_gxx)" -DCMAKE_BUILD_TYPE=Release
    build "$base/add_subdirectory"
    "$base/add_subdirectory/consumer"
    echo "add_subdirectory consumer: ok"
}

stage_b2() {
    # Jamroot puts outputs in build/b2. Drop the "test passed" markers so
    # every unit test runs again, not only those whose inputs changed.
    if [[ -d build/b2 ]]; then
        find build/b2 \( -name '*.test' -o -name '*.output' \) -type f -delete
    fi
    local log=build/b2.log
    mkdir -p build
    local extra=()
    read -r -a extra <<<"${ZUKI_B2_ARGS:-}"
    b2 -j"$jobs" toolset=gcc "${extra[@]}" 2>&1 | tee "$log"
    echo "b2: $(grep -c '^\*\*passed\*\*' "$log" || true) unit tests passed"
}

stage_model() {
    cmake -S . -B build/model -G Ninja \
        -DCMAKE_CXX_COMPILER="$(zuki_gxx)" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2" \
        -DZUKI_WERROR=ON -DZUKI_SANITIZE= \
        -DZUKI_BUILD_TESTS=OFF -DZUKI_BUILD_EXAMPLES=OFF -DZUKI_BUILD_BENCH=OFF \
        -DZUKI_BUILD_MODEL_TESTS=ON
    build build/model
    run_ctest build/model -L model
    # Each suite must be able to fail: plant one weakened ordering at a time and require the
    # model checker to report it (see doc/checking.md).
    test/model/check_planted_bugs.sh build/model-planted
}

stage_soak() {
    ZUKI_SOAK_SECONDS="${ZUKI_SOAK_SECONDS:-60}" scripts/soak.sh
}

# --- run ---------------------------------------------------------------------
describe() {
    case $1 in
    release) echo "g++ -O2 with assertions, -Werror: build + ctest" ;;
    tsan) echo "g++ ThreadSanitizer (ZUKI_TSAN=1): build + ctest" ;;
    asan) echo "g++ AddressSanitizer + UBSan: build + ctest" ;;
    fallback) echo "g++ with Asio's own reactor thread (ZUKI_ASIO_REACTOR_ON_WORKERS=OFF)" ;;
    clang) echo "clang-format check; clang++-14 -Werror: build everything (no run)" ;;
    consumers) echo "install + find_package consumer, add_subdirectory consumer" ;;
    b2) echo "b2 (Jamroot/Jamfile): build + run test/unit" ;;
    model) echo "Relacy model checks (test/model)" ;;
    soak) echo "soaks (scripts/soak.sh: echo server ${ZUKI_SOAK_SECONDS:-60} s, 60 M tasks)" ;;
    esac
}

t_all=$(date +%s)
for current in "${stages[@]}"; do
    banner "[$current] $(describe "$current")"
    stage_tests=0
    t0=$(date +%s)
    "stage_$current"
    dt=$(($(date +%s) - t0))
    echo "== [$current] ok in ${dt} s ($stage_tests ctest tests passed)"
    summary+=("$(printf '%-10s %5d s  %4d tests' "$current" "$dt" "$stage_tests")")
done
current=summary

banner "summary (ZUKI_STRESS_SCALE=$ZUKI_STRESS_SCALE, $(($(date +%s) - t_all)) s in all)"
printf '%s\n' "${summary[@]}"
echo "$total_passed passed, 0 failed"
