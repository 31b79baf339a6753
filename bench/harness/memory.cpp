// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

#include "harness/memory.hpp"

#include <malloc.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace zuki_bench {

namespace {

// A "Key:   1234 kB" field of /proc/self/status, in KiB; -1 if missing.
long status_kib(const char* key) {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (f == nullptr) return -1;
    const std::size_t n = std::strlen(key);
    long v = -1;
    char line[256];
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, key, n) == 0) {
            v = std::strtol(line + n, nullptr, 10);
            break;
        }
    std::fclose(f);
    return v;
}

}  // namespace

bool PeakRssProbe::start() {
    base_kib_ = -1;
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
    std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
    if (f == nullptr) return false;
    const bool ok = std::fputs("5", f) >= 0;
    if (std::fclose(f) != 0 || !ok) return false;
    base_kib_ = status_kib("VmRSS:");
    return base_kib_ >= 0;
}

double PeakRssProbe::growth_kib() const {
    if (base_kib_ < 0) return NAN;
    const long hwm = status_kib("VmHWM:");
    return hwm < 0 ? NAN : double(hwm - base_kib_);
}

}  // namespace zuki_bench
