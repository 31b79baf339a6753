// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/core/any_future.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki core any_future
#include <boost/test/unit_test.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "common/counting_waker.hpp"
#include "common/gate_future.hpp"

using zuki::AnyFuture;
using zuki::Context;
using zuki::Poll;
using zuki::Waker;
using zuki::test::Gate;

namespace {

/// A future that can be neither moved nor copied.
struct Pinned {
    explicit Pinned(int v) : v(v) {}
    Pinned(const Pinned&) = delete;
    Pinned& operator=(const Pinned&) = delete;
    Poll<int> poll(Context&) { return v; }
    int v;
};

struct Throws {
    Poll<int> poll(Context&) { throw std::runtime_error("boom"); }
};

}  // namespace

static_assert(zuki::Future<AnyFuture<int>>);
static_assert(zuki::Future<AnyFuture<void>>);
static_assert(std::is_same_v<zuki::output_t<AnyFuture<std::string>>, std::string>);
static_assert(std::is_nothrow_move_constructible_v<AnyFuture<int>>);
static_assert(std::is_nothrow_move_assignable_v<AnyFuture<int>>);
static_assert(std::is_nothrow_default_constructible_v<AnyFuture<int>>);
static_assert(!std::is_copy_constructible_v<AnyFuture<int>>);
static_assert(!std::is_copy_assignable_v<AnyFuture<int>>);
static_assert(std::is_convertible_v<zuki::Ready<int>, AnyFuture<int>>, "implicit");
static_assert(std::is_convertible_v<Gate<int>, AnyFuture<int>>, "move-only futures");
static_assert(std::is_convertible_v<zuki::Ready<void>, AnyFuture<void>>);
static_assert(!std::is_constructible_v<AnyFuture<int>, zuki::Ready<long>>, "output must be T");
static_assert(!std::is_constructible_v<AnyFuture<void>, zuki::Ready<int>>);
static_assert(!std::is_constructible_v<AnyFuture<int>, int>);
static_assert(!std::is_constructible_v<AnyFuture<int>, AnyFuture<long>>);
static_assert(!std::is_constructible_v<AnyFuture<int>, Gate<int>&>, "move-only lvalue");
static_assert(!std::is_constructible_v<AnyFuture<int>, Pinned>);
static_assert(std::is_constructible_v<AnyFuture<int>, std::in_place_type_t<Pinned>, int>);

BOOST_AUTO_TEST_CASE(erases_a_ready_future) {
    Waker w = Waker::noop();
    Context cx(w);
    AnyFuture<int> f = zuki::ready(7);
    BOOST_TEST(f.valid());
    auto p = f.poll(cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value() == 7);
}

BOOST_AUTO_TEST_CASE(class_template_argument_deduction) {
    Waker w = Waker::noop();
    Context cx(w);
    AnyFuture f = zuki::ready(std::string("hi"));
    static_assert(std::is_same_v<decltype(f), AnyFuture<std::string>>);
    BOOST_TEST(f.poll(cx).value() == "hi");
    AnyFuture g = zuki::ready();
    static_assert(std::is_same_v<decltype(g), AnyFuture<void>>);
    BOOST_TEST(g.poll(cx).is_ready());
}

BOOST_AUTO_TEST_CASE(forwards_polls_and_the_waker_to_a_move_only_future) {
    zuki::test::CountingWaker cw;
    auto gate = zuki::test::make_gate_state();
    {
        Waker w = cw.make();
        Context cx(w);
        AnyFuture<int> f = Gate<int>(gate);
        BOOST_TEST(gate->polls == 0);  // nothing polled by construction
        BOOST_TEST(f.poll(cx).is_pending());
        BOOST_TEST(gate->polls == 1);
        BOOST_REQUIRE(gate->waker.has_value());
        BOOST_TEST(gate->waker->will_wake(w));
        gate->open(11);
        BOOST_TEST(cw.wakes == 1);
        auto p = f.poll(cx);
        BOOST_REQUIRE(p.is_ready());
        BOOST_TEST(p.value() == 11);
        BOOST_TEST(gate->polls == 2);
    }
    BOOST_TEST(cw.live() == 0);
}

BOOST_AUTO_TEST_CASE(void_output) {
    Waker w = Waker::noop();
    Context cx(w);
    auto gate = zuki::test::make_gate_state();
    AnyFuture<void> f = Gate<void>(gate);
    BOOST_TEST(f.poll(cx).is_pending());
    gate->open();
    BOOST_TEST(f.poll(cx).is_ready());
}

