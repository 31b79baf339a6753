// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/single_threaded_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki runtime single_threaded_executor
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <unistd.h>

#include "common/drop_counter.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::Context;
using zuki::JoinHandle;
using zuki::Poll;
using zuki::SingleThreadedExecutor;
using zuki::TaskPriority;
using zuki::Waker;

static_assert(!std::is_copy_constructible_v<SingleThreadedExecutor>);
static_assert(!std::is_move_constructible_v<SingleThreadedExecutor>);
static_assert(!std::is_copy_assignable_v<SingleThreadedExecutor>);
static_assert(!std::is_move_assignable_v<SingleThreadedExecutor>);

namespace {

int stress_scale() {
    const char* s = std::getenv("ZUKI_STRESS_SCALE");
    const int v = s ? std::atoi(s) : 1;
    return v > 0 ? v : 1;
}

/// Appends its id to a log when polled; ready at once.
struct Record {
    std::vector<int>* log;
    int id;
    Poll<int> poll(Context&) {
        log->push_back(id);
        return id;
    }
};

/// A one-shot flag another thread can set; the future waits for it.
struct FlagState {
    std::mutex m;
    bool set = false;
    std::optional<Waker> waiter;
    void signal() {
        std::optional<Waker> w;
        {
            std::lock_guard<std::mutex> lock(m);
            set = true;
            w.swap(waiter);
        }
        if (w) w->wake();
    }
};
struct WaitFlag {
    std::shared_ptr<FlagState> s;
    Poll<int> poll(Context& cx) {
        std::lock_guard<std::mutex> lock(s->m);
        if (s->set) return 1;
        if (!s->waiter || !s->waiter->will_wake(cx.waker())) s->waiter = cx.waker();
        return Poll<int>::pending();
    }
};

/// Never ready; reports its destruction. Optionally keeps its own waker (a reference cycle) or
/// hands a clone out.
struct NeverReady {
    zuki::test::DropCounter token;
    std::shared_ptr<std::optional<Waker>> leak_to;  // where to put a clone of the waker
    std::optional<Waker> self;  // keep our own waker: a reference cycle
    bool keep_self = false;
    Poll<int> poll(Context& cx) {
        if (leak_to && !*leak_to) *leak_to = cx.waker();
        if (keep_self) self = cx.waker();
        return Poll<int>::pending();
    }
};

/// Pending once (waking itself), then ready: a task that is re-queued while it runs.
struct YieldOnce {
    std::vector<int>* log;
    int id;
    int yields;
    Poll<void> poll(Context& cx) {
        log->push_back(id);
        if (yields-- > 0) {
            cx.waker().wake_by_ref();
            return Poll<void>::pending();
        }
        return Poll<void>::ready();
    }
};

template <class Fn>
struct FnFuture {
    Fn fn;
    auto poll(Context& cx) { return fn(cx); }
};
template <class Fn>
FnFuture<Fn> poll_fn(Fn fn) {
    return FnFuture<Fn>{std::move(fn)};
}

struct MyError : std::runtime_error {
    explicit MyError(const std::string& w) : std::runtime_error(w) {}
};

struct Throws {
    Poll<int> poll(Context&) { throw MyError("boom"); }
};

double process_cpu_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

// ---- ordering ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(ready_tasks_run_by_priority_and_fifo_within_a_level) {
    std::vector<int> log;
    SingleThreadedExecutor ex;
    const TaskPriority ps[] = {TaskPriority::Low,      TaskPriority::Normal,  TaskPriority::High,
                               TaskPriority::Critical, TaskPriority::Normal,  TaskPriority::Low,
                               TaskPriority::High,     TaskPriority::Critical};
    for (int i = 0; i < 8; ++i) ex.spawn(Record{&log, i}, ps[i]).detach();
    BOOST_TEST(ex.task_count() == 8u);
    ex.run();
    BOOST_TEST(log == (std::vector<int>{3, 7, 2, 6, 1, 4, 0, 5}), boost::test_tools::per_element());
    BOOST_TEST(ex.is_empty());
}

