// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/core/async.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki core async
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include <zuki/core/any_future.hpp>
#include <zuki/core/combinators.hpp>
#include <zuki/core/yield_now.hpp>

#include "common/counting_waker.hpp"
#include "common/gate_future.hpp"

using zuki::Async;
using zuki::Context;
using zuki::Poll;
using zuki::Waker;
using zuki::test::CountingWaker;
using zuki::test::Gate;
using zuki::test::GateState;
using zuki::test::make_gate_state;
using GatePtr = std::shared_ptr<GateState>;

static_assert(zuki::Future<Async<int>>);
static_assert(zuki::Future<Async<void>>);
static_assert(zuki::Future<Async<std::unique_ptr<int>>>);
static_assert(std::is_same_v<zuki::output_t<Async<std::string>>, std::string>);
static_assert(std::is_same_v<zuki::output_t<Async<>>, void>);
static_assert(std::is_nothrow_move_constructible_v<Async<int>>);
static_assert(std::is_nothrow_move_assignable_v<Async<int>>);
static_assert(!std::is_copy_constructible_v<Async<int>>);
static_assert(!std::is_copy_assignable_v<Async<int>>);

namespace {

/// A noop waker and a context on it, for tests that do not look at wakes.
struct NoopCx {
    Waker w = Waker::noop();
    Context cx{w};
};

/// Counts destructions of the objects it is given to.
struct DropCounter {
    explicit DropCounter(int& n) : n(&n) {}
    DropCounter(DropCounter&& o) noexcept : n(std::exchange(o.n, nullptr)) {}
    ~DropCounter() {
        if (n) ++*n;
    }
    int* n;
};

Async<int> count_and_return(int& steps, int v) {
    ++steps;
    co_return v;
}

Async<int> await_gate(GatePtr g, int& steps) {
    ++steps;
    int v = co_await Gate<int>(g);
    ++steps;
    co_return v + 1;
}

Async<int> level3(GatePtr g) { co_return co_await Gate<int>(std::move(g)); }
Async<int> level2(GatePtr g) {
    int v = co_await level3(std::move(g));  // an rvalue Async
    co_return v * 2;
}
Async<int> level1(GatePtr g) {
    Async<int> inner = level2(std::move(g));
    int v = co_await inner;  // an lvalue Async, borrowed
    co_return v + 1;
}

Async<int> throw_after_gate(GatePtr g) {
    co_await Gate<void>(std::move(g));
    if (g == nullptr) throw std::runtime_error("level 3");  // always: g was moved from
    co_return 0;
}
Async<int> pass_through(Async<int> inner) { co_return co_await std::move(inner); }

}  // namespace

// ------------------------------------------------------------------------------------------------
// laziness and resumption
// ------------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(nothing_runs_before_the_first_poll) {
    NoopCx c;
    int steps = 0;
    Async<int> f = count_and_return(steps, 5);
    BOOST_TEST(steps == 0);
    BOOST_TEST(f.valid());
    BOOST_TEST(!f.is_done());
    auto p = f.poll(c.cx);
    BOOST_TEST(steps == 1);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value() == 5);
    BOOST_TEST(f.is_done());
}

BOOST_AUTO_TEST_CASE(the_body_resumes_only_after_the_awaited_future_is_ready) {
    CountingWaker cw;
    auto g = make_gate_state();
    {
        Waker w = cw.make();
        Context cx(w);
        int steps = 0;
        Async<int> f = await_gate(g, steps);
        BOOST_TEST(g->polls == 0);
        BOOST_TEST(f.poll(cx).is_pending());
        BOOST_TEST(steps == 1);
        BOOST_TEST(g->polls == 1);
        BOOST_REQUIRE(g->waker);
        BOOST_TEST(g->waker->will_wake(w));  // the gate got the waker of this poll

        BOOST_TEST(f.poll(cx).is_pending());  // spurious poll: the gate is polled, body stays put
        BOOST_TEST(steps == 1);
        BOOST_TEST(g->polls == 2);

        g->open(7);
        BOOST_TEST(cw.wakes == 1);
        BOOST_TEST(steps == 1);  // waking does not run the body: only poll() does
        auto p = f.poll(cx);
        BOOST_REQUIRE(p.is_ready());
        BOOST_TEST(p.value() == 8);
        BOOST_TEST(steps == 2);
        BOOST_TEST(g->polls == 3);
    }
    BOOST_TEST(cw.live() == 0);
}

