// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/detail/atomic_waker.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki detail atomic_waker
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdint>
#include <thread>

#include "common/counting_waker.hpp"
#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::detail::AtomicWaker;
using zuki::detail::WakerSlot;
using zuki::test::CountingWaker;

BOOST_AUTO_TEST_CASE(a_completion_before_the_poll_is_seen_at_once_and_wakes_nobody) {
    CountingWaker cw;
    AtomicWaker s;
    s.complete();
    BOOST_TEST(s.is_done());
    zuki::Waker w = cw.make();
    BOOST_TEST(s.poll_done(w));
    BOOST_TEST(cw.total_wakes() == 0);
    BOOST_TEST(cw.clones == 0);  // nothing was registered
}

BOOST_AUTO_TEST_CASE(a_pending_poll_registers_and_the_completion_wakes_it_once) {
    CountingWaker cw;
    {
        AtomicWaker s;
        zuki::Waker w = cw.make();
        BOOST_TEST(!s.poll_done(w));
        BOOST_TEST(cw.clones == 1);  // the slot holds a clone
        BOOST_TEST(!s.poll_done(w));  // same waker: nothing re-registered
        BOOST_TEST(cw.clones == 1);
        s.complete();
        BOOST_TEST(cw.wakes_by_ref.load() == 1);
        BOOST_TEST(s.poll_done(w));
    }
    BOOST_TEST(cw.live() == 0);  // the slot's clone was dropped with it
}

BOOST_AUTO_TEST_CASE(a_poll_with_another_waker_replaces_the_registered_one) {
    CountingWaker first, second;
    AtomicWaker s;
    zuki::Waker a = first.make();
    zuki::Waker b = second.make();
    BOOST_TEST(!s.poll_done(a));
    BOOST_TEST(!s.poll_done(b));
    BOOST_TEST(first.live() == 1);  // only `a` itself: the slot's clone of it was dropped
    s.complete();
    BOOST_TEST(first.total_wakes() == 0);
    BOOST_TEST(second.wakes_by_ref.load() == 1);
}

BOOST_AUTO_TEST_CASE(unregister_drops_the_waker_and_the_completion_wakes_nobody) {
    CountingWaker cw;
    AtomicWaker s;
    zuki::Waker w = cw.make();
    BOOST_TEST(!s.poll_done(w));
    BOOST_TEST(!s.unregister());
    BOOST_TEST(cw.live() == 1);  // the slot's clone is gone at once
    s.complete();
    BOOST_TEST(cw.total_wakes() == 0);
    BOOST_TEST(s.unregister());  // already complete
}

BOOST_AUTO_TEST_CASE(a_slot_over_a_shared_word_keeps_the_other_bits) {
    // The task header's use: WAITING and DONE are two bits of a word whose other bits change.
    constexpr std::uint64_t waiting = 1u << 6, done = 1u << 3, other = 1u << 8;
    zuki::detail::atomic<std::uint64_t> word{5 * other};
    WakerSlot<std::uint64_t, waiting, done> slot;
    CountingWaker cw;
    zuki::Waker w = cw.make();
    BOOST_TEST(!slot.poll_done(word, w));
    BOOST_TEST(word.load() == (5 * other | waiting));
    word.fetch_add(other);  // a reference taken meanwhile
    const std::uint64_t prev = word.fetch_or(done, std::memory_order_acq_rel);
    slot.wake_if_waiting(prev);
    BOOST_TEST(cw.wakes_by_ref.load() == 1);
    BOOST_TEST(word.load() == (6 * other | waiting | done));
    BOOST_TEST(slot.poll_done(word, w));
}

BOOST_AUTO_TEST_CASE(a_completion_racing_polls_is_never_lost) {
    zuki::test::Watchdog wd(120s, "atomic waker race");
    const int rounds = static_cast<int>(5'000 * zuki::test::stress_scale());
    for (int r = 0; r < rounds; ++r) {
        AtomicWaker s;
        CountingWaker cw;
        int value = 0;
        std::thread completer([&] {
            value = 42;  // published by complete()'s release
            s.complete();
        });
        zuki::Waker w = cw.make();
        bool ready = s.poll_done(w);
        if (!ready) {
            while (cw.wakes_by_ref.load() == 0) std::this_thread::yield();  // must be woken
            ready = s.poll_done(w);
        }
        BOOST_REQUIRE(ready);
        const int seen = value;  // before the join: the acquire in poll_done orders it
        completer.join();
        BOOST_REQUIRE(seen == 42);
    }
}
