// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `Scheduler`: what an executor implements so that its tasks can schedule themselves, and the
/// reference count by which tasks keep it alive (biased: a worker counts privately).

#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>

#include <zuki/detail/atomic.hpp>
#include <zuki/task/detail/registry.hpp>

namespace zuki::detail {

class TaskHeader;
class BlockingPool;

/// What an executor implements so its tasks can schedule themselves.
///
/// A scheduler is reference counted by its tasks, so a waker that fires after the executor
/// object is gone still reaches valid memory; the executor closes the scheduler first, after
/// which `schedule` cancels the task instead of queueing it.
///
/// ## Biased reference counting
/// Every task holds a scheduler reference, so a shared counter would cost two contended RMWs
/// per task. A work-stealing executor therefore gives each worker a private `RefBias`: on a
/// worker of this scheduler, `acquire`/`release` only adjust that worker's plain delta. The
/// true count is `refs_ + Σ deltas`. While the executor lives it holds its own reference, so
/// the true count cannot reach zero; `refs_` alone may, so `refs_` carries a FOLDED bit and a
/// release deletes only when it takes `refs_` from FOLDED|1 to FOLDED. After the workers are
/// joined (their deltas frozen) the executor folds Σ deltas into `refs_`, sets FOLDED and drops
/// its own reference in the same RMW (`fold_and_release`). A scheduler without bias starts out
/// FOLDED and behaves like a plain reference count.
class Scheduler {
public:
    /// A worker's private share of the reference count (see the class comment).
    struct RefBias {
        Scheduler* owner = nullptr;
        std::int64_t delta = 0;
    };
    /// The bias of the worker running on this thread, if any.
    static RefBias*& local_bias() noexcept {
        struct Tag;
        return per_thread<RefBias*, Tag>();
    }

    /// `t` is SCHEDULED; the caller hands over one reference. Must not throw or block.
    virtual void schedule(TaskHeader* t) noexcept = 0;
    /// An exception escaped a task that no JoinHandle waits for.
    virtual void report_exception(std::exception_ptr e) noexcept = 0;
    /// A task finished (any way): bookkeeping for `join()` and `task_count()`.
    virtual void task_finished() noexcept {}
    /// `n` tasks exist that were not counted as work when they were made and will each call
    /// `task_finished()` (a `Batch` counts its tasks when it is submitted or cancelled).
    virtual void tasks_added(std::size_t n) noexcept { (void)n; }

    // ---- zuki::Handle's hooks (task/handle.hpp): spawning without the executor's type -------
    /// Throw `ExecutorStopped` unless the executor accepts new tasks (the executor's own
    /// `spawn` checks the same, without the virtual call).
    virtual void admit_spawn() const {
        throw std::logic_error("zuki::Handle: this scheduler does not accept spawns");
    }
    /// A task made after `admit_spawn()` (SCHEDULED, holding its queue reference): count it as
    /// work and queue it, as the executor's own `spawn` does.
    virtual void submit_spawned(TaskHeader* t) noexcept { schedule(t); }
    /// `Handle::block_on`: submit `t` (made after `admit_spawn()`, not yet submitted; the
    /// caller holds its JoinHandle) and return once it is COMPLETE. A pool's workers run it
    /// while the calling thread parks; a `SingleThreadedExecutor` is driven by the calling
    /// thread meanwhile, as by its own `block_on`. The caller is no executor thread. Throws
    /// `std::logic_error` (with `t` cancelled and released) where the executor cannot be
    /// driven from here. (Defined in task/detail/header.hpp: the default parks the caller.)
    inline virtual void block_on_task(TaskHeader* t);
    /// A JoinHandle of task `t` (run by this scheduler) is polled on this thread and `t` has
    /// not completed: a scheduler may run work queued on this thread inline meanwhile, until
    /// `t` completes (help-first join, as TBB's `wait`), so that the join often completes
    /// without suspending. Must not throw; the default does nothing.
    virtual void help_join(TaskHeader& t) noexcept { (void)t; }
    /// `spawn_blocking`: the executor's blocking-thread pool (runtime/blocking_pool.hpp), or
    /// null where there is none (then spawn_blocking throws `std::logic_error`).
    virtual BlockingPool* blocking_pool() noexcept { return nullptr; }

    void acquire() noexcept {
        if (RefBias* b = local_bias(); b != nullptr && b->owner == this) {
            ++b->delta;
            return;
        }
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept {
        if (RefBias* b = local_bias(); b != nullptr && b->owner == this) {
            --b->delta;  // the executor's own reference keeps the true count above zero
            return;
        }
        // acq_rel: the last release must see every other holder's writes before deleting.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == (folded | 1)) delete this;
    }
    /// The executor's final release, after its workers stopped: fold their deltas in.
    void fold_and_release(std::int64_t total_delta) noexcept {
        const std::uint64_t add = folded + static_cast<std::uint64_t>(total_delta) - 1;
        // acq_rel: as in release().
        if (refs_.fetch_add(add, std::memory_order_acq_rel) + add == folded) delete this;
    }

    TaskRegistry registry;

    /// The scheduler of the executor running on this thread (a pool's worker, the thread
    /// driving a `SingleThreadedExecutor`), or null: what `Handle::current()` and the free
    /// `zuki::spawn` use. Set for the lifetime of a worker or a drive, restored after a nested
    /// one; not a reference.
    static Scheduler*& current() noexcept {
        struct Tag;
        return per_thread<Scheduler*, Tag>();
    }

protected:
    /// `biased`: deltas will be folded in by `fold_and_release` (not yet FOLDED).
    explicit Scheduler(bool biased = false) noexcept : refs_(biased ? 1 : (folded | 1)) {}
    virtual ~Scheduler() = default;

private:
    static constexpr std::uint64_t folded = std::uint64_t{1} << 62;
    atomic<std::uint64_t> refs_;  // the executor's own reference (+ FOLDED if unbiased)
};

}  // namespace zuki::detail

// The default of Scheduler::block_on_task needs the complete TaskHeader: defined at the end of
// task/detail/header.hpp, which is included here so that every translation unit that sees the
// class (and may emit its vtable) sees that definition too. (header.hpp includes this file
// first; the include guard makes either order work.)
#include <zuki/task/detail/header.hpp>
