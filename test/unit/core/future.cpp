// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/core/future.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki core future
#include <boost/test/unit_test.hpp>

#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "common/counting_waker.hpp"

using zuki::Context;
using zuki::Future;
using zuki::output_t;
using zuki::Poll;
using zuki::Waker;

namespace {

struct HandWritten {
    int n = 0;
    Poll<int> poll(Context&) { return ++n < 3 ? Poll<int>::pending() : Poll<int>::ready(n); }
};
struct TakesConstContext {
    Poll<void> poll(const Context&) { return Poll<void>::ready(); }
};
struct ConstPoll {
    Poll<long> poll(Context&) const { return 1L; }
};
struct NoPoll {};
struct PollReturnsInt {
    int poll(Context&) { return 0; }
};
struct PollTakesNothing {
    Poll<int> poll() { return 0; }
};
struct PollTakesWaker {
    Poll<int> poll(const Waker&) { return 0; }
};
struct PollReturnsOptional {
    std::optional<int> poll(Context&) { return 0; }
};
struct PrivatePoll {
private:
    Poll<int> poll(Context&) { return 0; }
};

}  // namespace

// Positive.
static_assert(Future<HandWritten>);
static_assert(Future<TakesConstContext>);
static_assert(Future<ConstPoll>);
static_assert(Future<const ConstPoll>);
static_assert(Future<zuki::Ready<int>>);
static_assert(Future<zuki::Ready<void>>);
static_assert(Future<zuki::Ready<std::unique_ptr<int>>>);
static_assert(Future<zuki::Pending<int>>);
static_assert(Future<zuki::Pending<void>>);
// Negative.
static_assert(!Future<int>);
static_assert(!Future<void>);
static_assert(!Future<NoPoll>);
static_assert(!Future<PollReturnsInt>);
static_assert(!Future<PollTakesNothing>);
static_assert(!Future<PollTakesWaker>);
static_assert(!Future<PollReturnsOptional>);
static_assert(!Future<PrivatePoll>);
static_assert(!Future<HandWritten&>, "references are not futures");
static_assert(!Future<const HandWritten>, "poll() is not const");
static_assert(!Future<Poll<int>>);
// output_t.
static_assert(std::is_same_v<output_t<HandWritten>, int>);
static_assert(std::is_same_v<output_t<TakesConstContext>, void>);
static_assert(std::is_same_v<output_t<ConstPoll>, long>);
static_assert(std::is_same_v<output_t<zuki::Ready<std::string>>, std::string>);
static_assert(std::is_same_v<output_t<zuki::Pending<void>>, void>);
// Factories.
static_assert(std::is_same_v<decltype(zuki::ready(1)), zuki::Ready<int>>);
static_assert(std::is_same_v<decltype(zuki::ready(std::declval<const std::string&>())),
                             zuki::Ready<std::string>>);
static_assert(std::is_same_v<decltype(zuki::ready()), zuki::Ready<void>>);
static_assert(std::is_same_v<decltype(zuki::pending()), zuki::Pending<void>>);
static_assert(std::is_same_v<decltype(zuki::pending<int>()), zuki::Pending<int>>);

BOOST_AUTO_TEST_CASE(ready_yields_its_value_on_the_first_poll) {
    Waker w = Waker::noop();
    Context cx(w);
    auto f = zuki::ready(42);
    auto p = f.poll(cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value() == 42);
}

BOOST_AUTO_TEST_CASE(ready_copies_an_lvalue_and_moves_a_move_only_value) {
    Waker w = Waker::noop();
    Context cx(w);
    std::string s = "keep";
    auto f = zuki::ready(s);
    BOOST_TEST(f.poll(cx).value() == "keep");
    BOOST_TEST(s == "keep");

    auto g = zuki::ready(std::make_unique<int>(5));
    std::unique_ptr<int> v = g.poll(cx).value();
    BOOST_REQUIRE(v);
    BOOST_TEST(*v == 5);
}

BOOST_AUTO_TEST_CASE(ready_void_is_ready) {
    Waker w = Waker::noop();
    Context cx(w);
    auto f = zuki::ready();
    BOOST_TEST(f.poll(cx).is_ready());
}

BOOST_AUTO_TEST_CASE(pending_stays_pending_and_never_wakes) {
    zuki::test::CountingWaker cw;
    {
        Waker w = cw.make();
        Context cx(w);
        auto f = zuki::pending<int>();
        auto g = zuki::pending();
        for (int i = 0; i < 3; ++i) {
            BOOST_TEST(f.poll(cx).is_pending());
            BOOST_TEST(g.poll(cx).is_pending());
        }
    }
    BOOST_TEST(cw.total_wakes() == 0);
    BOOST_TEST(cw.clones == 0);
    BOOST_TEST(cw.live() == 0);
}

BOOST_AUTO_TEST_CASE(hand_written_future_is_polled_until_ready) {
    Waker w = Waker::noop();
    Context cx(w);
    HandWritten f;
    BOOST_TEST(f.poll(cx).is_pending());
    BOOST_TEST(f.poll(cx).is_pending());
    auto p = f.poll(cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value() == 3);
}