BOOST_AUTO_TEST_CASE(nested_awaits_see_the_waker_of_the_current_poll) {
    CountingWaker first, second;
    auto g = make_gate_state();
    {
        Waker w1 = first.make();
        Waker w2 = second.make();
        Async<int> f = level1(g);
        {
            Context cx(w1);
            BOOST_TEST(f.poll(cx).is_pending());
        }
        BOOST_REQUIRE(g->waker);
        BOOST_TEST(g->waker->will_wake(w1));
        {
            Context cx(w2);  // e.g. the task moved to another worker
            BOOST_TEST(f.poll(cx).is_pending());
        }
        BOOST_TEST(g->waker->will_wake(w2));
        BOOST_TEST(g->polls == 2);
        g->open(3);
        BOOST_TEST(second.wakes == 1);
        BOOST_TEST(first.total_wakes() == 0);
        Context cx(w2);
        auto p = f.poll(cx);
        BOOST_REQUIRE(p.is_ready());
        BOOST_TEST(p.value() == 7);  // (3 * 2) + 1
    }
    BOOST_TEST(first.live() == 0);
    BOOST_TEST(second.live() == 0);
}

BOOST_AUTO_TEST_CASE(a_moved_async_continues_where_it_stopped) {
    NoopCx c;
    auto g = make_gate_state();
    int steps = 0;
    Async<int> f = await_gate(g, steps);
    BOOST_TEST(f.poll(c.cx).is_pending());
    Async<int> moved = std::move(f);
    BOOST_TEST(!f.valid());  // NOLINT(bugprone-use-after-move)
    g->open(1);
    auto p = moved.poll(c.cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value() == 2);
    BOOST_TEST(steps == 2);
}

// ------------------------------------------------------------------------------------------------
// what co_await accepts
// ------------------------------------------------------------------------------------------------

