// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/asio/detail/reactor_driver.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki asio reactor driver
#include <boost/test/unit_test.hpp>

// Sockets and timers on the executors' own threads (asio/detail/reactor_driver.hpp,
// runtime/io_driver.hpp): no hidden reactor thread, completions on the pool, the reactor
// noticed by a busy pool, and shutdown with operations pending. On the fallback path (another
// Boost version, or ZUKI_ASIO_REACTOR_ON_WORKERS=OFF) Asio runs its reactor on a thread of its
// own; the tests say what they expect there.

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <zuki/core/async.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>
#include <zuki/sync/oneshot.hpp>
#include <zuki/time/delay.hpp>

#include "common/block_on.hpp"
#include "common/test_env.hpp"
#include "common/watchdog.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using zuki::SingleThreadedExecutor;
using zuki::WorkStealingExecutor;

namespace {

const bool on_workers = zuki::detail::reactor_on_executor_threads();

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit = 10s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(200us);
    }
    return true;
}

// A connected loopback pair: `server` accepted by an acceptor on `ctx`, `client` on `client_ctx`.
// Callers name the sockets as references into the pair, not as a structured binding: clang 14
// cannot capture a binding in a lambda.
template <class Ctx, class ClientCtx>
std::pair<tcp::socket, tcp::socket> connected_pair(Ctx& ctx, ClientCtx& client_ctx) {
    tcp::acceptor acc(ctx, {asio::ip::address_v4::loopback(), 0});
    tcp::socket client(client_ctx);
    client.connect(acc.local_endpoint());
    tcp::socket server = acc.accept();
    return {std::move(server), std::move(client)};
}

// Counts the handler objects alive (a handler destroyed without being called is released).
struct Lives {
    std::atomic<int> alive{0};
    std::atomic<int> called{0};
    std::atomic<int> aborted{0};
};
struct CountedHandler {
    explicit CountedHandler(std::shared_ptr<Lives> l) : lives(std::move(l)) { ++lives->alive; }
    CountedHandler(const CountedHandler& o) : lives(o.lives) { ++lives->alive; }
    CountedHandler(CountedHandler&& o) noexcept : lives(o.lives) { ++lives->alive; }
    ~CountedHandler() { --lives->alive; }
    void operator()(boost::system::error_code ec, std::size_t = 0) const {
        ++lives->called;
        if (ec == asio::error::operation_aborted) ++lives->aborted;
    }
    void operator()(boost::system::error_code ec, tcp::socket) const { (*this)(ec); }
    std::shared_ptr<Lives> lives;
};

}  // namespace

// ---- threads ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_pool_of_n_runs_exactly_n_threads_with_sockets_and_timers) {
    zuki::test::Watchdog w(60s, "pool threads");
    const int baseline = zuki::test::process_threads();
    // On the fallback path the Zuki delay below uses the global timer service, whose thread
    // (started by its first use in the process) lives until exit.
    const int timer_thread = on_workers || zuki::TimerService::global().running() ? 0 : 1;
    {
        WorkStealingExecutor pool(2);
        asio::io_context client_ctx;  // run by nobody: the client side uses blocking calls
        auto sockets = connected_pair(pool, client_ctx);
        tcp::socket& server = sockets.first;
        tcp::socket& client = sockets.second;
        asio::steady_timer timer(pool, 1h);
        timer.async_wait([](boost::system::error_code) {});
        std::array<char, 4> buf{};
        std::atomic<bool> read{false};
        asio::async_read(server, asio::buffer(buf),
                         [&](boost::system::error_code ec, std::size_t) { read = !ec; });
        // A Zuki timer on the pool, pending meanwhile.
        std::atomic<bool> slept{false};
        auto h = pool.spawn([](std::atomic<bool>& s) -> zuki::Async<void> {
            co_await zuki::delay(30ms);
            s = true;
        }(slept));
        asio::write(client, asio::buffer("ping", 4));
        BOOST_TEST(wait_until([&] { return read.load(); }));
        const int during = zuki::test::process_threads();
        h.get();
        BOOST_TEST(slept.load());
        if (on_workers)
            BOOST_TEST(during == baseline + 2);  // the workers, nothing else
        else
            BOOST_TEST(during >= baseline + 3);  // + Asio's reactor thread (fallback)
        timer.cancel();
    }
    BOOST_TEST(zuki::test::threads_back_to(baseline + timer_thread));
}