BOOST_AUTO_TEST_CASE(polling_an_empty_any_future_throws_logic_error) {
    Waker w = Waker::noop();
    Context cx(w);
    AnyFuture<int> empty;
    BOOST_TEST(!empty.valid());
    BOOST_CHECK_THROW((void)empty.poll(cx), std::logic_error);
    try {
        (void)empty.poll(cx);
    } catch (const std::logic_error& e) {
        BOOST_TEST(std::string(e.what()).find("empty") != std::string::npos);
    }

    AnyFuture<void> a = zuki::ready();
    AnyFuture<void> b = std::move(a);
    BOOST_TEST(!a.valid());  // NOLINT(bugprone-use-after-move)
    BOOST_TEST(b.valid());
    BOOST_CHECK_THROW((void)a.poll(cx), std::logic_error);
    BOOST_TEST(b.poll(cx).is_ready());
}

BOOST_AUTO_TEST_CASE(the_erased_future_is_destroyed_exactly_once) {
    auto gate = zuki::test::make_gate_state();
    {
        AnyFuture<int> a = Gate<int>(gate);
        BOOST_TEST(gate->live == 1);
        AnyFuture<int> b = std::move(a);
        AnyFuture<int> c;
        c = std::move(b);
        BOOST_TEST(gate->live == 1);
        BOOST_TEST(gate->drops == 0);
    }
    BOOST_TEST(gate->live == 0);
    BOOST_TEST(gate->drops == 1);
}

BOOST_AUTO_TEST_CASE(reset_and_move_assignment_destroy_the_old_future) {
    auto g1 = zuki::test::make_gate_state();
    auto g2 = zuki::test::make_gate_state();
    AnyFuture<int> f = Gate<int>(g1);
    f = AnyFuture<int>(Gate<int>(g2));
    BOOST_TEST(g1->live == 0);
    BOOST_TEST(g2->live == 1);
    f.reset();
    BOOST_TEST(!f.valid());
    BOOST_TEST(g2->live == 0);
    f.reset();  // idempotent
    BOOST_TEST(g2->drops == 1);
}

BOOST_AUTO_TEST_CASE(swap_exchanges_the_futures) {
    Waker w = Waker::noop();
    Context cx(w);
    AnyFuture<int> a = zuki::ready(1);
    AnyFuture<int> b = zuki::ready(2);
    swap(a, b);
    BOOST_TEST(a.poll(cx).value() == 2);
    BOOST_TEST(b.poll(cx).value() == 1);
    AnyFuture<int> empty;
    swap(a, empty);
    BOOST_TEST(!a.valid());
    BOOST_TEST(empty.valid());
}

BOOST_AUTO_TEST_CASE(in_place_construction_of_an_immovable_future) {
    Waker w = Waker::noop();
    Context cx(w);
    AnyFuture<int> f(std::in_place_type<Pinned>, 5);
    AnyFuture<int> g = std::move(f);  // moves the pointer only
    BOOST_TEST(g.poll(cx).value() == 5);
}

BOOST_AUTO_TEST_CASE(exceptions_from_the_erased_poll_propagate) {
    Waker w = Waker::noop();
    Context cx(w);
    AnyFuture<int> f = Throws{};
    BOOST_CHECK_THROW((void)f.poll(cx), std::runtime_error);
    BOOST_TEST(f.valid());
}

BOOST_AUTO_TEST_CASE(heterogeneous_futures_in_one_vector) {
    Waker w = Waker::noop();
    Context cx(w);
    auto gate = zuki::test::make_gate_state();
    std::vector<AnyFuture<int>> fs;
    fs.push_back(zuki::ready(1));
    fs.push_back(Gate<int>(gate));
    fs.emplace_back(std::in_place_type<Pinned>, 3);
    fs.emplace_back();  // an empty one in the middle, to be skipped
    BOOST_TEST(fs[0].poll(cx).value() == 1);
    BOOST_TEST(fs[1].poll(cx).is_pending());
    gate->open(2);
    BOOST_TEST(fs[1].poll(cx).value() == 2);
    BOOST_TEST(fs[2].poll(cx).value() == 3);
    BOOST_TEST(!fs[3].valid());
    fs.clear();
    BOOST_TEST(gate->live == 0);
}

BOOST_AUTO_TEST_CASE(move_only_output) {
    Waker w = Waker::noop();
    Context cx(w);
    AnyFuture<std::unique_ptr<int>> f = zuki::ready(std::make_unique<int>(3));
    auto v = f.poll(cx).value();
    BOOST_REQUIRE(v);
    BOOST_TEST(*v == 3);
}
