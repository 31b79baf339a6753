// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// WorkStealingScheduler: starting and joining the worker threads (stack size, names, partial
// failure). The worker loop itself is in runtime/work_stealing/worker.hpp.
//
// No start gate: everything a worker touches (the workers indexed, the idle set, the
// outstanding-work count) is built before the first pthread_create, which publishes it, so a
// thread runs its loop as soon as it exists. (A gate that each new thread waited at until all
// were created cost a futex sleep and wake per thread: a short-lived pool paid ~20 us for it,
// issue 16.) A thread that fails to start leaves its place vacant (vacate), which the running
// workers treat as a place nobody works at.

#include <zuki/runtime/work_stealing/worker.hpp>

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

namespace zuki::detail {

namespace {

// `prefix` followed by `index` in decimal, cut to what fits (as snprintf would cut it), without
// snprintf: its format machinery was ~900 instructions of each worker's start (issue 16).
void thread_name(char (&out)[16], const std::string& prefix, std::size_t index) noexcept {
    char digits[20];
    std::size_t d = 0;
    do {
        digits[d++] = static_cast<char>('0' + index % 10);
        index /= 10;
    } while (index != 0);
    std::size_t n = std::min(prefix.size(), sizeof out - 1);
    std::memcpy(out, prefix.data(), n);
    while (d != 0 && n < sizeof out - 1) out[n++] = digits[--d];
    out[n] = '\0';
}

struct StartFailure {
    std::size_t index;
    char why[160];
};

}  // namespace

void WorkStealingScheduler::start() {
    const std::size_t n = cfg_.resolved_threads();
    all_.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        all_.push_back(std::make_unique<Worker>(this, cfg_.local_queue_capacity));
    prepare_places();

    pthread_attr_t attr;
    if (int rc = pthread_attr_init(&attr); rc != 0)
        throw std::system_error(rc, std::generic_category(), "zuki: pthread_attr_init");
    struct AttrGuard {
        pthread_attr_t* a;
        ~AttrGuard() { pthread_attr_destroy(a); }
    } attr_guard{&attr};
    if (cfg_.stack_size != 0) {
        if (int rc = pthread_attr_setstacksize(&attr, cfg_.stack_size); rc != 0)
            throw std::system_error(rc, std::generic_category(),
                                    "zuki: WorkStealingConfig::stack_size rejected");
    }
    // The size the threads get (the platform default where none was set): help_join nests
    // within half of it.
    if (std::size_t size = 0;
        cfg_.help_while_joining && pthread_attr_getstacksize(&attr, &size) == 0)
        help_stack_reach_ = size / 2;
    std::vector<StartFailure> failures;
    failures.reserve(n);
    // From here on a started thread runs on `all_`: nothing below may throw. `failures` has its
    // room up front and the failure text goes to a fixed buffer, so recording a failed start
    // cannot throw.
    for (std::size_t i = 0; i < n; ++i) {
        Worker& w = *all_[i];
        int rc = 0;
        StartFailure f{i, ""};
        try {
            if (cfg_.before_thread_start) cfg_.before_thread_start(i);
            rc = pthread_create(&w.thread, &attr, &WorkStealingScheduler::thread_main, &w);
            if (rc != 0) std::snprintf(f.why, sizeof f.why, "%s", std::strerror(rc));
        } catch (const std::exception& e) {
            rc = -1;
            std::snprintf(f.why, sizeof f.why, "%s", e.what());
        } catch (...) {
            rc = -1;
            std::snprintf(f.why, sizeof f.why, "unknown exception");
        }
        if (rc == 0) {
            w.started = true;
        } else {
            ++failed_starts_;
            vacate(i);
            failures.push_back(f);  // within the reserved capacity: no throw
        }
    }
    // The workers' start-up search ends a little after this (WorkStealingScheduler::
    // starting_up). relaxed: a hint, read by the workers' search only.
    if constexpr (WorkerLoopTuning::startup_search_ns != 0)
        startup_until_ns_.store(monotonic_ns() + WorkerLoopTuning::startup_search_ns,
                                std::memory_order_relaxed);
    if (failed_starts_ == n)  // (no thread runs: nothing to join)
        throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                                "zuki::WorkStealingExecutor: no worker thread could be started");
    // The pool runs with the others; tell the program through its handler (never stderr).
    for (const StartFailure& f : failures) {
        try {
            char what[288];  // room for the text, the index and all of `why`
            std::snprintf(what, sizeof what,
                          "zuki::WorkStealingExecutor: worker thread %zu failed to start (%s); "
                          "running with the others",
                          f.index, f.why);
            report_exception(std::make_exception_ptr(std::system_error(
                std::make_error_code(std::errc::resource_unavailable_try_again), what)));
        } catch (...) {  // making the exception failed (bad_alloc): metrics() still counts it
        }
    }
}

void WorkStealingScheduler::join_threads() noexcept {
    {
        // Not under threads_mutex_: join() gets here before the pool stops (the workers exit
        // when its count reaches zero), and meanwhile threads may still attach(). The started
        // workers are the first started_ entries of all_, which attach() only appends to
        // (within its reserved capacity: no reallocation).
        std::lock_guard lock(join_mutex_);  // join() and the destructor may both get here
        for (std::size_t i = 0; i < started_; ++i) {
            Worker& w = *all_[i];
            if (w.started) {
                pthread_join(w.thread, nullptr);
                w.started = false;
            }
        }
    }
    wait_attached_threads();  // (they leave when the pool stops, as the workers did)
}

void* WorkStealingScheduler::thread_main(void* arg) noexcept {
    Worker& w = *static_cast<Worker*>(arg);
    WorkStealingScheduler& s = *w.sched;
    char name[16];  // the kernel's limit, terminator included
    thread_name(name, s.cfg_.thread_name_prefix, w.index);
    pthread_setname_np(pthread_self(), name);
    // help_join's stack floor: half of the stack below this frame, near the stack's top (left
    // at the maximum, which disables helping, when the configuration turns it off). Not from
    // pthread_getattr_np: it allocates, and makes a system call, in every thread start.
    if (s.help_stack_reach_ != 0) {
        const auto top = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
        if (top > s.help_stack_reach_) w.help_stack_floor = top - s.help_stack_reach_;
    }
    WorkerScope scope(w);
    s.run_worker(w);
    return nullptr;
}

}  // namespace zuki::detail
