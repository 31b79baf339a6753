// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// Shared harness of the Relacy model checks in test/model/ (see doc/checking.md).
//
// Each test/model/*.cpp is a plain program built with -DZUKI_RELACY=1: the real headers then
// run on Relacy's atomics (include/zuki/detail/atomic.hpp is the swap point) and Relacy
// explores thread interleavings and the weak-memory outcomes the C++ model allows. A program
// exits non-zero as soon as one suite fails; Relacy prints the failing execution's history.
//
// Environment:
//   ZUKI_MODEL_SCALE=k   multiply every iteration count by k (default 1; CI keeps 1).
//   ZUKI_MODEL_ONLY=s    run only the suites whose name contains s.
//
// Compile-time: -DZUKI_MODEL_PLANT_BUG=<name> weakens one ordering in the real code (see
// ZUKI_MODEL_WEAKEN in detail/atomic.hpp); test/model/check_planted_bugs.sh uses it to show
// that each program then fails.

#if !defined(ZUKI_RELACY)
#error "test/model/ programs are built with -DZUKI_RELACY=1 (see test/CMakeLists.txt)"
#endif

#include <zuki/detail/atomic.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

// Relacy replaces the global operator new and delete (to find leaks and uses after free) but
// not the sized forms that GCC calls since C++14; without these, libstdc++'s sized delete would
// hand Relacy's blocks to free(). (Each model program is one translation unit.)
void operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { ::operator delete[](p); }

namespace zuki_model {

/// The current source line as Relacy's debug info (what Relacy's `$` macro gives; test code
/// writes `here()` instead, as `$` is not portable C++).
inline rl::debug_info here(zuki::detail::model::where w = {}) {
    return zuki::detail::model::info(w);
}

/// A checked assertion: on failure Relacy stops and prints the execution that broke it.
#define ZUKI_MODEL_ASSERT(cond) RL_ASSERT(cond)

inline unsigned long scale() {
    const char* s = std::getenv("ZUKI_MODEL_SCALE");
    const unsigned long k = s != nullptr ? std::strtoul(s, nullptr, 10) : 1;
    return k == 0 ? 1 : k;
}

/// Run one suite: `iterations` random schedules (times ZUKI_MODEL_SCALE), or an exhaustive
/// search bounded by `context_bound` preemptions when `search` is rl::sched_bound.
template <class Suite>
bool check(const char* name, rl::iteration_t iterations,
           rl::scheduler_type_e search = rl::sched_random, unsigned context_bound = 1) {
    if (const char* only = std::getenv("ZUKI_MODEL_ONLY"); only && !std::strstr(name, only))
        return true;
    rl::test_params p;
    p.search_type = search;
    p.context_bound = context_bound;
    p.iteration_count = iterations * scale();
    p.execution_depth_limit = 4000;
    static std::ostream no_progress(nullptr);  // Relacy's percentages would drown the output
    p.progress_stream = &no_progress;
    std::cout << "== " << name << " (" << rl::format(search);
    if (search == rl::sched_bound) std::cout << ", context bound " << context_bound;
    if (search == rl::sched_random) std::cout << ", " << p.iteration_count << " iterations";
    std::cout << ")" << std::endl;
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = rl::simulate<Suite>(p);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "== " << name << ": " << (ok ? "passed" : "FAILED") << " after "
              << p.stop_iteration << " iterations, " << s << " s\n"
              << std::endl;
    return ok;
}

}  // namespace zuki_model
