// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/core/combinators.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki core combinators
#include <boost/test/unit_test.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include <zuki/core/any_future.hpp>

#include "common/counting_waker.hpp"
#include "common/gate_future.hpp"

using zuki::Context;
using zuki::Future;
using zuki::output_t;
using zuki::Poll;
using zuki::Waker;
using zuki::test::Gate;
using zuki::test::GateState;
using zuki::test::make_gate_state;

namespace {

/// A noop waker and a context on it, for tests that do not look at wakes.
struct NoopCx {
    Waker w = Waker::noop();
    Context cx{w};
};

struct Throws {
    Poll<int> poll(Context&) { throw std::runtime_error("child failed"); }
};

/// A future that counts its polls and is ready on poll number `ready_at`.
struct ReadyAfter {
    int ready_at;
    int value;
    int* polls;
    Poll<int> poll(Context&) {
        return ++*polls >= ready_at ? Poll<int>::ready(value) : Poll<int>::pending();
    }
};

}  // namespace

// ------------------------------------------------------------------------------------------------
// map
// ------------------------------------------------------------------------------------------------

static_assert(Future<decltype(zuki::map(zuki::ready(1), [](int x) { return x * 2.0; }))>);
static_assert(
    std::is_same_v<output_t<decltype(zuki::map(zuki::ready(1), [](int) { return 2.0; }))>, double>);
static_assert(std::is_same_v<output_t<decltype(zuki::map(zuki::ready(), [] {}))>, void>);
static_assert(std::is_same_v<output_t<decltype(zuki::map(zuki::ready(1), [](int) {}))>, void>);

