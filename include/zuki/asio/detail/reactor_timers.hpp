// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// An executor's own `TimerService`, fired by the executor's reactor: the earliest registered
/// deadline is armed on one Asio timer of the executor, whose completion (on one of the
/// executor's threads) fires what is due and arms the next. So `zuki::delay` on an executor
/// that drives its reactor (asio/detail/reactor_driver.hpp) costs no thread.

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/system/error_code.hpp>

#include <zuki/time/timer_service.hpp>

namespace zuki::detail {

template <class Executor>
class ReactorTimerDriver final : public TimerService::Driver {
public:
    // The Asio timer (and with it the executor's reactor: an epoll instance, an eventfd and a
    // timerfd) is made by the first schedule, not here: a pool that never sleeps on a Zuki
    // delay or does I/O never creates its reactor, and is as cheap to make as a thread_pool.
    explicit ReactorTimerDriver(const Executor& ex) : ex_(ex) {}
    void bind(TimerService* service) noexcept { service_ = service; }

    // Under the service's lock (which also serialises every use of the Asio timer).
    bool schedule(std::chrono::steady_clock::time_point deadline) noexcept override {
        try {
            if (!timer_) timer_.emplace(ex_);
            timer_->expires_at(deadline);  // a wait in progress completes as operation_aborted
            timer_->async_wait([service = service_](const boost::system::error_code& ec) {
                if (!ec) service->fire_due();
            });
            return true;
        } catch (...) {  // bad_alloc making the timer (its services) or arming the wait
            return false;
        }
    }
    void cancel() noexcept override {
        if (timer_) timer_->cancel();
    }

private:
    using Timer = boost::asio::basic_waitable_timer<
        std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;
    Executor ex_;
    std::optional<Timer> timer_;  // made by the first schedule, under the service's lock
    TimerService* service_ = nullptr;
};

/// A timer service driven by `ex`'s reactor. The executor keeps it (and stops it before its
/// Asio services are destroyed); a `Delay` registered with it keeps it alive too.
template <class Executor>
std::shared_ptr<TimerService> make_reactor_timers(const Executor& ex) {
    auto driver = std::make_unique<ReactorTimerDriver<Executor>>(ex);
    ReactorTimerDriver<Executor>* raw = driver.get();
    auto service = std::make_shared<TimerService>(std::move(driver));
    raw->bind(service.get());
    return service;
}

}  // namespace zuki::detail
