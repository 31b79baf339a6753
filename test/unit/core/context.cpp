// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/core/context.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki core context
#include <boost/test/unit_test.hpp>

#include <type_traits>

#include "common/counting_waker.hpp"

using zuki::Context;
using zuki::Waker;
using zuki::test::CountingWaker;

static_assert(!std::is_copy_constructible_v<Context>);
static_assert(!std::is_copy_assignable_v<Context>);
static_assert(std::is_constructible_v<Context, const Waker&>);
static_assert(std::is_constructible_v<Context, Waker&>);
static_assert(!std::is_convertible_v<const Waker&, Context>, "explicit");
// A Context points at its waker: a temporary would dangle, so rvalues are refused.
static_assert(!std::is_constructible_v<Context, Waker>);
static_assert(!std::is_constructible_v<Context, Waker&&>);
static_assert(!std::is_constructible_v<Context, const Waker&&>);

BOOST_AUTO_TEST_CASE(waker_is_the_one_given_not_a_copy) {
    CountingWaker cw;
    Waker w = cw.make();
    Context cx(w);
    BOOST_TEST(&cx.waker() == &w);
    BOOST_TEST(cx.waker().will_wake(w));
    BOOST_TEST(cw.clones == 0);  // making a Context clones nothing
}

BOOST_AUTO_TEST_CASE(waking_through_the_context_reaches_the_task) {
    CountingWaker cw;
    {
        Waker w = cw.make();
        Context cx(w);
        cx.waker().wake_by_ref();
        BOOST_TEST(cw.wakes_by_ref == 1);
        Waker kept = cx.waker();  // a future keeps a clone beyond the poll
        BOOST_TEST(cw.clones == 1);
        BOOST_TEST(kept.will_wake(w));
        kept.wake();
        BOOST_TEST(cw.wakes == 1);
    }
    BOOST_TEST(cw.live() == 0);
}

BOOST_AUTO_TEST_CASE(noop_context) {
    const Waker w = Waker::noop();
    Context cx(w);
    BOOST_TEST(cx.waker().will_wake(Waker::noop()));
    cx.waker().wake_by_ref();  // harmless
}
