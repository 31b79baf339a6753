// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/task/join_set.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki task join_set
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <zuki/core/async.hpp>
#include <zuki/core/combinators.hpp>
#include <zuki/core/yield_now.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>

#include "common/both_executors.hpp"
#include "common/latch_future.hpp"
#include "common/pool_helpers.hpp"
#include "common/watchdog.hpp"

// JoinSet, AbortHandle, and the combinators' cancellation of abandoned JoinHandles, on both
// executors.

using namespace std::chrono_literals;
using zuki::AbortHandle;
using zuki::Async;
using zuki::JoinHandle;
using zuki::JoinSet;
using zuki::SingleThreadedExecutor;
using zuki::TaskCancelled;
using zuki::WorkStealingExecutor;
using zuki::test::Latch;
using zuki::test::make_latch;

static_assert(std::is_nothrow_copy_constructible_v<AbortHandle>);
static_assert(std::is_nothrow_move_constructible_v<JoinSet<int>>);
static_assert(std::is_same_v<zuki::output_t<JoinSet<int>::Next>, std::optional<int>>);
static_assert(std::is_same_v<zuki::output_t<JoinSet<void>::Next>, std::optional<std::monostate>>);
static_assert(std::is_same_v<zuki::output_t<JoinSet<int>::JoinAllFuture>, std::vector<int>>);
static_assert(std::is_void_v<zuki::output_t<JoinSet<void>::JoinAllFuture>>);