BOOST_AUTO_TEST_CASE(map_is_lazy_and_transforms_the_output_once) {
    NoopCx c;
    int calls = 0;
    auto gate = make_gate_state();
    auto f = zuki::map(Gate<int>(gate), [&calls](int x) {
        ++calls;
        return std::to_string(x);
    });
    BOOST_TEST(gate->polls == 0);
    BOOST_TEST(calls == 0);
    BOOST_TEST(f.poll(c.cx).is_pending());
    BOOST_TEST(calls == 0);
    gate->open(12);
    auto p = f.poll(c.cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value() == "12");
    BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(map_of_a_void_future_calls_fn_with_no_argument) {
    NoopCx c;
    auto f = zuki::map(zuki::ready(), [] { return 5; });
    BOOST_TEST(f.poll(c.cx).value() == 5);
    bool ran = false;
    auto g = zuki::map(zuki::ready(), [&ran] { ran = true; });
    BOOST_TEST(g.poll(c.cx).is_ready());
    BOOST_TEST(ran);
}

BOOST_AUTO_TEST_CASE(map_with_move_only_value_and_function) {
    NoopCx c;
    auto f = zuki::map(zuki::ready(std::make_unique<int>(4)),
                       [extra = std::make_unique<int>(10)](std::unique_ptr<int> p) {
                           return std::make_unique<int>(*p + *extra);
                       });
    auto g = std::move(f);  // movable when its parts are
    auto v = g.poll(c.cx).value();
    BOOST_REQUIRE(v);
    BOOST_TEST(*v == 14);
}

BOOST_AUTO_TEST_CASE(map_passes_the_waker_to_its_child) {
    zuki::test::CountingWaker cw;
    auto gate = make_gate_state();
    {
        Waker w = cw.make();
        Context cx(w);
        auto f = zuki::map(Gate<int>(gate), [](int x) { return x; });
        BOOST_TEST(f.poll(cx).is_pending());
        BOOST_REQUIRE(gate->waker);
        BOOST_TEST(gate->waker->will_wake(w));
        gate->open(1);
        BOOST_TEST(cw.wakes == 1);
    }
    BOOST_TEST(cw.live() == 0);
}

BOOST_AUTO_TEST_CASE(map_polled_after_completion_throws_logic_error) {
    NoopCx c;
    auto f = zuki::map(zuki::ready(1), [](int x) { return x; });
    BOOST_TEST(f.poll(c.cx).is_ready());
    BOOST_CHECK_THROW((void)f.poll(c.cx), std::logic_error);
}

BOOST_AUTO_TEST_CASE(map_propagates_exceptions_of_child_and_function) {
    NoopCx c;
    auto f = zuki::map(Throws{}, [](int x) { return x; });
    BOOST_CHECK_THROW((void)f.poll(c.cx), std::runtime_error);

    auto g = zuki::map(zuki::ready(1), [](int) -> int { throw std::out_of_range("fn"); });
    BOOST_CHECK_THROW((void)g.poll(c.cx), std::out_of_range);
    BOOST_CHECK_THROW((void)g.poll(c.cx), std::logic_error);  // completed
}

// ------------------------------------------------------------------------------------------------
// then
// ------------------------------------------------------------------------------------------------

using ThenIntToDouble = decltype([](int x) { return zuki::ready(x + .5); });
using ThenVoidToVoid = decltype([] { return zuki::ready(); });
static_assert(std::is_same_v<output_t<zuki::Then<zuki::Ready<int>, ThenIntToDouble>>, double>);
static_assert(std::is_same_v<output_t<zuki::Then<zuki::Ready<void>, ThenVoidToVoid>>, void>);

BOOST_AUTO_TEST_CASE(then_chains_two_futures) {
    NoopCx c;
    auto f = zuki::then(zuki::ready(2), [](int x) { return zuki::ready(x * 21); });
    BOOST_TEST(f.poll(c.cx).value() == 42);
}

BOOST_AUTO_TEST_CASE(then_is_lazy_drops_the_first_future_and_polls_the_second_at_once) {
    zuki::test::CountingWaker cw;
    auto first = make_gate_state();
    auto second = make_gate_state();
    {
        Waker w = cw.make();
        Context cx(w);
        int calls = 0;
        auto f = zuki::then(Gate<int>(first), [&](int x) {
            ++calls;
            BOOST_TEST(x == 3);
            BOOST_TEST(first->live == 1);  // the first future is alive while fn runs
            return Gate<int>(second);
        });
        BOOST_TEST(first->polls == 0);
        BOOST_TEST(f.poll(cx).is_pending());
        BOOST_TEST(calls == 0);
        first->open(3);
        BOOST_TEST(f.poll(cx).is_pending());
        BOOST_TEST(calls == 1);
        BOOST_TEST(first->live == 0);  // dropped once it finished
        BOOST_TEST(second->polls == 1);  // polled on the same poll that made it
        BOOST_REQUIRE(second->waker);
        BOOST_TEST(second->waker->will_wake(w));
        second->open(8);
        auto p = f.poll(cx);
        BOOST_REQUIRE(p.is_ready());
        BOOST_TEST(p.value() == 8);
        BOOST_TEST(second->live == 0);  // dropped at completion
        BOOST_TEST(first->polls == 2);
        BOOST_CHECK_THROW((void)f.poll(cx), std::logic_error);
    }
    BOOST_TEST(cw.live() == 0);
}

BOOST_AUTO_TEST_CASE(then_with_void_first_and_same_future_types) {
    NoopCx c;
    auto f = zuki::then(zuki::ready(), [] { return zuki::ready(std::string("v")); });
    BOOST_TEST(f.poll(c.cx).value() == "v");
    // First and second future of the same type.
    auto g = zuki::then(zuki::ready(1), [](int x) { return zuki::ready(x + 1); });
    BOOST_TEST(g.poll(c.cx).value() == 2);
}

BOOST_AUTO_TEST_CASE(then_propagates_exceptions) {
    NoopCx c;
    auto f = zuki::then(Throws{}, [](int x) { return zuki::ready(x); });
    BOOST_CHECK_THROW((void)f.poll(c.cx), std::runtime_error);
    auto g = zuki::then(zuki::ready(1), [](int) { return Throws{}; });
    BOOST_CHECK_THROW((void)g.poll(c.cx), std::runtime_error);
    auto h =
        zuki::then(zuki::ready(1), [](int) -> zuki::Ready<int> { throw std::out_of_range("fn"); });
    BOOST_CHECK_THROW((void)h.poll(c.cx), std::out_of_range);
    BOOST_CHECK_THROW((void)h.poll(c.cx), std::logic_error);
}

// ------------------------------------------------------------------------------------------------
// join_all
// ------------------------------------------------------------------------------------------------

static_assert(std::is_same_v<output_t<zuki::JoinAll<zuki::Ready<int>>>, std::vector<int>>);
static_assert(std::is_same_v<output_t<zuki::JoinAll<zuki::Ready<void>>>, void>);

BOOST_AUTO_TEST_CASE(join_all_keeps_input_order_and_polls_every_unfinished_child) {
    zuki::test::CountingWaker cw;
    std::vector<std::shared_ptr<GateState>> gates;
    for (int i = 0; i < 3; ++i) gates.push_back(make_gate_state());
    {
        Waker w = cw.make();
        Context cx(w);
        std::vector<Gate<int>> fs;
        for (auto& g : gates) fs.emplace_back(g);
        auto all = zuki::join_all(std::move(fs));
        for (auto& g : gates) BOOST_TEST(g->polls == 0);  // lazy

        BOOST_TEST(all.poll(cx).is_pending());
        for (auto& g : gates) {
            BOOST_TEST(g->polls == 1);
            BOOST_REQUIRE(g->waker);
            BOOST_TEST(g->waker->will_wake(w));
        }
        gates[2]->open(30);  // finishes last-to-first
        BOOST_TEST(all.poll(cx).is_pending());
        BOOST_TEST(gates[2]->live == 0);  // a finished child is dropped at once
        gates[0]->open(10);
        BOOST_TEST(all.poll(cx).is_pending());
        BOOST_TEST(gates[0]->polls == 3);
        BOOST_TEST(gates[1]->polls == 3);
        BOOST_TEST(gates[2]->polls == 2);  // never polled again after finishing
        gates[1]->open(20);
        auto p = all.poll(cx);
        BOOST_REQUIRE(p.is_ready());
        BOOST_TEST(p.value() == (std::vector<int>{10, 20, 30}));
        for (auto& g : gates) BOOST_TEST(g->live == 0);
        BOOST_TEST(gates[0]->polls == 3);
        BOOST_CHECK_THROW((void)all.poll(cx), std::logic_error);
    }
    BOOST_TEST(cw.live() == 0);
    BOOST_TEST(cw.wakes == 3);
}

BOOST_AUTO_TEST_CASE(join_all_of_nothing_is_ready_at_once) {
    NoopCx c;
    auto all = zuki::join_all(std::vector<zuki::Ready<int>>{});
    auto p = all.poll(c.cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value().empty());
    auto none = zuki::join_all(std::vector<zuki::Pending<void>>{});
    BOOST_TEST(none.poll(c.cx).is_ready());
}

BOOST_AUTO_TEST_CASE(join_all_of_void_futures_is_void) {
    NoopCx c;
    auto g1 = make_gate_state();
    auto g2 = make_gate_state();
    std::vector<Gate<void>> fs;
    fs.emplace_back(g1);
    fs.emplace_back(g2);
    auto all = zuki::join_all(std::move(fs));
    BOOST_TEST(all.poll(c.cx).is_pending());
    g1->open();
    BOOST_TEST(all.poll(c.cx).is_pending());
    g2->open();
    BOOST_TEST(all.poll(c.cx).is_ready());
    BOOST_TEST(g1->polls == 2);
    BOOST_TEST(g2->polls == 3);
}

BOOST_AUTO_TEST_CASE(join_all_of_type_erased_futures_with_move_only_outputs) {
    NoopCx c;
    int polls = 0;
    std::vector<zuki::AnyFuture<std::unique_ptr<int>>> fs;
    fs.push_back(zuki::ready(std::make_unique<int>(1)));
    fs.push_back(
        zuki::map(ReadyAfter{2, 2, &polls}, [](int x) { return std::make_unique<int>(x); }));
    auto all = zuki::join_all(std::move(fs));
    BOOST_TEST(all.poll(c.cx).is_pending());
    auto p = all.poll(c.cx);
    BOOST_REQUIRE(p.is_ready());
    auto v = std::move(p).value();
    BOOST_REQUIRE(v.size() == 2u);
    BOOST_TEST(*v[0] == 1);
    BOOST_TEST(*v[1] == 2);
}

BOOST_AUTO_TEST_CASE(join_all_propagates_a_child_exception_and_keeps_the_others) {
    NoopCx c;
    auto g = make_gate_state();
    std::vector<zuki::AnyFuture<int>> fs;
    fs.push_back(zuki::ready(1));
    fs.push_back(Gate<int>(g));
    auto all = zuki::join_all(std::move(fs));
    BOOST_TEST(all.poll(c.cx).is_pending());
    g->fail(std::make_exception_ptr(std::runtime_error("gate failed")));
    BOOST_CHECK_THROW((void)all.poll(c.cx), std::runtime_error);
    g->error = nullptr;
    g->open(2);
    auto p = all.poll(c.cx);  // the finished output of child 0 was kept
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value() == (std::vector<int>{1, 2}));
}

