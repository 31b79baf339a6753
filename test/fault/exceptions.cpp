// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki fault exceptions
#include <boost/test/unit_test.hpp>

// Exceptions from every place user code runs inside a WorkStealingExecutor: isolated, reported
// exactly once to the right place, nothing lost, and the workers survive (the same pool runs
// 1000 more tasks afterwards and join() returns).
//
// - a task's poll (first or later poll; std and non-std exception types) -> its JoinHandle,
//   with its type, value and what(), also through a JoinHandle awaited by another task;
// - a detached task -> WorkStealingConfig::on_unhandled_exception, once per task, on a worker
//   (the only worker of a one-thread pool survives it); also a task whose handle is dropped
//   after it threw, without the exception being taken;
// - Asio handlers (post/defer/dispatch from outside and inside, on a strand, a timer's
//   completion) -> on_unhandled_exception; the outstanding-work count stays right;
// - wakers: Waker::wake/wake_by_ref/drop are noexcept (a throwing custom vtable function
//   terminates, by design), so what can go wrong is a future whose poll throws after it stored a
//   waker: the task completes with the exception, and later wakes of that waker from other
//   threads are no-ops (no second poll). Waker's copy (the vtable's clone) is NOT noexcept: a
//   foreign waker whose clone throws makes JoinHandle::poll throw, leaving the handle usable;
// - destructors: Zuki requires non-throwing destructors of futures and handlers (they run inside
//   noexcept code; a throwing one terminates the program, as C++ requires). What is tested is
//   that during shutdown each destructor runs exactly once, also when destructors wake, cancel,
//   drop or spawn other tasks of the dying executor;
// - the on_unhandled_exception handler itself throwing -> dropped and counted in
//   metrics().handler_failures (the library never prints), and the pool goes on; with no
//   handler the default one (print_unhandled_exception) prints the exception on stderr.

#include <zuki/runtime/single_threaded_executor.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/defer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "common/drop_counter.hpp"
#include "common/pool_helpers.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::Batch;
using zuki::Context;
using zuki::JoinHandle;
using zuki::Poll;
using zuki::WorkStealingConfig;
using zuki::WorkStealingExecutor;
using zuki::test::call;
using zuki::test::DropCounter;
using zuki::test::DropRegistry;
using zuki::test::pool_config;
using zuki::test::wait_until;
using zuki::test::what_of;

// The contract the header comment relies on.
static_assert(noexcept(std::declval<zuki::Waker&>().wake()));
static_assert(noexcept(std::declval<const zuki::Waker&>().wake_by_ref()));
static_assert(std::is_nothrow_destructible_v<zuki::Waker>);
static_assert(std::is_nothrow_move_constructible_v<zuki::Waker>);
static_assert(!std::is_nothrow_copy_constructible_v<zuki::Waker>,
              "Waker's copy may throw (a custom clone): update the test of throwing clones");

namespace {

constexpr std::size_t workers = 4;

// Exceptions that carry the id of the task or handler that threw them.
struct Boom : std::runtime_error {
    explicit Boom(std::size_t i) : std::runtime_error("boom " + std::to_string(i)), id(i) {}
    std::size_t id;
};
struct NotStd {
    std::size_t id;
};

// Throws one of three kinds of exception carrying `id`.
[[noreturn]] void throw_for(std::size_t id) {
    switch (id % 3) {
        case 0:
            throw Boom(id);
        case 1:
            throw NotStd{id};
        default:
            throw id;  // a plain std::size_t
    }
}
// The id carried by a caught exception (or SIZE_MAX if of another kind).
std::size_t id_of(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const Boom& b) {
        return b.id;
    } catch (const NotStd& n) {
        return n.id;
    } catch (std::size_t i) {
        return i;
    } catch (...) {
        return SIZE_MAX;
    }
}

// Counts per id what reached on_unhandled_exception, and calls made off the pool's workers.
struct Reports {
    explicit Reports(std::size_t n) : per_id(std::make_unique<std::atomic<int>[]>(n)), size(n) {
        for (std::size_t i = 0; i < n; ++i) per_id[i].store(0, std::memory_order_relaxed);
    }
    std::unique_ptr<std::atomic<int>[]> per_id;
    std::size_t size;
    std::atomic<int> total{0};
    std::atomic<int> foreign{0};  // ids out of range or of an unknown kind
    std::atomic<int> off_pool{0};  // calls not on a worker of the pool
    std::atomic<WorkStealingExecutor*> pool{nullptr};

