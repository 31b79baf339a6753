// Cancellation that reaches Asio: a read on a real TCP socket, given up in the three ways a
// program gives up an operation, each time cancelled in the kernel's reactor (its handler sees
// operation_aborted at once) and each time with the socket usable afterwards:
//   1. a zuki::timeout that the read loses (the losing future is dropped);
//   2. a task awaiting the read, cancelled from outside through its AbortHandle;
//   3. a composed operation (asio::async_read of a whole message) whose future is dropped.
//
//   example_cancellation      # self-check: prints each case, exits 0

#include <zuki/zuki.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// A connected loopback pair on the pool.
std::pair<tcp::socket, tcp::socket> connected_pair(zuki::WorkStealingExecutor& pool) {
    tcp::acceptor acceptor(pool.get_executor(), tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    tcp::socket client(pool.get_executor());
    client.connect(acceptor.local_endpoint());
    return {std::move(client), acceptor.accept()};
}

// Reads what is there now (after the peer wrote `expected`): the socket still works.
bool still_usable(tcp::socket& s, tcp::socket& peer, const std::string& expected) {
    asio::write(peer, asio::buffer(expected));
    std::string got(expected.size(), '\0');
    asio::read(s, asio::buffer(got));
    return got == expected;
}

// 1. A read with a deadline. True if the timeout won.
zuki::Async<bool> read_with_deadline(tcp::socket& s) {
    std::array<char, 64> buf;
    auto read = s.async_read_some(asio::buffer(buf), zuki::use_future);
    auto res = co_await zuki::timeout(std::move(read), 50ms);
    co_return res.timed_out();
}

// 2. A read that waits for good (until its task is aborted).
zuki::Async<std::string> read_until_aborted(tcp::socket& s) {
    std::array<char, 64> buf;
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), zuki::use_future_nothrow);
    co_return ec.message();
}

// 3. A composed read of a 16-byte message, with a deadline. True if the timeout won.
zuki::Async<bool> read_message_with_deadline(tcp::socket& s) {
    std::array<char, 16> buf;
    auto whole = asio::async_read(s, asio::buffer(buf), zuki::use_future);
    auto res = co_await zuki::timeout(std::move(whole), 50ms);
    co_return res.timed_out();
}

bool fail(const char* what) {
    std::printf("FAILED: %s\n", what);
    return false;
}

}  // namespace

int main() {
    zuki::WorkStealingExecutor pool(2);
    auto [s, peer] = connected_pair(pool);
    bool ok = true;

    // 1. A read with a deadline: nothing arrives, the timeout wins, the read is cancelled.
    {
        const auto t0 = std::chrono::steady_clock::now();
        const bool r = pool.block_on(pool.spawn(read_with_deadline(s)));
        const auto ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        std::printf("1. timeout: timed out %s after %.0f ms; socket usable: ", r ? "yes" : "no",
                    ms);
        const bool usable = still_usable(s, peer, "after the timeout");
        std::printf("%s\n", usable ? "yes" : "no");
        ok = (r && usable) ? ok : fail("timeout");
    }

    // 2. A task waiting in a read, aborted from this thread: dropping the task's frame drops
    //    the read's future, and the read is cancelled in the reactor.
    {
        auto h = pool.spawn(read_until_aborted(s));
        std::this_thread::sleep_for(20ms);  // the task is waiting in the read now
        h.abort_handle().abort();
        bool cancelled = false;
        try {
            (void)h.get();
        } catch (const zuki::TaskCancelled&) {
            cancelled = true;
        }
        std::printf("2. abort: task cancelled %s; socket usable: ", cancelled ? "yes" : "no");
        const bool usable = still_usable(s, peer, "after the abort");
        std::printf("%s\n", usable ? "yes" : "no");
        ok = (cancelled && usable) ? ok : fail("abort");
    }

    // 3. A composed read of a 16-byte message, of which only 5 bytes ever come: dropping its
    //    future cancels the async_read_some the composed operation is waiting in.
    {
        asio::write(peer, asio::buffer(std::string("hello")));
        const bool r = pool.block_on(pool.spawn(read_message_with_deadline(s)));
        // What the cancelled operation had read is gone with it; what comes next is intact.
        std::printf("3. composed async_read dropped: timed out %s; socket usable: ",
                    r ? "yes" : "no");
        const bool usable = still_usable(s, peer, "after the drop");
        std::printf("%s\n", usable ? "yes" : "no");
        ok = (r && usable) ? ok : fail("composed");
    }

    std::printf("%s\n", ok ? "all cancelled, the socket usable after each" : "FAILED");
    return ok ? 0 : 1;
}
