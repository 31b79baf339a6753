#include <zuki/asio/use_future.hpp>
#define BOOST_TEST_MODULE zuki asio use_future
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <zuki/core/async.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>

#include "common/block_on.hpp"
#include "common/loopback.hpp"
#include "common/watchdog.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using zuki::test::Watchdog;

namespace {

// ---- a custom asynchronous operation with any signature, completing inline -------------------
template <class Signature>
struct InlineCompletion;
template <class R, class... Args>
struct InlineCompletion<R(Args...)> {
    template <class Token, class... V>
    static auto start(Token&& token, V... values) {
        return asio::async_initiate<Token, R(Args...)>(
            [](auto handler, auto... vs) { std::move(handler)(std::move(vs)...); }, token,
            std::move(values)...);
    }
};

// A stateful allocator that counts allocations (shared counter), for use_future[alloc].
template <class T>
struct CountingAllocator {
    using value_type = T;
    std::shared_ptr<std::atomic<int>> count;
    explicit CountingAllocator(std::shared_ptr<std::atomic<int>> c) : count(std::move(c)) {}
    template <class U>
    CountingAllocator(const CountingAllocator<U>& o) : count(o.count) {}
    T* allocate(std::size_t n) {
        count->fetch_add(1);
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) { std::allocator<T>().deallocate(p, n); }
    template <class U>
    bool operator==(const CountingAllocator<U>& o) const {
        return count == o.count;
    }
};

using zuki::test::loopback_pair;

zuki::Async<long> timer_elapsed(asio::steady_timer& timer) {
    const auto t0 = std::chrono::steady_clock::now();
    timer.expires_after(20ms);
    co_await timer.async_wait(zuki::use_future);
    co_return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0)
        .count();
}

