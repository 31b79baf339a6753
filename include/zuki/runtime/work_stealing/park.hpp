// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// How a worker of a work-stealing pool that found nothing to do goes to sleep without losing a
/// wake-up: the worker's side of the idle protocol (concurrent/idle_set.hpp).
///
///     1. announce:  IdleSet::prepare_park (parked bit, counters, seq_cst fence)
///     2. re-check:  every queue, the stop flag, a pending join fold, the worker's own slots
///     3. either     work found → IdleSet::cancel_park (awake and searching again)
///        or         sleep until a notifier hands the worker a token, in one of three ways:
///                   on its Parker (`sleep_until_woken`), in the I/O driver (`sleep_driving`),
///                   or as the watcher, in timed sleeps that stay parked (`sleep_watching`)
///
/// Step 2 after step 1's fence is what makes a submission that raced with the announcement
/// visible (see "Why no wake-up is lost" in idle_set.hpp). Checked with the real worker loop by
/// test/model/idle.cpp, io_driver.cpp and lifo_watch.cpp.

#include <chrono>
#include <cstddef>

#include <zuki/concurrent/idle_set.hpp>
#include <zuki/detail/parker.hpp>

namespace zuki::detail {

/// Steps 1 and 2 for worker `i`: `work_pending()` is the re-check. Returns false if it found
/// work (the worker is awake and searching again); true: the worker must sleep (step 3, one of
/// the functions below).
template <class WorkPending>
bool begin_park(IdleSet& idle, std::size_t i, bool searching, WorkPending&& work_pending) noexcept {
    idle.prepare_park(i, searching);
    if (work_pending()) {
        idle.cancel_park(i);
        return false;
    }
    return true;
}

/// Step 3 on the worker's Parker: until a notifier hands it a token. On return the worker
/// counts as awake and searching (the notifier accounted for it).
inline void sleep_until_woken(IdleSet& idle, std::size_t i) noexcept { idle.park(i); }

/// Step 3 in the I/O driver (its caller holds the driver's lock; see runtime/io_driver.hpp):
/// the sleep blocks in `driver.wait()`, which the worker's `Parker::unpark` interrupts. The
/// driver may also return for an event of its own (ready I/O, delivered to this worker's
/// queue); the worker then takes itself out of the idle set as if its re-check had found work.
inline void sleep_driving(IdleSet& idle, std::size_t i, ParkDriver& driver) noexcept {
    idle.enter_driver(i);  // notifiers wake a futex-parked worker first
    // A token means a notifier claimed our parked bit and counted us awake; otherwise (an
    // event, or a stray interrupt) we still count as parked: cancel_park either clears the bit
    // or, if a notifier claimed it meanwhile, takes its token.
    const bool woken = idle.parker(i).park_driving(driver);
    idle.leave_driver();
    if (!woken) idle.cancel_park(i);
}

/// Step 3 for the watcher (concurrent/idle_set.hpp), first part: sleep `period` at a time on
/// the Parker, *staying parked* (nothing in the idle set changes: to notifiers and to other
/// parkers it is a parked worker like any other), and after each period call `look()`: true
/// means it found work (the worker then leaves the idle set as if its re-check had found it).
/// `keep_watching()`, called before each further period, says whether the role is still
/// wanted. Returns true when woken or when `look()` found work (the worker is awake and
/// searching); false once `keep_watching()` said no (it gave the role up): the worker is still
/// parked and must sleep on as any other parker would — in the I/O driver if nobody drives it
/// (`sleep_driving`: the watcher's own look may have held the driver's lock just when another
/// worker parked, so that one did not drive), else `sleep_until_woken`.
template <class KeepWatching, class Look>
bool sleep_watching(IdleSet& idle, std::size_t i, std::chrono::nanoseconds period,
                    KeepWatching&& keep_watching, Look&& look) noexcept {
    for (;;) {
        if (idle.parker(i).park_for(period)) return true;  // a notifier's token
        // The period passed (or a spurious return): still parked, unless a notifier claims
        // us right now (then cancel_park or the next park takes its token).
        if (look()) {
            idle.cancel_park(i);
            return true;
        }
        if (!keep_watching()) return false;
    }
}

}  // namespace zuki::detail
