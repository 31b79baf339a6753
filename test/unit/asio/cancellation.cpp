#include <zuki/asio/awaitable.hpp>
#include <zuki/asio/use_future.hpp>
#define BOOST_TEST_MODULE zuki asio cancellation
#include <boost/test/unit_test.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/consign.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/mpl/list.hpp>

#include <zuki/core/async.hpp>
#include <zuki/core/yield_now.hpp>
#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>
#include <zuki/task/errors.hpp>
#include <zuki/time/delay.hpp>
#include <zuki/time/timeout.hpp>

#include "common/loopback.hpp"
#include "common/pool_helpers.hpp"
#include "common/watchdog.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using zuki::test::wait_until;
using zuki::test::Watchdog;

namespace {

// "Promptly": a cancelled operation must complete well within this (the operations themselves
// would never complete: no data is sent, timers expire in an hour).
constexpr auto prompt = 1s;

// What the test sees of one operation started with `observed(probe)`: its completion's error
// code and the release of its handler (with everything it keeps alive).
struct Probe {
    boost::system::error_code ec;  // written by the handler (redirect_error), before `released`
    std::atomic<int> aborted{0};  // handlers released after completing with operation_aborted
    std::atomic<int> released{0};  // handlers released (invoked or not)
};

// Kept by the handler (asio::consign): destroyed with it, after it was invoked.
class ReleaseMark {
public:
    explicit ReleaseMark(std::shared_ptr<Probe> p) : p_(std::move(p)) {}
    ReleaseMark(ReleaseMark&&) noexcept = default;
    ReleaseMark(const ReleaseMark&) = delete;
    ReleaseMark& operator=(const ReleaseMark&) = delete;
    ReleaseMark& operator=(ReleaseMark&&) = delete;
    ~ReleaseMark() {
        if (!p_) return;
        // release (both): publishes `ec`, written on this thread by the handler; pairs with the
        // test's acquire loads.
        if (p_->ec == asio::error::operation_aborted)
            p_->aborted.fetch_add(1, std::memory_order_release);
        p_->released.fetch_add(1, std::memory_order_release);
    }

private:
    std::shared_ptr<Probe> p_;
};

// zuki::use_future, with the completion's error code and the handler's release observed.
auto observed(const std::shared_ptr<Probe>& p) {
    return asio::redirect_error(asio::consign(zuki::use_future, ReleaseMark(p)), p->ec);
}

// The handler was released after completing with operation_aborted, within `prompt`. Waits in
// a task of `env`, so that an executor whose thread runs the I/O completions is driven.
template <class Env>
bool aborted_promptly(Env& env, const Probe& p) {
    auto wait = [](const Probe& probe) -> zuki::Async<bool> {
        const auto deadline = std::chrono::steady_clock::now() + prompt;
        // acquire: pairs with the release increments in ~ReleaseMark.
        while (probe.released.load(std::memory_order_acquire) == 0) {
            if (std::chrono::steady_clock::now() > deadline) co_return false;
            co_await zuki::delay(std::chrono::microseconds(200));
        }
        co_return true;
    };
    const bool released = env.tasks.block_on(wait(p));
    // acquire: as above.
    return released && p.released.load(std::memory_order_acquire) == 1 &&
           p.aborted.load(std::memory_order_acquire) == 1;
}

// ---- the executors ----------------------------------------------------------------------------

// A WorkStealingExecutor with 2 workers; the I/O objects are on it too (its workers drive the
// reactor).
struct PoolEnv {
    static constexpr const char* name = "WorkStealingExecutor(2)";
    zuki::WorkStealingExecutor tasks{std::size_t{2}};
    auto io_executor() { return tasks.get_executor(); }
};

// Tasks on a SingleThreadedExecutor driven by the test thread; the I/O objects on an io_context
// run by a thread of its own (completions on another thread than the tasks).
struct IoContextEnv {
    static constexpr const char* name = "SingleThreadedExecutor + io_context";
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    std::thread io_thread{[this] { io.run(); }};
    zuki::SingleThreadedExecutor tasks;
    auto io_executor() { return io.get_executor(); }
    ~IoContextEnv() {
        guard.reset();
        io_thread.join();
    }
};

// Everything on one SingleThreadedExecutor (its reactor runs while the test drives it).
struct SingleThreadedEnv {
    static constexpr const char* name = "SingleThreadedExecutor";
    zuki::SingleThreadedExecutor tasks;
    auto io_executor() { return tasks.get_executor(); }
};

using Envs = boost::mpl::list<PoolEnv, IoContextEnv, SingleThreadedEnv>;

// ---- the I/O objects ----------------------------------------------------------------------------

using zuki::test::loopback_pair;

// The socket is usable after the cancellation: a write from the peer is read whole by new
// operations.
template <class Env>
void check_socket_usable(Env& env, tcp::socket& reader, tcp::socket& peer) {
    const std::string msg = "after the cancellation";
    asio::write(peer, asio::buffer(msg));
    auto read_all = [](tcp::socket& s, std::size_t n) -> zuki::Async<std::string> {
        std::string got(n, '\0');
        std::size_t have = 0;
        while (have < n)
            have += co_await s.async_read_some(asio::buffer(got.data() + have, n - have),
                                               zuki::use_future);
        co_return got;
    };
    BOOST_TEST(env.tasks.block_on(read_all(reader, msg.size())) == msg);
}

// The timer is usable after the cancellation: a new short wait completes without error.
template <class Env>
void check_timer_usable(Env& env, asio::steady_timer& timer) {
    timer.expires_after(1ms);
    auto wait = [](asio::steady_timer& t) -> zuki::Async<bool> {
        auto [ec] = co_await t.async_wait(zuki::use_future_nothrow);
        co_return !ec;
    };
    BOOST_TEST(env.tasks.block_on(wait(timer)));
}

// A future of whether `*f` was pending when polled once (it stays with the test).
template <class F>
struct PollOnce {
    F* f;
    zuki::Poll<bool> poll(zuki::Context& cx) {
        return zuki::Poll<bool>::ready(f->poll(cx).is_pending());
    }
};

// A read with no data pending (`started` set once the operation was initiated).
zuki::Async<std::size_t> read_nothing(tcp::socket& s, std::shared_ptr<Probe> p,
                                      std::shared_ptr<std::atomic<bool>> started) {
    std::array<char, 64> buf{};
    auto f = s.async_read_some(asio::buffer(buf), observed(p));
    // release: pairs with the test's acquire wait.
    started->store(true, std::memory_order_release);
    co_return co_await std::move(f);
}

zuki::Async<void> wait_long(asio::steady_timer& t, std::shared_ptr<Probe> p,
                            std::shared_ptr<std::atomic<bool>> started) {
    auto f = t.async_wait(observed(p));
    // release: pairs with the test's acquire wait.
    started->store(true, std::memory_order_release);
    co_await std::move(f);
}

// Spawn `make(started)`, wait until it started its operation (the executor driven meanwhile),
// then abort it through its AbortHandle (`via_abort_handle`) or JoinHandle::abort().
template <class Env, class Make>
void spawn_then_abort(Env& env, Make make, bool via_abort_handle) {
    auto started = std::make_shared<std::atomic<bool>>(false);
    auto h = env.tasks.spawn(make(started));
    auto wait_started = [](std::shared_ptr<std::atomic<bool>> s) -> zuki::Async<void> {
        // acquire: pairs with the release store in the task.
        while (!s->load(std::memory_order_acquire)) co_await zuki::yield_now();
    };
    env.tasks.block_on(wait_started(started));
    if (via_abort_handle)
        h.abort_handle().abort();
    else
        h.abort();
    BOOST_CHECK_THROW(env.tasks.block_on(std::move(h)), zuki::TaskCancelled);
}

}  // namespace

