// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// The growth of the process's peak resident set over one run (uts_peak_rss). Linux keeps the
// peak (VmHWM in /proc/self/status) and resets it to the current RSS when "5" is written to
// /proc/self/clear_refs; the growth is VmHWM after the run minus VmRSS at the reset. Where
// clear_refs cannot be written (not Linux, a locked-down /proc), the figure is NaN and the row
// stays empty.
//
// What it sees: every page the process touches for the first time since the reset, by any
// thread. Memory freed before the run but kept by an allocator (glibc's free lists, Zuki's
// RecyclingCache and depot, oneTBB's per-thread task pools) is reused without growing the RSS,
// so the figure is the growth of a warm pool; `start()` first returns glibc's free pages to the
// system (malloc_trim), so what glibc kept from earlier runs is counted again, but the executors'
// own caches are not.

namespace zuki_bench {

class PeakRssProbe {
public:
    /// Trims glibc's heap and resets the peak. False where the peak cannot be reset.
    bool start();
    /// KiB of peak RSS growth since start(); NaN if start() failed.
    double growth_kib() const;

private:
    long base_kib_ = -1;
};

}  // namespace zuki_bench