namespace {

using zuki::test::Executors;
using zuki::test::make_executor;

struct Boom : std::runtime_error {
    Boom() : std::runtime_error("boom") {}
};

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(next_yields_in_completion_order, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "next_yields_in_completion_order");
    auto ex = make_executor<Ex>();
    std::vector<std::shared_ptr<zuki::test::LatchState>> latches{make_latch(), make_latch(),
                                                                 make_latch()};
    const std::vector<int> got = ex->block_on([&]() -> Async<std::vector<int>> {
        JoinSet<int> set;
        for (auto& l : latches) set.spawn(Latch(l));
        BOOST_TEST(set.size() == 3u);
        std::vector<int> out;
        for (int which : {2, 0, 1}) {
            latches[static_cast<std::size_t>(which)]->release(which * 10);
            std::optional<int> r = co_await set.next();
            BOOST_TEST(r.has_value());
            out.push_back(r.value_or(-1));
        }
        BOOST_TEST(set.empty());
        const std::optional<int> none = co_await set.next();  // empty: an empty optional at once
        BOOST_TEST(!none.has_value());
        co_return out;
    });
    BOOST_TEST(got == (std::vector<int>{20, 0, 10}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(join_all_gathers_every_result, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "join_all_gathers_every_result");
    auto ex = make_executor<Ex>();
    const long sum = ex->block_on([]() -> Async<long> {
        JoinSet<long> set;
        for (long i = 0; i < 5000; ++i) set.spawn([i] { return i; });
        std::vector<long> all = co_await set.join_all();
        BOOST_TEST(all.size() == 5000u);
        BOOST_TEST(set.empty());
        long s = 0;
        for (long v : all) s += v;
        co_return s;
    });
    BOOST_TEST(sum == 5000L * 4999 / 2);

    // void tasks, and a set filled from outside any executor through a handle.
    std::atomic<int> ran{0};
    JoinSet<void> set(ex->handle());
    for (int i = 0; i < 100; ++i) set.spawn([&ran] { ran.fetch_add(1); });
    ex->block_on(set.join_all());
    BOOST_TEST(ran.load() == 100);
    BOOST_TEST(set.empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_failed_task_leaves_the_set_through_next, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "a_failed_task_leaves_the_set_through_next");
    auto ex = make_executor<Ex>();
    const int seen = ex->block_on([]() -> Async<int> {
        JoinSet<int> set;
        set.spawn([]() -> int { throw Boom(); });
        set.spawn([] { return 1; });
        int ok = 0, failed = 0;
        while (!set.empty()) {
            try {
                if (std::optional<int> r = co_await set.next()) ok += *r;
            } catch (const Boom&) {
                ++failed;
            }
        }
        co_return ok * 10 + failed;
    });
    BOOST_TEST(seen == 11);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(join_all_cancels_the_rest_when_one_fails, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "join_all_cancels_the_rest_when_one_fails");
    auto ex = make_executor<Ex>();
    auto latch = make_latch();
    bool threw = false;
    try {
        ex->block_on([&]() -> Async<void> {
            JoinSet<int> set;
            for (int i = 0; i < 4; ++i) set.spawn(Latch(latch));  // never released
            set.spawn([]() -> int { throw Boom(); });
            (void)co_await set.join_all();
        });
    } catch (const Boom&) {
        threw = true;
    }
    BOOST_TEST(threw);
    BOOST_TEST(zuki::test::wait_until([&] { return latch->live.load() == 0; }));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(abort_all_reports_each_task_as_cancelled, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "abort_all_reports_each_task_as_cancelled");
    auto ex = make_executor<Ex>();
    auto latch = make_latch();
    const int cancelled = ex->block_on([&]() -> Async<int> {
        JoinSet<int> set;
        for (int i = 0; i < 5; ++i) set.spawn(Latch(latch));
        co_await zuki::yield_now();
        set.abort_all();
        BOOST_TEST(set.size() == 5u);
        int n = 0;
        for (;;) {
            try {
                const std::optional<int> r = co_await set.next();
                if (!r) break;
            } catch (const TaskCancelled&) {
                ++n;
            }
        }
        co_return n;
    });
    BOOST_TEST(cancelled == 5);
    BOOST_TEST(latch->live.load() == 0);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(destroying_the_set_cancels_its_tasks, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "destroying_the_set_cancels_its_tasks");
    auto ex = make_executor<Ex>();
    auto latch = make_latch();
    std::vector<AbortHandle> aborts;
    ex->block_on([&]() -> Async<void> {
        JoinSet<int> set;
        for (int i = 0; i < 8; ++i) aborts.push_back(set.spawn(Latch(latch)));
        co_await zuki::yield_now();
    });
    BOOST_TEST(zuki::test::wait_until([&] { return latch->live.load() == 0; }));
    for (const AbortHandle& a : aborts) BOOST_TEST(a.is_finished());
}

BOOST_AUTO_TEST_CASE(destroying_the_set_while_children_run) {
    // Children complete on the workers while the set is destroyed on this thread: every future
    // is destroyed exactly once and nothing leaks (ASan), no race (TSan).
    zuki::test::Watchdog dog(120s, "destroying_the_set_while_children_run");
    WorkStealingExecutor pool(std::size_t{2});
    auto latch = make_latch();
    latch->release(1);
    std::atomic<long> ran{0};
    for (int round = 0; round < 300; ++round) {
        JoinSet<int> set(pool.handle());
        for (int i = 0; i < 8; ++i) {
            if (i % 2 == 0)
                set.spawn(Latch(latch));
            else
                set.spawn([&ran] {
                    zuki::test::spin_for(std::chrono::microseconds(2));
                    ran.fetch_add(1);
                    return 1;
                });
        }
        if (round % 3 == 0) std::this_thread::yield();
    }  // each set destroyed here, with some children running, some queued, some done
    pool.join();
    BOOST_TEST(latch->live.load() == 0);
    BOOST_TEST(ran.load() <= 300 * 4);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(detach_all_lets_the_tasks_run_on, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "detach_all_lets_the_tasks_run_on");
    auto ex = make_executor<Ex>();
    auto latch = make_latch();
    std::atomic<int> ran{0};
    ex->block_on([&]() -> Async<void> {
        JoinSet<int> set;
        for (int i = 0; i < 3; ++i)
            set.spawn([&ran, l = latch]() -> Async<int> {
                const int v = co_await Latch(l);
                ran.fetch_add(1);
                co_return v;
            });
        set.detach_all();
        BOOST_TEST(set.empty());
        // Reused slots: a stale completion report of a detached task must not confuse them.
        set.spawn([] { return 4; });
        latch->release(1);
        std::optional<int> r = co_await set.next();
        BOOST_TEST(r.value_or(-1) == 4);
        const std::optional<int> none = co_await set.next();
        BOOST_TEST(!none.has_value());
    });
    BOOST_TEST(zuki::test::wait_until([&] { return ran.load() == 3; }));
}

BOOST_AUTO_TEST_CASE(a_default_set_outside_any_executor_is_a_clear_error) {
    JoinSet<int> set;
    BOOST_CHECK_THROW(set.spawn([] { return 1; }), std::logic_error);
    BOOST_TEST(set.empty());
}

BOOST_AUTO_TEST_CASE(join_set_moves) {
    WorkStealingExecutor pool(std::size_t{2});
    JoinSet<int> a(pool.handle());
    a.spawn([] { return 1; });
    a.spawn([] { return 2; });
    JoinSet<int> b(std::move(a));
    BOOST_TEST(b.size() == 2u);
    JoinSet<int> c(pool.handle());
    c.spawn([] { return 3; });
    c = std::move(b);  // c's own task is cancelled or finished; b's two move in
    std::vector<int> all = pool.handle().block_on(c.join_all());
    BOOST_TEST(all.size() == 2u);
    BOOST_TEST(all[0] + all[1] == 3);
}

// ---- AbortHandle ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE_TEMPLATE(abort_handle_cancels_from_any_thread, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "abort_handle_cancels_from_any_thread");
    auto ex = make_executor<Ex>();
    auto latch = make_latch();
    JoinHandle<int> h = ex->spawn(Latch(latch));
    AbortHandle a = h.abort_handle();
    AbortHandle copy = a;
    BOOST_TEST(!copy.is_finished());
    BOOST_TEST(copy.id() == h.id());
    std::thread([copy] { copy.abort(); }).join();
    BOOST_CHECK_THROW(ex->block_on(std::move(h)), TaskCancelled);
    BOOST_TEST(a.is_finished());  // outlives the JoinHandle
    a.abort();  // idempotent, after completion too
    BOOST_TEST(latch->live.load() == 0);

    AbortHandle empty;
    BOOST_CHECK_THROW(empty.abort(), std::logic_error);
    BOOST_CHECK_THROW((void)empty.is_finished(), std::logic_error);
}

BOOST_AUTO_TEST_CASE(abort_races_completion) {
    // abort() from another thread against the task completing: the handle yields either the
    // value or TaskCancelled, never anything else, and the task is finished afterwards.
    zuki::test::Watchdog dog(120s, "abort_races_completion");
    WorkStealingExecutor pool(std::size_t{2});
    int values = 0, cancelled = 0;
    for (int i = 0; i < 2000; ++i) {
        JoinHandle<int> h = pool.spawn([] {
            zuki::test::spin_for(std::chrono::nanoseconds(500));
            return 7;
        });
        AbortHandle a = h.abort_handle();
        std::thread t([a] { a.abort(); });
        try {
            BOOST_TEST(h.get() == 7);
            ++values;
        } catch (const TaskCancelled&) {
            ++cancelled;
        }
        t.join();
        BOOST_TEST(a.is_finished());
    }
    BOOST_TEST(values + cancelled == 2000);
}

// ---- combinators over JoinHandles ------------------------------------------------------

BOOST_AUTO_TEST_CASE_TEMPLATE(select_cancels_the_losing_tasks, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "select_cancels_the_losing_tasks");
    auto ex = make_executor<Ex>();
    auto latch = make_latch();
    AbortHandle loser;
    const std::size_t winner = ex->block_on([&]() -> Async<std::size_t> {
        JoinHandle<int> slow = zuki::spawn(Latch(latch));
        loser = slow.abort_handle();
        auto r = co_await zuki::select(std::move(slow), zuki::spawn([] { return 1; }));
        co_return r.index();
    });
    BOOST_TEST(winner == 1u);
    BOOST_TEST(zuki::test::wait_until([&] { return loser.is_finished(); }));
    BOOST_TEST(latch->live.load() == 0);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(join_all_of_handles_cancels_the_rest_when_one_fails, Ex, Executors) {
    zuki::test::Watchdog dog(60s, "join_all_of_handles_cancels_the_rest_when_one_fails");
    auto ex = make_executor<Ex>();
    auto latch = make_latch();
    BOOST_CHECK_THROW(ex->block_on([&]() -> Async<void> {
        std::vector<JoinHandle<int>> hs;
        for (int i = 0; i < 3; ++i) hs.push_back(zuki::spawn(Latch(latch)));
        hs.push_back(zuki::spawn([]() -> int { throw Boom(); }));
        (void)co_await zuki::join_all(std::move(hs));
    }),
                      Boom);
    BOOST_TEST(zuki::test::wait_until([&] { return latch->live.load() == 0; }));

    auto latch2 = make_latch();
    BOOST_CHECK_THROW(ex->block_on([&]() -> Async<void> {
        (void)co_await zuki::join(zuki::spawn(Latch(latch2)),
                                  zuki::spawn([]() -> int { throw Boom(); }));
    }),
                      Boom);
    BOOST_TEST(zuki::test::wait_until([&] { return latch2->live.load() == 0; }));
}
