// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

// The non-template part of the time layer: the timer thread and its heap. The algorithm, the
// state encoding and the invariants are described at the top of zuki/time/timer_service.hpp.

#include <zuki/time/timer_service.hpp>

#include <algorithm>
#include <cassert>
#include <new>
#include <utility>

#if defined(__linux__) || defined(__APPLE__)
#include <pthread.h>
#endif

namespace zuki {

namespace {

void name_this_thread() noexcept {
#if defined(__linux__)
    pthread_setname_np(pthread_self(), "zuki-timer");
#elif defined(__APPLE__)
    pthread_setname_np("zuki-timer");
#endif
}

// Stops the global service at process exit. Created together with it, so every static object
// constructed before the first timer use is destroyed after the thread is gone, and every one
// constructed later is destroyed while it still runs; both are safe.
struct GlobalStopper {
    TimerService* service;
    ~GlobalStopper() { service->stop(); }
};

}  // namespace

TimerService::TimerService() = default;
TimerService::TimerService(std::unique_ptr<Driver> driver) noexcept : driver_(std::move(driver)) {
    started_ = true;  // "running": nothing to start
}

TimerService::~TimerService() { stop(); }

TimerService& TimerService::global() {
    // Leaked on purpose: a Delay may be destroyed (or polled) during or after static destruction.
    // The pointer is trivially destructible and stays reachable, so leak checkers stay quiet.
    static TimerService* const instance = [] {
        auto* s = new TimerService();
        static const GlobalStopper stopper{s};
        return s;
    }();
    return *instance;
}

// ---- the heap: a binary min-heap on (deadline, sequence) that keeps entries' indices current.

bool TimerService::earlier(const detail::TimerEntry* a,
                           const detail::TimerEntry* b) const noexcept {
    if (a->deadline_ != b->deadline_) return a->deadline_ < b->deadline_;
    return a->sequence_ < b->sequence_;
}

void TimerService::place(detail::TimerEntry* e, std::size_t i) noexcept {
    heap_[i] = e;
    e->heap_index_ = i;
}

void TimerService::sift_up(std::size_t i) noexcept {
    detail::TimerEntry* e = heap_[i];
    while (i > 0) {
        const std::size_t parent = (i - 1) / 2;
        if (!earlier(e, heap_[parent])) break;
        place(heap_[parent], i);
        i = parent;
    }
    place(e, i);
}

void TimerService::sift_down(std::size_t i) noexcept {
    detail::TimerEntry* e = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
        std::size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && earlier(heap_[child + 1], heap_[child])) ++child;
        if (!earlier(heap_[child], e)) break;
        place(heap_[child], i);
        i = child;
    }
    place(e, i);
}

detail::TimerEntry* TimerService::pop_front_locked() noexcept {
    assert(!heap_.empty());
    detail::TimerEntry* front = heap_.front();
    erase_locked(*front);
    return front;
}

void TimerService::erase_locked(detail::TimerEntry& e) noexcept {
    const std::size_t i = e.heap_index_;
    assert(i < heap_.size() && heap_[i] == &e);
    detail::TimerEntry* last = heap_.back();
    heap_.pop_back();
    e.heap_index_ = detail::TimerEntry::npos;
    if (last == &e) return;  // it was the last slot: nothing to refill
    place(last, i);
    // The moved-in entry may belong above or below slot i; one of the two sifts is a no-op.
    if (i > 0 && earlier(last, heap_[(i - 1) / 2])) {
        sift_up(i);
    } else {
        sift_down(i);
    }
}

// ---- registration

void TimerService::ensure_thread_locked() {
    if (started_) return;
    fire_batch_.reserve(fire_batch_capacity);  // before the thread exists: firing never allocates
    thread_ = std::thread([this] { run(); });  // may throw std::system_error: nothing changed
    started_ = true;
}

TimerService::ArmResult TimerService::arm(detail::TimerEntry& entry, const Waker& waker) {
    Waker released = Waker::noop();  // declared before the lock: released after it is dropped
    std::lock_guard<std::mutex> lock(mutex_);
    // relaxed: the mutex orders this after the store made under it in run().
    if (entry.fired_.load(std::memory_order_relaxed)) return ArmResult::Fired;
    if (stopping_) return ArmResult::Stopped;

    if (entry.heap_index_ != detail::TimerEntry::npos) {
        // Already registered: re-poll. Keep the stored waker when it wakes the same task.
        if (!entry.waker_.will_wake(waker)) {
            Waker fresh(waker);  // clone first: if it throws, the stored waker is untouched
            released = std::exchange(entry.waker_, std::move(fresh));
        }
        return ArmResult::Pending;
    }

    if (!driver_) {
        ensure_thread_locked();
    } else {
        driver_->prepare();  // may throw (the event source could not be made): not registered
    }
    Waker fresh(waker);
    heap_.push_back(&entry);  // may throw std::bad_alloc: the entry is not registered yet
    entry.waker_ = std::move(fresh);
    entry.sequence_ = next_sequence_++;
    entry.heap_index_ = heap_.size() - 1;
    sift_up(entry.heap_index_);
    // A new earliest deadline: the thread sleeps until the old one, tell it to recompute (or
    // re-arm the driver).
    if (entry.heap_index_ == 0) {
        if (!driver_) {
            wakeup_.notify_one();
        } else if (!driver_->schedule(entry.deadline_)) {
            erase_locked(entry);  // nothing would fire it: undo, and report no memory
            released = std::move(entry.waker_);
            throw std::bad_alloc();
        }
    }
    return ArmResult::Pending;
}

