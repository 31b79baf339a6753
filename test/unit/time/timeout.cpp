#include <zuki/time/timeout.hpp>
#define BOOST_TEST_MODULE zuki_time_timeout
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include <common/block_on.hpp>
#include <common/drop_counter.hpp>
#include <common/watchdog.hpp>

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// A future that never completes and holds a DropCounter, to see when it is destroyed.
struct NeverWithToken {
    zuki::test::DropCounter token;
    zuki::Poll<int> poll(zuki::Context&) { return zuki::Poll<int>::pending(); }
};

// A one-shot channel: another thread sets the value and wakes the stored waker.
template <class T>
struct Slot {
    std::mutex mutex;
    std::optional<T> value;
    std::optional<zuki::Waker> waiter;

    void set(T v) {
        std::optional<zuki::Waker> w;
        {
            std::lock_guard<std::mutex> lock(mutex);
            value = std::move(v);
            w.swap(waiter);
        }
        if (w) w->wake();
    }
};

template <class T>
struct SlotFuture {
    std::shared_ptr<Slot<T>> slot;
    zuki::Poll<T> poll(zuki::Context& cx) {
        std::lock_guard<std::mutex> lock(slot->mutex);
        if (slot->value) return zuki::Poll<T>::ready(std::move(*slot->value));
        if (!slot->waiter || !slot->waiter->will_wake(cx.waker())) slot->waiter = cx.waker();
        return zuki::Poll<T>::pending();
    }
};

