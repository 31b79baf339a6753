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
    // The Asio timer is made with the first registration (prepare), and with it the executor's
    // reactor (an epoll instance, an eventfd, a timerfd) if no socket or timer made it before:
    // a pool that never waits on a timer makes none (issue 16). The reactor's activation wakes a
    // parked worker to drive it (runtime/io_driver.hpp, "Activation").
    explicit ReactorTimerDriver(const Executor& ex) : ex_(ex) {}
    void bind(TimerService* service) noexcept { service_ = service; }

    // Under the service's lock, which serialises every use of the Asio timer. Throws what
    // making the reactor throws (std::system_error, e.g. out of file descriptors; bad_alloc).
    void prepare() override {
        if (!timer_) timer_.emplace(ex_);
    }

    bool schedule(std::chrono::steady_clock::time_point deadline) noexcept override {
        try {
            timer_->expires_at(deadline);  // a wait in progress completes as operation_aborted
            timer_->async_wait([service = service_](const boost::system::error_code& ec) {
                if (!ec) service->fire_due();
            });
            return true;
        } catch (...) {  // bad_alloc arming the wait
            return false;
        }
    }
    void cancel() noexcept override {
        if (timer_) timer_->cancel();
    }

private:
    Executor ex_;
    std::optional<boost::asio::basic_waitable_timer<
        std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, Executor>>
        timer_;
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
