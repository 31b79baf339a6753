// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/detail/parker.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki detail parker
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::detail::EventCount;
using zuki::detail::ParkDriver;
using zuki::detail::Parker;
using zuki::detail::ThreadParkerRef;

BOOST_AUTO_TEST_CASE(an_unpark_before_the_park_is_a_token_the_park_consumes_at_once) {
    Parker p;
    BOOST_TEST(!p.has_token());
    p.unpark();
    p.unpark();  // tokens do not accumulate
    BOOST_TEST(p.has_token());
    p.park();  // returns at once
    BOOST_TEST(!p.has_token());
}

BOOST_AUTO_TEST_CASE(park_sleeps_until_another_thread_unparks) {
    zuki::test::Watchdog w(60s, "park sleeps until unpark");
    Parker p;
    std::atomic<bool> woke{false};
    std::thread t([&] {
        p.park();
        woke.store(true, std::memory_order_release);
    });
    std::this_thread::sleep_for(20ms);
    BOOST_TEST(!woke.load(std::memory_order_acquire));  // still asleep
    p.unpark();
    t.join();
    BOOST_TEST(woke.load());
}

BOOST_AUTO_TEST_CASE(no_wake_up_is_lost_over_many_park_unpark_rounds) {
    zuki::test::Watchdog w(120s, "park/unpark rounds");
    const int rounds = static_cast<int>(20'000 * zuki::test::stress_scale());
    Parker p;
    std::atomic<int> produced{0};
    std::thread consumer([&] {
        int seen = 0;
        while (seen < rounds) {
            // acquire: pairs with the release increment below (belt and braces: the token's
            // release/acquire orders it too).
            const int now = produced.load(std::memory_order_acquire);
            if (now == seen) {
                p.park();
                continue;
            }
            seen = now;
        }
    });
    for (int i = 0; i < rounds; ++i) {
        produced.fetch_add(1, std::memory_order_release);
        p.unpark();
    }
    consumer.join();
    BOOST_TEST(produced.load() == rounds);
}

namespace {

// A driver whose wait blocks until interrupted; an interrupt before the wait ends it at once.
class FakeDriver final : public ParkDriver {
public:
    void wait() noexcept override {
        ++waits;
        Parker& p = inner;
        p.park();
    }
    void wait_for(std::chrono::nanoseconds timeout) noexcept override {
        ++waits;
        inner.park_for(timeout);
    }
    void interrupt() noexcept override {
        interrupts.fetch_add(1, std::memory_order_relaxed);
        inner.unpark();
    }
    Parker inner;
    std::atomic<int> waits{0};
    std::atomic<int> interrupts{0};
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_parker_driving_is_woken_through_its_driver) {
    zuki::test::Watchdog w(60s, "park_driving");
    Parker p;
    FakeDriver d;
    std::atomic<bool> token{false};
    std::thread t([&] { token.store(p.park_driving(d), std::memory_order_release); });
    while (d.waits.load() == 0) std::this_thread::yield();
    p.unpark();  // must interrupt the driver, not futex-wake
    t.join();
    BOOST_TEST(token.load());  // it consumed the token
    BOOST_TEST(d.interrupts.load() == 1);
    BOOST_TEST(!p.has_token());
}

BOOST_AUTO_TEST_CASE(park_driving_with_a_token_waiting_does_not_enter_the_driver) {
    Parker p;
    FakeDriver d;
    p.unpark();
    BOOST_TEST(p.park_driving(d));
    BOOST_TEST(d.waits.load() == 0);
}

BOOST_AUTO_TEST_CASE(a_driver_event_returns_without_a_token) {
    Parker p;
    FakeDriver d;
    d.inner.unpark();  // an event of the driver's own is pending
    BOOST_TEST(!p.park_driving(d));
    BOOST_TEST(d.waits.load() == 1);
    p.unpark();  // afterwards the parker is an ordinary one again
    p.park();
}

BOOST_AUTO_TEST_CASE(a_thread_parker_is_woken_by_its_waker_and_outlives_the_handle) {
    zuki::test::Watchdog w(60s, "thread parker");
    zuki::Waker waker = zuki::Waker::noop();
    {
        ThreadParkerRef p;
        waker = p->waker();
        std::thread t([w2 = waker]() mutable { w2.wake(); });
        p->park();
        t.join();
    }
    waker.wake_by_ref();  // the parker is still alive through the waker's reference
}

BOOST_AUTO_TEST_CASE(event_count_waiters_all_see_the_condition) {
    zuki::test::Watchdog w(60s, "event count");
    EventCount ec;
    std::atomic<bool> ready{false};
    std::vector<std::thread> waiters;
    std::atomic<int> done{0};
    for (int i = 0; i < 4; ++i)
        waiters.emplace_back([&] {
            for (;;) {
                const auto key = ec.prepare_wait();
                if (ready.load(std::memory_order_seq_cst)) break;
                ec.wait(key);
            }
            done.fetch_add(1);
        });
    std::this_thread::sleep_for(10ms);
    ready.store(true, std::memory_order_seq_cst);
    ec.notify_all();
    for (auto& t : waiters) t.join();
    BOOST_TEST(done.load() == 4);
}

BOOST_AUTO_TEST_CASE(park_for_returns_when_the_time_passed_or_on_a_token) {
    Parker p;
    const auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(!p.park_for(5ms));  // nobody unparks: the time passes
    BOOST_TEST((std::chrono::steady_clock::now() - t0 >= 4ms));
    p.unpark();
    BOOST_TEST(p.park_for(10s));  // a token: at once
    std::thread t([&] {
        std::this_thread::sleep_for(5ms);
        p.unpark();
    });
    BOOST_TEST(p.park_for(30s));
    t.join();
}
