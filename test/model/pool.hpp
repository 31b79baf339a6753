// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// Shared by the model checks that run the real work-stealing pool
// (include/zuki/runtime/work_stealing/worker.hpp): a pool whose workers are Relacy threads, and
// tasks whose poll the test scripts. Nothing of the pool's protocols is re-typed here: the
// worker threads call WorkStealingScheduler::run_worker, submitters call its submit / schedule
// paths, joiners its begin_join, and the destructor's steps are its
// close_and_drain and final_release.

#include <zuki/runtime/work_stealing/worker.hpp>

#include <functional>

#include "model.hpp"

namespace zuki::detail {
// Defined in src/task.cpp, which the model programs do not link.
inline TaskId next_task_id() noexcept { return TaskId(1); }
}  // namespace zuki::detail

namespace zuki_model {

using zuki::Context;
using zuki::TaskPriority;
using zuki::WorkStealingConfig;
using zuki::detail::PollOutcome;
using zuki::detail::TaskHeader;
using zuki::detail::TaskVTable;
using zuki::detail::WorkStealingScheduler;

/// A pool shrunk for the model checker: tiny deques and global lanes, so that a few tasks reach
/// overflow, spill and steal-half edge cases; `attach_places` places for threads that call
/// `attach()` (none by default, unlike the real default: a place nobody takes is one more
/// awake-forever worker in the idle set's counts).
inline WorkStealingScheduler* make_pool(std::size_t workers, std::size_t local_capacity = 4,
                                        std::size_t global_capacity = 2,
                                        std::size_t attach_places = 0) {
    ++zuki::detail::model_execution();  // per-thread values start fresh (detail/atomic.hpp)
    WorkStealingConfig cfg;
    cfg.threads = workers;
    cfg.local_queue_capacity = local_capacity;
    cfg.global_queue_capacity = global_capacity;
    cfg.max_attached_threads = attach_places;
    cfg.on_unhandled_exception = [](std::exception_ptr) { RL_ASSERT(false); };
    auto* pool = new WorkStealingScheduler(std::move(cfg));
    pool->add_workers(workers);
    return pool;
}

/// Relacy thread `i` runs worker `i` until the pool stops.
inline void run_worker(WorkStealingScheduler& pool, std::size_t i) {
    zuki::detail::Worker& w = pool.worker(i);
    WorkStealingScheduler::WorkerScope scope(w);
    pool.run_worker(w);
}

/// The destructor's steps once every worker returned (WorkStealingExecutor::~WorkStealingExecutor
/// without Asio): drain and drop the executor's reference.
inline void destroy_pool(WorkStealingScheduler* pool) {
    pool->close_and_drain();
    pool->final_release();
}

/// What happened to the tasks of one run, by task id (bookkeeping outside the model: the
/// fibres run one at a time).
struct Tally {
    static constexpr int max_tasks = 8;
    int polls[max_tasks] = {};
    int cancels[max_tasks] = {};
    int destroyed[max_tasks] = {};
};

/// A task whose poll runs `body` (true: ready, false: pending); counts what happens to it in a
/// `Tally`. `registered`: false for a run-once Asio handler (never in the registry).
class ScriptedTask final : public TaskHeader {
public:
    using Body = std::function<bool(ScriptedTask&, Context&)>;

    ScriptedTask(zuki::detail::Scheduler* s, int id, Body body, Tally* tally = nullptr,
                 bool registered = true)
        : TaskHeader(&vtable, s, TaskPriority::Normal, /*join_interest=*/false, registered), id(id),
          body_(std::move(body)), tally_(tally) {}

    const int id;

private:
    static ScriptedTask& self(TaskHeader* h) noexcept { return *static_cast<ScriptedTask*>(h); }
    static PollOutcome poll_fn(TaskHeader* h, Context& cx) noexcept {
        if (self(h).tally_) ++self(h).tally_->polls[self(h).id];
        return self(h).body_(self(h), cx) ? PollOutcome::ready : PollOutcome::pending;
    }
    static void cancel_fn(TaskHeader* h) noexcept {
        if (Tally* t = self(h).tally_) {
            RL_ASSERT(t->cancels[self(h).id] == 0);  // the future is destroyed once
            ++t->cancels[self(h).id];
        }
    }
    static std::exception_ptr exception_fn(TaskHeader*) noexcept { return {}; }
    static void destroy_fn(TaskHeader* h) noexcept {
        if (Tally* t = self(h).tally_) {
            RL_ASSERT(t->destroyed[self(h).id] == 0);  // destroyed exactly once
            ++t->destroyed[self(h).id];
        }
        delete &self(h);
    }
    static constexpr TaskVTable vtable{&poll_fn, &cancel_fn, &exception_fn, &destroy_fn};

    Body body_;
    Tally* tally_;
};

/// Spawn a task on the pool (WorkStealingExecutor::spawn_detached's submission), from any
/// thread.
inline void spawn(WorkStealingScheduler& pool, int id, ScriptedTask::Body body,
                  Tally* tally = nullptr) {
    pool.submit_new(new ScriptedTask(&pool, id, std::move(body), tally));
}

/// Spin (yielding, at most `bound` times) until `cond()`: lets a thread arrive late without a
/// happens-before edge, when `cond` reads only relaxed atomics. (The worker loop has many more
/// steps than a short test thread, and Relacy's random scheduler picks a thread uniformly at
/// each step, so a thread that does not wait nearly always acts before the workers go idle.)
template <class Cond>
void arrive_when(Cond&& cond, int bound = 500) {
    for (int spins = 0; spins < bound && !cond(); ++spins) zuki::detail::spin_pause();
}

}  // namespace zuki_model
