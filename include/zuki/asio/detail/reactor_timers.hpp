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
    // The Asio timer is made here, with the executor, and with it the executor's reactor (an
    // epoll instance, an eventfd, a timerfd): the reactor must exist before a worker first
    // parks. A worker chooses where to sleep (its futex, or the reactor if it is active and
    // nobody drives it) when it parks, and nothing wakes a worker asleep on its futex when the
    // reactor appears later: a reactor made by the first socket after the workers slept would
    // be driven by nobody (tried in wave 2: test ready_io_is_spread_over_the_workers hung).
    // Making it lazily needs an activation wake in the idle protocol first (issue 16).
    explicit ReactorTimerDriver(const Executor& ex) : timer_(ex) {}
    void bind(TimerService* service) noexcept { service_ = service; }

    // Under the service's lock (which also serialises every use of the Asio timer).
    bool schedule(std::chrono::steady_clock::time_point deadline) noexcept override {
        try {
            timer_.expires_at(deadline);  // a wait in progress completes as operation_aborted
            timer_.async_wait([service = service_](const boost::system::error_code& ec) {
                if (!ec) service->fire_due();
            });
            return true;
        } catch (...) {  // bad_alloc arming the wait
            return false;
        }
    }
    void cancel() noexcept override { timer_.cancel(); }

private:
    boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                      boost::asio::wait_traits<std::chrono::steady_clock>, Executor>
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
