// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/concurrent/idle_set.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki concurrent idle_set
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using zuki::detail::IdleSet;

namespace {

// The parkers an IdleSet wakes belong to the pool's workers; here the set's test double owns
// them (constructed first, so they outlive the set).
struct Parkers {
    explicit Parkers(std::size_t n) : storage(n), ptrs(n) {
        for (std::size_t i = 0; i < n; ++i) ptrs[i] = &storage[i];
    }
    std::vector<zuki::detail::Parker> storage;
    std::vector<zuki::detail::Parker*> ptrs;
};
struct TestIdleSet : private Parkers, public IdleSet {
    explicit TestIdleSet(std::size_t n) : Parkers(n), IdleSet(n, Parkers::ptrs.data()) {}
};

using zuki::test::stress_scale;

using zuki::test::sanitized;

}  // namespace

// ---- single-threaded protocol ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(starts_with_everyone_awake_and_nobody_searching) {
    TestIdleSet s(4);
    BOOST_TEST(s.size() == 4u);
    BOOST_TEST(s.awake_count() == 4u);
    BOOST_TEST(s.searching_count() == 0u);
    for (std::size_t i = 0; i < 4; ++i) BOOST_TEST(!s.is_parked(i));
    // Nobody is parked: nothing to wake.
    BOOST_TEST(!s.notify_one());
    BOOST_TEST(s.awake_count() == 4u);
    BOOST_TEST(s.searching_count() == 0u);
}

BOOST_AUTO_TEST_CASE(at_most_half_the_awake_workers_search) {
    // Refused once 2 * searching >= awake: ceil(awake / 2) searchers at most.
    for (std::size_t n : {1u, 2u, 3u, 4u, 7u, 8u, 64u}) {
        BOOST_TEST_CONTEXT(n << " workers") {
            TestIdleSet s(n);
            std::size_t granted = 0;
            while (s.try_begin_search()) ++granted;
            BOOST_TEST(granted == (n + 1) / 2);
            BOOST_TEST(s.searching_count() == granted);
            BOOST_TEST(!s.try_begin_search());  // still refused
        }
    }
    // The limit follows the awake count: parking workers lowers it.
    TestIdleSet s(4);
    s.prepare_park(0, false);
    s.prepare_park(1, false);
    BOOST_TEST(s.awake_count() == 2u);
    BOOST_TEST(s.try_begin_search());
    BOOST_TEST(!s.try_begin_search());
}

BOOST_AUTO_TEST_CASE(end_search_reports_the_last_searcher) {
    TestIdleSet s(8);
    BOOST_TEST(s.try_begin_search());
    BOOST_TEST(s.try_begin_search());
    BOOST_TEST(s.try_begin_search());
    BOOST_TEST(s.searching_count() == 3u);
    BOOST_TEST(!s.end_search());
    BOOST_TEST(!s.end_search());
    BOOST_TEST(s.end_search());  // the last one must pass the baton
    BOOST_TEST(s.searching_count() == 0u);
    BOOST_TEST(s.awake_count() == 8u);
}

BOOST_AUTO_TEST_CASE(prepare_park_and_cancel_park_keep_the_counts) {
    TestIdleSet s(4);
    // A non-searching worker parks then cancels: it comes back awake and searching.
    s.prepare_park(2, false);
    BOOST_TEST(s.is_parked(2));
    BOOST_TEST(s.awake_count() == 3u);
    BOOST_TEST(s.searching_count() == 0u);
    s.cancel_park(2);
    BOOST_TEST(!s.is_parked(2));
    BOOST_TEST(s.awake_count() == 4u);
    BOOST_TEST(s.searching_count() == 1u);
    BOOST_TEST(s.end_search());

    // A searching worker parks: it stops counting as searching, and as awake.
    BOOST_TEST(s.try_begin_search());
    BOOST_TEST(s.searching_count() == 1u);
    s.prepare_park(3, true);
    BOOST_TEST(s.searching_count() == 0u);
    BOOST_TEST(s.awake_count() == 3u);
    BOOST_TEST(s.is_parked(3));
    s.cancel_park(3);
    BOOST_TEST(s.searching_count() == 1u);
    BOOST_TEST(s.awake_count() == 4u);
    BOOST_TEST(s.end_search());
    for (std::size_t i = 0; i < 4; ++i) BOOST_TEST(!s.is_parked(i));
}

BOOST_AUTO_TEST_CASE(notify_one_wakes_a_parked_worker_as_a_searcher) {
    zuki::test::Watchdog w(
        std::chrono::seconds(10),
        "notify_one_wakes_a_parked_worker_as_a_searcher: park() without a token blocks");
    TestIdleSet s(4);
    s.prepare_park(1, false);
    BOOST_TEST(s.notify_one());
    BOOST_TEST(!s.is_parked(1));
    BOOST_TEST(s.awake_count() == 4u);
    BOOST_TEST(s.searching_count() == 1u);  // accounted for by the notifier
    s.park(1);  // the token is there: returns at once
    BOOST_TEST(s.end_search());
    // Nobody parked any more.
    BOOST_TEST(!s.notify_one());
}