BOOST_AUTO_TEST_CASE(spawn_high_and_spawn_low_use_their_levels) {
    std::vector<int> log;
    SingleThreadedExecutor ex;
    JoinHandle<int> a = ex.spawn_low(Record{&log, 0});
    JoinHandle<int> b = ex.spawn(Record{&log, 1});
    JoinHandle<int> c = ex.spawn_high(Record{&log, 2});
    BOOST_TEST((a.priority() == TaskPriority::Low));
    BOOST_TEST((b.priority() == TaskPriority::Normal));
    BOOST_TEST((c.priority() == TaskPriority::High));
    ex.run();
    BOOST_TEST(log == (std::vector<int>{2, 1, 0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_task_spawned_while_running_is_ordered_by_its_priority) {
    std::vector<int> log;
    SingleThreadedExecutor ex;
    ex.spawn(poll_fn([&](Context&) {
          log.push_back(1);
          ex.spawn_high(Record{&log, 10}).detach();  // local spawn: straight to the High list
          ex.spawn_low(Record{&log, 11}).detach();
          return Poll<void>::ready();
      }))
        .detach();
    ex.spawn(Record{&log, 2}).detach();
    ex.run();
    BOOST_TEST(log == (std::vector<int>{1, 10, 2, 11}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_task_woken_while_running_goes_to_the_back_of_its_level) {
    std::vector<int> log;
    SingleThreadedExecutor ex;
    ex.spawn(YieldOnce{&log, 1, 2}).detach();
    ex.spawn(YieldOnce{&log, 2, 2}).detach();
    ex.spawn_low(YieldOnce{&log, 9, 0}).detach();
    ex.run();
    BOOST_TEST(log == (std::vector<int>{1, 2, 1, 2, 1, 2, 9}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_invalid_priority_is_rejected_before_anything_is_queued) {
    SingleThreadedExecutor ex;
    BOOST_CHECK_THROW((void)ex.spawn(zuki::ready(1), static_cast<TaskPriority>(7)),
                      std::invalid_argument);
    BOOST_TEST(ex.is_empty());
}

BOOST_AUTO_TEST_CASE(spawn_detached_runs_by_priority_and_reports_its_exception) {
    std::vector<int> log;
    std::vector<std::string> reported;
    SingleThreadedExecutor ex([&](std::exception_ptr e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            reported.push_back(x.what());
        }
    });
    ex.spawn_detached(Record{&log, 0}, TaskPriority::Low);
    ex.spawn_detached(Record{&log, 1});
    ex.spawn_detached(poll_fn([](Context&) -> Poll<void> { throw std::runtime_error("lost?"); }));
    BOOST_CHECK_THROW(ex.spawn_detached(zuki::ready(1), static_cast<TaskPriority>(9)),
                      std::invalid_argument);
    BOOST_TEST(ex.task_count() == 3u);
    ex.run();
    BOOST_TEST(log == (std::vector<int>{1, 0}), boost::test_tools::per_element());
    BOOST_TEST(reported == (std::vector<std::string>{"lost?"}), boost::test_tools::per_element());
    BOOST_TEST(ex.is_empty());
}

// ---- step -------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(step_polls_at_most_one_task_and_says_whether_ready_work_remains) {
    std::vector<int> log;
    SingleThreadedExecutor ex;
    BOOST_TEST(!ex.step());  // nothing at all
    for (int i = 0; i < 3; ++i) ex.spawn(Record{&log, i}).detach();
    BOOST_TEST(ex.step());
    BOOST_TEST(log.size() == 1u);
    BOOST_TEST(ex.step());
    BOOST_TEST(log.size() == 2u);
    BOOST_TEST(!ex.step());
    BOOST_TEST(log.size() == 3u);
    BOOST_TEST(!ex.step());
    BOOST_TEST(ex.is_empty());
}

BOOST_AUTO_TEST_CASE(step_never_blocks_and_moves_remote_wakes_in) {
    SingleThreadedExecutor ex;
    auto flag = std::make_shared<FlagState>();
    JoinHandle<int> h = ex.spawn(WaitFlag{flag});
    BOOST_TEST(!ex.step());  // polled once: pending, nothing ready
    BOOST_TEST(!ex.step());  // does not block
    BOOST_TEST(ex.task_count() == 1u);
    std::thread([&] { flag->signal(); }).join();  // a wake from another thread
    BOOST_TEST(!ex.step());  // moved in and polled: completes, nothing left
    BOOST_TEST(h.is_finished());
    BOOST_TEST(h.get() == 1);
}

// ---- block_on ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(block_on_returns_the_value_and_runs_other_tasks_meanwhile) {
    SingleThreadedExecutor ex;
    auto flag = std::make_shared<FlagState>();
    bool helper_ran = false;
    ex.spawn_low(poll_fn([&](Context&) {
          helper_ran = true;
          flag->signal();  // local wake: the block_on task goes to its ready list
          return Poll<void>::ready();
      }))
        .detach();
    BOOST_TEST(ex.block_on(WaitFlag{flag}) == 1);
    BOOST_TEST(helper_ran);
    BOOST_TEST(ex.is_empty());
}

BOOST_AUTO_TEST_CASE(block_on_rethrows_and_handles_void_and_join_handles) {
    SingleThreadedExecutor ex;
    BOOST_CHECK_THROW(ex.block_on(Throws{}), MyError);
    ex.block_on(zuki::ready());
    BOOST_TEST(ex.block_on(ex.spawn(zuki::ready(41))) == 41);
    auto p = ex.block_on(zuki::ready(std::make_unique<int>(5)));  // move-only output
    BOOST_TEST(*p == 5);
    BOOST_TEST(ex.is_empty());
}

BOOST_AUTO_TEST_CASE(block_on_returns_when_its_future_completes_leaving_other_tasks_queued) {
    std::vector<int> log;
    SingleThreadedExecutor ex;
    ex.spawn_low(Record{&log, 1}).detach();
    BOOST_TEST(ex.block_on(zuki::ready(3)) == 3);  // Normal: runs before the Low task
    BOOST_TEST(log.empty());
    BOOST_TEST(ex.task_count() == 1u);
    ex.run();
    BOOST_TEST(log.size() == 1u);
}

BOOST_AUTO_TEST_CASE(block_on_sleeps_until_a_wake_from_another_thread) {
    zuki::test::Watchdog dog(30s, "block_on remote wake");
    SingleThreadedExecutor ex;
    auto flag = std::make_shared<FlagState>();
    std::thread t([&] {
        std::this_thread::sleep_for(20ms);
        flag->signal();
    });
    BOOST_TEST(ex.block_on(WaitFlag{flag}) == 1);
    t.join();
}

// ---- counts -----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(is_empty_and_task_count_follow_live_tasks) {
    SingleThreadedExecutor ex;
    BOOST_TEST(ex.is_empty());
    BOOST_TEST(ex.task_count() == 0u);
    auto flag = std::make_shared<FlagState>();
    JoinHandle<int> a = ex.spawn(zuki::ready(1));
    JoinHandle<int> b = ex.spawn(WaitFlag{flag});
    BOOST_TEST(ex.task_count() == 2u);
    BOOST_TEST(!ex.is_empty());
    while (ex.step()) {}
    BOOST_TEST(ex.task_count() == 1u);  // b waits for its flag
    flag->signal();
    ex.run();
    BOOST_TEST(ex.task_count() == 0u);
    BOOST_TEST(ex.is_empty());
    BOOST_TEST(a.get() + b.get() == 2);
}

BOOST_AUTO_TEST_CASE(a_remote_cancel_of_the_last_task_ends_run) {
    zuki::test::Watchdog dog(30s, "remote cancel ends run");
    SingleThreadedExecutor ex;
    JoinHandle<int> h = ex.spawn(zuki::pending<int>());
    std::thread t([&] {
        std::this_thread::sleep_for(20ms);
        h.cancel();  // idle: completes on this thread, the sleeping run() must notice
    });
    ex.run();
    t.join();
    BOOST_TEST(ex.is_empty());
    BOOST_CHECK_THROW(h.get(), zuki::TaskCancelled);
}

// ---- sleeping, remote wakes and spawns ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(run_sleeps_rather_than_spins_while_a_task_waits_for_a_remote_wake) {
    zuki::test::Watchdog dog(30s, "run sleeps");
    SingleThreadedExecutor ex;
    auto flag = std::make_shared<FlagState>();
    JoinHandle<int> h = ex.spawn(WaitFlag{flag});
    std::thread waker([&] {
        std::this_thread::sleep_for(100ms);
        flag->signal();
    });
    const double cpu0 = process_cpu_ms();
    const auto wall0 = std::chrono::steady_clock::now();
    ex.run();
    const double cpu = process_cpu_ms() - cpu0;
    const double wall =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall0).count();
    waker.join();
    // Timing is reported, never asserted: a spinning run() would show about `wall` of CPU.
    BOOST_TEST_MESSAGE("run() waited " << wall << " ms of wall time using " << cpu
                                       << " ms of process CPU time");
    BOOST_TEST(h.is_finished());
    BOOST_TEST(h.get() == 1);
}

namespace {
struct PollCounter {
    std::atomic<bool> published{false};
    std::vector<Waker> wakers;  // written by the first poll, before `published`
    std::atomic<std::uint64_t> wakes_sent{0};
    std::atomic<std::uint64_t> last_seen{0};
    std::atomic<bool> in_poll{false};
    std::atomic<int> concurrent{0};
    std::uint64_t polls = 0;  // driver thread only
    std::uint64_t total = 0;
    int threads = 0;
};
struct CountsPolls {
    PollCounter* c;
    Poll<std::uint64_t> poll(Context& cx) {
        if (c->in_poll.exchange(true, std::memory_order_acquire)) c->concurrent.fetch_add(1);
        ++c->polls;
        if (!c->published.load(std::memory_order_relaxed)) {
            for (int i = 0; i < c->threads; ++i) c->wakers.push_back(cx.waker());
            // release: pairs with the wakers' acquire load; publishes `wakers`.
            c->published.store(true, std::memory_order_release);
        }
        // acquire: pairs with the release increment made before each wake.
        const std::uint64_t seen = c->wakes_sent.load(std::memory_order_acquire);
        c->last_seen.store(seen, std::memory_order_relaxed);
        c->in_poll.store(false, std::memory_order_release);
        if (seen == c->total) return seen;  // the last wake led to this poll
        return Poll<std::uint64_t>::pending();  // re-arm: the wakers hold our waker
    }
};
}  // namespace

BOOST_AUTO_TEST_CASE(ten_thousand_wakes_from_four_threads_are_never_lost_nor_concurrent) {
    zuki::test::Watchdog dog(120s, "4-thread wake storm");
    SingleThreadedExecutor ex;
    PollCounter c;
    c.threads = 4;
    const int per_thread = 2'500 * stress_scale();
    c.total = static_cast<std::uint64_t>(c.threads) * per_thread;
    JoinHandle<std::uint64_t> h = ex.spawn(CountsPolls{&c});

    std::vector<std::thread> ts;
    for (int i = 0; i < c.threads; ++i) {
        ts.emplace_back([&, i] {
            // acquire: pairs with the release store in the first poll.
            while (!c.published.load(std::memory_order_acquire)) std::this_thread::yield();
            const Waker w = c.wakers[static_cast<std::size_t>(i)];
            for (int k = 0; k < per_thread; ++k) {
                // release: pairs with the acquire load in poll().
                c.wakes_sent.fetch_add(1, std::memory_order_release);
                w.wake_by_ref();
                if (k % 32 == 31) std::this_thread::yield();
            }
        });
    }
    ex.run();  // returns only once a poll saw every wake
    for (auto& t : ts) t.join();
    BOOST_TEST(c.concurrent.load() == 0);
    BOOST_TEST(h.get() == c.total);
    BOOST_TEST_MESSAGE(c.polls << " polls for " << c.total << " remote wakes");
    BOOST_TEST(c.polls >= 2u);
    BOOST_TEST(c.polls <= c.total + 1);
    c.wakers.clear();
}

BOOST_AUTO_TEST_CASE(spawns_from_another_thread_reach_a_running_executor) {
    zuki::test::Watchdog dog(60s, "remote spawns");
    SingleThreadedExecutor ex;
    auto flag = std::make_shared<FlagState>();
    JoinHandle<int> keep_alive = ex.spawn(WaitFlag{flag});  // keeps run() going
    const int n = 1000 * stress_scale();
    std::atomic<int> ran{0};
    std::thread producer([&] {
        for (int i = 0; i < n; ++i)
            ex.spawn(poll_fn([&](Context&) {
                  ran.fetch_add(1, std::memory_order_relaxed);
                  return Poll<void>::ready();
              }))
                .detach();
        flag->signal();
    });
    ex.run();
    producer.join();
    ex.run();  // spawns that raced the end of the first run()
    BOOST_TEST(ran.load() == n);
    BOOST_TEST(keep_alive.get() == 1);
}

BOOST_AUTO_TEST_CASE(the_executor_can_be_driven_by_another_thread) {
    zuki::test::Watchdog dog(30s, "driven elsewhere");
    std::vector<int> log;
    SingleThreadedExecutor ex;
    for (int i = 0; i < 3; ++i) ex.spawn(Record{&log, i}).detach();
    std::thread([&] { ex.run(); }).join();
    BOOST_TEST(log.size() == 3u);
}

// ---- exceptions ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_exception_goes_to_its_handle_and_other_tasks_are_unaffected) {
    SingleThreadedExecutor ex;
    JoinHandle<int> bad = ex.spawn(Throws{});
    JoinHandle<int> good = ex.spawn(zuki::ready(5));
    ex.run();
    BOOST_CHECK_THROW(bad.get(), MyError);
    BOOST_TEST(good.get() == 5);
}