// ---- zuki::use_future: the operation is cancelled when its future is dropped --------------------

BOOST_AUTO_TEST_SUITE(use_future_cancellation)

BOOST_AUTO_TEST_CASE_TEMPLATE(a_dropped_read_is_aborted_and_the_socket_stays_usable, Env, Envs) {
    Watchdog dog(30s, std::string("dropped read: ") + Env::name);
    Env env;
    auto sockets = loopback_pair(env.io_executor());
    tcp::socket& reader = sockets.first;  // not a structured binding: clang 14 cannot capture one
    tcp::socket& peer = sockets.second;
    auto p = std::make_shared<Probe>();
    {
        std::array<char, 64> buf{};
        auto f = reader.async_read_some(asio::buffer(buf), observed(p));
        // Polled once, so a waker is registered too.
        BOOST_TEST(env.tasks.block_on(PollOnce<zuki::AsioFuture<std::size_t>>{&f}));
    }  // dropped here, on the test thread
    BOOST_TEST(aborted_promptly(env, *p));
    check_socket_usable(env, reader, peer);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(an_aborted_task_aborts_its_read, Env, Envs) {
    Watchdog dog(30s, std::string("aborted task: ") + Env::name);
    Env env;
    auto sockets = loopback_pair(env.io_executor());
    tcp::socket& reader = sockets.first;  // not a structured binding: clang 14 cannot capture one
    tcp::socket& peer = sockets.second;
    for (const bool via_abort_handle : {false, true}) {
        auto p = std::make_shared<Probe>();
        spawn_then_abort(
            env,
            [&](std::shared_ptr<std::atomic<bool>> started) {
                return read_nothing(reader, p, std::move(started));
            },
            via_abort_handle);
        BOOST_TEST(aborted_promptly(env, *p), "via_abort_handle=" << via_abort_handle);
        check_socket_usable(env, reader, peer);
    }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_read_that_loses_a_timeout_is_aborted, Env, Envs) {
    Watchdog dog(30s, std::string("timeout: ") + Env::name);
    Env env;
    auto sockets = loopback_pair(env.io_executor());
    tcp::socket& reader = sockets.first;  // not a structured binding: clang 14 cannot capture one
    tcp::socket& peer = sockets.second;
    auto p = std::make_shared<Probe>();
    auto race = [](tcp::socket& s, std::shared_ptr<Probe> probe) -> zuki::Async<bool> {
        std::array<char, 64> buf{};
        auto r =
            co_await zuki::timeout(s.async_read_some(asio::buffer(buf), observed(probe)), 20ms);
        co_return r.timed_out();
    };
    const auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(env.tasks.block_on(race(reader, p)));
    BOOST_TEST(aborted_promptly(env, *p));
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < prompt));
    check_socket_usable(env, reader, peer);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_timer_wait_is_aborted_each_way, Env, Envs) {
    Watchdog dog(30s, std::string("timer: ") + Env::name);
    Env env;
    asio::steady_timer timer(env.io_executor());
    // (a) dropped
    {
        auto p = std::make_shared<Probe>();
        timer.expires_after(1h);
        { auto f = timer.async_wait(observed(p)); }
        BOOST_TEST(aborted_promptly(env, *p));
        check_timer_usable(env, timer);
    }
    // (b) the awaiting task aborted, through JoinHandle::abort and through an AbortHandle
    for (const bool via_abort_handle : {false, true}) {
        auto p = std::make_shared<Probe>();
        timer.expires_after(1h);
        spawn_then_abort(
            env,
            [&](std::shared_ptr<std::atomic<bool>> started) {
                return wait_long(timer, p, std::move(started));
            },
            via_abort_handle);
        BOOST_TEST(aborted_promptly(env, *p), "via_abort_handle=" << via_abort_handle);
        check_timer_usable(env, timer);
    }
    // (c) lost a zuki::timeout race
    {
        auto p = std::make_shared<Probe>();
        timer.expires_after(1h);
        auto race = [](asio::steady_timer& t, std::shared_ptr<Probe> probe) -> zuki::Async<bool> {
            auto r = co_await zuki::timeout(t.async_wait(observed(probe)), 10ms);
            co_return r.timed_out();
        };
        BOOST_TEST(env.tasks.block_on(race(timer, p)));
        BOOST_TEST(aborted_promptly(env, *p));
        check_timer_usable(env, timer);
    }
}

