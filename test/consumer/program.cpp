// Consumer test (both consumers build this file): a program that starts the way most Asio
// programs do, with `namespace asio = boost::asio;` and `using namespace zuki;`, and then uses
// the pool through Asio's own names. Nothing here may be ambiguous (Zuki has no namespace
// called `asio`), and the umbrella header must compile warning-free in a consumer's build.
#include <boost/asio.hpp>
#include <zuki/zuki.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>

namespace asio = boost::asio;
using namespace zuki;

namespace {

std::atomic<int> posted{0};
std::atomic<int> coroutine{0};
std::atomic<int> timer_fired{0};

asio::awaitable<void> twice(int v) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer t(ex, std::chrono::milliseconds(1));
    co_await t.async_wait(asio::use_awaitable);
    coroutine = 2 * v;
}

}  // namespace

int main() {
    WorkStealingExecutor pool(2);
    asio::post(pool, [] { posted = 1; });
    asio::co_spawn(pool, twice(21), asio::detached);
    asio::steady_timer t(pool, std::chrono::milliseconds(1));
    t.async_wait([](boost::system::error_code ec) { timer_fired = ec ? -1 : 1; });
    const int task = pool.spawn(ready(7)).get();  // a Zuki task on the same pool
    pool.join();
    const bool ok = posted == 1 && coroutine == 42 && timer_fired == 1 && task == 7;
    std::printf("consumer: post %d, co_spawn %d, timer %d, task %d: %s\n", posted.load(),
                coroutine.load(), timer_fired.load(), task, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