BOOST_AUTO_TEST_CASE(a_detached_exception_reaches_the_handler) {
    std::vector<std::exception_ptr> seen;
    SingleThreadedExecutor ex([&](std::exception_ptr e) { seen.push_back(std::move(e)); });
    ex.spawn(Throws{}).detach();
    JoinHandle<int> good = ex.spawn(zuki::ready(5));
    ex.run();
    BOOST_TEST(seen.size() == 1u);
    BOOST_CHECK_THROW(std::rethrow_exception(seen.at(0)), MyError);
    BOOST_TEST(good.get() == 5);
}

BOOST_AUTO_TEST_CASE(a_throwing_handler_does_not_take_the_executor_down) {
    SingleThreadedExecutor ex([](std::exception_ptr) { throw std::runtime_error("handler"); });
    ex.spawn(Throws{}).detach();
    JoinHandle<int> good = ex.spawn(zuki::ready(5));
    ex.run();
    BOOST_TEST(good.get() == 5);
}

BOOST_AUTO_TEST_CASE(the_default_handler_prints_to_stderr_and_continues) {
    // Capture fd 2 in a temporary file for the duration of the run.
    std::fflush(stderr);
    const int saved = ::dup(2);
    FILE* capture = std::tmpfile();
    BOOST_REQUIRE(capture != nullptr);
    ::dup2(::fileno(capture), 2);
    int good_value = 0;
    {
        SingleThreadedExecutor ex;
        ex.spawn(Throws{}).detach();
        JoinHandle<int> good = ex.spawn(zuki::ready(5));
        ex.run();
        good_value = good.get();
    }
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::rewind(capture);
    std::string text;
    char buf[256];
    while (std::fgets(buf, sizeof buf, capture)) text += buf;
    std::fclose(capture);
    BOOST_TEST(good_value == 5);
    BOOST_TEST(text.find("zuki: unhandled exception in a detached task: boom") != std::string::npos,
               "stderr was: " << text);
}