    void operator()(std::exception_ptr e) {
        const std::size_t id = id_of(e);
        if (id < size)
            per_id[id].fetch_add(1, std::memory_order_relaxed);
        else
            foreign.fetch_add(1, std::memory_order_relaxed);
        WorkStealingExecutor* p = pool.load(std::memory_order_acquire);
        if (p == nullptr || !p->running_in_this_thread())
            off_pool.fetch_add(1, std::memory_order_relaxed);
        // release: pairs with the test's acquire wait on `total`.
        total.fetch_add(1, std::memory_order_release);
    }
    // Exactly once for ids in [from, to), never for the others.
    void check_exactly(std::size_t from, std::size_t to) const {
        check_exactly_if([&](std::size_t i) { return i >= from && i < to; });
    }
    // Exactly once for the ids where `reported(id)`, never for the others.
    template <class Pred>
    void check_exactly_if(Pred reported) const {
        std::size_t wrong = 0;
        for (std::size_t i = 0; i < size; ++i) {
            const int want = reported(i) ? 1 : 0;
            const int got = per_id[i].load(std::memory_order_relaxed);
            if (got != want && wrong++ < 5)
                BOOST_ERROR("id " << i << " reported " << got << " times, want " << want);
        }
        BOOST_TEST(wrong == 0u);
        BOOST_TEST(foreign.load() == 0);
        BOOST_TEST(off_pool.load() == 0, "reported off the pool's workers");
    }
};

WorkStealingConfig config_reporting_to(std::shared_ptr<Reports> r) {
    WorkStealingConfig cfg;
    cfg.threads = workers;
    cfg.on_unhandled_exception = [r](std::exception_ptr e) { (*r)(std::move(e)); };
    return cfg;
}

// The pool survived: every worker still there, 1000 more tasks run.
void pool_goes_on(WorkStealingExecutor& ex, std::size_t expect_workers = workers) {
    BOOST_TEST(ex.thread_count() == expect_workers);
    std::vector<JoinHandle<int>> hs;
    hs.reserve(1000);
    for (int i = 0; i < 1000; ++i) hs.push_back(ex.spawn(zuki::ready(i)));
    long sum = 0;
    for (auto& h : hs) sum += h.get();
    BOOST_TEST(sum == 999L * 1000 / 2);
}

// Pending until `go` is set (polled again by a wake from another thread), then throws or
// returns its id. With `throw_at_first`, throws on its first poll.
struct GoState {
    std::atomic<bool> go{false};
    std::mutex m;
    std::vector<zuki::Waker> wakers;  // guarded by m
    void release_all() {
        go.store(true, std::memory_order_release);
        std::vector<zuki::Waker> ws;
        {
            std::lock_guard lock(m);
            ws.swap(wakers);
        }
        for (auto& w : ws) w.wake();
    }
};
struct Thrower {
    std::shared_ptr<GoState> s;
    std::size_t id;
    bool throws;
    bool throw_at_first;
    bool parked = false;
    Poll<std::size_t> poll(Context& cx) {
        if (!throw_at_first && !s->go.load(std::memory_order_acquire)) {
            std::lock_guard lock(s->m);
            // Re-check under the lock: release_all() swaps the list under it after setting go.
            if (!s->go.load(std::memory_order_acquire)) {
                s->wakers.push_back(cx.waker());
                return Poll<std::size_t>::pending();
            }
        }
        if (throws) throw_for(id);
        return Poll<std::size_t>::ready(id);
    }
};

// Submits `f` detached such that it cannot complete before it is detached: through a Batch,
// whose tasks are published only by spawn_batch (after push() returned and the handle was
// dropped). `spawn(f).detach()` of a task that throws at once would race with the task (see
// a_handle_dropped_after_its_task_threw_still_reports_the_exception below).
template <class F>
void spawn_detached(WorkStealingExecutor& ex, F f) {
    zuki::Batch b(ex);
    b.push(std::move(f)).detach();
    ex.spawn_batch(std::move(b));
}

// Captures what is written to file descriptor 2 while it lives.
class StderrCapture {
public:
    StderrCapture() {
        std::fflush(stderr);
        file_ = std::tmpfile();
        saved_ = ::dup(2);
        ::dup2(::fileno(file_), 2);
    }
    StderrCapture(const StderrCapture&) = delete;
    StderrCapture& operator=(const StderrCapture&) = delete;
    ~StderrCapture() { (void)stop(); }
    // Restores stderr and returns what was written.
    std::string stop() {
        if (saved_ < 0) return text_;
        std::fflush(stderr);
        ::dup2(saved_, 2);
        ::close(saved_);
        saved_ = -1;
        std::rewind(file_);
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) text_.append(buf, n);
        std::fclose(file_);
        return text_;
    }

private:
    std::FILE* file_ = nullptr;
    int saved_ = -1;
    std::string text_;
};

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + 1))
        ++n;
    return n;
}

}  // namespace

// ---- tasks with a JoinHandle -------------------------------------------------------------------