BOOST_AUTO_TEST_CASE(notify_one_wakes_nobody_while_someone_searches) {
    zuki::test::Watchdog w(
        std::chrono::seconds(10),
        "notify_one_wakes_nobody_while_someone_searches: park() without a token blocks");
    TestIdleSet s(4);
    s.prepare_park(0, false);
    s.prepare_park(1, false);
    BOOST_TEST(s.try_begin_search());  // worker 2 searches
    BOOST_TEST(!s.notify_one());  // the searcher will find the work
    BOOST_TEST(s.is_parked(0));
    BOOST_TEST(s.is_parked(1));
    BOOST_TEST(s.awake_count() == 2u);
    // The searcher found work and was the last: it passes the baton, which wakes one worker.
    BOOST_TEST(s.end_search());
    BOOST_TEST(s.notify_one());
    BOOST_TEST(s.is_parked(0) != s.is_parked(1));  // exactly one woken
    BOOST_TEST(s.awake_count() == 3u);
    BOOST_TEST(s.searching_count() == 1u);
    // ... and that one is searching now, so another notify wakes nobody.
    BOOST_TEST(!s.notify_one());
    const std::size_t woken = s.is_parked(0) ? 1 : 0;
    s.park(woken);  // consumes the token
    BOOST_TEST(s.end_search());
    BOOST_TEST(s.notify_one());
    BOOST_TEST(!s.is_parked(0));
    BOOST_TEST(!s.is_parked(1));
    s.park(1 - woken);
    BOOST_TEST(s.end_search());
    BOOST_TEST(s.awake_count() == 4u);
}

BOOST_AUTO_TEST_CASE(cancel_park_after_a_notifier_claimed_the_worker_takes_its_token) {
    zuki::test::Watchdog w(std::chrono::seconds(10),
                           "cancel_park_after_a_notifier_claimed_the_worker_takes_its_token: "
                           "park() without a token blocks");
    TestIdleSet s(2);
    s.prepare_park(0, false);
    BOOST_TEST(s.notify_one());  // claims worker 0 between its prepare_park and its re-check
    s.cancel_park(0);  // must not double count, must not block
    BOOST_TEST(!s.is_parked(0));
    BOOST_TEST(s.awake_count() == 2u);
    BOOST_TEST(s.searching_count() == 1u);
    BOOST_TEST(s.end_search());
    // The token was consumed: a later park/notify cycle still works.
    s.prepare_park(0, false);
    BOOST_TEST(s.notify_one());
    s.park(0);
    BOOST_TEST(s.end_search());
    BOOST_TEST(s.awake_count() == 2u);
}

BOOST_AUTO_TEST_CASE(notify_all_wakes_every_parked_worker) {
    zuki::test::Watchdog w(std::chrono::seconds(10),
                           "notify_all_wakes_every_parked_worker: park() without a token blocks");
    TestIdleSet s(5);
    for (std::size_t i : {0u, 2u, 3u}) s.prepare_park(i, false);
    BOOST_TEST(s.awake_count() == 2u);
    s.notify_all();
    for (std::size_t i = 0; i < 5; ++i) BOOST_TEST(!s.is_parked(i));
    BOOST_TEST(s.awake_count() == 5u);
    BOOST_TEST(s.searching_count() == 3u);
    for (std::size_t i : {0u, 2u, 3u}) s.park(i);  // each has a token
}

BOOST_AUTO_TEST_CASE(more_than_64_workers_use_several_bitmap_words) {
    zuki::test::Watchdog w(
        std::chrono::seconds(10),
        "more_than_64_workers_use_several_bitmap_words: park() without a token blocks");
    TestIdleSet s(130);
    s.prepare_park(129, false);
    s.prepare_park(64, false);
    BOOST_TEST(s.is_parked(129));
    BOOST_TEST(s.is_parked(64));
    BOOST_TEST(!s.is_parked(63));
    BOOST_TEST(!s.is_parked(1));
    BOOST_TEST(s.awake_count() == 128u);
    BOOST_TEST(s.notify_one());
    BOOST_TEST(s.is_parked(64) != s.is_parked(129));
    const std::size_t first = s.is_parked(64) ? 129 : 64;
    s.park(first);
    BOOST_TEST(s.end_search());
    BOOST_TEST(s.notify_one());
    s.park(first == 64 ? 129 : 64);
    BOOST_TEST(s.end_search());
    BOOST_TEST(s.awake_count() == 130u);
    BOOST_TEST(!s.is_parked(64));
    BOOST_TEST(!s.is_parked(129));
}

// ---- threaded: no lost wake-up ---------------------------------------------------------------

namespace {

// Workers follow the executor's protocol around a shared work counter: take work while there is
// some; else search (if allowed) by spinning on the counter a little; else prepare_park, re-check,
// and cancel or park. A notifier publishes units of work and calls notify_one(). If a wake-up
// were lost, all workers would sleep while work is pending and the count would stall.
struct Harness {
    explicit Harness(std::size_t n) : idle(n), per_worker(n) {}