// ------------------------------------------------------------------------------------------------
// join
// ------------------------------------------------------------------------------------------------

static_assert(
    std::is_same_v<output_t<decltype(zuki::join(zuki::ready(1), zuki::ready(), zuki::ready(2.0)))>,
                   std::tuple<int, std::monostate, double>>);
static_assert(std::is_same_v<output_t<decltype(zuki::join())>, std::tuple<>>);

BOOST_AUTO_TEST_CASE(join_yields_a_tuple_in_argument_order) {
    zuki::test::CountingWaker cw;
    auto a = make_gate_state();
    auto b = make_gate_state();
    {
        Waker w = cw.make();
        Context cx(w);
        auto j = zuki::join(Gate<int>(a), zuki::ready(std::string("s")), Gate<void>(b),
                            zuki::ready(std::make_unique<int>(9)));
        BOOST_TEST(a->polls == 0);
        BOOST_TEST(j.poll(cx).is_pending());
        BOOST_TEST(a->polls == 1);
        BOOST_TEST(b->polls == 1);  // every child is polled, even after a pending one
        BOOST_TEST(b->waker->will_wake(w));
        b->open();
        BOOST_TEST(j.poll(cx).is_pending());
        BOOST_TEST(b->live == 0);  // dropped when it finished
        a->open(4);
        auto p = j.poll(cx);
        BOOST_REQUIRE(p.is_ready());
        auto [x, s, m, u] = std::move(p).value();
        BOOST_TEST(x == 4);
        BOOST_TEST(s == "s");
        BOOST_TEST((m == std::monostate{}));
        BOOST_REQUIRE(u);
        BOOST_TEST(*u == 9);
        BOOST_TEST(b->polls == 2);
        BOOST_TEST(a->live == 0);
        BOOST_CHECK_THROW((void)j.poll(cx), std::logic_error);
    }
    BOOST_TEST(cw.live() == 0);
}