// ---- destruction
// ----------------------------------------------------------------------------------

namespace {
/// Never ready; on destruction wakes another task's waker (a wake during the shutdown sweep).
struct WakesOnDrop {
    zuki::test::DropCounter token;
    std::shared_ptr<std::optional<Waker>> target;
    WakesOnDrop(zuki::test::DropCounter t, std::shared_ptr<std::optional<Waker>> w)
        : token(std::move(t)), target(std::move(w)) {}
    WakesOnDrop(WakesOnDrop&&) noexcept = default;
    ~WakesOnDrop() {
        if (token.is_live() && target && *target) (*target)->wake_by_ref();
    }
    Poll<int> poll(Context&) { return Poll<int>::pending(); }
};
}  // namespace

BOOST_AUTO_TEST_CASE(the_destructor_cancels_every_pending_task_and_destroys_each_future_once) {
    zuki::test::DropRegistry drops(5);
    auto leaked = std::make_shared<std::optional<Waker>>();  // task 0's waker, kept by the test
    auto b_waker = std::make_shared<std::optional<Waker>>();  // task 3's waker
    std::vector<JoinHandle<int>> handles;
    {
        SingleThreadedExecutor ex;
        // 0: idle; its waker is held by the test and outlives the executor.
        handles.push_back(
            ex.spawn(NeverReady{zuki::test::DropCounter(drops, 0), leaked, {}, false}));
        // 1: idle, holding its own waker: a reference cycle only the shutdown sweep breaks.
        handles.push_back(ex.spawn(NeverReady{zuki::test::DropCounter(drops, 1), {}, {}, true}));
        // 2: idle; destroying it wakes task 3 in the middle of the sweep.
        handles.push_back(ex.spawn(WakesOnDrop(zuki::test::DropCounter(drops, 2), b_waker)));
        // 3: idle (its waker in b_waker).
        handles.push_back(
            ex.spawn(NeverReady{zuki::test::DropCounter(drops, 3), b_waker, {}, false}));
        while (ex.step()) {}
        // 4: queued, never polled.
        handles.push_back(ex.spawn(NeverReady{zuki::test::DropCounter(drops, 4), {}, {}, false}));
        BOOST_TEST(ex.task_count() == 5u);
        for (std::size_t i = 0; i < 5; ++i) BOOST_TEST(drops.live(i) == 1);
    }
    for (std::size_t i = 0; i < 5; ++i) {
        BOOST_TEST(drops.drops(i) == 1, "future " << i);
        BOOST_TEST(drops.live(i) == 0, "future " << i);
        BOOST_TEST(handles[i].is_finished());
        BOOST_CHECK_THROW(handles[i].get(), zuki::TaskCancelled);
    }
    // Wakes after destruction are no-ops (ASan: no use after free).
    BOOST_TEST(leaked->has_value());
    (*leaked)->wake_by_ref();
    Waker(**leaked).wake();
    (*b_waker)->wake_by_ref();
    leaked->reset();
    handles.clear();
    b_waker->reset();  // the last references: tasks and the scheduler are freed now
}

