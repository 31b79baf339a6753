// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// hand_written_future: two futures written by hand against the poll contract, run on a
// SingleThreadedExecutor.
//
// - Countdown: pending `n` times, each time waking its own task by reference first (so the
//   executor polls it again soon), then ready with how many times it was polled.
// - Flag: pending until another std::thread sets it; the setter wakes the waker the last poll
//   stored. The executor sleeps in the meantime (no spinning).

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/core/waker.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>

namespace {

/// Ready after being polled `n + 1` times; yields the number of polls.
class Countdown {
public:
    explicit Countdown(int n) : left_(n) {}

    zuki::Poll<int> poll(zuki::Context& cx) {
        ++polls_;
        if (left_ == 0) return polls_;
        --left_;
        // Contract: a pending poll must make sure someone wakes the task. Here: ourselves, now.
        cx.waker().wake_by_ref();
        return zuki::Poll<int>::pending();
    }

private:
    int left_;
    int polls_ = 0;
};

/// State shared between a Flag future and the thread that sets it.
class FlagState {
public:
    /// Set the flag with a message and wake whoever waits (from any thread).
    void set(std::string message) {
        std::optional<zuki::Waker> waiter;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            message_ = std::move(message);
            waiter.swap(waiter_);
        }
        if (waiter) waiter->wake();  // outside the lock; by value (we are done with it)
    }

    /// For the future: the message if set, else remember `w` to be woken.
    std::optional<std::string> take_or_wait(const zuki::Waker& w) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (message_) return std::move(message_);
        // Keep a clone only if the stored one would not wake the same task.
        if (!waiter_ || !waiter_->will_wake(w)) waiter_ = w;
        return std::nullopt;
    }

private:
    std::mutex mutex_;
    std::optional<std::string> message_;
    std::optional<zuki::Waker> waiter_;
};

/// Ready with the flag's message once another thread set it.
class Flag {
public:
    explicit Flag(std::shared_ptr<FlagState> s) : state_(std::move(s)) {}

    zuki::Poll<std::string> poll(zuki::Context& cx) {
        ++polls_;
        if (auto m = state_->take_or_wait(cx.waker()))
            return *m + " (after " + std::to_string(polls_) + " polls)";
        return zuki::Poll<std::string>::pending();
    }

private:
    std::shared_ptr<FlagState> state_;
    int polls_ = 0;
};

}  // namespace

int main() {
    zuki::SingleThreadedExecutor ex;

    constexpr int n = 5;
    zuki::JoinHandle<int> countdown = ex.spawn(Countdown(n));

    auto flag = std::make_shared<FlagState>();
    zuki::JoinHandle<std::string> flagged = ex.spawn(Flag(flag));
    std::thread setter([flag] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        flag->set("hello from another thread");
    });

    ex.run();  // sleeps while only the Flag waits, wakes when the setter wakes it
    setter.join();

    const int polls = countdown.get();
    const std::string message = flagged.get();
    std::printf("Countdown(%d) completed after %d polls\n", n, polls);
    std::printf("Flag: %s\n", message.c_str());

    if (polls != n + 1 || message.rfind("hello from another thread", 0) != 0) {
        std::printf("unexpected result\n");
        return 1;
    }
    return 0;
}