namespace {

// Spawns `ids` from inside the pool and hands their JoinHandles out.
struct InsideSpawner {
    WorkStealingExecutor* ex;
    std::shared_ptr<GoState> s;
    std::size_t from, to;
    std::vector<JoinHandle<std::size_t>>* out;
    Poll<void> poll(Context&) {
        for (std::size_t i = from; i < to; ++i)
            out->push_back(ex->spawn(Thrower{s, i, i % 2 == 0, i % 4 == 0}));
        return Poll<void>::ready();
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_tasks_exception_reaches_its_join_handle_with_its_type_and_value) {
    zuki::test::Watchdog w(120s, "a_tasks_exception_reaches_its_join_handle");
    constexpr std::size_t n = 1000;
    auto reports = std::make_shared<Reports>(n);
    WorkStealingExecutor ex(config_reporting_to(reports));
    reports->pool.store(&ex, std::memory_order_release);
    auto s = std::make_shared<GoState>();
    // Even ids throw (every 4th on its first poll, the others after a wake from this thread);
    // odd ids return their id. Half spawned from outside, half from inside.
    std::vector<JoinHandle<std::size_t>> hs;
    hs.reserve(n);
    for (std::size_t i = 0; i < n / 2; ++i)
        hs.push_back(ex.spawn(Thrower{s, i, i % 2 == 0, i % 4 == 0}));
    std::vector<JoinHandle<std::size_t>> inside;
    inside.reserve(n / 2);
    ex.spawn(InsideSpawner{&ex, s, n / 2, n, &inside}).get();
    for (auto& h : inside) hs.push_back(std::move(h));
    s->release_all();

    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t got = SIZE_MAX;
        bool threw = false;
        try {
            got = hs[i].get();
        } catch (...) {
            threw = true;
            got = id_of(std::current_exception());
        }
        if ((threw != (i % 2 == 0) || got != i) && wrong++ < 5)
            BOOST_ERROR("task " << i << (threw ? " threw " : " returned ") << got);
    }
    BOOST_TEST(wrong == 0u);
    BOOST_TEST(reports->total.load() == 0, "an exception with a JoinHandle reached the handler");
    pool_goes_on(ex);
    ex.join();
}

BOOST_AUTO_TEST_CASE(an_exception_travels_through_a_join_handle_awaited_by_another_task) {
    zuki::test::Watchdog w(60s, "an_exception_travels_through_a_join_handle");
    WorkStealingExecutor ex(workers);
    auto s = std::make_shared<GoState>();
    // A JoinHandle is a future: spawn it as a task of its own, three levels deep.
    auto inner = ex.spawn(Thrower{s, 7, true, false});
    auto middle = ex.spawn(std::move(inner));
    auto outer = ex.spawn(std::move(middle));
    BOOST_TEST(!outer.is_finished());
    s->release_all();
    try {
        (void)outer.get();
        BOOST_ERROR("no exception");
    } catch (const NotStd& e) {  // 7 % 3 == 1: NotStd
        BOOST_TEST(e.id == 7u);
    }
    pool_goes_on(ex);
}

BOOST_AUTO_TEST_CASE(a_throwing_tasks_handle_rethrows) {
    zuki::test::Watchdog w(60s, "throwing task");
    WorkStealingExecutor ex(2);
    auto h = ex.spawn(call([]() -> int { throw std::runtime_error("boom"); }));
    const std::string what = what_of<std::runtime_error>([&] { (void)h.get(); });
    BOOST_TEST(what == "boom");
}

// ---- detached tasks ----------------------------------------------------------------------------

namespace {

struct DetachedInsideSpawner {
    WorkStealingExecutor* ex;
    std::shared_ptr<GoState> s;
    std::size_t from, to;
    Poll<void> poll(Context&) {
        for (std::size_t i = from; i < to; ++i) {
            if (i % 2 == 0)
                spawn_detached(*ex, Thrower{s, i, true, true});  // throws at its first poll
            else
                ex->spawn(Thrower{s, i, true, false}).detach();  // waits for `go`: detached first
        }
        return Poll<void>::ready();
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(detached_exceptions_reach_the_handler_once_each_on_a_worker) {
    zuki::test::Watchdog w(120s, "detached_exceptions_reach_the_handler_once_each");
    constexpr std::size_t n = 1000;
    auto reports = std::make_shared<Reports>(n + 100);
    WorkStealingExecutor ex(config_reporting_to(reports));
    reports->pool.store(&ex, std::memory_order_release);
    auto s = std::make_shared<GoState>();
    // From outside: detached at once (half throw on the first poll, half after the wake)...
    for (std::size_t i = 0; i < n / 2; ++i) {
        if (i % 2 == 0)
            spawn_detached(ex, Thrower{s, i, true, true});
        else
            ex.spawn(Thrower{s, i, true, false}).detach();
    }
    // ... from inside ...
    ex.spawn(DetachedInsideSpawner{&ex, s, n / 2, n}).get();
    // ... and detached while pending (the handle is dropped before the task can throw).
    for (std::size_t i = n; i < n + 50; ++i) {
        auto h = ex.spawn(Thrower{s, i, true, false});
        h.detach();
    }
    // Tasks that keep their handle never reach the handler.
    std::vector<JoinHandle<std::size_t>> kept;
    for (std::size_t i = n + 50; i < n + 100; ++i)
        kept.push_back(ex.spawn(Thrower{s, i, true, false}));
    s->release_all();
    if (!wait_until(
            [&] {
                return reports->total.load(std::memory_order_acquire) >= static_cast<int>(n + 50);
            },
            30s)) {
        std::ostringstream missing;
        std::size_t shown = 0;
        for (std::size_t i = 0; i < n + 50 && shown < 20; ++i)
            if (reports->per_id[i].load() == 0) {
                missing << ' ' << i;
                ++shown;
            }
        std::ostringstream diag;  // formatted here: the log stream may carry other flags
        diag << "after 30 s, " << reports->total.load() << " of " << n + 50
             << " detached exceptions reported; missing ids:" << missing.str() << '\n'
             << ex.metrics();
        BOOST_FAIL(diag.str());
    }
    for (std::size_t k = 0; k < kept.size(); ++k) {
        try {
            (void)kept[k].get();
            BOOST_ERROR("no exception");
        } catch (...) {
            BOOST_TEST(id_of(std::current_exception()) == n + 50 + k);
        }
    }
    pool_goes_on(ex);
    ex.join();
    reports->check_exactly(0, n + 50);
}

BOOST_AUTO_TEST_CASE(a_detached_throwing_task_reaches_the_handler_and_the_worker_goes_on) {
    zuki::test::Watchdog w(60s, "detached throwing task");
    std::mutex m;
    std::vector<std::string> seen;
    std::atomic<int> calls{0};
    WorkStealingConfig cfg = pool_config(1);
    cfg.on_unhandled_exception = [&](std::exception_ptr e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            std::lock_guard lock(m);
            seen.emplace_back(ex.what());
        }
        calls.fetch_add(1, std::memory_order_release);
    };
    WorkStealingExecutor ex(cfg);
    {
        // Detached before it can run (a batch publishes nothing until submitted).
        Batch b(ex);
        b.push(call([]() -> int { throw std::runtime_error("detached boom"); })).detach();
        b.push(call([]() -> int { throw std::logic_error("second"); })).detach();
        ex.spawn_batch(std::move(b));
    }
    BOOST_REQUIRE(wait_until([&] { return calls.load(std::memory_order_acquire) == 2; }));
    {
        std::lock_guard lock(m);
        BOOST_TEST(seen.size() == 2u);
        BOOST_TEST((std::find(seen.begin(), seen.end(), "detached boom") != seen.end()));
        BOOST_TEST((std::find(seen.begin(), seen.end(), "second") != seen.end()));
    }
    // The single worker survived and runs more work.
    for (int i = 0; i < 100; ++i) BOOST_REQUIRE(ex.spawn(zuki::ready(i)).get() == i);
    BOOST_TEST(ex.thread_count() == 1u);
    BOOST_TEST(calls.load() == 2);
}

// A task that threw before its JoinHandle was dropped: nobody took the exception from the handle,
// so dropping the handle must hand it to the unhandled-exception handler, as for a task that
// throws after being detached. Otherwise `spawn(f).detach()` loses the exception whenever the
// task completes before detach() runs (a race: about 5% of 200,000 throwing tasks lost their
// exception on a 2-worker pool with a yield between spawn and detach).
BOOST_AUTO_TEST_CASE(an_exception_in_a_handle_dropped_unread_is_reported) {
    zuki::test::Watchdog w(60s, "an_exception_in_a_handle_dropped_unread_is_reported");
    auto reports = std::make_shared<Reports>(10);
    {
        WorkStealingExecutor ex(config_reporting_to(reports));
        auto s = std::make_shared<GoState>();
        auto threw = ex.spawn(Thrower{s, 1, true, true});
        auto returned = ex.spawn(Thrower{s, 2, false, true});
        auto taken = ex.spawn(Thrower{s, 3, true, true});
        BOOST_REQUIRE(wait_until(
            [&] { return threw.is_finished() && returned.is_finished() && taken.is_finished(); },
            30s));
        BOOST_CHECK_THROW((void)taken.get(),
                          Boom);  // 3 % 3 == 0: Boom; observed, not to be reported
        threw.detach();  // the exception was never taken
        returned.detach();
        taken.detach();
        ex.join();
        (void)wait_until([&] { return reports->total.load() >= 1; }, 2s);
    }
    BOOST_TEST(reports->per_id[1].load() == 1, "the unread exception of a dropped handle was lost");
    BOOST_TEST(reports->per_id[2].load() == 0);
    BOOST_TEST(reports->per_id[3].load() == 0,
               "an exception taken through get() was reported again");
    BOOST_TEST(reports->total.load() == reports->per_id[1].load());

    // The same on the SingleThreadedExecutor (same task and handle code).
    std::atomic<int> st_reports{0};
    {
        zuki::SingleThreadedExecutor ex([&st_reports](std::exception_ptr e) {
            if (id_of(e) == 4) st_reports.fetch_add(1);
        });
        auto s = std::make_shared<GoState>();
        auto threw = ex.spawn(Thrower{s, 4, true, true});
        ex.run();  // completes it: the exception goes into the handle
        BOOST_TEST(threw.is_finished());
        threw.detach();
    }
    BOOST_TEST(st_reports.load() == 1,
               "SingleThreadedExecutor: the unread exception of a dropped handle was lost");
}

// ---- Asio handlers -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(exceptions_from_asio_handlers_reach_the_handler_and_join_still_returns) {
    zuki::test::Watchdog w(120s, "exceptions_from_asio_handlers");
    constexpr std::size_t outside = 300;  // ids [0, 300): post / defer / dispatch from outside
    constexpr std::size_t inside = 300;  // ids [300, 600): post / defer from a worker
    constexpr std::size_t on_strand = 200;  // ids [600, 800): every other one throws
    constexpr std::size_t timer_id = 800;
    constexpr std::size_t total_ids = 801;
    auto reports = std::make_shared<Reports>(total_ids);
    WorkStealingExecutor ex(config_reporting_to(reports));
    reports->pool.store(&ex, std::memory_order_release);
    auto exec = ex.get_executor();