// (A coroutine lambda's captures would dangle once the lambda temporary is gone: use parameters.)
zuki::Async<void> wait_and_count(zuki::WorkStealingExecutor& pool, int i, std::atomic<int>& hit) {
    asio::steady_timer t(pool.get_executor(), std::chrono::microseconds(i % 13 * 100));
    co_await t.async_wait(zuki::use_future);
    hit.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(signatures)

BOOST_AUTO_TEST_CASE(outputs_follow_the_completion_signature) {
    using boost::system::error_code;
    using zuki::AsioFuture;
    auto a = InlineCompletion<void()>::start(zuki::use_future);
    static_assert(std::is_same_v<decltype(a), AsioFuture<void>>);
    BOOST_TEST(a.is_ready());
    zuki::test::block_on(std::move(a));

    auto b = InlineCompletion<void(error_code)>::start(zuki::use_future, error_code());
    static_assert(std::is_same_v<decltype(b), AsioFuture<void>>);
    zuki::test::block_on(std::move(b));

    auto c = InlineCompletion<void(error_code, std::size_t)>::start(zuki::use_future, error_code(),
                                                                    std::size_t(7));
    static_assert(std::is_same_v<decltype(c), AsioFuture<std::size_t>>);
    BOOST_TEST(zuki::test::block_on(std::move(c)) == 7u);

    auto d = InlineCompletion<void(int)>::start(zuki::use_future, 5);
    static_assert(std::is_same_v<decltype(d), AsioFuture<int>>);
    BOOST_TEST(zuki::test::block_on(std::move(d)) == 5);

    auto e = InlineCompletion<void(const error_code&, int, std::string)>::start(
        zuki::use_future, error_code(), 1, std::string("two"));
    static_assert(std::is_same_v<decltype(e), AsioFuture<std::tuple<int, std::string>>>);
    BOOST_TEST((zuki::test::block_on(std::move(e)) == std::tuple<int, std::string>(1, "two")));

    auto f = InlineCompletion<void(std::exception_ptr, std::unique_ptr<int>)>::start(
        zuki::use_future, std::exception_ptr(), std::make_unique<int>(9));
    static_assert(std::is_same_v<decltype(f), AsioFuture<std::unique_ptr<int>>>);
    BOOST_TEST(*zuki::test::block_on(std::move(f)) == 9);

    auto g =
        InlineCompletion<void(std::error_code, int)>::start(zuki::use_future, std::error_code(), 3);
    BOOST_TEST(zuki::test::block_on(std::move(g)) == 3);
}

BOOST_AUTO_TEST_CASE(errors_are_thrown_from_poll) {
    using boost::system::error_code;
    auto a = InlineCompletion<void(error_code, int)>::start(
        zuki::use_future, error_code(asio::error::connection_reset), 0);
    try {
        zuki::test::block_on(std::move(a));
        BOOST_FAIL("no exception");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST((e.code() == asio::error::connection_reset));
    }
    auto b = InlineCompletion<void(std::exception_ptr)>::start(
        zuki::use_future, std::make_exception_ptr(std::runtime_error("boom")));
    BOOST_CHECK_THROW(zuki::test::block_on(std::move(b)), std::runtime_error);
    auto c = InlineCompletion<void(std::error_code)>::start(
        zuki::use_future, std::make_error_code(std::errc::timed_out));
    BOOST_CHECK_THROW(zuki::test::block_on(std::move(c)), std::system_error);
}

BOOST_AUTO_TEST_CASE(nothrow_and_adapters_return_the_error_code) {
    using boost::system::error_code;
    auto a = InlineCompletion<void(error_code, int)>::start(zuki::use_future_nothrow,
                                                            error_code(asio::error::eof), 4);
    static_assert(std::is_same_v<decltype(a), zuki::AsioFuture<std::tuple<error_code, int>>>);
    auto [ec, n] = zuki::test::block_on(std::move(a));
    BOOST_TEST((ec == asio::error::eof));
    BOOST_TEST(n == 4);

    error_code redirected;
    auto b = InlineCompletion<void(error_code, int)>::start(
        asio::redirect_error(zuki::use_future, redirected), error_code(asio::error::eof), 6);
    BOOST_TEST(zuki::test::block_on(std::move(b)) == 6);
    BOOST_TEST((redirected == asio::error::eof));
}

BOOST_AUTO_TEST_CASE(polling_after_the_result_was_taken_is_a_logic_error) {
    auto a = InlineCompletion<void(int)>::start(zuki::use_future, 1);
    BOOST_TEST(zuki::test::block_on(a) == 1);
    BOOST_TEST(!a.valid());
    const zuki::Waker w = zuki::Waker::noop();
    zuki::Context cx(w);
    BOOST_CHECK_THROW((void)a.poll(cx), std::logic_error);
    zuki::AsioFuture<int> empty;
    BOOST_CHECK_THROW((void)empty.poll(cx), std::logic_error);
}

BOOST_AUTO_TEST_CASE(the_token_allocator_allocates_the_state) {
    auto count = std::make_shared<std::atomic<int>>(0);
    CountingAllocator<void> alloc(count);
    auto a = InlineCompletion<void(int)>::start(zuki::use_future[alloc], 3);
    BOOST_TEST(count->load() >= 1);
    BOOST_TEST(zuki::test::block_on(std::move(a)) == 3);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(protocol)

BOOST_AUTO_TEST_CASE(the_latest_waker_is_woken_and_released_waker_references_drop) {
    Watchdog dog(30s, "the_latest_waker_is_woken");
    asio::io_context io;
    asio::steady_timer timer(io, 5ms);
    auto f = timer.async_wait(zuki::use_future);
    zuki::test::WakeSignal first, second;
    {
        const zuki::Waker w = first.waker();
        zuki::Context cx(w);
        BOOST_TEST(f.poll(cx).is_pending());
    }
    BOOST_TEST(first.waker_refs() == 1u);  // the state keeps a clone
    {
        const zuki::Waker w = second.waker();
        zuki::Context cx(w);
        BOOST_TEST(f.poll(cx).is_pending());
    }
    BOOST_TEST(first.waker_refs() == 0u);  // replaced
    BOOST_TEST(second.waker_refs() == 1u);
    io.run();
    BOOST_TEST(first.wake_count() == 0u);
    BOOST_TEST(second.wake_count() == 1u);
    BOOST_TEST(f.is_ready());
    const zuki::Waker w = second.waker();
    zuki::Context cx(w);
    BOOST_TEST(f.poll(cx).is_ready());
    BOOST_TEST(second.waker_refs() == 1u);  // only `w`: the state is gone
}

BOOST_AUTO_TEST_CASE(dropping_the_future_before_completion_is_safe) {
    Watchdog dog(30s, "dropping_the_future_before_completion_is_safe");
    zuki::test::WakeSignal sig;
    {
        asio::io_context io;
        asio::steady_timer timer(io, 5ms);
        {
            auto f = timer.async_wait(zuki::use_future);
            const zuki::Waker w = sig.waker();
            zuki::Context cx(w);
            BOOST_TEST(f.poll(cx).is_pending());
            BOOST_TEST(sig.waker_refs() == 2u);
        }  // dropped while waiting: the waker is taken back at once
        BOOST_TEST(sig.waker_refs() == 0u);
        io.run();  // the handler completes into the orphaned state and frees it
    }
    BOOST_TEST(sig.wake_count() == 0u);

    // Dropped on one thread while the operation completes on another, many times.
    zuki::WorkStealingExecutor pool(2);
    for (int i = 0; i < 200; ++i) {
        asio::steady_timer timer(pool.get_executor(), std::chrono::microseconds(i % 7 * 50));
        auto f = timer.async_wait(zuki::use_future);
        if (i % 2) std::this_thread::sleep_for(std::chrono::microseconds(i % 5 * 40));
        // f dropped here, maybe before, maybe after the handler ran
    }
    pool.join();  // pending waits are outstanding work: every handler has run
}

BOOST_AUTO_TEST_CASE(an_abandoned_operation_is_a_broken_promise) {
    zuki::AsioFuture<void> f;
    {
        asio::io_context io;  // never run: shutdown destroys the queued handler uncalled
        asio::steady_timer timer(io, 1h);
        f = timer.async_wait(zuki::use_future);
    }
    BOOST_TEST(f.is_ready());
    try {
        zuki::test::block_on(std::move(f));
        BOOST_FAIL("no exception");
    } catch (const std::future_error& e) {
        BOOST_TEST((e.code() == std::future_errc::broken_promise));
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(on_executors)

BOOST_AUTO_TEST_CASE(timer_awaited_in_async_on_work_stealing_executor) {
    Watchdog dog(30s, "timer_on_work_stealing");
    zuki::WorkStealingExecutor pool(2);
    asio::steady_timer timer(pool.get_executor());
    const long ms = pool.block_on(timer_elapsed(timer));
    BOOST_TEST(ms >= 19);
}

BOOST_AUTO_TEST_CASE(timer_awaited_in_async_on_single_threaded_executor) {
    Watchdog dog(30s, "timer_on_single_threaded");
    zuki::SingleThreadedExecutor ex;
    asio::steady_timer timer(ex.get_executor());
    const long ms = ex.block_on(timer_elapsed(timer));
    BOOST_TEST(ms >= 19);
    // An io_context timer awaited from the single-threaded executor: completion on another thread.
    asio::io_context io;
    auto guard = asio::make_work_guard(io);
    std::thread io_thread([&] { io.run(); });
    asio::steady_timer other(io);
    BOOST_TEST(ex.block_on(timer_elapsed(other)) >= 19);
    guard.reset();
    io_thread.join();
}

BOOST_AUTO_TEST_CASE(cancel_surfaces_operation_aborted_as_system_error) {
    Watchdog dog(30s, "cancel_surfaces_operation_aborted");
    zuki::WorkStealingExecutor pool(2);
    asio::steady_timer timer(pool.get_executor(), 1h);
    auto same_thread = [&]() -> zuki::Async<bool> {
        auto f = timer.async_wait(zuki::use_future);  // started now (eager)
        timer.cancel();
        try {
            co_await std::move(f);
        } catch (const boost::system::system_error& e) {
            co_return e.code() == asio::error::operation_aborted;
        }
        co_return false;
    };
    BOOST_TEST(pool.block_on(same_thread()));

    // Cancelled from another thread while the task waits.
    std::atomic<bool> started{false};
    auto waiter = [&]() -> zuki::Async<boost::system::error_code> {
        timer.expires_after(1h);
        auto f = timer.async_wait(zuki::use_future_nothrow);
        started.store(true, std::memory_order_release);
        auto [ec] = co_await std::move(f);
        co_return ec;
    };
    auto h = pool.spawn(waiter());
    while (!started.load(std::memory_order_acquire)) std::this_thread::yield();
    timer.cancel();
    BOOST_TEST((h.get() == asio::error::operation_aborted));
}

BOOST_AUTO_TEST_CASE(socket_operations_return_values) {
    Watchdog dog(60s, "socket_operations_return_values");
    zuki::WorkStealingExecutor pool(2);
    auto ex = pool.get_executor();
    tcp::acceptor acceptor(ex, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const auto endpoint = acceptor.local_endpoint();

    auto body = [&]() -> zuki::Async<std::size_t> {
        // accept: void(error_code, tcp::socket) -> a move-only value
        auto accepted = acceptor.async_accept(zuki::use_future);
        tcp::socket client(ex);
        co_await client.async_connect(endpoint, zuki::use_future);
        tcp::socket server = co_await std::move(accepted);

        std::vector<char> out(10000), in(10000);
        std::iota(out.begin(), out.end(), 0);
        const std::size_t written =
            co_await asio::async_write(client, asio::buffer(out), zuki::use_future);
        std::size_t got = 0;
        while (got < in.size())
            got += co_await server.async_read_some(asio::buffer(in.data() + got, in.size() - got),
                                                   zuki::use_future);
        if (in != out) co_return 0;
        const std::size_t n =
            co_await asio::async_read(server, asio::buffer(in.data(), 0), zuki::use_future);
        if (n != 0) co_return 0;

        // EOF surfaces as system_error(eof)
        client.close();
        try {
            co_await server.async_read_some(asio::buffer(in), zuki::use_future);
            co_return 0;
        } catch (const boost::system::system_error& e) {
            if (e.code() != asio::error::eof) co_return 0;
        }
        co_return written + got;
    };
    BOOST_TEST(pool.block_on(body()) == 20000u);
}

BOOST_AUTO_TEST_CASE(io_object_with_use_future_as_default_token) {
    Watchdog dog(30s, "as_default_on");
    zuki::WorkStealingExecutor pool(2);
    auto timer = zuki::use_future.as_default_on(asio::steady_timer(pool.get_executor(), 5ms));
    auto f = timer.async_wait();
    static_assert(std::is_same_v<decltype(f), zuki::AsioFuture<void>>);
    BOOST_TEST(f.valid());
    pool.block_on(std::move(f));
    BOOST_TEST(!f.valid());
}

BOOST_AUTO_TEST_CASE(co_spawn_with_use_future) {
    Watchdog dog(30s, "co_spawn_with_use_future");
    zuki::WorkStealingExecutor pool(2);
    auto ok = asio::co_spawn(
        pool.get_executor(), []() -> asio::awaitable<int> { co_return 42; }, zuki::use_future);
    static_assert(std::is_same_v<decltype(ok), zuki::AsioFuture<int>>);
    BOOST_TEST(zuki::test::block_on(std::move(ok)) == 42);
    auto bad = asio::co_spawn(
        pool.get_executor(),
        []() -> asio::awaitable<void> {
            throw std::runtime_error("from the coroutine");
            co_return;
        },
        zuki::use_future);
    BOOST_CHECK_THROW(pool.block_on(std::move(bad)), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(many_concurrent_timers_complete_exactly_once) {
    Watchdog dog(60s, "many_concurrent_timers");
    zuki::WorkStealingExecutor pool(2);
    constexpr int n = 500;
    std::vector<std::atomic<int>> hits(n);
    std::vector<zuki::JoinHandle<void>> handles;
    for (int i = 0; i < n; ++i) {
        handles.push_back(pool.spawn(wait_and_count(pool, i, hits[i])));
    }
    for (auto& h : handles) h.get();
    for (int i = 0; i < n; ++i) BOOST_TEST(hits[i].load() == 1, "task " << i);
}

BOOST_AUTO_TEST_SUITE_END()