BOOST_AUTO_TEST_CASE(a_single_threaded_program_with_sockets_and_timers_has_one_thread) {
    zuki::test::Watchdog w(60s, "single-threaded threads");
    const int baseline = zuki::test::process_threads();
    SingleThreadedExecutor ex;
    auto sockets = connected_pair(ex, ex);
    tcp::socket& server = sockets.first;
    tcp::socket& client = sockets.second;
    int during = 0;
    std::string got;
    ex.block_on([&]() -> zuki::Async<void> {
        asio::steady_timer t(ex, 5ms);
        std::array<char, 4> buf{};
        std::size_t n = 0;
        bool done = false;
        asio::async_read(server, asio::buffer(buf), [&](boost::system::error_code, std::size_t k) {
            n = k;
            done = true;
        });
        asio::write(client, asio::buffer("pong", 4));
        co_await zuki::delay(10ms);  // a Zuki timer on the same reactor
        during = zuki::test::process_threads();
        while (!done) co_await zuki::delay(1ms);
        got.assign(buf.data(), n);
    }());
    BOOST_TEST(got == "pong");
    if (on_workers)
        BOOST_TEST(during == baseline);
    else
        BOOST_TEST(during >= baseline + 1);
}

BOOST_AUTO_TEST_CASE(zuki_delays_on_a_pool_use_its_reactor_not_the_global_timer_thread) {
    zuki::test::Watchdog w(60s, "delay on the reactor");
    WorkStealingExecutor pool(2);
    std::atomic<std::size_t> global_pending{99};
    pool.block_on([](std::atomic<std::size_t>& g) -> zuki::Async<void> {
        // A registered delay: the global service has nothing pending while it waits.
        auto d = zuki::delay(20ms);
        auto guard = zuki::delay(5ms);
        co_await guard;
        g = zuki::TimerService::global().pending();
        co_await d;
    }(global_pending));
    if (on_workers) BOOST_TEST(global_pending.load() == 0u);
    // Outside any executor a delay keeps working (the global service).
    const auto t0 = std::chrono::steady_clock::now();
    zuki::test::block_on(zuki::delay(10ms));
    BOOST_TEST((std::chrono::steady_clock::now() - t0 >= 10ms));
}

// ---- the reactor is made with the first socket or timer (issue 16) ------------------------------

BOOST_AUTO_TEST_CASE(a_pool_that_does_no_io_makes_no_reactor) {
    zuki::test::Watchdog w(60s, "no reactor without I/O");
    const long baseline = zuki::test::process_fds();
    {
        WorkStealingExecutor pool(2);
        BOOST_TEST(pool.spawn(zuki::ready(7)).get() == 7);
        std::promise<void> ran;
        asio::post(pool, [&] { ran.set_value(); });
        ran.get_future().get();
        // No epoll instance, eventfd or timerfd: nothing asked for them.
        BOOST_TEST(zuki::test::process_fds() == baseline);
        asio::steady_timer t(pool, 1ms);  // the first timer makes the reactor
        BOOST_TEST(zuki::test::process_fds() > baseline);
        t.wait();
    }
    BOOST_TEST(zuki::test::process_fds() == baseline);  // and the pool's end closes it
}

