// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// detail::BlockingPool (runtime/blocking_pool.hpp): the threads that run spawn_blocking calls.

#include <zuki/runtime/blocking_pool.hpp>

#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include <zuki/task/detail/header.hpp>

namespace zuki::detail {

void BlockingPool::push(TaskHeader* t) noexcept {
    t->next = nullptr;
    (tail_ != nullptr ? tail_->next : head_) = t;
    tail_ = t;
    ++queued_;
}

TaskHeader* BlockingPool::pop() noexcept {
    TaskHeader* t = head_;
    if (t == nullptr) return nullptr;
    head_ = t->next;
    if (head_ == nullptr) tail_ = nullptr;
    --queued_;
    return t;
}

bool BlockingPool::submit(TaskHeader* t) noexcept {
    {
        std::lock_guard lock(m_);
        if (!shut_down_) {
            if (idle_ > notified_) {
                // An idle thread is free: it takes the oldest queued call.
                push(t);
                ++notified_;
                work_cv_.notify_one();
                return true;
            }
            if (threads_ < cfg_.max_threads && !start_thread() && threads_ == 0)
                return false;  // nobody to run it, now or later: the caller refuses it
            // A new thread takes it, or (at the cap, or the start failed with others alive) the
            // first thread to finish its call does.
            push(t);
            return true;
        }
    }
    // Refused after shutdown (a Handle racing the executor's destruction): cancelled at once.
    t->cancel_scheduled();
    t->ref_dec();  // the queue's reference
    return true;
}

bool BlockingPool::start_thread() noexcept {
    try {
        if (cfg_.before_thread_start) cfg_.before_thread_start();
        auto self = std::make_unique<Thread>();
        // The thread needs m_ (held by our caller) before it reads anything: the handle is
        // stored before it can look.
        self->handle = std::thread([this, t = self.get()] { run_thread(t); });
        self.release();  // owned by the thread from now on (it hands itself to last_exited_)
        ++threads_;
        return true;
    } catch (...) {
        // Reported like a worker that failed to start (the owner's unhandled-exception path).
        std::exception_ptr why = std::current_exception();
        try {
            try {
                std::rethrow_exception(why);
            } catch (const std::exception& e) {
                why = std::make_exception_ptr(std::system_error(
                    std::make_error_code(std::errc::resource_unavailable_try_again),
                    std::string("zuki: a blocking thread failed to start (") + e.what() + ")"));
            }
        } catch (...) {  // not a std::exception, or making the message failed: report as is
        }
        owner_.report_exception(std::move(why));
        return false;
    }
}

void BlockingPool::run_thread(Thread* self) noexcept {
    Scheduler::current() = &owner_;  // zuki::spawn, Handle::current() inside a call
    std::unique_lock lock(m_);
    for (;;) {
        if (TaskHeader* t = pop()) {
            lock.unlock();
            // An invoke-once future completes in its one poll (or was cancelled): the outcome
            // is finished or released, never pending.
            const RunOutcome outcome = t->run(/*release_when_done=*/true);
            // It completed (finished or released): run(true) leaves the count to us.
            owner_.task_finished();
            if (outcome != RunOutcome::released) t->ref_dec();  // the queue's reference
            lock.lock();
            continue;
        }
        if (shut_down_) break;
        // Idle: wait for a call, at most keep_alive.
        ++idle_;
        const auto deadline = std::chrono::steady_clock::now() + cfg_.keep_alive;
        bool expired = false;
        while (head_ == nullptr && !shut_down_ && !expired)
            expired = work_cv_.wait_until(lock, deadline) == std::cv_status::timeout;
        --idle_;
        if (notified_ != 0) --notified_;  // (this one, or one that timed out meanwhile)
        if (head_ == nullptr && expired) break;  // kept alive long enough
    }
    Scheduler::current() = nullptr;
    // Leave our handle for the next thread that exits (or shutdown()) to join, and join the
    // one left before us. The pool outlives us: shutdown() joins the last handle, and we joined
    // ours before exiting.
    Thread* previous = std::exchange(last_exited_, self);
    --threads_;
    if (threads_ == 0) exit_cv_.notify_all();
    lock.unlock();
    if (previous != nullptr) {
        previous->handle.join();
        delete previous;
    }
}

void BlockingPool::shutdown() noexcept {
    TaskHeader* queued = nullptr;
    {
        std::lock_guard lock(m_);
        shut_down_ = true;
        queued = std::exchange(head_, nullptr);
        tail_ = nullptr;
        queued_ = 0;
        work_cv_.notify_all();
    }
    while (queued != nullptr) {
        TaskHeader* next = queued->next;
        queued->cancel_scheduled();
        queued->ref_dec();  // the queue's reference
        queued = next;
    }
    Thread* last = nullptr;
    {
        std::unique_lock lock(m_);
        exit_cv_.wait(lock, [&] { return threads_ == 0; });
        last = std::exchange(last_exited_, nullptr);
    }
    if (last != nullptr) {  // joins every thread: each joined its predecessor before exiting
        last->handle.join();
        delete last;
    }
}

}  // namespace zuki::detail
