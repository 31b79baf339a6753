# shellcheck shell=bash
# Shared by scripts/test.sh and scripts/demo.sh (sourced, not run).
# Both use the same build/release configuration, so neither reconfigures
# the other's build.

# The g++ of Debian 12 (g++-12), or whatever g++ is.
zuki_gxx() {
    if command -v g++-12 >/dev/null 2>&1; then echo g++-12; else echo g++; fi
}

# oneTBB present? (bench/ needs it)
zuki_have_tbb() {
    if command -v dpkg >/dev/null 2>&1; then
        dpkg -s libtbb-dev 2>/dev/null | grep -q '^Status: install ok installed'
    else
        compgen -G '/usr/lib/*/cmake/TBB/TBBConfig.cmake' >/dev/null ||
            compgen -G '/usr/lib*/cmake/TBB/TBBConfig.cmake' >/dev/null
    fi
}

zuki_on_if_tbb() { if zuki_have_tbb; then echo ON; else echo OFF; fi; }

# build/release: g++, -O2 with assertions on (CMake's Release flags minus
# -DNDEBUG), warnings are errors, benchmarks built when oneTBB is there.
zuki_configure_release() {
    cmake -S . -B build/release -G Ninja \
        -DCMAKE_CXX_COMPILER="$(zuki_gxx)" \
        -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_CXX_FLAGS_RELEASE="-O2" \
        -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
        -DZUKI_WERROR=ON \
        -DZUKI_BUILD_TESTS=ON \
        -DZUKI_BUILD_EXAMPLES=ON \
        -DZUKI_BUILD_BENCH="$(zuki_on_if_tbb)" \
        -DZUKI_SANITIZE= \
        "$@"
}