BOOST_AUTO_TEST_CASE(join_of_nothing_is_ready) {
    NoopCx c;
    auto j = zuki::join();
    BOOST_TEST(j.poll(c.cx).is_ready());
}

BOOST_AUTO_TEST_CASE(join_propagates_a_child_exception) {
    NoopCx c;
    auto j = zuki::join(zuki::ready(1), Throws{});
    BOOST_CHECK_THROW((void)j.poll(c.cx), std::runtime_error);
}

// ------------------------------------------------------------------------------------------------
// select
// ------------------------------------------------------------------------------------------------

static_assert(std::is_same_v<output_t<decltype(zuki::select(zuki::ready(1), zuki::ready(2)))>,
                             std::variant<int, int>>);
static_assert(
    std::is_same_v<output_t<decltype(zuki::select(zuki::ready(), zuki::pending<std::string>()))>,
                   std::variant<std::monostate, std::string>>);

BOOST_AUTO_TEST_CASE(select_yields_the_first_ready_future_by_position) {
    NoopCx c;
    auto s = zuki::select(zuki::pending<int>(), zuki::ready(7), zuki::pending<int>());
    auto p = s.poll(c.cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value().index() == 1u);
    BOOST_TEST(std::get<1>(p.value()) == 7);
    BOOST_CHECK_THROW((void)s.poll(c.cx), std::logic_error);
}