BOOST_AUTO_TEST_CASE(a_waker_kept_past_the_executor_is_harmless) {
    Waker kept = Waker::noop();
    {
        SingleThreadedExecutor ex;
        ex.spawn(poll_fn([&](Context& cx) {
              kept = cx.waker();
              return Poll<void>::pending();
          }))
            .detach();
        (void)ex.step();
    }
    BOOST_TEST(!kept.will_wake(Waker::noop()));  // a real task waker
    kept.wake_by_ref();
    Waker copy = kept;
    copy.wake();
    kept.wake();  // the last reference: the task and the scheduler are freed
}

BOOST_AUTO_TEST_CASE(a_wake_racing_the_destructor_is_cancelled_not_lost_or_leaked) {
    zuki::test::Watchdog dog(60s, "wake racing destruction");
    const int rounds = 200 * stress_scale();
    for (int r = 0; r < rounds; ++r) {
        zuki::test::DropRegistry drops(1);
        auto w = std::make_shared<std::optional<Waker>>();
        JoinHandle<int> h;
        std::thread waker;
        {
            SingleThreadedExecutor ex;
            h = ex.spawn(NeverReady{zuki::test::DropCounter(drops, 0), w, {}, false});
            (void)ex.step();
            Waker mine = **w;
            w->reset();
            waker = std::thread([m = std::move(mine)]() mutable { m.wake(); });  // by value
        }
        waker.join();
        BOOST_TEST(drops.drops(0) == 1);
        BOOST_CHECK_THROW(h.get(), zuki::TaskCancelled);
    }
}