    for (std::size_t i = 0; i < outside; ++i) {
        auto h = [i] { throw_for(i); };
        switch (i % 3) {
            case 0:
                boost::asio::post(exec, h);
                break;
            case 1:
                boost::asio::defer(exec, h);
                break;
            default:
                boost::asio::dispatch(exec, h);
                break;  // not on a worker: queued
        }
    }
    boost::asio::post(exec, [exec] {
        for (std::size_t i = outside; i < outside + inside; ++i) {
            if (i % 2 == 0)
                boost::asio::post(exec, [i] { throw_for(i); });
            else
                boost::asio::defer(exec, [i] { throw_for(i); });
        }
    });
    // A strand: the handlers that do not throw still run, in order.
    auto strand = boost::asio::make_strand(exec);
    std::vector<std::size_t> order;  // written on the strand only
    for (std::size_t i = outside + inside; i < outside + inside + on_strand; ++i) {
        boost::asio::post(strand, [i, &order] {
            if (i % 2 == 0) throw_for(i);
            order.push_back(i);
        });
    }
    // A timer's completion handler (delivered by Asio's reactor thread to the pool).
    {
        boost::asio::steady_timer timer(exec, 1ms);
        std::atomic<bool> fired{false};
        timer.async_wait([&fired](boost::system::error_code) {
            fired.store(true, std::memory_order_release);
            throw Boom(timer_id);
        });
        BOOST_REQUIRE(wait_until([&] { return fired.load(std::memory_order_acquire); }, 30s));
    }
    pool_goes_on(ex);
    ex.join();  // every handler ran (or threw) and was counted off: returns
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < total_ids; ++i) {
        const bool throws = i < outside + inside || i == timer_id || i % 2 == 0;
        const int got = reports->per_id[i].load();
        if (got != (throws ? 1 : 0) && wrong++ < 5)
            BOOST_ERROR("handler " << i << " reported " << got << " times");
    }
    BOOST_TEST(wrong == 0u);
    BOOST_TEST(reports->foreign.load() == 0);
    BOOST_TEST(reports->off_pool.load() == 0);
    BOOST_TEST(order.size() == on_strand / 2);
    for (std::size_t k = 1; k < order.size(); ++k) BOOST_TEST(order[k - 1] < order[k]);
}

// ---- wakers ------------------------------------------------------------------------------------

namespace {

// Stores a clone of its waker where other threads can wake it, then throws (on its first poll,
// or on the second, after one round of pending).
struct StoringThrower {
    struct Shared {
        std::mutex m;
        std::optional<zuki::Waker> waker;  // guarded by m
        std::atomic<int> polls{0};
        std::atomic<bool> in_poll{false};
        std::atomic<int> overlaps{0};
    };
    std::shared_ptr<Shared> s;
    std::size_t id;
    int throw_at_poll;  // 1 or 2
    DropCounter d;
    Poll<int> poll(Context& cx) {
        // acq_rel: an overlapping poll would see true.
        if (s->in_poll.exchange(true, std::memory_order_acq_rel)) s->overlaps.fetch_add(1);
        const int p = s->polls.fetch_add(1, std::memory_order_relaxed) + 1;
        {
            std::lock_guard lock(s->m);
            s->waker.emplace(cx.waker());
        }
        s->in_poll.store(false, std::memory_order_release);
        if (p >= throw_at_poll) throw_for(id);
        return Poll<int>::pending();
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_future_that_throws_after_storing_its_waker_is_isolated) {
    zuki::test::Watchdog w(120s, "a_future_that_throws_after_storing_its_waker");
    constexpr std::size_t n = 400;
    auto reports = std::make_shared<Reports>(n);
    DropRegistry reg(n);
    std::vector<std::shared_ptr<StoringThrower::Shared>> shared;  // outlives the pool
    {
        WorkStealingExecutor ex(config_reporting_to(reports));
        reports->pool.store(&ex, std::memory_order_release);
        std::vector<JoinHandle<int>> hs;
        for (std::size_t i = 0; i < n; ++i) {
            shared.push_back(std::make_shared<StoringThrower::Shared>());
            auto h = ex.spawn(
                StoringThrower{shared.back(), i, 1 + static_cast<int>(i % 2), DropCounter(reg, i)});
            if (i % 4 == 3)
                h.detach();  // -> the handler
            else
                hs.push_back(std::move(h));
        }
        // Two threads wake the stored wakers over and over, racing the polls that throw: the
        // ones that pend first are woken this way; later wakes hit completed tasks.
        std::atomic<bool> stop{false};
        std::vector<std::thread> wakers;
        for (int t = 0; t < 2; ++t) {
            wakers.emplace_back([&, t] {
                while (!stop.load(std::memory_order_acquire)) {
                    for (std::size_t i = static_cast<std::size_t>(t); i < n; i += 2) {
                        std::optional<zuki::Waker> copy;
                        {
                            std::lock_guard lock(shared[i]->m);
                            if (shared[i]->waker) copy.emplace(*shared[i]->waker);  // a clone
                        }
                        if (copy) {
                            copy->wake_by_ref();
                            copy->wake();
                        }
                    }
                    std::this_thread::yield();
                }
            });
        }
        std::size_t wrong = 0;
        std::size_t k = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (i % 4 == 3) continue;
            try {
                (void)hs[k++].get();
                if (wrong++ < 5) BOOST_ERROR("task " << i << " did not throw");
            } catch (...) {
                if (id_of(std::current_exception()) != i && wrong++ < 5)
                    BOOST_ERROR("task " << i << ": wrong exception");
            }
        }
        BOOST_TEST(wrong == 0u);
        BOOST_REQUIRE(wait_until(
            [&] {
                return reports->total.load(std::memory_order_acquire) == static_cast<int>(n / 4);
            },
            30s));
        std::this_thread::sleep_for(20ms);  // more wakes on completed tasks
        stop.store(true, std::memory_order_release);
        for (auto& t : wakers) t.join();
        // Every task was polled exactly as often as it had to be, never concurrently.
        std::size_t bad_polls = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const int want = 1 + static_cast<int>(i % 2);
            if ((shared[i]->polls.load() != want || shared[i]->overlaps.load() != 0) &&
                bad_polls++ < 5)
                BOOST_ERROR("task " << i << " polled " << shared[i]->polls.load() << " times, want "
                                    << want);
        }
        BOOST_TEST(bad_polls == 0u);
        for (std::size_t i = 0; i < n; ++i) BOOST_TEST(reg.drops(i) == 1);  // the future is gone...
        pool_goes_on(ex);
        // ... but its stored waker still holds the task: waking it now is a no-op.
        for (auto& sh : shared) {
            std::lock_guard lock(sh->m);
            sh->waker->wake_by_ref();
        }
        ex.join();
        for (std::size_t i = 0; i < n; ++i)
            BOOST_TEST(shared[i]->polls.load() == 1 + static_cast<int>(i % 2));
    }
    // The stored wakers outlive the pool: waking and dropping them now is harmless.
    for (auto& sh : shared) {
        std::lock_guard lock(sh->m);
        sh->waker->wake_by_ref();
        sh->waker->wake();
        sh->waker.reset();
    }
    for (std::size_t i = 0; i < n; ++i)
        BOOST_TEST(shared[i]->polls.load() == 1 + static_cast<int>(i % 2));
    reports->check_exactly_if([](std::size_t i) { return i % 4 == 3; });  // the detached ones
}

namespace {

// A foreign waker whose clone throws std::bad_alloc while `fail` is set.
struct ThrowingCloneTarget {
    std::atomic<bool> fail{false};
    std::atomic<int> refs{0};
    std::atomic<int> wakes{0};
    static ThrowingCloneTarget* self(const void* d) {
        return const_cast<ThrowingCloneTarget*>(static_cast<const ThrowingCloneTarget*>(d));
    }
    static const void* clone(const void* d) {
        if (self(d)->fail.load()) throw std::bad_alloc();
        self(d)->refs.fetch_add(1);
        return d;
    }
    static void wake(const void* d) {
        self(d)->wakes.fetch_add(1);
        self(d)->refs.fetch_sub(1);
    }
    static void wake_by_ref(const void* d) { self(d)->wakes.fetch_add(1); }
    static void drop(const void* d) { self(d)->refs.fetch_sub(1); }
    static constexpr zuki::WakerVTable vtable{&clone, &wake, &wake_by_ref, &drop};
    zuki::Waker make() {
        refs.fetch_add(1);
        return zuki::Waker(this, &vtable);
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_foreign_waker_whose_clone_throws_leaves_the_join_handle_usable) {
    zuki::test::Watchdog w(60s, "a_foreign_waker_whose_clone_throws");
    WorkStealingExecutor ex(workers);
    auto s = std::make_shared<GoState>();
    ThrowingCloneTarget target;
    {
        auto h = ex.spawn(Thrower{s, 5, false, false});
        {
            zuki::Waker waker = target.make();
            Context cx(waker);
            target.fail.store(true);
            BOOST_CHECK_THROW((void)h.poll(cx),
                              std::bad_alloc);  // pending, but cannot store the waker
            target.fail.store(false);
            BOOST_TEST(h.poll(cx).is_pending());  // now it can
            BOOST_TEST(target.refs.load() == 2);  // ours and the handle's clone
            s->release_all();
            BOOST_REQUIRE(wait_until([&] { return target.wakes.load() >= 1; }, 30s));
            auto p = h.poll(cx);
            BOOST_REQUIRE(p.is_ready());
            BOOST_TEST(std::move(p).value() == 5u);
        }
    }
    // The task (and the clone in its join-waker slot) goes when the worker drops its last
    // reference, which may come a moment after the handle saw the result.
    BOOST_TEST(wait_until([&] { return target.refs.load() == 0; }, 10s), "waker references leaked");
    pool_goes_on(ex);
}

// ---- destructors during shutdown ---------------------------------------------------------------

namespace {

// Pending forever. Its destructor (run during the executor's shutdown) does one of several
// things to other tasks of the same executor, and counts itself.
struct ShutdownState {
    WorkStealingExecutor* ex = nullptr;
    std::mutex m;
    std::vector<std::optional<zuki::Waker>> wakers;  // per id, guarded by m
    std::vector<std::optional<JoinHandle<int>>> handles;  // per id, guarded by m
    std::atomic<int> spawn_refused{0};
    std::atomic<int> spawn_accepted{0};
    std::atomic<int> destructors{0};
};
enum class OnDrop { nothing, wake_next, cancel_next, drop_next_handle, spawn };

class Lingering {
public:
    Lingering(std::shared_ptr<ShutdownState> s, std::size_t id, OnDrop what, DropRegistry& reg)
        : s_(std::move(s)), id_(id), what_(what), d_(reg, id) {}
    Lingering(Lingering&&) noexcept = default;
    ~Lingering() {
        if (!d_.is_live()) return;  // a moved-from shell
        s_->destructors.fetch_add(1, std::memory_order_relaxed);
        const std::size_t next = id_ + 1;
        std::optional<zuki::Waker> w;
        std::optional<JoinHandle<int>> h;
        {
            std::lock_guard lock(s_->m);
            if (next < s_->wakers.size()) {
                if (what_ == OnDrop::wake_next) w = std::move(s_->wakers[next]);
                if (what_ == OnDrop::cancel_next || what_ == OnDrop::drop_next_handle)
                    h = std::move(s_->handles[next]);
            }
        }
        switch (what_) {
            case OnDrop::wake_next:
                if (w) w->wake();
                break;
            case OnDrop::cancel_next:
                if (h && h->valid()) h->cancel();
                break;
            case OnDrop::drop_next_handle:
                h.reset();
                break;
            case OnDrop::spawn:
                try {
                    s_->ex->spawn(zuki::ready(1)).detach();
                    s_->spawn_accepted.fetch_add(1);
                } catch (const zuki::ExecutorStopped&) {
                    s_->spawn_refused.fetch_add(1);
                }
                break;
            case OnDrop::nothing:
                break;
        }
    }
    Poll<int> poll(Context& cx) {
        std::lock_guard lock(s_->m);
        if (!s_->wakers[id_]) s_->wakers[id_].emplace(cx.waker());
        return Poll<int>::pending();
    }

private:
    std::shared_ptr<ShutdownState> s_;
    std::size_t id_;
    OnDrop what_;
    DropCounter d_;
};

}  // namespace

static_assert(std::is_nothrow_destructible_v<Lingering>);

BOOST_AUTO_TEST_CASE(destructors_run_exactly_once_during_shutdown_whatever_they_do) {
    zuki::test::Watchdog w(120s, "destructors_run_exactly_once_during_shutdown");
    constexpr std::size_t n = 500;
    DropRegistry reg(n);
    auto s = std::make_shared<ShutdownState>();
    s->wakers.resize(n);
    s->handles.resize(n);
    std::vector<JoinHandle<int>> kept;
    {
        WorkStealingExecutor ex(workers);
        s->ex = &ex;
        for (std::size_t i = 0; i < n; ++i) {
            const auto what = static_cast<OnDrop>(i % 5);
            auto h = ex.spawn(Lingering(s, i, what, reg));
            std::lock_guard lock(s->m);
            s->handles[i].emplace(std::move(h));
        }
        // Wait until each was polled once (each stored its waker), so they are idle, not queued.
        BOOST_REQUIRE(wait_until(
            [&] {
                std::lock_guard lock(s->m);
                for (auto& wk : s->wakers)
                    if (!wk) return false;
                return true;
            },
            30s));
        // Keep some handles here; the others stay in the state, for the destructors to use.
        {
            std::lock_guard lock(s->m);
            for (std::size_t i = 0; i < n; i += 7)
                if (s->handles[i]) {
                    kept.push_back(std::move(*s->handles[i]));
                    s->handles[i].reset();
                }
        }
    }  // the destructor cancels all of them; their destructors wake / cancel / drop / spawn
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i)
        if ((reg.drops(i) != 1 || reg.live(i) != 0) && wrong++ < 5)
            BOOST_ERROR("future " << i << " destroyed " << reg.drops(i) << " times");
    BOOST_TEST(wrong == 0u);
    BOOST_TEST(s->destructors.load() == static_cast<int>(n));
    BOOST_TEST(s->spawn_accepted.load() == 0);
    BOOST_TEST(s->spawn_refused.load() == static_cast<int>(n / 5));
    for (auto& h : kept) BOOST_CHECK_THROW((void)h.get(), zuki::TaskCancelled);
    // What the state still holds (wakers, handles) is released with it: harmless after the pool.
    std::lock_guard lock(s->m);
    for (auto& h : s->handles)
        if (h && h->valid()) BOOST_CHECK_THROW((void)h->get(), zuki::TaskCancelled);
}

// ---- the handler itself throwing ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_throwing_unhandled_exception_handler_is_counted_and_the_pool_goes_on) {
    zuki::test::Watchdog w(120s, "a_throwing_unhandled_exception_handler");
    constexpr std::size_t tasks = 100;
    constexpr std::size_t handlers = 100;
    std::atomic<int> calls{0};
    std::string err;
    std::uint64_t failures = 0;
    {
        StderrCapture capture;
        {
            WorkStealingConfig cfg;
            cfg.threads = workers;
            cfg.on_unhandled_exception = [&calls](std::exception_ptr) {
                // release: pairs with the acquire wait below.
                const int c = calls.fetch_add(1, std::memory_order_release);
                if (c % 2 == 0) throw std::runtime_error("the handler throws");
                throw 42;
            };
            WorkStealingExecutor ex(cfg);
            auto s = std::make_shared<GoState>();
            for (std::size_t i = 0; i < tasks; ++i) spawn_detached(ex, Thrower{s, i, true, true});
            for (std::size_t i = 0; i < handlers; ++i) boost::asio::post(ex, [i] { throw_for(i); });
            BOOST_REQUIRE(wait_until(
                [&] {
                    return calls.load(std::memory_order_acquire) ==
                           static_cast<int>(tasks + handlers);
                },
                30s));
            std::vector<JoinHandle<int>> hs;
            for (int i = 0; i < 1000; ++i) hs.push_back(ex.spawn(zuki::ready(i)));
            long sum = 0;
            for (auto& h : hs) sum += h.get();
            BOOST_TEST(sum == 999L * 1000 / 2);
            BOOST_TEST(ex.thread_count() == workers);
            ex.join();
            failures = ex.metrics().handler_failures;
        }
        err = capture.stop();
    }
    BOOST_TEST(calls.load() == static_cast<int>(tasks + handlers));
    BOOST_TEST(failures == tasks + handlers);
    BOOST_TEST(err.empty(), "the library printed:\n" << err);
}

BOOST_AUTO_TEST_CASE(without_a_handler_detached_exceptions_are_printed_and_the_pool_goes_on) {
    zuki::test::Watchdog w(60s, "without_a_handler_detached_exceptions_are_printed");
    std::string err;
    {
        StderrCapture capture;
        {
            WorkStealingExecutor ex(workers);
            auto s = std::make_shared<GoState>();
            for (std::size_t i = 0; i < 30; ++i) spawn_detached(ex, Thrower{s, i, true, true});
            ex.join();  // every detached task completed (and was reported)
        }
        err = capture.stop();
    }
    // ids 0, 3, ... throw Boom ("boom <id>"); the others throw non-std exceptions.
    BOOST_TEST(count_of(err, "zuki: unhandled exception in a detached task: boom ") == 10u, err);
    BOOST_TEST(count_of(err, "zuki: unhandled exception of unknown type in a detached task") == 20u,
               err);
}
