// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing/outstanding_work.hpp>  // first: self-contained

#define BOOST_TEST_MODULE zuki runtime work_stealing outstanding_work
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "common/test_env.hpp"
#include "common/watchdog.hpp"

// The fold protocol of join(), driven by hand (the real pool runs it in
// test/unit/runtime/work_stealing_executor*, the model in test/model/outstanding_work.cpp).

using namespace std::chrono_literals;
using zuki::detail::OutstandingWork;

BOOST_AUTO_TEST_CASE(workers_count_privately_until_a_join_begins) {
    OutstandingWork w;
    w.set_workers(2);
    OutstandingWork::Local a, b;
    w.started(nullptr, 3);  // from outside: shared
    w.started(&a, 2);  // on worker a: private
    w.finished(&b);
    w.finished(&b);
    BOOST_TEST(w.shared_count() == 3);
    BOOST_TEST(a.delta == 2);
    BOOST_TEST(b.delta == -2);
    BOOST_TEST(!w.done());
    BOOST_TEST(!w.fold_pending(a));
}

BOOST_AUTO_TEST_CASE(a_join_is_done_once_every_worker_folded_and_the_count_is_zero) {
    OutstandingWork w;
    w.set_workers(2);
    OutstandingWork::Local a, b;
    w.started(nullptr, 2);
    w.finished(&a);
    w.begin_join();
    BOOST_TEST(w.fold_pending(a));
    BOOST_TEST(w.fold_pending(b));
    w.fold(a);
    BOOST_TEST(!w.fold_pending(a));
    BOOST_TEST(w.folded_workers() == 1u);
    BOOST_TEST(!w.done());  // b has not acknowledged
    w.finished(&b);  // b's next count folds first, then counts in the shared counter
    BOOST_TEST(b.folded);
    BOOST_TEST(w.folded_workers() == 2u);
    BOOST_TEST(w.shared_count() == 0);
    BOOST_TEST(w.done());
}

BOOST_AUTO_TEST_CASE(the_fold_or_finish_that_completes_a_join_says_so) {
    OutstandingWork w;
    w.set_workers(2);
    OutstandingWork::Local a, b;
    w.started(nullptr, 1);
    BOOST_TEST(!w.finished(&a));  // no join: a private count, nothing completes
    w.started(nullptr, 1);
    w.begin_join();
    BOOST_TEST(!w.fold(a));  // b has not acknowledged
    BOOST_TEST(!w.finished(nullptr));  // the count is not zero yet (b's delta is unfolded)
    BOOST_TEST(w.fold(b));  // the last acknowledgement finds the count at zero
    BOOST_TEST(w.done());
}

BOOST_AUTO_TEST_CASE(the_finish_that_reaches_zero_after_every_fold_completes_the_join) {
    OutstandingWork w;
    w.set_workers(1);
    OutstandingWork::Local worker;
    w.started(nullptr, 1);
    w.begin_join();
    BOOST_TEST(!w.fold(worker));  // one unit is still outstanding
    BOOST_TEST(!w.done());
    BOOST_TEST(w.finished(nullptr));  // from outside the pool
    BOOST_TEST(w.done());
}

BOOST_AUTO_TEST_CASE(a_vacant_place_needs_no_acknowledgement) {
    OutstandingWork w;
    w.set_workers(2);
    OutstandingWork::Local running, vacant;
    w.vacate(vacant);
    BOOST_TEST(vacant.folded);
    w.begin_join();
    BOOST_TEST(w.fold(running));  // the only running worker: its fold completes the join
}

BOOST_AUTO_TEST_CASE(a_racing_last_fold_and_last_finish_never_both_miss_the_completion) {
    zuki::test::Watchdog wd(60s, "fold and finish race");
    // The last acknowledgement and the finish that reaches zero, on two threads: at least one
    // of them must see done() (the Dekker pair of the file comment).
    const int rounds = zuki::test::sanitized ? 2000 : 20000;
    for (int r = 0; r < rounds; ++r) {
        OutstandingWork w;
        w.set_workers(1);
        OutstandingWork::Local worker;
        w.started(nullptr, 1);
        w.begin_join();
        std::atomic<bool> go{false};
        bool by_finish = false;
        std::thread finisher([&] {
            while (!go.load(std::memory_order_acquire)) {}
            by_finish = w.finished(nullptr);
        });
        go.store(true, std::memory_order_release);
        const bool by_fold = w.fold(worker);
        finisher.join();
        BOOST_TEST_REQUIRE((by_fold || by_finish));
    }
}
