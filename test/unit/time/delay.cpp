#include <zuki/time/delay.hpp>
#define BOOST_TEST_MODULE zuki_time_delay
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>
#include <vector>

#include <common/block_on.hpp>
#include <common/watchdog.hpp>

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

zuki::Poll<void> poll_with(zuki::Delay& d, const zuki::Waker& w) {
    zuki::Context cx(w);
    return d.poll(cx);
}

zuki::Poll<void> poll_with(zuki::Delay& d, zuki::test::WakeSignal& sig) {
    return poll_with(d, sig.waker());
}

// Checks that a timer is still pending only mean something if its deadline has not passed when
// they were taken (a stalled machine may fire it first). Call after taking them: true if they
// are valid. Tests never fail on timing.
bool still_before(clock_type::time_point deadline) {
    if (clock_type::now() < deadline) return true;
    BOOST_TEST_MESSAGE("the machine stalled past a deadline; pending-state checks skipped");
    return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(delay_is_a_movable_future) {
    static_assert(zuki::Future<zuki::Delay>);
    static_assert(std::is_same_v<zuki::output_t<zuki::Delay>, void>);
    static_assert(std::is_nothrow_move_constructible_v<zuki::Delay>);
    static_assert(std::is_nothrow_move_assignable_v<zuki::Delay>);
    static_assert(!std::is_copy_constructible_v<zuki::Delay>);
    BOOST_TEST(std::is_nothrow_destructible_v<zuki::Delay>);
}

BOOST_AUTO_TEST_CASE(past_deadline_is_ready_on_first_poll_without_the_timer_thread) {
    zuki::TimerService svc;
    zuki::test::WakeSignal sig;
    zuki::Delay past(clock_type::now() - 1s, svc);
    BOOST_TEST(past.is_elapsed());
    BOOST_TEST(poll_with(past, sig).is_ready());
    zuki::Delay now(clock_type::now(), svc);
    BOOST_TEST(poll_with(now, sig).is_ready());
    BOOST_TEST(!svc.running());
    BOOST_TEST(svc.pending() == 0u);
    BOOST_TEST(sig.waker_refs() == 0u);  // the waker was never cloned
    BOOST_TEST(sig.wake_count() == 0u);
}

BOOST_AUTO_TEST_CASE(zero_and_negative_durations_are_ready_at_once) {
    zuki::test::WakeSignal sig;
    auto zero = zuki::delay(0ns);
    auto negative = zuki::delay(-5s);
    BOOST_TEST(poll_with(zero, sig).is_ready());
    BOOST_TEST(poll_with(negative, sig).is_ready());
    BOOST_TEST((negative.deadline() <= clock_type::now()));
    BOOST_TEST((negative.deadline() > clock_type::now() - 1s));  // clamped to now, not now - 5 s
    auto past = zuki::sleep_until(clock_type::now() - 1h);
    BOOST_TEST(poll_with(past, sig).is_ready());
    BOOST_TEST(sig.wake_count() == 0u);
}

BOOST_AUTO_TEST_CASE(huge_durations_saturate_instead_of_overflowing) {
    zuki::TimerService svc;
    auto forever = zuki::delay(clock_type::duration::max());
    BOOST_TEST((forever.deadline() == clock_type::time_point::max()));
    zuki::Delay d(forever.deadline(), svc);
    zuki::test::WakeSignal sig;
    BOOST_TEST(poll_with(d, sig).is_pending());
    BOOST_TEST(svc.pending() == 1u);
    // The thread must be asleep, not spinning on an overflowed wait: no wake arrives.
    BOOST_TEST(!sig.wait_for(20ms));
}

BOOST_AUTO_TEST_CASE(delay_does_not_complete_early) {
    zuki::test::Watchdog w(30s, "delay_does_not_complete_early");
    for (auto d : {1ms, 5ms, 20ms, 50ms}) {
        const auto start = clock_type::now();
        zuki::test::block_on(zuki::delay(d));
        const auto elapsed = clock_type::now() - start;
        BOOST_TEST((elapsed >= d), "elapsed " << (elapsed / 1us) << " us < " << (d / 1us) << " us");
    }
    const auto deadline = clock_type::now() + 15ms;
    zuki::test::block_on(zuki::sleep_until(deadline));
    BOOST_TEST((clock_type::now() >= deadline));
}

BOOST_AUTO_TEST_CASE(pending_delay_wakes_its_waker_once_then_is_ready) {
    zuki::test::Watchdog w(30s, "pending_delay_wakes_its_waker_once_then_is_ready");
    zuki::TimerService svc;
    zuki::test::WakeSignal sig;
    zuki::Delay d(clock_type::now() + 50ms, svc);
    const bool pending = poll_with(d, sig).is_pending();
    const auto registered = svc.pending();
    const auto refs = sig.waker_refs();
    if (still_before(d.deadline())) {
        BOOST_TEST(pending);
        BOOST_TEST(svc.running());
        BOOST_TEST(registered == 1u);
        BOOST_TEST(refs == 1u);  // the stored clone
    }
    if (pending) sig.wait();
    BOOST_TEST((clock_type::now() >= d.deadline()));
    BOOST_TEST(sig.wake_count() == (pending ? 1u : 0u));
    BOOST_TEST(sig.waker_refs() == 0u);  // woken by value: the reference was consumed
    BOOST_TEST(svc.pending() == 0u);
    BOOST_TEST(poll_with(d, sig).is_ready());
    BOOST_TEST(!sig.wait_for(20ms));  // and never again
    BOOST_TEST(sig.wake_count() == (pending ? 1u : 0u));
}

BOOST_AUTO_TEST_CASE(repoll_with_the_same_waker_does_not_reclone) {
    zuki::TimerService svc;
    zuki::test::WakeSignal sig;
    const zuki::Waker w = sig.waker();
    zuki::Delay d(clock_type::now() + 1h, svc);
    BOOST_TEST(poll_with(d, w).is_pending());
    BOOST_TEST(sig.waker_refs() == 2u);  // w + the stored clone
    for (int i = 0; i < 10; ++i) BOOST_TEST(poll_with(d, w).is_pending());
    BOOST_TEST(sig.waker_refs() == 2u);
    // A different Waker object for the same target: will_wake holds, still no clone.
    const zuki::Waker same_target(w);
    BOOST_TEST(poll_with(d, same_target).is_pending());
    BOOST_TEST(sig.waker_refs() == 3u);  // w + same_target + the stored clone
}

BOOST_AUTO_TEST_CASE(repoll_with_a_new_waker_wakes_the_new_one_not_the_old) {
    zuki::test::Watchdog w(30s, "repoll_with_a_new_waker_wakes_the_new_one_not_the_old");
    zuki::TimerService svc;
    zuki::test::WakeSignal old_sig, new_sig;
    zuki::Delay d(clock_type::now() + 100ms, svc);
    const bool first_pending = poll_with(d, old_sig).is_pending();
    const auto old_refs_before = old_sig.waker_refs();
    const bool second_pending = poll_with(d, new_sig).is_pending();
    const auto old_refs_after = old_sig.waker_refs();
    const auto new_refs = new_sig.waker_refs();
    if (!still_before(d.deadline())) return;
    BOOST_TEST(first_pending);
    BOOST_TEST(old_refs_before == 1u);
    BOOST_TEST(second_pending);
    BOOST_TEST(old_refs_after == 0u);  // the old clone is released at once
    BOOST_TEST(new_refs == 1u);
    new_sig.wait();
    BOOST_TEST(poll_with(d, new_sig).is_ready());
    BOOST_TEST(new_sig.wake_count() == 1u);
    BOOST_TEST(old_sig.wake_count() == 0u);
}

BOOST_AUTO_TEST_CASE(dropping_a_delay_before_its_deadline_never_wakes_it) {
    zuki::TimerService svc;
    zuki::test::WakeSignal sig;
    const auto deadline = clock_type::now() + 100ms;
    bool pending = false;
    std::size_t registered = 0;
    {
        zuki::Delay d(deadline, svc);
        pending = poll_with(d, sig).is_pending();
        registered = svc.pending();
    }
    BOOST_TEST(svc.pending() == 0u);
    BOOST_TEST(sig.waker_refs() == 0u);  // released immediately, not at the deadline
    if (!still_before(deadline)) return;  // dropped in time: it can no longer fire
    BOOST_TEST(pending);
    BOOST_TEST(registered == 1u);
    BOOST_TEST(!sig.wait_for(150ms));  // well past the deadline: nothing
    BOOST_TEST(sig.wake_count() == 0u);
}

BOOST_AUTO_TEST_CASE(dropping_a_delay_on_another_thread) {
    zuki::TimerService svc;
    zuki::test::WakeSignal sig;
    std::optional<zuki::Delay> d(std::in_place, clock_type::now() + 1h, svc);
    BOOST_TEST(poll_with(*d, sig).is_pending());
    std::thread([moved = std::move(*d)]() mutable { zuki::Delay gone = std::move(moved); }).join();
    d.reset();  // the moved-from shell
    BOOST_TEST(svc.pending() == 0u);
    BOOST_TEST(sig.waker_refs() == 0u);
}

BOOST_AUTO_TEST_CASE(a_moved_delay_keeps_its_registration) {
    zuki::test::Watchdog w(30s, "a_moved_delay_keeps_its_registration");
    zuki::TimerService svc;
    zuki::test::WakeSignal sig;
    std::vector<zuki::Delay> delays;
    delays.emplace_back(clock_type::now() + 50ms, svc);
    const bool pending = poll_with(delays[0], sig).is_pending();
    for (int i = 0; i < 100; ++i) delays.emplace_back(clock_type::now() + 1h, svc);  // reallocates
    zuki::Delay moved = std::move(delays[0]);
    const auto registered = svc.pending();
    if (still_before(moved.deadline())) {
        BOOST_TEST(pending);
        BOOST_TEST(registered == 1u);
    }
    if (pending) sig.wait();
    BOOST_TEST(poll_with(moved, sig).is_ready());
    // Move-assigning over a registered delay cancels the overwritten one.
    zuki::test::WakeSignal other;
    zuki::Delay a(clock_type::now() + 1h, svc), b(clock_type::now() + 1h, svc);
    BOOST_TEST(poll_with(a, other).is_pending());
    BOOST_TEST(svc.pending() == 1u);
    a = std::move(b);
    BOOST_TEST(svc.pending() == 0u);
    BOOST_TEST(other.waker_refs() == 0u);
}

BOOST_AUTO_TEST_CASE(a_delay_polled_after_its_deadline_completes_without_waiting_for_the_thread) {
    zuki::TimerService svc;
    zuki::test::WakeSignal sig;
    zuki::Delay d(clock_type::now() + 30ms, svc);
    const bool pending = poll_with(d, sig).is_pending();
    if (still_before(d.deadline())) BOOST_TEST(pending);
    std::this_thread::sleep_until(d.deadline());
    BOOST_TEST(poll_with(d, sig).is_ready());  // whether or not the thread fired it yet
    BOOST_TEST(svc.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(the_global_service_drives_plain_delays_from_many_threads) {
    zuki::test::Watchdog w(60s, "the_global_service_drives_plain_delays_from_many_threads");
    std::atomic<int> done{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) {
                const auto d = std::chrono::microseconds(((t * 37 + i * 101) % 20) * 100);
                const auto start = clock_type::now();
                zuki::test::block_on(zuki::delay(d));
                if (clock_type::now() - start >= d) done.fetch_add(1, std::memory_order_relaxed);
            }
        });
    }
    for (auto& th : threads) th.join();
    BOOST_TEST(done.load(std::memory_order_relaxed) == 80);
    BOOST_TEST(zuki::TimerService::global().pending() == 0u);
}

BOOST_AUTO_TEST_CASE(drops_racing_with_firing_are_safe) {
    // TSan / ASan target: deadlines land right around the moment the owners drop the delays.
    zuki::test::Watchdog w(60s, "drops_racing_with_firing_are_safe");
    zuki::TimerService svc;
    zuki::test::WakeSignal sig;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            std::uniform_int_distribution<int> us(0, 300);
            for (int round = 0; round < 50; ++round) {
                std::vector<zuki::Delay> ds;
                for (int i = 0; i < 20; ++i) {
                    ds.emplace_back(clock_type::now() + std::chrono::microseconds(us(rng)), svc);
                    (void)poll_with(ds.back(), sig);
                }
                std::this_thread::sleep_for(std::chrono::microseconds(us(rng)));
            }
        });
    }
    for (auto& th : threads) th.join();
    BOOST_TEST(svc.pending() == 0u);
    BOOST_TEST(sig.waker_refs() == 0u);
    BOOST_TEST(sig.wake_count() <= 4u * 50u * 20u);
}
