// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/detail/recycling_allocator.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki detail recycling allocator
#include <boost/test/unit_test.hpp>

#include <malloc.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

using zuki::detail::RecyclingCache;

namespace {

constexpr std::size_t block = 128;  // one size class

// Bytes malloc has handed out and not got back (all arenas).
std::size_t heap_in_use() {
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

// Allocates n blocks on this thread, each filled with its index.
std::vector<void*> make_blocks(std::size_t n) {
    std::vector<void*> v(n);
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = RecyclingCache::allocate(block);
        std::memset(v[i], static_cast<int>(i & 0xff), block);
    }
    return v;
}

// On a new thread: `fn()`, then the thread exits (its cache is freed).
template <class Fn>
void on_thread(Fn fn) {
    std::thread(fn).join();
}

}  // namespace

// Blocks handed out at once are distinct and keep what was written to them, also when they
// were freed on another thread and come back through the depot.
BOOST_AUTO_TEST_CASE(blocks_are_distinct_and_travel_between_threads) {
    for (int round = 0; round < 20; ++round) {
        std::vector<void*> made = make_blocks(5'000);
        std::set<void*> distinct(made.begin(), made.end());
        BOOST_REQUIRE(distinct.size() == made.size());
        bool intact = true;
        for (std::size_t i = 0; i < made.size(); ++i) {
            const auto* p = static_cast<const unsigned char*>(made[i]);
            intact = intact && p[0] == (i & 0xff) && p[block - 1] == (i & 0xff);
        }
        BOOST_REQUIRE(intact);
        // Another thread frees them (its cache spills batches to the depot), and this thread
        // takes them back on the next round.
        on_thread([&] {
            for (void* p : made) RecyclingCache::deallocate(p, block);
        });
    }
}

// A producer/consumer burst leaves the caches holding a bounded amount: a thread keeps at most
// two batches per class, the depot 4 MiB per class; the rest goes back to malloc. (The
// first version kept every block of the burst, 12.8 MB here, for the life of the process.)
BOOST_AUTO_TEST_CASE(a_burst_of_cross_thread_frees_leaves_a_bounded_cache) {
    constexpr std::size_t burst = 100'000;  // 12.8 MB of 128-byte blocks
    const std::size_t before = heap_in_use();
    std::vector<void*> made = make_blocks(burst);
    if (heap_in_use() < before + burst * block) {
        // A sanitizer's allocator: mallinfo2 reports nothing (and under ASan the cache is off).
        BOOST_TEST_MESSAGE("malloc statistics unavailable here: the bound is checked in the "
                           "release build");
        for (void* p : made) RecyclingCache::deallocate(p, block);
        return;
    }
    // Freed on a consumer thread that then lives on (its cache is not destroyed).
    std::thread consumer;
    std::atomic<bool> freed{false}, done{false};
    consumer = std::thread([&] {
        for (void* p : made) RecyclingCache::deallocate(p, block);
        freed.store(true);
        while (!done.load()) std::this_thread::yield();
    });
    while (!freed.load()) std::this_thread::yield();
    made = std::vector<void*>();  // the test's own list
    const std::size_t held = heap_in_use() - before;
    // malloc's chunk of a 128-byte block is 144 bytes (its header); + slack.
    const std::size_t bound = (RecyclingCache::depot_batches * RecyclingCache::batch_bytes +
                               4 * RecyclingCache::batch_bytes) /
                                  8 * 9 +
                              64 * 1024;
    BOOST_TEST_MESSAGE("held after the burst: " << held << " bytes (bound " << bound << ")");
    BOOST_TEST(held <= bound);
    // What the depot keeps serves the next burst: this thread allocates again without the
    // heap growing by the depot's share.
    std::vector<void*> again;
    again.reserve(RecyclingCache::depot_batches * RecyclingCache::batch_bytes / block);
    const std::size_t before_second = heap_in_use();
    for (std::size_t i = 0; i < again.capacity(); ++i) {
        again.push_back(RecyclingCache::allocate(block));
    }
    BOOST_TEST(heap_in_use() <= before_second + 16 * 1024);
    for (void* p : again) RecyclingCache::deallocate(p, block);
    done.store(true);
    consumer.join();
}

// A Binding lends a cache to the calling thread (as a pool's worker lends its own to its
// thread): what the thread frees goes there and stays after the thread has exited, whichever
// thread binds the cache next allocates it back, a nested binding gives the outer one back,
// and outside any binding a thread uses its own cache again.
BOOST_AUTO_TEST_CASE(a_bound_cache_takes_the_threads_frees_and_outlives_the_thread) {
    RecyclingCache lent;
    void* p = RecyclingCache::allocate(block);
    on_thread([&] {
        RecyclingCache::Binding bound(lent);
        RecyclingCache::deallocate(p, block);
    });
#if defined(ZUKI_NO_RECYCLING)
    // (Sanitizer builds: every block goes to the heap; the binding must still be harmless.)
    RecyclingCache::Binding bound(lent);
    void* q = RecyclingCache::allocate(block);
    std::memset(q, 0x5a, block);
    BOOST_TEST(static_cast<unsigned char*>(q)[block - 1] == 0x5a);
    RecyclingCache::deallocate(q, block);
#else
    void* own = RecyclingCache::allocate(block);  // this thread's cache: p is not there
    BOOST_TEST(own != p);
    RecyclingCache outer;
    void* x = RecyclingCache::allocate(block);
    void* y = RecyclingCache::allocate(block);
    {
        RecyclingCache::Binding to_lent(lent);
        BOOST_TEST(RecyclingCache::allocate(block) == p);  // the freed block, from `lent`
        RecyclingCache::deallocate(p, block);
        {
            RecyclingCache::Binding to_outer(outer);
            RecyclingCache::deallocate(x, block);  // into `outer`
        }
        RecyclingCache::deallocate(y, block);  // into `lent` again
        BOOST_TEST(RecyclingCache::allocate(block) == y);
        RecyclingCache::deallocate(y, block);
    }
    {
        RecyclingCache::Binding to_outer(outer);
        BOOST_TEST(RecyclingCache::allocate(block) == x);
        RecyclingCache::deallocate(x, block);
    }
    RecyclingCache::deallocate(own, block);  // unbound again: this thread's own cache
    BOOST_TEST(RecyclingCache::allocate(block) == own);
    RecyclingCache::deallocate(own, block);
#endif
}
