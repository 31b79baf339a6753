#!/usr/bin/env bash
# Installs Zuki's build and test dependencies on Debian 12 (bookworm).
# Idempotent and fast on reruns: apt-get runs only if a package is missing
# (checked with dpkg -s). Uses sudo only when not root.
set -euo pipefail

packages=(
    build-essential cmake ninja-build g++-12 clang-14 clang-format-14
    libboost1.81-dev libboost-test1.81-dev libboost1.81-tools-dev
    libtbb-dev relacy-dev libbenchmark-dev gnuplot-nox wrk
)

if ! command -v dpkg >/dev/null 2>&1; then
    echo "deps.sh: no dpkg (not Debian?); install by hand: ${packages[*]}" >&2
    exit 0
fi

installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    echo "deps.sh: all ${#packages[@]} packages present"
    exit 0
fi

echo "deps.sh: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "deps.sh: not root and no sudo; install: ${missing[*]}" >&2
        exit 1
    }
    sudo=(sudo)
fi
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