namespace {

Async<int> rvalue_future_is_dropped_when_its_await_ends(GatePtr g, int& live_after) {
    int v = co_await Gate<int>(g);
    live_after = g->live;
    co_return v;
}
Async<int> lvalue_future_is_borrowed(GatePtr g, int& live_after) {
    Gate<int> local(g);
    int v = co_await local;
    live_after = g->live;
    co_return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_rvalue_future_is_owned_and_an_lvalue_borrowed) {
    NoopCx c;
    auto g = make_gate_state();
    int live_after = -1;
    Async<int> f = rvalue_future_is_dropped_when_its_await_ends(g, live_after);
    BOOST_TEST(f.poll(c.cx).is_pending());
    BOOST_TEST(g->live == 1);
    g->open(1);
    BOOST_TEST(f.poll(c.cx).value() == 1);
    BOOST_TEST(live_after == 0);

    auto h = make_gate_state();
    Async<int> k = lvalue_future_is_borrowed(h, live_after);
    BOOST_TEST(k.poll(c.cx).is_pending());
    h->open(2);
    BOOST_TEST(k.poll(c.cx).value() == 2);
    BOOST_TEST(live_after == 1);
    BOOST_TEST(h->live == 0);  // the local went with the body's scope
}

namespace {

Async<int> awaits_combinators(GatePtr g) {
    zuki::AnyFuture<int> erased = zuki::map(Gate<int>(g), [](int x) { return x * 10; });
    int a = co_await erased;  // lvalue AnyFuture
    auto [b, nothing, c] = co_await zuki::join(zuki::ready(1), zuki::ready(), zuki::ready(2));
    (void)nothing;
    auto sel = co_await zuki::select(zuki::pending<int>(), zuki::ready(100));
    std::vector<Async<int>> children;
    int steps = 0;
    for (int i = 0; i < 3; ++i) children.push_back(count_and_return(steps, i));
    auto all = co_await zuki::join_all(std::move(children));
    co_return a + b + c + std::get<1>(sel) + all[0] + all[1] + all[2] + steps;
}

}  // namespace

BOOST_AUTO_TEST_CASE(any_future_and_combinators_can_be_awaited) {
    NoopCx c;
    auto g = make_gate_state();
    Async<int> f = awaits_combinators(g);
    BOOST_TEST(f.poll(c.cx).is_pending());
    g->open(4);
    auto p = f.poll(c.cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value() == 40 + 1 + 2 + 100 + (0 + 1 + 2) + 3);
}

BOOST_AUTO_TEST_CASE(an_async_is_usable_wherever_a_future_is) {
    NoopCx c;
    auto g = make_gate_state();
    int steps = 0;
    zuki::AnyFuture<int> erased = await_gate(g, steps);
    auto mapped = zuki::map(std::move(erased), [](int x) { return x * 2; });
    BOOST_TEST(mapped.poll(c.cx).is_pending());
    g->open(4);
    BOOST_TEST(mapped.poll(c.cx).value() == 10);
}

// ------------------------------------------------------------------------------------------------
// exceptions
// ------------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_exception_propagates_through_three_levels) {
    NoopCx c;
    auto g = make_gate_state();
    Async<int> top = pass_through(pass_through(throw_after_gate(g)));
    BOOST_TEST(top.poll(c.cx).is_pending());
    g->open();
    try {
        (void)top.poll(c.cx);
        BOOST_FAIL("no exception");
    } catch (const std::runtime_error& e) {
        BOOST_TEST(std::string(e.what()) == "level 3");
    }
    BOOST_TEST(top.is_done());
    BOOST_CHECK_THROW((void)top.poll(c.cx), std::logic_error);  // completed by the exception
}