BOOST_AUTO_TEST_CASE(a_reactor_made_while_every_worker_sleeps_is_driven) {
    zuki::test::Watchdog w(120s, "late reactor on a pool");
    // The first timer or socket comes when both workers are asleep on their futexes (which one
    // drives is chosen when a worker parks): the activation must wake one to drive it. A timer,
    // a socket, and a Zuki delay (the pool's own timers), each on fresh pools, at several
    // delays after the start, so some activations race with the workers' parking.
    for (int round = 0; round < 12; ++round) {
        const auto idle_for = std::chrono::microseconds(round % 4 == 0 ? 20'000 : 50 * round);
        {
            WorkStealingExecutor pool(2);
            std::this_thread::sleep_for(idle_for);
            asio::steady_timer t(pool, 1ms);
            std::promise<void> fired;
            t.async_wait([&](boost::system::error_code) { fired.set_value(); });
            BOOST_TEST_REQUIRE((fired.get_future().wait_for(10s) == std::future_status::ready));
        }
        {
            WorkStealingExecutor pool(2);
            std::this_thread::sleep_for(idle_for);
            asio::io_context client_ctx;
            tcp::acceptor acc(pool, {asio::ip::address_v4::loopback(), 0});
            std::promise<boost::system::error_code> accepted;  // (no Boost.Test on a worker)
            acc.async_accept(
                [&](boost::system::error_code ec, tcp::socket) { accepted.set_value(ec); });
            std::this_thread::sleep_for(idle_for);
            tcp::socket client(client_ctx);
            client.connect(acc.local_endpoint());
            auto result = accepted.get_future();
            BOOST_TEST_REQUIRE((result.wait_for(10s) == std::future_status::ready));
            BOOST_TEST(!result.get());
        }
        {
            WorkStealingExecutor pool(2);
            std::this_thread::sleep_for(idle_for);
            const auto t0 = std::chrono::steady_clock::now();
            pool.block_on(zuki::delay(2ms));
            BOOST_TEST((std::chrono::steady_clock::now() - t0 >= 2ms));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_single_threaded_executor_asleep_drives_a_reactor_made_by_another_thread) {
    zuki::test::Watchdog w(60s, "late reactor on a single-threaded executor");
    SingleThreadedExecutor ex;
    auto [tx, rx] = zuki::sync::oneshot<int>();
    std::optional<asio::steady_timer> timer;
    std::thread other([&, tx = std::move(tx)]() mutable {
        std::this_thread::sleep_for(20ms);  // the executor's thread is asleep by now
        timer.emplace(ex, 1ms);  // the executor's first timer: its reactor
        timer->async_wait([tx = std::move(tx)](boost::system::error_code) mutable {
            (void)tx.send(1);  // runs on the executor's thread, in block_on below
        });
    });
    const int got = ex.block_on(std::move(rx));
    other.join();
    BOOST_TEST(got == 1);
}

// ---- completions ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_immediate_completion_runs_on_the_worker_that_started_it) {
    zuki::test::Watchdog w(60s, "same-thread completion");
    WorkStealingExecutor pool(2);
    asio::io_context client_ctx;
    auto sockets = connected_pair(pool, client_ctx);
    tcp::socket& server = sockets.first;
    tcp::socket& client = sockets.second;
    std::promise<std::pair<std::thread::id, std::thread::id>> ids;
    asio::post(pool, [&] {
        const auto starter = std::this_thread::get_id();
        // A small write completes at once (speculatively): its handler runs on this worker.
        asio::async_write(server, asio::buffer("abcd", 4),
                          [&, starter](boost::system::error_code, std::size_t) {
                              ids.set_value({starter, std::this_thread::get_id()});
                          });
    });
    const auto [starter, completer] = ids.get_future().get();
    if (on_workers) BOOST_TEST((starter == completer));
    std::array<char, 4> buf{};
    asio::read(client, asio::buffer(buf));
    BOOST_TEST(std::string(buf.data(), 4) == "abcd");
}

BOOST_AUTO_TEST_CASE(ready_io_is_spread_over_the_workers) {
    zuki::test::Watchdog w(60s, "spread");
    WorkStealingExecutor pool(2);
    asio::io_context client_ctx;
    constexpr int conns = 8;
    std::vector<std::pair<tcp::socket, tcp::socket>> pairs;
    for (int i = 0; i < conns; ++i) pairs.push_back(connected_pair(pool, client_ctx));
    std::mutex m;
    std::set<std::thread::id> threads;
    std::atomic<int> done{0};
    // Each connection echoes 200 messages; every read completion notes its thread.
    struct Echo {
        tcp::socket* s;
        std::array<char, 64> buf{};
        int left = 200;
    };
    std::vector<std::unique_ptr<Echo>> echoes;
    std::function<void(Echo*)> read_one = [&](Echo* e) {
        asio::async_read(*e->s, asio::buffer(e->buf),
                         [&, e](boost::system::error_code ec, std::size_t) {
                             if (ec) return;
                             {
                                 std::lock_guard lock(m);
                                 threads.insert(std::this_thread::get_id());
                             }
                             // Some work per message, so that one worker cannot keep up alone.
                             const auto until = std::chrono::steady_clock::now() + 50us;
                             while (std::chrono::steady_clock::now() < until) {}
                             asio::async_write(*e->s, asio::buffer(e->buf),
                                               [&, e](boost::system::error_code wec, std::size_t) {
                                                   if (wec) return;
                                                   if (--e->left == 0)
                                                       ++done;
                                                   else
                                                       read_one(e);
                                               });
                         });
    };
    for (auto& p : pairs) {
        echoes.push_back(std::make_unique<Echo>());
        echoes.back()->s = &p.first;
        read_one(echoes.back().get());
    }
    std::vector<std::thread> clients;
    for (auto& p : pairs)
        clients.emplace_back([&p] {
            std::array<char, 64> buf{};
            for (int k = 0; k < 200; ++k) {
                asio::write(p.second, asio::buffer(buf));
                asio::read(p.second, asio::buffer(buf));
            }
        });
    for (auto& c : clients) c.join();
    BOOST_TEST(wait_until([&] { return done.load() == conns; }));
    std::lock_guard lock(m);
    BOOST_TEST(threads.size() == 2u);  // both workers ran completions
}

// ---- a busy pool still notices I/O and timers ---------------------------------------------------

BOOST_AUTO_TEST_CASE(a_pool_whose_workers_never_idle_still_fires_timers_and_completes_reads) {
    zuki::test::Watchdog w(60s, "busy pool notices the reactor");
    WorkStealingExecutor pool(2);
    asio::io_context client_ctx;
    auto sockets = connected_pair(pool, client_ctx);
    tcp::socket& server = sockets.first;
    tcp::socket& client = sockets.second;
    std::atomic<bool> stop{false};
    // Keep every worker busy forever: each handler spins 20 us and re-posts itself, so no
    // worker ever runs out of work and parks (where it would drive the reactor).
    std::function<void()> spinner = [&] {
        const auto until = std::chrono::steady_clock::now() + 20us;
        while (std::chrono::steady_clock::now() < until) {}
        if (!stop.load()) asio::post(pool, spinner);
    };
    for (int i = 0; i < 4; ++i) asio::post(pool, spinner);
    std::this_thread::sleep_for(10ms);
    std::atomic<bool> fired{false};
    std::atomic<bool> read{false};
    asio::steady_timer timer(pool, 5ms);
    timer.async_wait([&](boost::system::error_code ec) { fired = !ec; });
    std::array<char, 4> buf{};
    asio::async_read(server, asio::buffer(buf),
                     [&](boost::system::error_code ec, std::size_t) { read = !ec; });
    asio::write(client, asio::buffer("busy", 4));
    BOOST_TEST(wait_until([&] { return fired.load() && read.load(); }, 20s));
    stop = true;
    pool.join();
}

// The busy-poll period (runtime/io_driver.hpp, next_busy_poll_period): longer while every poll
// finds a batch of ready operations, back to the short one after a poll that finds few.
BOOST_AUTO_TEST_CASE(the_busy_poll_period_grows_while_polls_find_batches_then_resets) {
    using zuki::detail::next_busy_poll_period;
    constexpr std::int64_t base = zuki::detail::io_busy_poll_period_ns;
    constexpr std::int64_t cap = zuki::detail::io_busy_poll_period_max_ns;
    constexpr std::size_t batch = zuki::detail::io_busy_poll_batch;
    static_assert(base > 0 && cap > base && batch > 1);
    BOOST_TEST(next_busy_poll_period(base, 0) == base);
    BOOST_TEST(next_busy_poll_period(base, batch - 1) == base);
    BOOST_TEST(next_busy_poll_period(base, batch) == 2 * base);
    std::int64_t p = base;
    int doublings = 0;
    for (; p < cap; ++doublings) p = next_busy_poll_period(p, 1000);
    BOOST_TEST(p == cap);
    BOOST_TEST(doublings < 10);
    BOOST_TEST(next_busy_poll_period(p, 1000) == cap);  // no further
    BOOST_TEST(next_busy_poll_period(p, batch - 1) == base);
}

namespace {

// `timers` steady_timers on `ex` at once, each re-armed `waits` times for 0-499 us (a server's
// timeouts): every wait completes without error, none before its expiry. Returns the waits done.
template <class Executor>
int timer_storm(const Executor& ex, int timers, int waits, std::function<void()> run = {}) {
    struct Chain {
        explicit Chain(const Executor& e) : timer(e) {}
        asio::steady_timer timer;
        int left = 0;
        unsigned rng = 0;
    };
    std::vector<std::unique_ptr<Chain>> chains;
    std::atomic<int> done{0};
    std::atomic<int> early{0};
    std::atomic<int> failed{0};
    std::function<void(Chain&)> next = [&](Chain& c) {
        c.rng = c.rng * 1664525u + 1013904223u;
        c.timer.expires_after(std::chrono::microseconds((c.rng >> 8) % 500));
        c.timer.async_wait([&, due = c.timer.expiry()](boost::system::error_code ec) {
            if (ec) ++failed;
            if (std::chrono::steady_clock::now() < due) ++early;
            if (--c.left > 0) next(c);
            // Last: once the count is complete the test destroys the chains (TSan found the
            // decrement above racing with that when it came after).
            ++done;
        });
    };
    for (int i = 0; i < timers; ++i) {
        chains.push_back(std::make_unique<Chain>(ex));
        chains.back()->left = waits;
        chains.back()->rng = static_cast<unsigned>(i) * 2654435761u + 1;
    }
    asio::post(ex, [&] {
        for (auto& c : chains) next(*c);
    });
    if (run) run();
    BOOST_TEST(wait_until([&] { return done.load() == timers * waits; }, 60s));
    BOOST_TEST(failed.load() == 0);
    BOOST_TEST(early.load() == 0);
    return done.load();
}

}  // namespace

// The shape that made the busy-poll period adaptive: many timers re-armed at once keep every
// poll finding a batch. Each wait still completes, on time or later, never lost.
BOOST_AUTO_TEST_CASE(thousands_of_timers_rearmed_at_once_all_fire_on_a_pool) {
    zuki::test::Watchdog w(120s, "timer storm on a pool");
    WorkStealingExecutor pool(2);
    BOOST_TEST(timer_storm(pool.get_executor(), 2'000, 20) == 40'000);
    // And the pool still notices a single timer afterwards, the storm over.
    std::atomic<bool> fired{false};
    asio::steady_timer t(pool, 1ms);
    t.async_wait([&](boost::system::error_code ec) { fired = !ec; });
    BOOST_TEST(wait_until([&] { return fired.load(); }));
    pool.join();
}

BOOST_AUTO_TEST_CASE(thousands_of_timers_rearmed_at_once_all_fire_on_a_single_threaded_executor) {
    zuki::test::Watchdog w(120s, "timer storm on a single-threaded executor");
    SingleThreadedExecutor ex;
    // run() returns once no timer is pending any more.
    BOOST_TEST(timer_storm(ex.get_executor(), 2'000, 20, [&] { ex.run(); }) == 40'000);
}

// ---- shutdown with operations pending -------------------------------------------------------

BOOST_AUTO_TEST_CASE(destroying_a_pool_releases_pending_accepts_reads_and_timers) {
    zuki::test::Watchdog w(60s, "destroy with pending operations");
    auto lives = std::make_shared<Lives>();
    asio::io_context client_ctx;
    std::unique_ptr<tcp::socket> client;
    {
        WorkStealingExecutor pool(2);
        tcp::acceptor acc(pool, {asio::ip::address_v4::loopback(), 0});
        auto pair = connected_pair(pool, client_ctx);
        client = std::make_unique<tcp::socket>(std::move(pair.second));
        tcp::socket server = std::move(pair.first);
        asio::steady_timer timer(pool, 1h);
        std::array<char, 16> buf{};
        acc.async_accept(CountedHandler(lives));
        server.async_read_some(asio::buffer(buf), CountedHandler(lives));
        timer.async_wait(CountedHandler(lives));
        std::this_thread::sleep_for(20ms);  // the pool parks, one worker in the reactor
        BOOST_TEST(lives->alive.load() == 3);
        // The I/O objects go first (as any Asio program must), then the pool: each pending
        // operation completes with operation_aborted or is destroyed.
    }
    BOOST_TEST(lives->alive.load() == 0);  // every handler released
    BOOST_TEST(lives->called.load() == lives->aborted.load());  // none saw success
}

BOOST_AUTO_TEST_CASE(stop_then_destroy_releases_pending_operations) {
    // stop() first (the workers leave the reactor with the operations still pending), then the
    // I/O objects and the pool: every operation is released.
    zuki::test::Watchdog w(60s, "stop then destroy with pending operations");
    auto lives = std::make_shared<Lives>();
    {
        WorkStealingExecutor pool(2);
        tcp::acceptor acc(pool, {asio::ip::address_v4::loopback(), 0});
        asio::steady_timer timer(pool, 1h);
        acc.async_accept(CountedHandler(lives));
        timer.async_wait(CountedHandler(lives));
        std::this_thread::sleep_for(10ms);
        pool.stop();  // wakes the worker blocked in the reactor
    }
    BOOST_TEST(lives->alive.load() == 0);
}

BOOST_AUTO_TEST_CASE(stop_wakes_a_worker_blocked_in_the_reactor) {
    zuki::test::Watchdog w(30s, "stop wakes the driver");
    WorkStealingExecutor pool(1);
    tcp::acceptor acc(pool, {asio::ip::address_v4::loopback(), 0});
    acc.async_accept([](boost::system::error_code, tcp::socket) {});
    std::this_thread::sleep_for(20ms);  // the only worker blocks in epoll
    const auto t0 = std::chrono::steady_clock::now();
    pool.stop();
    pool.join();  // returns once the worker left the reactor and exited
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 5s));
    acc.close();
}

BOOST_AUTO_TEST_CASE(join_waits_for_a_pending_accept_and_returns_when_it_completes) {
    zuki::test::Watchdog w(30s, "join with a pending accept");
    WorkStealingExecutor pool(2);
    tcp::acceptor acc(pool, {asio::ip::address_v4::loopback(), 0});
    std::atomic<bool> accepted{false};
    acc.async_accept([&](boost::system::error_code ec, tcp::socket) { accepted = !ec; });
    std::atomic<bool> joined{false};
    std::thread joiner([&] {
        pool.join();  // Asio semantics: outstanding work includes the pending accept
        joined = true;
    });
    std::this_thread::sleep_for(30ms);
    BOOST_TEST(!joined.load());
    asio::io_context client_ctx;
    tcp::socket client(client_ctx);
    client.connect(acc.local_endpoint());  // completes the accept: join() returns
    joiner.join();
    BOOST_TEST(accepted.load());
    BOOST_TEST(joined.load());
}

BOOST_AUTO_TEST_CASE(a_post_from_outside_reaches_a_pool_blocked_in_the_reactor) {
    zuki::test::Watchdog w(30s, "post into an idle pool with a reactor");
    WorkStealingExecutor pool(2);
    tcp::acceptor acc(pool, {asio::ip::address_v4::loopback(), 0});
    acc.async_accept([](boost::system::error_code, tcp::socket) {});
    for (int i = 0; i < 200; ++i) {
        std::this_thread::sleep_for(100us);  // let the pool park (one worker in epoll)
        std::promise<void> ran;
        asio::post(pool, [&] { ran.set_value(); });
        BOOST_TEST_REQUIRE((ran.get_future().wait_for(5s) == std::future_status::ready));
        auto h = pool.spawn(zuki::ready(i));
        BOOST_TEST_REQUIRE(h.get() == i);
    }
    acc.close();
}
