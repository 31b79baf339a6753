// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// How a worker of a work-stealing pool that found nothing to do goes to sleep without losing a
/// wake-up: the worker's side of the idle protocol (concurrent/idle_set.hpp).
///
///     1. announce:  IdleSet::prepare_park (parked bit, counters, seq_cst fence)
///     2. re-check:  every queue, the stop flag, a pending join fold, the worker's own slots
///     3. either     work found → IdleSet::cancel_park (awake and searching again)
///        or         sleep on the worker's Parker until a notifier hands it a token
///
/// Step 2 after step 1's fence is what makes a submission that raced with the announcement
/// visible (see "Why no wake-up is lost" in idle_set.hpp). Checked with the real worker loop by
/// test/model/idle.cpp.

#include <cstddef>

#include <zuki/concurrent/idle_set.hpp>
#include <zuki/detail/parker.hpp>

namespace zuki::detail {

/// Park worker `i` (steps 1–3). `work_pending()` is the re-check of step 2; `before_sleep()`
/// runs just before the worker goes to sleep (not when the re-check found work). Returns true
/// if the worker slept. Either way the worker is awake and searching when this returns.
template <class WorkPending, class BeforeSleep>
bool park_worker(IdleSet& idle, std::size_t i, bool searching, WorkPending&& work_pending,
                 BeforeSleep&& before_sleep) noexcept {
    idle.prepare_park(i, searching);
    if (work_pending()) {
        idle.cancel_park(i);
        return false;
    }
    before_sleep();
    idle.park(i);
    return true;
}

/// Park worker `i` in the I/O driver (its caller holds the driver's lock; see
/// runtime/io_driver.hpp): the same steps 1–3, but the sleep blocks in `driver.wait()`, which
/// the worker's `Parker::unpark` interrupts. The driver may also return for an event of its own
/// (ready I/O, delivered to this worker's queue); the worker then takes itself out of the idle
/// set as if its re-check had found work. Returns true if it slept.
template <class WorkPending, class BeforeSleep>
bool park_worker_driving(IdleSet& idle, std::size_t i, bool searching, ParkDriver& driver,
                         WorkPending&& work_pending, BeforeSleep&& before_sleep) noexcept {
    idle.prepare_park(i, searching);
    if (work_pending()) {
        idle.cancel_park(i);
        return false;
    }
    before_sleep();
    idle.enter_driver(i);  // notifiers wake a futex-parked worker first
    // A token means a notifier claimed our parked bit and counted us awake; otherwise (an
    // event, or a stray interrupt) we still count as parked: cancel_park either clears the bit
    // or, if a notifier claimed it meanwhile, takes its token.
    const bool woken = idle.parker(i).park_driving(driver);
    idle.leave_driver();
    if (!woken) idle.cancel_park(i);
    return true;
}

}  // namespace zuki::detail