BOOST_AUTO_TEST_CASE(spawn_during_destruction_throws_executor_stopped) {
    struct SpawnsOnDrop {
        SingleThreadedExecutor* ex;
        bool* threw;
        bool armed = true;
        SpawnsOnDrop(SingleThreadedExecutor* e, bool* t) : ex(e), threw(t) {}
        SpawnsOnDrop(SpawnsOnDrop&& o) noexcept
            : ex(o.ex), threw(o.threw), armed(std::exchange(o.armed, false)) {}
        ~SpawnsOnDrop() {
            if (!armed) return;
            try {
                ex->spawn(zuki::ready(1)).detach();
            } catch (const zuki::ExecutorStopped&) {
                *threw = true;
            }
        }
        Poll<int> poll(Context&) { return Poll<int>::pending(); }
    };
    bool threw = false;
    {
        SingleThreadedExecutor ex;
        ex.spawn(SpawnsOnDrop(&ex, &threw)).detach();
    }
    BOOST_TEST(threw);
}

// ---- misuse
// ---------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(run_block_on_and_step_from_inside_a_task_throw_logic_error) {
    SingleThreadedExecutor ex;
    SingleThreadedExecutor other;
    int run_threw = 0, block_on_threw = 0, step_threw = 0, other_run_threw = 0, get_threw = 0;
    bool other_step_ok = false;
    JoinHandle<int> sibling = ex.spawn_low(zuki::ready(3));
    ex.spawn(poll_fn([&](Context&) {
          try {
              ex.run();
          } catch (const std::logic_error&) {
              ++run_threw;
          }
          try {
              (void)ex.block_on(zuki::ready(1));
          } catch (const std::logic_error&) {
              ++block_on_threw;
          }
          try {
              (void)ex.step();
          } catch (const std::logic_error&) {
              ++step_threw;
          }
          try {
              other.run();  // blocking inside any task is refused
          } catch (const std::logic_error&) {
              ++other_run_threw;
          }
          (void)other.step();  // never blocks: allowed
          other_step_ok = true;
          try {
              (void)sibling.get();
          } catch (const std::logic_error&) {
              ++get_threw;
          }
          return Poll<void>::ready();
      }))
        .detach();
    ex.run();
    BOOST_TEST(run_threw == 1);
    BOOST_TEST(block_on_threw == 1);
    BOOST_TEST(step_threw == 1);
    BOOST_TEST(other_run_threw == 1);
    BOOST_TEST(other_step_ok);
    BOOST_TEST(get_threw == 1);
    BOOST_TEST(ex.is_empty());  // the refused block_on spawned nothing
    BOOST_TEST(sibling.get() == 3);  // and works outside
}