namespace {

Async<int> throws_at_once() {
    throw std::invalid_argument("at once");
    co_return 0;
}
Async<std::string> catches(Async<int> inner) {
    try {
        co_await std::move(inner);
    } catch (const std::exception& e) {
        co_return std::string("caught ") + e.what();
    }
    co_return "nothing";
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_exception_before_the_first_suspension_is_thrown_by_the_first_poll) {
    NoopCx c;
    Async<int> f = throws_at_once();  // lazy: nothing thrown yet
    BOOST_CHECK_THROW((void)f.poll(c.cx), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(the_body_can_catch_what_an_awaited_async_threw) {
    NoopCx c;
    auto g = make_gate_state();
    Async<std::string> f = catches(throw_after_gate(g));
    BOOST_TEST(f.poll(c.cx).is_pending());
    g->open();
    BOOST_TEST(f.poll(c.cx).value() == "caught level 3");
}

BOOST_AUTO_TEST_CASE(the_body_can_catch_what_an_awaited_future_poll_threw) {
    NoopCx c;
    // Thrown by the first poll of the awaited future (inside await_suspend)...
    auto g = make_gate_state();
    g->error = std::make_exception_ptr(std::out_of_range("first poll"));
    int steps = 0;
    Async<std::string> f = catches(await_gate(g, steps));
    BOOST_TEST(f.poll(c.cx).value() == "caught first poll");
    // ... and by a later poll (from Async::poll, before resuming the body).
    auto h = make_gate_state();
    Async<std::string> k = catches(await_gate(h, steps));
    BOOST_TEST(k.poll(c.cx).is_pending());
    h->fail(std::make_exception_ptr(std::out_of_range("later poll")));
    BOOST_TEST(k.poll(c.cx).value() == "caught later poll");
}

// ------------------------------------------------------------------------------------------------
// destruction
// ------------------------------------------------------------------------------------------------

namespace {

Async<int> holds_locals(GatePtr g, int& drops) {
    DropCounter before(drops);
    Gate<int> borrowed(g);
    int v = co_await borrowed;
    DropCounter after(drops);
    co_return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(destroying_a_suspended_async_destroys_what_it_awaits) {
    NoopCx c;
    {
        auto g = make_gate_state();
        int steps = 0;
        {
            Async<int> f = await_gate(g, steps);  // awaits an owned (rvalue) Gate
            BOOST_TEST(f.poll(c.cx).is_pending());
            BOOST_TEST(g->live == 1);
        }
        BOOST_TEST(g->live == 0);
        BOOST_TEST(g->drops == 1);
    }
    {
        auto g = make_gate_state();
        {
            Async<int> f = level1(g);  // three frames deep
            BOOST_TEST(f.poll(c.cx).is_pending());
            BOOST_TEST(g->live == 1);
        }
        BOOST_TEST(g->live == 0);
        BOOST_TEST(g->drops == 1);
    }
    {
        auto g = make_gate_state();
        int drops = 0;
        {
            Async<int> f = holds_locals(g, drops);
            BOOST_TEST(f.poll(c.cx).is_pending());
            BOOST_TEST(drops == 0);
        }
        BOOST_TEST(drops == 1);  // `before` destroyed, `after` never built
        BOOST_TEST(g->live == 0);
    }
    {
        // Move-assigning over a suspended Async destroys it too.
        auto g = make_gate_state();
        int steps = 0;
        Async<int> f = await_gate(g, steps);
        BOOST_TEST(f.poll(c.cx).is_pending());
        f = count_and_return(steps, 1);
        BOOST_TEST(g->live == 0);
        BOOST_TEST(f.poll(c.cx).value() == 1);
    }
}

BOOST_AUTO_TEST_CASE(destroying_an_async_that_never_ran_destroys_its_arguments) {
    int drops = 0;
    {
        auto g = make_gate_state();
        Async<int> f = holds_locals(g, drops);
        BOOST_TEST(g.use_count() == 2);  // the frame holds a copy of the argument
        f = Async<int>();
        BOOST_TEST(g.use_count() == 1);
    }
    BOOST_TEST(drops == 0);
}

// ------------------------------------------------------------------------------------------------
// results
// ------------------------------------------------------------------------------------------------

namespace {

Async<std::unique_ptr<int>> make_ptr(int v) {
    auto p = std::make_unique<int>(v);
    co_await zuki::yield_now();
    co_return std::move(p);
}
Async<std::unique_ptr<int>> make_ptr_implicit_move(int v) {
    auto p = std::make_unique<int>(v);
    co_return p;  // a local is moved by co_return
}
Async<int> deref(int extra) {
    std::unique_ptr<int> a = co_await make_ptr(1);
    std::unique_ptr<int> b = co_await make_ptr_implicit_move(2);
    co_return *a + *b + extra;
}

Async<void> void_body(GatePtr g, int& steps) {
    co_await Gate<void>(g);
    co_await zuki::ready();
    ++steps;
}
Async<> awaits_void(GatePtr g, int& steps) {
    co_await void_body(std::move(g), steps);
    ++steps;
    co_return;
}

}  // namespace

BOOST_AUTO_TEST_CASE(move_only_results) {
    NoopCx c;
    Async<std::unique_ptr<int>> f = make_ptr(5);
    BOOST_TEST(f.poll(c.cx).is_pending());  // yield_now
    auto p = f.poll(c.cx);
    BOOST_REQUIRE(p.is_ready());
    std::unique_ptr<int> v = std::move(p).value();
    BOOST_REQUIRE(v);
    BOOST_TEST(*v == 5);

    Async<int> d = deref(10);
    BOOST_TEST(d.poll(c.cx).is_pending());
    BOOST_TEST(d.poll(c.cx).value() == 13);
}

BOOST_AUTO_TEST_CASE(void_results) {
    NoopCx c;
    auto g = make_gate_state();
    int steps = 0;
    Async<void> f = awaits_void(g, steps);
    BOOST_TEST(f.poll(c.cx).is_pending());
    BOOST_TEST(steps == 0);
    g->open();
    BOOST_TEST(f.poll(c.cx).is_ready());
    BOOST_TEST(steps == 2);
}

// ------------------------------------------------------------------------------------------------
// misuse
// ------------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(polling_after_completion_throws_logic_error) {
    NoopCx c;
    int steps = 0;
    Async<int> f = count_and_return(steps, 1);
    BOOST_TEST(f.poll(c.cx).is_ready());
    try {
        (void)f.poll(c.cx);
        BOOST_FAIL("no exception");
    } catch (const std::logic_error& e) {
        BOOST_TEST(std::string(e.what()).find("after completion") != std::string::npos);
    }
    BOOST_TEST(steps == 1);  // the body did not run again
}

BOOST_AUTO_TEST_CASE(polling_an_empty_async_throws_logic_error) {
    NoopCx c;
    Async<int> empty;
    BOOST_TEST(!empty.valid());
    BOOST_TEST(!empty.is_done());
    BOOST_CHECK_THROW((void)empty.poll(c.cx), std::logic_error);
    int steps = 0;
    Async<int> a = count_and_return(steps, 1);
    Async<int> b = std::move(a);
    BOOST_CHECK_THROW((void)a.poll(c.cx), std::logic_error);  // NOLINT(bugprone-use-after-move)
    BOOST_TEST(b.poll(c.cx).value() == 1);
}

namespace {

Async<int> polls_itself(Async<int>* const* self) {
    Waker w = Waker::noop();
    Context cx(w);
    try {
        (void)(*self)->poll(cx);
    } catch (const std::logic_error&) {
        co_return 1;
    }
    co_return 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(polling_from_inside_its_own_body_throws_logic_error) {
    NoopCx c;
    Async<int>* self = nullptr;
    Async<int> f = polls_itself(&self);
    self = &f;
    BOOST_TEST(f.poll(c.cx).value() == 1);
}

// ------------------------------------------------------------------------------------------------
// loops
// ------------------------------------------------------------------------------------------------

namespace {

Async<std::uint64_t> sum_of_ready_futures(int n) {
    std::uint64_t sum = 0;
    for (int i = 0; i < n; ++i) sum += static_cast<std::uint64_t>(co_await zuki::ready(i));
    co_return sum;
}
Async<std::uint64_t> sum_of_ready_asyncs(int n) {
    std::uint64_t sum = 0;
    int steps = 0;
    for (int i = 0; i < n; ++i) {
        sum += static_cast<std::uint64_t>(co_await count_and_return(steps, i));
    }
    co_return sum + static_cast<std::uint64_t>(steps - n);
}
Async<int> yields(int n) {
    for (int i = 0; i < n; ++i) co_await zuki::yield_now();
    co_return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_million_ready_awaits_run_in_one_poll_without_growing_the_stack) {
    NoopCx c;
    constexpr int n = 1'000'000;
    Async<std::uint64_t> f = sum_of_ready_futures(n);
    auto p = f.poll(c.cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value() == std::uint64_t{n} * (n - 1) / 2);
}

BOOST_AUTO_TEST_CASE(many_awaits_of_asyncs_that_finish_at_once_run_in_one_poll) {
    NoopCx c;
    constexpr int n = 100'000;
    Async<std::uint64_t> f = sum_of_ready_asyncs(n);
    auto p = f.poll(c.cx);
    BOOST_REQUIRE(p.is_ready());
    BOOST_TEST(p.value() == std::uint64_t{n} * (n - 1) / 2);
}

BOOST_AUTO_TEST_CASE(yield_now_in_a_loop_suspends_once_per_iteration_and_wakes_itself) {
    CountingWaker cw;
    {
        Waker w = cw.make();
        Context cx(w);
        Async<int> f = yields(3);
        for (int i = 0; i < 3; ++i) {
            BOOST_TEST(f.poll(cx).is_pending());
            BOOST_TEST(cw.wakes_by_ref == i + 1);
        }
        BOOST_TEST(f.poll(cx).value() == 3);
        BOOST_TEST(cw.wakes_by_ref == 3);
    }
    BOOST_TEST(cw.live() == 0);
}