// ---- composed operations: each step runs under the state's lock, so a drop cancels them too ----

namespace {

// Wait (driving env's executor) until `ready()`, for at most 20 s: a bound for a hang, not a
// speed (5 s was exceeded under ThreadSanitizer on a machine shared with a second TSan run).
template <class Env, class Ready>
bool wait_in(Env& env, Ready ready) {
    auto wait = [](Ready r) -> zuki::Async<bool> {
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        while (!r()) {
            if (std::chrono::steady_clock::now() > deadline) co_return false;
            co_await zuki::delay(std::chrono::microseconds(200));
        }
        co_return true;
    };
    return env.tasks.block_on(wait(std::move(ready)));
}

// The composed operations under test. `start(s, p)` starts on `s` one that stays pending
// (observed by `p`; its buffers are kept by its handler), after `prime(peer)`; `settled(s)` is
// true once its first step ran (then the next step is pending: a drop cancels an operation
// that re-armed the slot); `check(env, s, peer)` checks that the socket is usable afterwards.

// async_read of 64 bytes when 3 are sent: the first read_some reads them, the second waits.
struct ComposedRead {
    static constexpr const char* name = "async_read";
    static void prime(tcp::socket& peer) { asio::write(peer, asio::buffer("abc", 3)); }
    static auto start(tcp::socket& s, const std::shared_ptr<Probe>& p) {
        auto buf = std::make_shared<std::array<char, 64>>();
        return asio::async_read(s, asio::buffer(*buf), asio::consign(observed(p), buf));
    }
    // Nothing left unread: the first step read "abc" (so the next read sees only new data).
    static bool settled(tcp::socket& s) { return s.available() == 0; }
    template <class Env>
    static void check(Env& env, tcp::socket& s, tcp::socket& peer) {
        check_socket_usable(env, s, peer);
    }
};

// async_read_until a '\n' that never comes, into a streambuf.
struct ComposedReadUntil {
    static constexpr const char* name = "async_read_until";
    static void prime(tcp::socket& peer) { asio::write(peer, asio::buffer("abc", 3)); }
    static auto start(tcp::socket& s, const std::shared_ptr<Probe>& p) {
        auto buf = std::make_shared<asio::streambuf>();
        return asio::async_read_until(s, *buf, '\n', asio::consign(observed(p), buf));
    }
    static bool settled(tcp::socket& s) { return s.available() == 0; }
    template <class Env>
    static void check(Env& env, tcp::socket& s, tcp::socket& peer) {
        check_socket_usable(env, s, peer);
    }
};

// async_write of more than the loopback buffers hold (both sides together), to a peer that does
// not read: the first write_some fills them, the next waits.
struct ComposedWrite {
    static constexpr const char* name = "async_write";
    static constexpr std::size_t size = std::size_t{64} << 20;
    static void prime(tcp::socket&) {}
    static auto start(tcp::socket& s, const std::shared_ptr<Probe>& p) {
        auto buf = std::make_shared<std::vector<char>>(size);  // zeros
        return asio::async_write(s, asio::buffer(*buf), asio::consign(observed(p), buf));
    }
    static bool settled(tcp::socket&) { return true; }
    // The peer drains what the aborted write sent, then receives a marker written after it: the
    // socket writes again, and the aborted write was cut short.
    template <class Env>
    static void check(Env& env, tcp::socket& s, tcp::socket& peer) {
        const std::string marker = "the end of the stream";  // no zero byte
        auto drain = [](tcp::socket& r, std::string m) -> zuki::Async<std::size_t> {
            std::vector<char> buf(std::size_t{1} << 16);
            std::string tail;
            std::size_t total = 0;
            for (;;) {
                const std::size_t n =
                    co_await r.async_read_some(asio::buffer(buf), zuki::use_future);
                total += n;
                tail.append(buf.data(), n);
                if (tail.size() > m.size()) tail.erase(0, tail.size() - m.size());
                if (tail == m) co_return total;
            }
        };
        auto write = [](tcp::socket& w, std::string m) -> zuki::Async<void> {
            co_await asio::async_write(w, asio::buffer(m), zuki::use_future);
        };
        auto drained = env.tasks.spawn(drain(peer, marker));
        env.tasks.block_on(write(s, marker));
        const std::size_t total = env.tasks.block_on(std::move(drained));
        BOOST_TEST(total < size + marker.size());
    }
};

// A composed operation on a loopback socket, cancelled each way: (a) its future dropped, (b) the
// task awaiting it aborted (JoinHandle::abort, AbortHandle), (c) its future lost a zuki::timeout
// race; each time its handler completes with operation_aborted, promptly, and the socket is
// usable afterwards.
template <class Op, class Env>
void check_composed_cancellation(Env& env) {
    auto sockets = loopback_pair(env.io_executor());
    tcp::socket& s = sockets.first;  // not a structured binding: clang 14 cannot capture one
    tcp::socket& peer = sockets.second;
    // (a) dropped
    {
        auto p = std::make_shared<Probe>();
        Op::prime(peer);
        {
            auto f = Op::start(s, p);
            // Polled once, so a waker is registered too.
            BOOST_TEST(env.tasks.block_on(PollOnce<decltype(f)>{&f}));
            BOOST_TEST(wait_in(env, [&s] { return Op::settled(s); }));
        }  // dropped here, on the test thread
        BOOST_TEST(aborted_promptly(env, *p), Op::name << " dropped");
        Op::check(env, s, peer);
    }
    // (b) the awaiting task aborted
    for (const bool via_abort_handle : {false, true}) {
        auto p = std::make_shared<Probe>();
        Op::prime(peer);
        auto started = std::make_shared<std::atomic<bool>>(false);
        auto task = [](tcp::socket& sock, std::shared_ptr<Probe> probe,
                       std::shared_ptr<std::atomic<bool>> st) -> zuki::Async<std::size_t> {
            auto f = Op::start(sock, probe);
            // release: pairs with the test's acquire load.
            st->store(true, std::memory_order_release);
            co_return co_await std::move(f);
        };
        auto h = env.tasks.spawn(task(s, p, started));
        BOOST_TEST(wait_in(env, [&] {
            // acquire: pairs with the release store in the task.
            return started->load(std::memory_order_acquire) && Op::settled(s);
        }));
        if (via_abort_handle)
            h.abort_handle().abort();
        else
            h.abort();
        BOOST_CHECK_THROW(env.tasks.block_on(std::move(h)), zuki::TaskCancelled);
        BOOST_TEST(aborted_promptly(env, *p),
                   Op::name << " in an aborted task, via_abort_handle=" << via_abort_handle);
        Op::check(env, s, peer);
    }
    // (c) lost a zuki::timeout race
    {
        auto p = std::make_shared<Probe>();
        Op::prime(peer);
        // Whether the operation timed out, and when (from the start of the race).
        auto race = [](tcp::socket& sock, std::shared_ptr<Probe> probe)
            -> zuki::Async<std::pair<bool, std::chrono::steady_clock::duration>> {
            auto f = Op::start(sock, probe);
            while (!Op::settled(sock)) co_await zuki::delay(std::chrono::microseconds(200));
            const auto t0 = std::chrono::steady_clock::now();
            auto r = co_await zuki::timeout(std::move(f), 20ms);
            co_return std::pair(r.timed_out(), std::chrono::steady_clock::now() - t0);
        };
        const auto [timed_out, took] = env.tasks.block_on(race(s, p));
        BOOST_TEST(timed_out);
        BOOST_TEST((took < prompt));
        BOOST_TEST(aborted_promptly(env, *p), Op::name << " timed out");
        Op::check(env, s, peer);
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(a_composed_read_is_aborted_each_way, Env, Envs) {
    Watchdog dog(120s, std::string("composed read: ") + Env::name);
    Env env;
    check_composed_cancellation<ComposedRead>(env);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_composed_read_until_is_aborted_each_way, Env, Envs) {
    Watchdog dog(120s, std::string("composed read_until: ") + Env::name);
    Env env;
    check_composed_cancellation<ComposedReadUntil>(env);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_composed_write_is_aborted_each_way, Env, Envs) {
    Watchdog dog(120s, std::string("composed write: ") + Env::name);
    Env env;
    check_composed_cancellation<ComposedWrite>(env);
}

// A composed operation whose handler has another executor bound over the future's
// (bind_executor) runs its steps on that executor, not under the state's lock, so a drop does not
// emit on it (that would race with its steps): it runs on, completes into the orphaned state
// when the rest arrives, and its handler is released then; the socket is usable afterwards.
BOOST_AUTO_TEST_CASE_TEMPLATE(a_composed_read_with_a_bound_executor_runs_on_and_is_released, Env,
                              Envs) {
    Watchdog dog(30s, std::string("composed read, bound executor: ") + Env::name);
    Env env;
    auto sockets = loopback_pair(env.io_executor());
    tcp::socket& reader = sockets.first;  // not a structured binding: clang 14 cannot capture one
    tcp::socket& peer = sockets.second;
    auto p = std::make_shared<Probe>();
    auto buf = std::make_shared<std::array<char, 8>>();
    auto race = [](tcp::socket& s, tcp::socket& w, std::shared_ptr<Probe> probe,
                   std::shared_ptr<std::array<char, 8>> b) -> zuki::Async<bool> {
        asio::write(w, asio::buffer("abc", 3));  // 3 of the 8 bytes: a second step waits
        auto r = co_await zuki::timeout(
            asio::async_read(
                s, asio::buffer(*b),
                asio::bind_executor(asio::system_executor(), asio::consign(observed(probe), b))),
            30ms);
        co_return r.timed_out();
    };
    BOOST_TEST(env.tasks.block_on(race(reader, peer, p, buf)));
    // acquire: pairs with the release increment in ~ReleaseMark.
    BOOST_TEST(p->released.load(std::memory_order_acquire) == 0);  // still reading
    asio::write(peer, asio::buffer("defgh", 5));
    BOOST_TEST(wait_in(env, [&p] {
        // acquire: pairs with the release increment in ~ReleaseMark.
        return p->released.load(std::memory_order_acquire) != 0;
    }));
    BOOST_TEST(p->aborted.load(std::memory_order_acquire) == 0);  // acquire: as above
    check_socket_usable(env, reader, peer);
}

// The handler's executor is an Asio standard executor: what Asio asks of one (the system
// context; blocking.never for a post of the handler, convertible to any_io_executor).
using HandlerExecutor =
    asio::associated_executor_t<zuki::detail::UseFutureHandler<std::allocator<void>, int>>;
static_assert(asio::execution::is_executor<HandlerExecutor>::value);
static_assert(asio::can_query<HandlerExecutor, asio::execution::context_t>::value);
static_assert(asio::can_require<HandlerExecutor, asio::execution::blocking_t::never_t>::value);
static_assert(std::is_constructible_v<asio::any_io_executor, HandlerExecutor>);

// A composed operation that posts itself (boost::asio::post of the handler: the handler's
// executor with blocking.never, which runs it on a system executor thread, under the lock),
// then completes.
BOOST_AUTO_TEST_CASE(a_composed_operation_that_posts_itself_completes) {
    Watchdog dog(30s, "posted composed operation");
    zuki::WorkStealingExecutor pool(2);
    auto step = [posted = false](auto& self) mutable {
        if (!posted) {
            posted = true;
            asio::post(std::move(self));
        } else {
            self.complete(42);
        }
    };
    auto f = asio::async_compose<const zuki::use_future_t<>&, void(int)>(std::move(step),
                                                                         zuki::use_future);
    BOOST_TEST(pool.block_on(std::move(f)) == 42);
}

// A drop racing with the completion, on another thread, many times: exactly one release each,
// never an emit into a completed operation (TSan and ASan check the rest).
BOOST_AUTO_TEST_CASE(drops_racing_with_completions) {
    Watchdog dog(60s, "drops racing with completions");
    zuki::WorkStealingExecutor pool(2);
    std::vector<std::shared_ptr<Probe>> probes;
    for (int i = 0; i < 200; ++i) {
        auto p = std::make_shared<Probe>();
        probes.push_back(p);
        asio::steady_timer timer(pool.get_executor(), std::chrono::microseconds(i % 7 * 30));
        auto f = timer.async_wait(observed(p));
        if (i % 2) std::this_thread::sleep_for(std::chrono::microseconds(i % 5 * 30));
        // f dropped here, then the timer: before, during or after the completion
    }
    for (auto& p : probes)
        BOOST_TEST(wait_until([&] {
            // acquire: pairs with the release increment in ~ReleaseMark.
            return p->released.load(std::memory_order_acquire) == 1;
        }));
}

// Binding another slot replaces the future's: the operation answers that slot.
BOOST_AUTO_TEST_CASE(a_bound_slot_cancels_and_the_future_reports_operation_aborted) {
    Watchdog dog(30s, "bound slot");
    zuki::WorkStealingExecutor pool(2);
    asio::steady_timer timer(pool.get_executor(), 1h);
    asio::cancellation_signal sig;
    auto f = timer.async_wait(asio::bind_cancellation_slot(sig.slot(), zuki::use_future));
    // Serialised with the operation: emitted on the timer's executor.
    asio::post(pool.get_executor(), [&] { sig.emit(asio::cancellation_type::terminal); });
    try {
        pool.block_on(std::move(f));
        BOOST_FAIL("no exception");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST((e.code() == asio::error::operation_aborted));
    }
}

// ---- co_spawn(..., zuki::use_future): a drop cancels the coroutine
// --------------------------------

namespace {

struct CoroState {
    std::atomic<bool> started{false};
    std::atomic<bool> aborted{false};  // its pending wait threw operation_aborted
    std::atomic<bool> finished{false};
};

asio::awaitable<int> wait_an_hour(std::shared_ptr<CoroState> st) {
    asio::steady_timer t(co_await asio::this_coro::executor, 1h);
    // release (all three): pairs with the test's acquire loads.
    st->started.store(true, std::memory_order_release);
    try {
        co_await t.async_wait(asio::use_awaitable);
    } catch (const boost::system::system_error& e) {
        if (e.code() == asio::error::operation_aborted)
            st->aborted.store(true, std::memory_order_release);
    }
    st->finished.store(true, std::memory_order_release);
    co_return 0;
}

bool coroutine_aborted_promptly(const CoroState& st) {
    // acquire: pairs with the release stores in wait_an_hour.
    return wait_until([&] { return st.finished.load(std::memory_order_acquire); }, prompt) &&
           st.aborted.load(std::memory_order_acquire);
}

template <class Executor>
void check_dropped_co_spawn(const Executor& ex) {
    auto st = std::make_shared<CoroState>();
    {
        auto f = asio::co_spawn(ex, wait_an_hour(st), zuki::use_future);
        // acquire: pairs with the release store in wait_an_hour.
        BOOST_REQUIRE(wait_until([&] { return st->started.load(std::memory_order_acquire); }));
    }  // dropped on the test thread: the emit is posted to the coroutine's executor
    BOOST_TEST(coroutine_aborted_promptly(*st));
}

}  // namespace

// On a strand of the pool: co_spawn's cancellation handler emits on whichever worker runs the
// posted emit, and only a strand orders that with the coroutine's steps on another worker
// (doc/asio.md, "Cancellation"; TSan reported the race without it).
BOOST_AUTO_TEST_CASE(a_dropped_co_spawn_future_cancels_the_coroutine_on_a_pool) {
    Watchdog dog(30s, "dropped co_spawn on a pool");
    zuki::WorkStealingExecutor pool(2);
    check_dropped_co_spawn(asio::make_strand(pool.get_executor()));
}

BOOST_AUTO_TEST_CASE(a_dropped_co_spawn_future_cancels_the_coroutine_on_an_io_context) {
    Watchdog dog(30s, "dropped co_spawn on an io_context");
    asio::io_context io;
    auto guard = asio::make_work_guard(io);
    std::thread t([&] { io.run(); });
    check_dropped_co_spawn(io.get_executor());
    guard.reset();
    t.join();
}

// spawn_awaitable's JoinHandle::cancel() cancels the waiting task, whose co_spawn future is
// dropped: the coroutine's pending operation is cancelled too.
BOOST_AUTO_TEST_CASE(cancelling_a_spawn_awaitable_task_cancels_the_coroutine) {
    Watchdog dog(30s, "spawn_awaitable cancel");
    zuki::WorkStealingExecutor pool(2);
    auto st = std::make_shared<CoroState>();
    zuki::JoinHandle<int> h = zuki::spawn_awaitable(pool, wait_an_hour(st));
    // acquire: pairs with the release store in wait_an_hour.
    BOOST_REQUIRE(wait_until([&] { return st->started.load(std::memory_order_acquire); }));
    h.cancel();
    BOOST_TEST(coroutine_aborted_promptly(*st));
    BOOST_CHECK_THROW(pool.block_on(std::move(h)), zuki::TaskCancelled);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- zuki::as_awaitable: a cancelled coroutine drops the Zuki future ----------------------------

namespace {

// A Zuki future that is never ready; counts its polls and drops.
struct NeverState {
    std::atomic<int> polls{0};
    std::atomic<int> drops{0};
};
class Never {
public:
    using output_type = int;
    explicit Never(std::shared_ptr<NeverState> s) : s_(std::move(s)) {}
    Never(Never&&) noexcept = default;
    Never(const Never&) = delete;
    Never& operator=(const Never&) = delete;
    Never& operator=(Never&&) = delete;
    ~Never() {
        // release: pairs with the test's acquire loads.
        if (s_) s_->drops.fetch_add(1, std::memory_order_release);
    }
    zuki::Poll<int> poll(zuki::Context&) {
        // release: pairs with the test's acquire loads.
        s_->polls.fetch_add(1, std::memory_order_release);
        return zuki::Poll<int>::pending();
    }

private:
    std::shared_ptr<NeverState> s_;
};

// io_context run by one thread, or a pool: the executor a coroutine is spawned on.
struct IoThread {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    std::thread t{[this] { io.run(); }};
    ~IoThread() {
        guard.reset();
        t.join();
    }
};

template <class Executor>
void check_or_with_a_timer(const Executor& ex) {
    using namespace asio::experimental::awaitable_operators;
    auto s = std::make_shared<NeverState>();
    auto body = [](std::shared_ptr<NeverState> st) -> asio::awaitable<int> {
        asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
        auto r = co_await (zuki::as_awaitable(Never(st)) || t.async_wait(asio::use_awaitable));
        // The coroutine continues: another operation, then its result.
        t.expires_after(1ms);
        co_await t.async_wait(asio::use_awaitable);
        co_return static_cast<int>(r.index());
    };
    auto f = asio::co_spawn(ex, body(s), asio::use_future);
    BOOST_REQUIRE(f.wait_for(5s) == std::future_status::ready);
    BOOST_TEST(f.get() == 1);  // the timer won
    // acquire: pairs with the release increments in Never.
    BOOST_TEST(s->drops.load(std::memory_order_acquire) == 1);
    BOOST_TEST(s->polls.load(std::memory_order_acquire) >= 1);
}

template <class Executor>
void check_an_emitted_signal(const Executor& ex) {
    auto s = std::make_shared<NeverState>();
    auto body = [](std::shared_ptr<NeverState> st) -> asio::awaitable<int> {
        int outcome = 0;
        try {
            co_await zuki::as_awaitable(Never(st));
        } catch (const boost::system::system_error& e) {
            if (e.code() == asio::error::operation_aborted) outcome = 1;
        }
        // The coroutine continues (its cancellation state reset, so later operations run).
        co_await asio::this_coro::reset_cancellation_state();
        asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
        co_await t.async_wait(asio::use_awaitable);
        co_return outcome + 1;
    };
    asio::cancellation_signal sig;
    auto f =
        asio::co_spawn(ex, body(s), asio::bind_cancellation_slot(sig.slot(), asio::use_future));
    BOOST_REQUIRE(wait_until([&] {
        // acquire: pairs with the release increment in Never::poll.
        return s->polls.load(std::memory_order_acquire) >= 1;
    }));
    // Emitted on the coroutine's executor (Asio's rule: serialised with the coroutine).
    asio::post(ex, [&] { sig.emit(asio::cancellation_type::terminal); });
    BOOST_REQUIRE(f.wait_for(5s) == std::future_status::ready);
    BOOST_TEST(f.get() == 2);  // threw operation_aborted, then continued
    // acquire: pairs with the release increment in ~Never.
    BOOST_TEST(s->drops.load(std::memory_order_acquire) == 1);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(as_awaitable_cancellation)

BOOST_AUTO_TEST_CASE(or_with_a_timer_drops_the_future_on_a_pool) {
    Watchdog dog(30s, "|| on a pool");
    zuki::WorkStealingExecutor pool(2);
    check_or_with_a_timer(pool.get_executor());
}

BOOST_AUTO_TEST_CASE(or_with_a_timer_drops_the_future_on_an_io_context) {
    Watchdog dog(30s, "|| on an io_context");
    IoThread io;
    check_or_with_a_timer(io.io.get_executor());
}

BOOST_AUTO_TEST_CASE(an_emitted_signal_drops_the_future_on_a_pool) {
    Watchdog dog(30s, "signal on a pool");
    zuki::WorkStealingExecutor pool(2);
    check_an_emitted_signal(pool.get_executor());
}

BOOST_AUTO_TEST_CASE(an_emitted_signal_drops_the_future_on_an_io_context) {
    Watchdog dog(30s, "signal on an io_context");
    IoThread io;
    check_an_emitted_signal(io.io.get_executor());
}

BOOST_AUTO_TEST_SUITE_END()
