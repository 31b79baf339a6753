// Channels between tasks: four producers on a WorkStealingExecutor feed one consumer through a
// bounded zuki::sync::mpsc (the producers wait when it is full), a zuki::sync::Semaphore caps
// how many producers work at once, the consumer hands its total back through a
// zuki::sync::oneshot, and a zuki::sync::Notify starts everyone at the same moment. The main
// thread is a plain thread: it waits with the pool's block_on.
//
//   example_channels      # self-check: prints the total and the peak concurrency, exits 0

#include <zuki/zuki.hpp>

#include <atomic>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

namespace {

constexpr int producers = 4;
constexpr int per_producer = 1000;

std::atomic<int> working{0};
std::atomic<int> peak{0};

zuki::Async<void> produce(int id, zuki::sync::MpscSender<int> tx, zuki::sync::Semaphore& slots,
                          zuki::sync::Notify::Notified start) {
    co_await std::move(start);  // made before notify_waiters(): completes with it
    zuki::sync::SemaphorePermit permit = co_await slots.acquire();  // at most 2 at a time
    const int now = working.fetch_add(1) + 1;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {}
    for (int i = 0; i < per_producer; ++i) {
        zuki::sync::SendResult<int> r = co_await tx.send(id * per_producer + i);  // back-pressure
        if (!r.sent()) break;  // the consumer is gone
    }
    working.fetch_sub(1);
}  // the permit goes back here; the sender too (the last one closes the channel)

zuki::Async<void> consume(zuki::sync::MpscReceiver<int> rx,
                          zuki::sync::OneshotSender<long> result) {
    long total = 0;
    while (std::optional<int> v = co_await rx.recv()) total += *v;  // empty: closed and drained
    (void)result.send(total);
}

}  // namespace

int main() {
    zuki::WorkStealingExecutor pool(std::size_t{4});
    zuki::sync::Semaphore slots(2);
    zuki::sync::Notify start;

    auto [tx, rx] = zuki::sync::mpsc<int>(8);  // small: the producers feel the back-pressure
    auto [result_tx, result_rx] = zuki::sync::oneshot<long>();
    pool.spawn_detached(consume(std::move(rx), std::move(result_tx)));

    // Each producer gets a notified() future made here, before notify_waiters(): it completes
    // whether the producer was already waiting on it or had not polled it yet.
    std::vector<zuki::JoinHandle<void>> hs;
    for (int id = 0; id < producers; ++id)
        hs.push_back(pool.spawn(produce(id, tx, slots, start.notified())));
    tx.reset();  // only the producers' copies keep the channel open now
    start.notify_waiters();
    for (auto& h : hs) h.get();

    const long total = pool.block_on(std::move(result_rx));
    const long n = static_cast<long>(producers) * per_producer;
    const long expected = n * (n - 1) / 2;
    std::printf("received total %ld (expected %ld), peak producers at once %d (limit 2)\n", total,
                expected, peak.load());
    return total == expected && peak.load() <= 2 ? 0 : 1;
}
