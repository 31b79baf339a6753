#include <zuki/asio/awaitable.hpp>
#define BOOST_TEST_MODULE zuki asio awaitable
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <zuki/core/async.hpp>
#include <zuki/core/combinators.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>

#include "common/block_on.hpp"
#include "common/gate_future.hpp"
#include "common/watchdog.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using zuki::test::Watchdog;

namespace {

// Zuki tasks that wait on an Asio timer of the pool (zuki::use_future) before finishing.
zuki::Async<void> pause(zuki::WorkStealingExecutor& pool, std::chrono::milliseconds d) {
    asio::steady_timer t(pool.get_executor(), d);
    co_await t.async_wait(zuki::use_future);
}
zuki::Async<int> slow_value(zuki::WorkStealingExecutor& pool, int v) {
    co_await pause(pool, 5ms);
    co_return v;
}
zuki::Async<int> slow_failure(zuki::WorkStealingExecutor& pool) {
    co_await pause(pool, 5ms);
    throw std::runtime_error("zuki task failed");
}
zuki::Async<void> slow_void(zuki::WorkStealingExecutor& pool, std::atomic<int>& done) {
    co_await pause(pool, 2ms);
    done.fetch_add(1);
}

struct NoDefault {
    explicit NoDefault(int x) : v(x) {}
    int v;
};

// Runs `a` on `io` (this thread) to completion and returns its result.
template <class T>
T run_on(asio::io_context& io, asio::awaitable<T> a) {
    auto f = asio::co_spawn(io, std::move(a), asio::use_future);
    io.restart();
    io.run();
    return f.get();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(as_awaitable_tests)

BOOST_AUTO_TEST_CASE(ready_futures) {
    Watchdog dog(30s, "ready_futures");
    asio::io_context io;
    auto body = []() -> asio::awaitable<int> {
        int a = co_await zuki::as_awaitable(zuki::ready(5));
        co_await zuki::as_awaitable(zuki::ready());
        NoDefault nd = co_await zuki::as_awaitable(zuki::ready(NoDefault(3)));
        co_return a + nd.v;
    };
    BOOST_TEST(run_on(io, body()) == 8);
}

BOOST_AUTO_TEST_CASE(a_gate_is_polled_on_the_awaiting_coroutines_thread) {
    Watchdog dog(30s, "gate");
    asio::io_context io;
    auto gate = zuki::test::make_gate_state();
    asio::steady_timer opener(io, 2ms);
    // Opens the gate once it was polled (pending) once: a slow run (TSan) could otherwise see
    // the timer fire before the first poll.
    std::function<void(boost::system::error_code)> open = [&](boost::system::error_code) {
        if (gate->polls == 0) {
            opener.expires_after(1ms);
            opener.async_wait(open);
            return;
        }
        gate->open(11);
    };
    opener.async_wait(open);
    auto body = [](std::shared_ptr<zuki::test::GateState> g) -> asio::awaitable<int> {
        co_return co_await zuki::as_awaitable(zuki::test::Gate<int>(g));
    };
    BOOST_TEST(run_on(io, body(gate)) == 11);
    BOOST_TEST(gate->polls == 2);  // first poll pending, second after the wake
    BOOST_TEST(gate->live == 0);  // the future was destroyed on completion
}

BOOST_AUTO_TEST_CASE(join_handle_from_a_pool_resumes_on_the_io_context) {
    Watchdog dog(30s, "join_handle_on_io_context");
    zuki::WorkStealingExecutor pool(2);
    asio::io_context io;
    const auto io_thread = std::this_thread::get_id();
    auto body = [](zuki::WorkStealingExecutor& p,
                   std::thread::id expected) -> asio::awaitable<int> {
        zuki::JoinHandle<int> h = p.spawn(slow_value(p, 20));
        const int v = co_await zuki::as_awaitable(std::move(h));
        if (std::this_thread::get_id() != expected) co_return -1;
        co_return v + 1;
    };
    BOOST_TEST(run_on(io, body(pool, io_thread)) == 21);
}

BOOST_AUTO_TEST_CASE(exceptions_propagate_into_the_asio_coroutine) {
    Watchdog dog(30s, "exceptions_into_asio");
    // Keeps the caught exception alive until the pool's threads are joined. (libstdc++ is not
    // instrumented: TSan cannot see exception_ptr's reference count, and would report the
    // exception freed on a worker — after the task's last reference went — as racing with this
    // thread's earlier read of what().)
    std::exception_ptr kept;
    zuki::WorkStealingExecutor pool(2);
    asio::io_context io;
    auto body = [](zuki::WorkStealingExecutor& p,
                   std::exception_ptr& k) -> asio::awaitable<std::string> {
        try {
            co_await zuki::as_awaitable(p.spawn(slow_failure(p)));
        } catch (const std::runtime_error& e) {
            k = std::current_exception();
            co_return e.what();
        }
        co_return "no exception";
    };
    BOOST_TEST(run_on(io, body(pool, kept)) == "zuki task failed");

    auto throwing_poll = []() -> asio::awaitable<void> {
        co_await zuki::as_awaitable(zuki::map(
            zuki::ready(1), [](int) -> int { throw std::logic_error("thrown by poll"); }));
    };
    BOOST_CHECK_THROW(run_on(io, throwing_poll()), std::logic_error);
}

BOOST_AUTO_TEST_CASE(awaited_from_coroutines_running_on_the_pool) {
    Watchdog dog(60s, "awaited_on_pool");
    zuki::WorkStealingExecutor pool(2);
    constexpr int n = 300;
    std::atomic<int> sum{0};
    auto one = [](zuki::WorkStealingExecutor& p, int i,
                  std::atomic<int>& s) -> asio::awaitable<void> {
        const int v = co_await zuki::as_awaitable(p.spawn(slow_value(p, i)));
        if (!p.running_in_this_thread()) co_return;  // resumed elsewhere: not counted
        s.fetch_add(v);
    };
    std::vector<std::future<void>> done;
    for (int i = 0; i < n; ++i)
        done.push_back(asio::co_spawn(pool.get_executor(), one(pool, i, sum), asio::use_future));
    for (auto& f : done) f.get();
    BOOST_TEST(sum.load() == n * (n - 1) / 2);
}

BOOST_AUTO_TEST_CASE(cancellation_drops_the_future) {
    Watchdog dog(30s, "cancellation");
    using namespace asio::experimental::awaitable_operators;
    asio::io_context io;
    auto gate = zuki::test::make_gate_state();
    auto body = [](std::shared_ptr<zuki::test::GateState> g) -> asio::awaitable<int> {
        asio::steady_timer t(co_await asio::this_coro::executor, 5ms);
        auto r = co_await (zuki::as_awaitable(zuki::test::Gate<int>(g)) ||
                           t.async_wait(asio::use_awaitable));
        co_return static_cast<int>(r.index());
    };
    BOOST_TEST(run_on(io, body(gate)) == 1);  // the timer won
    BOOST_TEST(gate->live == 0);  // the gate was dropped, never opened
    BOOST_TEST(gate->drops >= 1);
}

BOOST_AUTO_TEST_CASE(a_wake_after_completion_is_harmless) {
    Watchdog dog(30s, "late_wake");
    asio::io_context io;
    auto gate = zuki::test::make_gate_state();
    std::optional<zuki::Waker> kept;
    auto body = [](std::shared_ptr<zuki::test::GateState> g) -> asio::awaitable<int> {
        co_return co_await zuki::as_awaitable(zuki::test::Gate<int>(g));
    };
    auto f = asio::co_spawn(io, body(gate), asio::use_future);
    io.poll();
    BOOST_REQUIRE(gate->waker.has_value());
    kept = *gate->waker;  // a clone that outlives the operation
    gate->open(4);
    io.restart();
    io.run();
    BOOST_TEST(f.get() == 4);
    kept->wake_by_ref();  // DONE: nothing happens
    kept->wake();
    io.restart();
    BOOST_TEST(io.run() == 0u);
}

BOOST_AUTO_TEST_CASE(async_await_with_a_callback_and_an_executor) {
    Watchdog dog(30s, "async_await_callback");
    zuki::WorkStealingExecutor pool(2);
    std::promise<std::pair<int, bool>> p;
    zuki::async_await(pool.get_executor(), pool.spawn(slow_value(pool, 3)),
                      [&](std::exception_ptr e, int v) {
                          p.set_value({e ? -1 : v, pool.running_in_this_thread()});
                      });
    const auto [v, on_pool] = p.get_future().get();
    BOOST_TEST(v == 3);
    BOOST_TEST(on_pool);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(spawn_awaitable_tests)

asio::awaitable<int> timer_then_zuki(zuki::WorkStealingExecutor& pool) {
    asio::steady_timer t(co_await asio::this_coro::executor, 2ms);
    co_await t.async_wait(asio::use_awaitable);
    co_return co_await zuki::as_awaitable(pool.spawn(slow_value(pool, 40))) + 2;
}
asio::awaitable<int> throws_after_a_timer() {
    asio::steady_timer t(co_await asio::this_coro::executor, 2ms);
    co_await t.async_wait(asio::use_awaitable);
    throw std::runtime_error("asio coroutine failed");
}
asio::awaitable<void> count_up(std::atomic<int>& n) {
    n.fetch_add(1);
    co_return;
}

BOOST_AUTO_TEST_CASE(returns_a_join_handle_whose_get_returns_the_value) {
    Watchdog dog(30s, "spawn_awaitable_value");
    zuki::WorkStealingExecutor pool(2);
    zuki::JoinHandle<int> h = zuki::spawn_awaitable(pool, timer_then_zuki(pool));
    BOOST_TEST(h.get() == 42);
    std::atomic<int> n{0};
    zuki::spawn_awaitable(pool, count_up(n), zuki::TaskPriority::High).get();
    BOOST_TEST(n.load() == 1);
}

BOOST_AUTO_TEST_CASE(rethrows_the_coroutines_exception) {
    Watchdog dog(30s, "spawn_awaitable_throws");
    zuki::WorkStealingExecutor pool(2);
    auto h = zuki::spawn_awaitable(pool, throws_after_a_timer());
    BOOST_CHECK_THROW(h.get(), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(awaited_from_a_zuki_async) {
    Watchdog dog(30s, "spawn_awaitable_in_async");
    zuki::WorkStealingExecutor pool(2);
    auto body = [](zuki::WorkStealingExecutor& p) -> zuki::Async<int> {
        int a = co_await zuki::spawn_awaitable(p, timer_then_zuki(p));
        try {
            co_await zuki::spawn_awaitable(p, throws_after_a_timer());
        } catch (const std::runtime_error&) {
            a += 100;
        }
        co_return a;
    };
    BOOST_TEST(pool.block_on(body(pool)) == 142);
}

BOOST_AUTO_TEST_CASE(on_the_single_threaded_executor) {
    Watchdog dog(30s, "spawn_awaitable_single_threaded");
    zuki::SingleThreadedExecutor ex;
    auto coro = [](zuki::SingleThreadedExecutor& e) -> asio::awaitable<int> {
        asio::steady_timer t(co_await asio::this_coro::executor, 2ms);
        co_await t.async_wait(asio::use_awaitable);
        co_return co_await zuki::as_awaitable(e.spawn(zuki::ready(7))) * 6;
    };
    BOOST_TEST(ex.block_on(zuki::spawn_awaitable(ex, coro(ex))) == 42);
}

BOOST_AUTO_TEST_CASE(many_round_trips_between_the_two_worlds) {
    Watchdog dog(60s, "round_trips");
    zuki::WorkStealingExecutor pool(2);
    std::atomic<int> done{0};
    auto ping = [](zuki::WorkStealingExecutor& p, std::atomic<int>& d) -> asio::awaitable<int> {
        int total = 0;
        for (int i = 0; i < 20; ++i) {
            co_await zuki::as_awaitable(p.spawn(slow_void(p, d)));
            total += co_await zuki::as_awaitable(p.spawn(zuki::ready(1)));
        }
        co_return total;
    };
    std::vector<zuki::JoinHandle<int>> hs;
    for (int i = 0; i < 50; ++i) hs.push_back(zuki::spawn_awaitable(pool, ping(pool, done)));
    int total = 0;
    for (auto& h : hs) total += h.get();
    BOOST_TEST(total == 50 * 20);
    BOOST_TEST(done.load() == 50 * 20);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(shutdown_tests)

BOOST_AUTO_TEST_CASE(pool_destroyed_while_a_coroutine_awaits_a_pending_task) {
    Watchdog dog(30s, "pool_destroyed_while_awaiting");
    std::atomic<bool> resumed{false};
    {
        zuki::WorkStealingExecutor pool(2);
        auto coro = [](zuki::WorkStealingExecutor& p,
                       std::atomic<bool>& r) -> asio::awaitable<void> {
            co_await zuki::as_awaitable(p.spawn(zuki::pending<int>()));
            r.store(true);
        };
        asio::co_spawn(pool.get_executor(), coro(pool, resumed), asio::detached);
        std::this_thread::sleep_for(10ms);
    }  // stop, cancel the pending task (its JoinHandle wakes the awaiting operation), free all
    BOOST_TEST(!resumed.load());
}

BOOST_AUTO_TEST_SUITE_END()