void TimerService::disarm(detail::TimerEntry& entry) noexcept {
    Waker released = Waker::noop();  // declared before the lock: released after it is dropped
    std::lock_guard<std::mutex> lock(mutex_);
    if (entry.heap_index_ == detail::TimerEntry::npos) return;  // fired, stopped or never armed
    const bool was_front = entry.heap_index_ == 0;
    // Removing the front leaves the thread sleeping until the old deadline; it then finds
    // nothing due and sleeps again. Cheaper than a notify on every cancel.
    erase_locked(entry);
    released = std::move(entry.waker_);
    // A driver's pending arrangement counts as the executor's outstanding work (an Asio wait):
    // move it to the new front, or cancel it, so join() does not wait for a cancelled deadline.
    if (driver_ && was_front) {
        if (heap_.empty())
            driver_->cancel();
        else
            driver_->schedule(heap_.front()->deadline_);
    }
}

// ---- the timer thread

void TimerService::run() noexcept {
    name_this_thread();
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        if (heap_.empty()) {
            wakeup_.wait(lock);
            continue;
        }
        const clock::time_point now = clock::now();
        const clock::time_point next = heap_.front()->deadline_;
        if (next > now) {
            wakeup_.wait_until(lock, next - now > max_sleep ? now + max_sleep : next);
            continue;
        }
        // Pop what is due, in (deadline, sequence) order, into the preallocated batch.
        while (!heap_.empty() && fire_batch_.size() < fire_batch_capacity &&
               heap_.front()->deadline_ <= now) {
            detail::TimerEntry* e = pop_front_locked();
            fire_batch_.push_back(std::move(e->waker_));  // within capacity: cannot throw
            // release: pairs with the acquire load in TimerEntry::fired(). Last access to `e`:
            // its owner may free it as soon as it sees true.
            e->fired_.store(true, std::memory_order_release);
        }
        lock.unlock();
        for (Waker& w : fire_batch_) w.wake();  // in order; never under the lock (re-entrancy)
        fire_batch_.clear();  // only moved-from (no-op) wakers remain
        lock.lock();
    }
}

void TimerService::fire_due() noexcept {
    // Wakers are woken outside the lock (re-entrancy), a batch at a time. The batch is local:
    // the driver may run this on two threads at once (a completion already on its way when the
    // next deadline was armed). If it cannot be allocated, wakers go one at a time.
    std::vector<Waker> due;
    try {
        due.reserve(fire_batch_capacity);
    } catch (...) {}
    const std::size_t batch = due.capacity() != 0 ? due.capacity() : 1;
    for (;;) {
        Waker single = Waker::noop();
        bool more = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) return;
            const clock::time_point now = clock::now();
            std::size_t n = 0;
            while (!heap_.empty() && n < batch && heap_.front()->deadline_ <= now) {
                detail::TimerEntry* e = pop_front_locked();
                if (due.capacity() != 0)
                    due.push_back(std::move(e->waker_));  // within capacity: cannot throw
                else
                    single = std::move(e->waker_);
                ++n;
                // release: pairs with the acquire load in TimerEntry::fired() (last access).
                e->fired_.store(true, std::memory_order_release);
            }
            more = !heap_.empty() && heap_.front()->deadline_ <= now;  // the batch was full
            if (!more && !heap_.empty()) driver_->schedule(heap_.front()->deadline_);
        }
        single.wake();
        for (Waker& w : due) w.wake();  // in deadline order
        due.clear();  // only moved-from (no-op) wakers remain
        if (!more) return;
    }
}

void TimerService::stop() noexcept {
    std::thread thread;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
        thread = std::move(thread_);
        if (driver_) {
            driver_->cancel();
            driver_.reset();
        }
    }
    wakeup_.notify_all();
    if (thread.joinable()) {
        if (thread.get_id() == std::this_thread::get_id()) {
            thread.detach();  // stop() from a waker running on the timer thread: it exits by itself
        } else {
            thread.join();
        }
    }
    // Release the wakers still registered, one at a time and never under the lock: releasing the
    // last reference to a task may destroy a Delay, which disarms (and so locks) re-entrantly.
    for (;;) {
        Waker released = Waker::noop();
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (heap_.empty()) break;
            detail::TimerEntry* e = pop_front_locked();
            released = std::move(e->waker_);
        }
    }
}

bool TimerService::stopped() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopping_;
}

bool TimerService::running() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return started_ && !stopping_;
}

std::size_t TimerService::pending() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return heap_.size();
}

}  // namespace zuki