// Pending on the first `pending_polls` polls (waking itself each time), then ready with 5.
struct ReadyAfter {
    int pending_polls;
    int polls = 0;
    zuki::Poll<int> poll(zuki::Context& cx) {
        if (polls++ < pending_polls) {
            cx.waker().wake_by_ref();
            return zuki::Poll<int>::pending();
        }
        return 5;
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(timeout_is_a_future_of_timeout_result) {
    using T = decltype(zuki::timeout(zuki::ready(1), 1s));
    static_assert(zuki::Future<T>);
    static_assert(std::is_same_v<zuki::output_t<T>, zuki::TimeoutResult<int>>);
    using V = decltype(zuki::timeout(zuki::delay(1s), 1s));
    static_assert(std::is_same_v<zuki::output_t<V>, zuki::TimeoutResult<void>>);
    static_assert(std::is_base_of_v<std::runtime_error, zuki::TimedOut>);
    BOOST_TEST((std::is_same_v<zuki::TimeoutResult<int>::value_type, int>));
}

BOOST_AUTO_TEST_CASE(timed_out_message) {
    const zuki::TimedOut e;
    BOOST_TEST(std::string(e.what()) == "zuki::timeout: the future did not complete in time");
    auto r = zuki::TimeoutResult<int>::expired();
    try {
        (void)r.value();
        BOOST_FAIL("value() of a timed-out result must throw");
    } catch (const zuki::TimedOut& caught) {
        BOOST_TEST(std::string(caught.what()) ==
                   "zuki::timeout: the future did not complete in time");
    }
}

BOOST_AUTO_TEST_CASE(timeout_result_accessors) {
    auto ok = zuki::TimeoutResult<std::string>::completed("hi");
    BOOST_TEST(!ok.timed_out());
    BOOST_TEST(ok.has_value());
    BOOST_TEST(static_cast<bool>(ok));
    BOOST_TEST(ok.value() == "hi");
    const auto& cref = ok;
    BOOST_TEST(cref.value() == "hi");
    std::string moved = std::move(ok).value();
    BOOST_TEST(moved == "hi");

    auto late = zuki::TimeoutResult<std::string>::expired();
    BOOST_TEST(late.timed_out());
    BOOST_TEST(!late);
    BOOST_CHECK_THROW((void)std::move(late).value(), zuki::TimedOut);

    auto v_ok = zuki::TimeoutResult<void>::completed();
    BOOST_TEST(!v_ok.timed_out());
    BOOST_TEST(static_cast<bool>(v_ok));
    BOOST_CHECK_NO_THROW(v_ok.value());
    auto v_late = zuki::TimeoutResult<void>::expired();
    BOOST_TEST(v_late.timed_out());
    BOOST_CHECK_THROW(v_late.value(), zuki::TimedOut);
}

BOOST_AUTO_TEST_CASE(value_wins_when_the_inner_future_is_ready) {
    auto r = zuki::test::block_on(zuki::timeout(zuki::ready(42), 1s));
    BOOST_TEST(!r.timed_out());
    BOOST_TEST(r.value() == 42);
}

BOOST_AUTO_TEST_CASE(a_ready_inner_future_wins_even_after_the_deadline) {
    auto t = zuki::timeout(zuki::ready(7), 0ns);
    std::this_thread::sleep_for(1ms);
    auto r = zuki::test::block_on(std::move(t));
    BOOST_TEST(r.value() == 7);
    auto past = zuki::timeout_at(zuki::ready(8), clock_type::now() - 1h);
    BOOST_TEST(zuki::test::block_on(std::move(past)).value() == 8);
    auto negative = zuki::timeout(zuki::ready(9), -1s);
    BOOST_TEST(zuki::test::block_on(std::move(negative)).value() == 9);
}

BOOST_AUTO_TEST_CASE(inner_future_polled_first_on_every_poll) {
    // Poll 1: inner pending, deadline pending. The deadline then passes. Poll 2: the inner
    // future is polled first and, being ready, wins over the passed deadline.
    const auto deadline = clock_type::now() + 50ms;
    auto t = zuki::timeout_at(ReadyAfter{1}, deadline);
    zuki::test::WakeSignal sig;
    const zuki::Waker waker = sig.waker();
    zuki::Context cx(waker);
    const bool first_pending = t.poll(cx).is_pending();
    if (clock_type::now() >= deadline) {
        BOOST_TEST_MESSAGE("the machine stalled past the deadline before the first poll; skipped");
        return;
    }
    BOOST_TEST_REQUIRE(first_pending);
    std::this_thread::sleep_until(deadline + 5ms);
    auto p = t.poll(cx);
    BOOST_TEST_REQUIRE(p.is_ready());
    BOOST_TEST(std::move(p).value().value() == 5);
    // Pending on the first poll with a passed deadline: the deadline wins.
    auto t2 = zuki::timeout(ReadyAfter{1}, 0ns);
    BOOST_TEST(zuki::test::block_on(std::move(t2)).timed_out());
}

BOOST_AUTO_TEST_CASE(deadline_wins_reports_timed_out_and_destroys_the_inner_future) {
    zuki::test::Watchdog w(30s, "deadline_wins_reports_timed_out_and_destroys_the_inner_future");
    zuki::test::DropRegistry reg(1);
    const auto start = clock_type::now();
    auto t = zuki::timeout(NeverWithToken{zuki::test::DropCounter(reg, 0)}, 20ms);
    BOOST_TEST(reg.live(0) == 1);
    auto r = zuki::test::block_on(t);  // in place: `t` is still alive afterwards
    BOOST_TEST((clock_type::now() - start >= 20ms));
    BOOST_TEST(r.timed_out());
    BOOST_CHECK_THROW((void)r.value(), zuki::TimedOut);
    // Destroyed at completion of the timeout, not when `t` goes away.
    BOOST_TEST(reg.live(0) == 0);
    BOOST_TEST(reg.drops(0) == 1);
    { auto gone = std::move(t); }
    BOOST_TEST(reg.drops(0) == 1);  // exactly once
}

BOOST_AUTO_TEST_CASE(the_inner_value_is_destroyed_exactly_once_when_it_wins) {
    zuki::test::DropRegistry reg(1);
    {
        auto r =
            zuki::test::block_on(zuki::timeout(zuki::ready(zuki::test::DropCounter(reg, 0)), 1s));
        BOOST_TEST(r.value().id() == 0u);
        BOOST_TEST(reg.live(0) == 1);
    }
    BOOST_TEST(reg.live(0) == 0);
    BOOST_TEST(reg.drops(0) == 1);
}

BOOST_AUTO_TEST_CASE(value_from_another_thread_before_the_deadline) {
    zuki::test::Watchdog w(30s, "value_from_another_thread_before_the_deadline");
    auto slot = std::make_shared<Slot<std::unique_ptr<int>>>();
    std::thread producer([slot] {
        std::this_thread::sleep_for(10ms);
        slot->set(std::make_unique<int>(99));
    });
    auto r = zuki::test::block_on(zuki::timeout(SlotFuture<std::unique_ptr<int>>{slot}, 10s));
    producer.join();
    BOOST_TEST(!r.timed_out());
    std::unique_ptr<int> p = std::move(r).value();  // move-only values work
    BOOST_TEST(*p == 99);
}

BOOST_AUTO_TEST_CASE(winning_inner_future_cancels_the_timer) {
    zuki::test::Watchdog w(30s, "winning_inner_future_cancels_the_timer");
    auto slot = std::make_shared<Slot<int>>();
    auto t = zuki::timeout(SlotFuture<int>{slot}, 1h);
    zuki::test::WakeSignal sig;
    const zuki::Waker waker = sig.waker();
    zuki::Context cx(waker);
    const auto before = zuki::TimerService::global().pending();
    BOOST_TEST(t.poll(cx).is_pending());
    BOOST_TEST(zuki::TimerService::global().pending() == before + 1);
    slot->set(3);
    sig.wait();
    auto p = t.poll(cx);
    BOOST_TEST_REQUIRE(p.is_ready());
    BOOST_TEST(std::move(p).value().value() == 3);
    // The registration is gone as soon as the timeout completed, not in an hour.
    BOOST_TEST(zuki::TimerService::global().pending() == before);
    BOOST_TEST(sig.waker_refs() == 1u);  // only `waker`: neither the slot nor the timer holds one
}

BOOST_AUTO_TEST_CASE(void_futures) {
    zuki::test::Watchdog w(30s, "void_futures");
    auto quick = zuki::test::block_on(zuki::timeout(zuki::delay(5ms), 10s));
    BOOST_TEST(!quick.timed_out());
    BOOST_CHECK_NO_THROW(quick.value());
    auto slow = zuki::test::block_on(zuki::timeout(zuki::delay(10s), 5ms));
    BOOST_TEST(slow.timed_out());
    BOOST_CHECK_THROW(slow.value(), zuki::TimedOut);
    auto never = zuki::test::block_on(zuki::timeout(zuki::pending<void>(), 5ms));
    BOOST_TEST(never.timed_out());
}

BOOST_AUTO_TEST_CASE(nested_timeouts) {
    zuki::test::Watchdog w(30s, "nested_timeouts");
    auto r = zuki::test::block_on(zuki::timeout(zuki::timeout(zuki::pending<int>(), 5ms), 10s));
    BOOST_TEST(!r.timed_out());  // the outer one completed...
    BOOST_TEST(r.value().timed_out());  // ...with the inner one's timeout
    auto r2 = zuki::test::block_on(zuki::timeout(zuki::timeout(zuki::pending<int>(), 10s), 5ms));
    BOOST_TEST(r2.timed_out());
}

BOOST_AUTO_TEST_CASE(polling_a_completed_timeout_is_an_error_not_undefined_behaviour) {
    auto t = zuki::timeout(zuki::ready(1), 1s);
    const zuki::Waker waker = zuki::Waker::noop();
    zuki::Context cx(waker);
    BOOST_TEST(t.poll(cx).is_ready());
    BOOST_CHECK_THROW((void)t.poll(cx), std::logic_error);
}

BOOST_AUTO_TEST_CASE(deadline_accessor) {
    const auto at = clock_type::now() + 1h;
    auto t = zuki::timeout_at(zuki::pending<int>(), at);
    BOOST_TEST((t.deadline() == at));
}

BOOST_AUTO_TEST_CASE(dropping_a_pending_timeout_cancels_everything) {
    zuki::test::DropRegistry reg(1);
    zuki::test::WakeSignal sig;
    const auto before = zuki::TimerService::global().pending();
    {
        auto t = zuki::timeout(NeverWithToken{zuki::test::DropCounter(reg, 0)}, 1h);
        const zuki::Waker waker = sig.waker();
        zuki::Context cx(waker);
        BOOST_TEST(t.poll(cx).is_pending());
        BOOST_TEST(zuki::TimerService::global().pending() == before + 1);
    }
    BOOST_TEST(zuki::TimerService::global().pending() == before);
    BOOST_TEST(reg.drops(0) == 1);
    BOOST_TEST(sig.waker_refs() == 0u);
}
