// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// WorkStealingExecutor (the public facade over detail::WorkStealingScheduler, which is in
// runtime/work_stealing/worker.hpp) and Batch.

#include <zuki/runtime/work_stealing_executor.hpp>

#include <exception>
#include <stdexcept>
#include <utility>

#include <zuki/asio/detail/reactor_driver.hpp>
#include <zuki/asio/detail/reactor_timers.hpp>
#include <zuki/runtime/work_stealing/worker.hpp>

namespace zuki {

WorkStealingExecutor::WorkStealingExecutor(WorkStealingConfig config) {
    config.validate();
    auto* s = new detail::WorkStealingScheduler(std::move(config));
    try {
        // Asio's scheduler, made before any I/O object exists so that it has no thread of its
        // own: the workers drive its reactor (asio/detail/reactor_driver.hpp).
        if (detail::IoDriver* io = detail::install_reactor_driver(*this, *s, s))
            s->set_io_driver(io, detail::make_reactor_timers(get_executor()));
        s->start();
    } catch (...) {
        s->final_release();
        throw;
    }
    sched_ = s;
}

WorkStealingExecutor::WorkStealingExecutor(std::size_t threads)
    : WorkStealingExecutor([&] {
          if (threads == 0)
              throw std::invalid_argument(
                  "zuki::WorkStealingExecutor: threads must be > 0 (use WorkStealingConfig{} for "
                  "one per core)");
          WorkStealingConfig c;
          c.threads = threads;
          return c;
      }()) {}

WorkStealingExecutor::~WorkStealingExecutor() {
    // Destroyed by one of its own workers: it would join itself. No recovery is possible.
    if (sched_->is_own_worker()) std::terminate();
    sched_->stop();
    sched_->join_threads();
    // Blocking calls: the running ones return (they may still wake tasks, which the drain below
    // cancels), the queued ones are cancelled.
    sched_->shut_down_blocking();
    // Asio's services (timers, sockets, its reactor thread) go first, as in thread_pool; the
    // handlers they still had queued on us are then cancelled with everything else.
    shutdown();
    sched_->stop_timers();
    sched_->close_and_drain();
    destroy();
    sched_->final_release();
}

void WorkStealingExecutor::spawn_batch(Batch&& batch) {
    if (batch.executor_ != this)
        throw std::invalid_argument(
            "zuki::WorkStealingExecutor::spawn_batch: the batch belongs to another executor");
    if (!sched_->accepting()) {
        // As spawn: refused after stop()/join(). The batch's tasks are cancelled now (their
        // handles throw TaskCancelled), not left to wait for the executor's destruction.
        batch.cancel_all();
        throw ExecutorStopped("zuki::WorkStealingExecutor::spawn_batch: the executor was stopped");
    }
    auto lanes = std::exchange(batch.lanes_, {});
    // The batch's tasks count as outstanding work from here (not while it was being built, so
    // join() never waits for a batch nobody submits): one update for the whole batch, before
    // any of them can run and finish.
    if (const std::size_t n = std::exchange(batch.size_, 0); n != 0) sched_->tasks_added(n);
    for (std::size_t p = task_priority_levels; p-- > 0;) {
        if (lanes[p].count == 0) continue;
        sched_->push_global(
            detail::Chunk<detail::TaskHeader>{lanes[p].head, lanes[p].tail, lanes[p].count},
            static_cast<TaskPriority>(p));
    }
}

std::size_t WorkStealingExecutor::thread_count() const noexcept { return sched_->thread_count(); }
void WorkStealingExecutor::join() { sched_->join(); }
void WorkStealingExecutor::attach() { sched_->attach(); }
void WorkStealingExecutor::stop() noexcept { sched_->stop(); }
bool WorkStealingExecutor::stopped() const noexcept { return sched_->stopped(); }
bool WorkStealingExecutor::running_in_this_thread() const noexcept {
    return sched_->is_own_worker();
}
Metrics WorkStealingExecutor::metrics() const { return sched_->metrics(); }

Handle WorkStealingExecutor::handle() const noexcept { return detail::HandleAccess::make(sched_); }

detail::Scheduler* WorkStealingExecutor::spawn_target() const {
    sched_->admit_spawn();
    return sched_;
}
void WorkStealingExecutor::submit_new(detail::TaskHeader* t) noexcept { sched_->submit_new(t); }

detail::Scheduler* WorkStealingExecutor::asio_scheduler() const noexcept { return sched_; }
void WorkStealingExecutor::asio_submit(detail::TaskHeader* t, bool continuation) noexcept {
    sched_->submit_handler(t, continuation);
}
void WorkStealingExecutor::asio_work_started() noexcept { sched_->work_started(); }
void WorkStealingExecutor::asio_work_finished() noexcept { sched_->work_finished(); }

void Batch::cancel_all() noexcept {
    // Each cancelled task finishes (task_finished), so count them first (the executor may be
    // gone: go through the tasks' scheduler, which they keep alive).
    for (auto& l : lanes_) {
        if (l.count != 0) {
            l.head->scheduler()->tasks_added(size_);
            break;
        }
    }
    for (auto& l : lanes_) {
        detail::TaskHeader* t = l.head;
        for (std::size_t i = 0; i < l.count; ++i) {
            detail::TaskHeader* next = t->next;
            t->cancel_scheduled();
            t->ref_dec();
            t = next;
        }
        l = Lane{};
    }
    size_ = 0;
}

}  // namespace zuki
