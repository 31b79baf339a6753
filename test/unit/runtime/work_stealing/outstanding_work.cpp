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

BOOST_AUTO_TEST_CASE(the_joiner_sleeps_until_the_last_unit_finishes) {
    zuki::test::Watchdog wd(60s, "outstanding work joiner");
    OutstandingWork w;
    w.set_workers(1);
    OutstandingWork::Local worker;
    w.started(nullptr, 1);
    std::atomic<bool> joined{false};
    std::thread joiner([&] {
        w.begin_join();
        w.wait_done([] { return false; });
        joined.store(true);
    });
    while (!w.fold_pending(worker)) std::this_thread::yield();
    w.fold(worker);
    std::this_thread::sleep_for(20ms);
    BOOST_TEST(!joined.load());  // one unit is still outstanding
    w.finished(nullptr);  // from outside the pool
    joiner.join();
    BOOST_TEST(joined.load());
}

BOOST_AUTO_TEST_CASE(a_stopped_pool_releases_the_joiner) {
    zuki::test::Watchdog wd(60s, "outstanding work give up");
    OutstandingWork w;
    w.set_workers(1);
    w.started(nullptr, 1);
    std::atomic<bool> stop{false};
    std::thread joiner([&] {
        w.begin_join();
        w.wait_done([&] { return stop.load(std::memory_order_seq_cst); });
    });
    std::this_thread::sleep_for(10ms);
    stop.store(true, std::memory_order_seq_cst);
    w.notify_joiners();
    joiner.join();
    BOOST_TEST(!w.done());
}
