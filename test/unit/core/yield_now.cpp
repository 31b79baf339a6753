// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/core/yield_now.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki core yield_now
#include <boost/test/unit_test.hpp>

#include <type_traits>

#include <zuki/core/future.hpp>

#include "common/counting_waker.hpp"

static_assert(zuki::Future<zuki::YieldNow>);
static_assert(std::is_same_v<zuki::output_t<zuki::YieldNow>, void>);
static_assert(std::is_nothrow_move_constructible_v<zuki::YieldNow>);

BOOST_AUTO_TEST_CASE(pending_once_waking_itself_by_ref_then_ready) {
    zuki::test::CountingWaker cw;
    {
        zuki::Waker w = cw.make();
        zuki::Context cx(w);
        auto y = zuki::yield_now();
        BOOST_TEST(cw.total_wakes() == 0);  // lazy: nothing before the first poll
        BOOST_TEST(y.poll(cx).is_pending());
        BOOST_TEST(cw.wakes_by_ref == 1);  // rescheduled at once, reference kept
        BOOST_TEST(cw.wakes == 0);
        BOOST_TEST(cw.clones == 0);
        BOOST_TEST(y.poll(cx).is_ready());
        BOOST_TEST(cw.wakes_by_ref == 1);  // no second wake
    }
    BOOST_TEST(cw.live() == 0);
}

BOOST_AUTO_TEST_CASE(each_yield_now_yields_once) {
    zuki::Waker w = zuki::Waker::noop();
    zuki::Context cx(w);
    for (int i = 0; i < 3; ++i) {
        auto y = zuki::yield_now();
        BOOST_TEST(y.poll(cx).is_pending());
        BOOST_TEST(y.poll(cx).is_ready());
    }
}