BOOST_AUTO_TEST_CASE(driving_from_two_threads_at_once_throws_logic_error) {
    zuki::test::Watchdog dog(30s, "two drivers");
    SingleThreadedExecutor ex;
    auto flag = std::make_shared<FlagState>();
    std::atomic<bool> polled{false};
    JoinHandle<int> h = ex.spawn(poll_fn([&, inner = WaitFlag{flag}](Context& cx) mutable {
        polled.store(true, std::memory_order_release);
        return inner.poll(cx);
    }));
    int threw = 0;
    std::thread other([&] {
        while (!polled.load(std::memory_order_acquire)) std::this_thread::yield();
        try {
            (void)ex.step();  // main is inside run()
        } catch (const std::logic_error&) {
            ++threw;
        }
        flag->signal();
    });
    ex.run();
    other.join();
    BOOST_TEST(threw == 1);
    BOOST_TEST(h.get() == 1);
}

BOOST_AUTO_TEST_CASE(a_failed_spawn_queues_nothing) {
    struct ThrowsOnMove {
        ThrowsOnMove() = default;
        ThrowsOnMove(ThrowsOnMove&&) { throw std::runtime_error("move"); }
        Poll<int> poll(Context&) { return 0; }
    };
    SingleThreadedExecutor ex;
    BOOST_CHECK_THROW((void)ex.spawn(ThrowsOnMove{}), std::runtime_error);
    BOOST_TEST(ex.is_empty());
    BOOST_TEST(!ex.step());
}