BOOST_AUTO_TEST_CASE(select_polls_left_to_right_and_the_leftmost_ready_wins) {
    NoopCx c;
    int left_polls = 0, right_polls = 0;
    auto s = zuki::select(ReadyAfter{1, 1, &left_polls}, ReadyAfter{1, 2, &right_polls});
    auto p = s.poll(c.cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value().index() == 0u);
    BOOST_TEST(std::get<0>(p.value()) == 1);
    BOOST_TEST(left_polls == 1);
    BOOST_TEST(right_polls == 0);  // not polled once the left one was ready
}

BOOST_AUTO_TEST_CASE(select_drops_every_child_when_it_completes) {
    zuki::test::CountingWaker cw;
    auto a = make_gate_state();
    auto b = make_gate_state();
    auto v = make_gate_state();
    {
        Waker w = cw.make();
        Context cx(w);
        auto s = zuki::select(Gate<int>(a), Gate<int>(b), Gate<void>(v));
        BOOST_TEST(a->polls == 0);  // lazy
        BOOST_TEST(s.poll(cx).is_pending());
        BOOST_TEST(a->polls == 1);
        BOOST_TEST(b->polls == 1);
        BOOST_TEST(v->polls == 1);
        BOOST_TEST(b->waker->will_wake(w));
        v->open();
        auto p = s.poll(cx);
        BOOST_REQUIRE(p.is_ready());
        BOOST_TEST(p.value().index() == 2u);
        BOOST_TEST(a->live == 0);  // losers dropped with the winner
        BOOST_TEST(b->live == 0);
        BOOST_TEST(v->live == 0);
        BOOST_TEST(a->polls == 2);
        BOOST_TEST(b->polls == 2);
        a->open(1);  // a late wake for a dropped loser is harmless
        BOOST_CHECK_THROW((void)s.poll(cx), std::logic_error);
        BOOST_TEST(a->polls == 2);  // a loser is never polled again
        b->waker.reset();  // the test's state outlives the Gate: release its clone
    }
    BOOST_TEST(cw.live() == 0);
}

BOOST_AUTO_TEST_CASE(select_with_move_only_futures_and_outputs) {
    NoopCx c;
    auto g = make_gate_state();
    auto s = zuki::select(Gate<int>(g), zuki::ready(std::make_unique<int>(5)));
    auto moved = std::move(s);
    auto p = moved.poll(c.cx);
    BOOST_REQUIRE(p.is_ready());
    auto out = std::move(p).value();
    BOOST_TEST(*std::get<1>(out) == 5);
    BOOST_TEST(g->live == 0);
}

BOOST_AUTO_TEST_CASE(select_propagates_a_child_exception) {
    NoopCx c;
    auto s = zuki::select(zuki::pending<int>(), Throws{});
    BOOST_CHECK_THROW((void)s.poll(c.cx), std::runtime_error);
}

// ------------------------------------------------------------------------------------------------
// composition
// ------------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(combinators_compose) {
    NoopCx c;
    auto g = make_gate_state();
    auto f =
        zuki::map(zuki::join(zuki::then(Gate<int>(g), [](int x) { return zuki::ready(x * 2); }),
                             zuki::select(zuki::pending<int>(), zuki::ready(3))),
                  [](std::tuple<int, std::variant<int, int>> t) {
                      return std::get<0>(t) + std::get<1>(std::get<1>(t));
                  });
    BOOST_TEST(f.poll(c.cx).is_pending());
    g->open(20);
    BOOST_TEST(f.poll(c.cx).value() == 43);
}