    TestIdleSet idle;
    std::atomic<std::int64_t> work{0};  // published, not yet taken
    std::atomic<std::uint64_t> done{0};
    std::atomic<bool> stop{false};
    struct alignas(64) Stats {
        std::atomic<std::uint64_t> taken{0}, parks{0}, cancels{0};
    };
    std::vector<Stats> per_worker;

    bool try_take() noexcept {
        std::int64_t w = work.load(std::memory_order_relaxed);
        while (w > 0) {
            // relaxed: the unit of work is only a count; IdleSet's fences order the protocol.
            if (work.compare_exchange_weak(w, w - 1, std::memory_order_relaxed)) return true;
        }
        return false;
    }

    void worker(std::size_t i) {
        bool searching = false;
        for (;;) {
            if (stop.load(std::memory_order_acquire)) return;
            bool got = try_take();
            if (!got) {
                if (!searching) searching = idle.try_begin_search();
                if (searching) {
                    for (int k = 0; k < 20 && !got; ++k) {
                        got = try_take();
                        if (!got) std::this_thread::yield();
                    }
                }
            }
            if (!got) {
                idle.prepare_park(i, searching);
                // The re-check (relaxed: prepare_park's fence orders it).
                if (work.load(std::memory_order_relaxed) > 0 ||
                    stop.load(std::memory_order_relaxed)) {
                    idle.cancel_park(i);
                    per_worker[i].cancels.fetch_add(1, std::memory_order_relaxed);
                } else {
                    per_worker[i].parks.fetch_add(1, std::memory_order_relaxed);
                    idle.park(i);
                }
                searching = true;  // both ways we come back as a searcher
                continue;
            }
            if (searching) {
                searching = false;
                if (idle.end_search()) idle.notify_one();
            }
            per_worker[i].taken.fetch_add(1, std::memory_order_relaxed);
            done.fetch_add(1, std::memory_order_relaxed);
        }
    }
};

void run_no_lost_wake(std::size_t workers, std::size_t units, bool sleepy_notifier) {
    Harness h(workers);
    std::vector<std::thread> ts;
    for (std::size_t i = 0; i < workers; ++i) ts.emplace_back([&h, i] { h.worker(i); });

    std::mt19937 rng(static_cast<unsigned>(workers * 1000 + units));
    std::uniform_int_distribution<int> pause_us(0, 200);
    std::uint64_t notified = 0;
    for (std::size_t u = 0; u < units; ++u) {
        h.work.fetch_add(1, std::memory_order_relaxed);  // publish
        if (h.idle.notify_one()) ++notified;
        if (sleepy_notifier && u % 8 == 0)
            std::this_thread::sleep_for(std::chrono::microseconds(pause_us(rng)));
    }
    // Everything must be taken without any further notification.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (h.done.load(std::memory_order_relaxed) < units &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const std::uint64_t done = h.done.load();
    BOOST_TEST(done == units);
    if (done != units) {
        std::cerr << "lost wake-up: " << done << " of " << units << " taken, work left "
                  << h.work.load() << ", awake " << h.idle.awake_count() << ", searching "
                  << h.idle.searching_count() << '\n';
    }

    h.stop.store(true, std::memory_order_seq_cst);
    // Wake everyone (repeat: a worker between prepare_park and its re-check sees `stop`).
    bool all_out = false;
    std::vector<char> joined(workers, 0);
    const auto stop_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!all_out && std::chrono::steady_clock::now() < stop_deadline) {
        h.idle.notify_all();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        all_out = h.idle.awake_count() == workers;
    }
    BOOST_TEST(all_out);
    for (auto& t : ts) t.join();
    BOOST_TEST(h.work.load() == 0);

    std::uint64_t taken = 0, parks = 0, cancels = 0;
    for (auto& s : h.per_worker) {
        taken += s.taken.load();
        parks += s.parks.load();
        cancels += s.cancels.load();
    }
    BOOST_TEST(taken == units);  // every unit once
    std::cout << workers << " workers, " << units << " units"
              << (sleepy_notifier ? " (sleepy)" : "") << ": notifies that woke " << notified
              << ", parks " << parks << ", cancelled parks " << cancels << '\n';
}

}  // namespace

BOOST_AUTO_TEST_CASE(parked_workers_never_miss_published_work) {
    zuki::test::Watchdog w(std::chrono::seconds(120), "idle_set no lost wake");
    const std::size_t units = (sanitized ? 20'000 : 200'000) * stress_scale();
    for (std::size_t workers : {1u, 2u, 3u, 4u}) BOOST_TEST_CONTEXT(workers << " workers") {
            run_no_lost_wake(workers, units, false);
        }
}

BOOST_AUTO_TEST_CASE(sparse_work_wakes_a_parked_worker_every_time) {
    zuki::test::Watchdog w(std::chrono::seconds(120), "idle_set sparse");
    const std::size_t units = (sanitized ? 2'000 : 10'000) * stress_scale();
    for (std::size_t workers : {1u, 3u}) BOOST_TEST_CONTEXT(workers << " workers") {
            run_no_lost_wake(workers, units, true);
        }
}
