// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/core/poll.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki core poll
#include <boost/test/unit_test.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

using zuki::Poll;

static_assert(std::is_same_v<Poll<int>::value_type, int>);
static_assert(std::is_same_v<Poll<void>::value_type, void>);
static_assert(zuki::detail::is_poll<Poll<int>>::value);
static_assert(zuki::detail::is_poll<Poll<void>>::value);
static_assert(!zuki::detail::is_poll<int>::value);
static_assert(std::is_nothrow_default_constructible_v<Poll<std::string>>);
static_assert(std::is_convertible_v<int, Poll<int>>, "return 42; in poll()");
static_assert(std::is_convertible_v<const char*, Poll<std::string>>);
static_assert(!std::is_convertible_v<std::string, Poll<int>>);
static_assert(std::is_base_of_v<std::logic_error, zuki::PollPending>);
static_assert(!std::is_copy_constructible_v<Poll<std::unique_ptr<int>>>);
static_assert(std::is_move_constructible_v<Poll<std::unique_ptr<int>>>);

BOOST_AUTO_TEST_CASE(default_constructed_poll_is_pending) {
    Poll<int> p;
    BOOST_TEST(p.is_pending());
    BOOST_TEST(!p.is_ready());
    BOOST_TEST(!static_cast<bool>(p));
    Poll<void> v;
    BOOST_TEST(v.is_pending());
    BOOST_TEST(!static_cast<bool>(v));
}

BOOST_AUTO_TEST_CASE(ready_holds_its_value) {
    auto p = Poll<int>::ready(42);
    BOOST_TEST(p.is_ready());
    BOOST_TEST(!p.is_pending());
    BOOST_TEST(static_cast<bool>(p));
    BOOST_TEST(p.value() == 42);
    const auto& cp = p;
    BOOST_TEST(cp.value() == 42);
    p.value() = 7;
    BOOST_TEST(p.value() == 7);
}

BOOST_AUTO_TEST_CASE(pending_factory_is_pending) {
    auto p = Poll<std::string>::pending();
    BOOST_TEST(p.is_pending());
    BOOST_TEST(Poll<void>::pending().is_pending());
}

BOOST_AUTO_TEST_CASE(implicit_conversion_from_a_value_is_ready) {
    Poll<int> p = 5;
    BOOST_TEST(p.is_ready());
    BOOST_TEST(p.value() == 5);
    Poll<std::string> s = "text";
    BOOST_TEST(s.value() == "text");
    auto make = []() -> Poll<double> { return 1.5; };
    BOOST_TEST(make().value() == 1.5);
}

BOOST_AUTO_TEST_CASE(value_of_a_pending_poll_throws_poll_pending) {
    Poll<int> p;
    BOOST_CHECK_THROW((void)p.value(), zuki::PollPending);
    const Poll<int>& cp = p;
    BOOST_CHECK_THROW((void)cp.value(), zuki::PollPending);
    BOOST_CHECK_THROW((void)std::move(p).value(), std::logic_error);
    BOOST_CHECK_THROW(Poll<void>().value(), zuki::PollPending);
    try {
        (void)p.value();
        BOOST_FAIL("no exception");
    } catch (const zuki::PollPending& e) {
        BOOST_TEST(std::string(e.what()).find("pending") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(rvalue_value_moves_out_a_move_only_value) {
    auto p = Poll<std::unique_ptr<int>>::ready(std::make_unique<int>(9));
    std::unique_ptr<int> v = std::move(p).value();
    BOOST_REQUIRE(v);
    BOOST_TEST(*v == 9);
    BOOST_TEST(p.is_ready());  // still ready, holding a moved-from value
    BOOST_TEST(p.value() == nullptr);
}

BOOST_AUTO_TEST_CASE(poll_void_ready_has_no_value_and_does_not_throw) {
    auto p = Poll<void>::ready();
    BOOST_TEST(p.is_ready());
    BOOST_TEST(static_cast<bool>(p));
    BOOST_CHECK_NO_THROW(p.value());
}

BOOST_AUTO_TEST_CASE(copies_are_independent) {
    auto a = Poll<std::string>::ready("abc");
    Poll<std::string> b = a;
    b.value() += "d";
    BOOST_TEST(a.value() == "abc");
    BOOST_TEST(b.value() == "abcd");
    Poll<std::string> c;
    c = a;
    BOOST_TEST(c.is_ready());
    a = Poll<std::string>::pending();
    BOOST_TEST(a.is_pending());
    BOOST_TEST(c.value() == "abc");
}

// Small trivially copyable values (int, long, pointers, a pair of ints, double) are kept with a
// word-sized flag rather than in std::optional (detail::PollStorage: a byte flag stored and then
// loaded as a word stalls the CPU's store forwarding); the behaviour is the same, and the poll
// stays a trivially copyable pair of words (returned in registers).
namespace {
struct TwoInts {
    int a = 7;  // a default member initialiser: not trivially default constructible
    int b = 8;
};
}  // namespace
static_assert(zuki::detail::poll_word_flag<long> && zuki::detail::poll_word_flag<int*> &&
              zuki::detail::poll_word_flag<TwoInts> && zuki::detail::poll_word_flag<double>);
static_assert(!zuki::detail::poll_word_flag<std::string>);
static_assert(!zuki::detail::poll_word_flag<std::unique_ptr<int>>);
static_assert(std::is_trivially_copyable_v<Poll<long>> && sizeof(Poll<long>) == 2 * sizeof(long));
static_assert(std::is_nothrow_default_constructible_v<Poll<TwoInts>>);

BOOST_AUTO_TEST_CASE(a_word_sized_value_behaves_as_any_other) {
    Poll<long> p;
    BOOST_TEST(p.is_pending());
    BOOST_CHECK_THROW((void)p.value(), zuki::PollPending);
    p = Poll<long>::ready(-5);
    BOOST_TEST(p.is_ready());
    BOOST_TEST(p.value() == -5);
    Poll<long> q = p;  // copies are independent
    q.value() = 9;
    BOOST_TEST(p.value() == -5);
    BOOST_TEST(std::move(q).value() == 9);
    p = Poll<long>::pending();
    BOOST_TEST(p.is_pending());

    Poll<long> zero = 0L;  // a ready zero is not pending
    BOOST_TEST(zero.is_ready());
    BOOST_TEST(zero.value() == 0);

    int x = 3;
    Poll<int*> ptr = &x;
    BOOST_TEST(*ptr.value() == 3);
    Poll<int*> null_ptr = static_cast<int*>(nullptr);
    BOOST_TEST(null_ptr.is_ready());
    BOOST_TEST(null_ptr.value() == nullptr);

    Poll<TwoInts> pending_pair;  // pending: no TwoInts constructed
    BOOST_TEST(pending_pair.is_pending());
    auto pair = Poll<TwoInts>::ready(TwoInts{1, 2});
    BOOST_TEST(pair.value().a == 1);
    BOOST_TEST(pair.value().b == 2);

    Poll<double> d = 2.5;
    BOOST_TEST(d.value() == 2.5);
}
