// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/detail/aligned_memory.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki detail aligned memory
#include <boost/test/unit_test.hpp>

#include <boost/lockfree/queue.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <thread>
#include <vector>

using zuki::detail::AlignedAllocated;
using zuki::detail::allocate_aligned;
using zuki::detail::CacheLineAllocator;
using zuki::detail::deallocate_aligned;

namespace {

bool aligned_to(const void* p, std::size_t a) {
    return reinterpret_cast<std::uintptr_t>(p) % a == 0;
}

struct alignas(64) Line : AlignedAllocated {
    unsigned char bytes[100] = {};
};

struct Base {
    virtual ~Base() = default;
};
struct alignas(128) Derived : Base, AlignedAllocated {
    explicit Derived(int* destroyed) : destroyed_(destroyed) {}
    ~Derived() override { ++*destroyed_; }
    int* destroyed_;
};

struct Plain : AlignedAllocated {  // not over-aligned: the global operator new
    int x = 7;
};

}  // namespace

BOOST_AUTO_TEST_CASE(blocks_are_aligned_writable_and_distinct) {
    for (std::size_t alignment : {1u, 8u, 16u, 32u, 64u, 128u, 4096u}) {
        std::vector<void*> blocks;
        for (std::size_t size : {0u, 1u, 15u, 16u, 63u, 64u, 65u, 1000u, 40000u}) {
            void* p = allocate_aligned(size, alignment);
            BOOST_TEST_REQUIRE(p != nullptr);
            BOOST_TEST(aligned_to(p, alignment < 16 ? 16 : alignment), alignment << " " << size);
            std::memset(p, 0xab, size);  // the whole block is ours (ASan checks the bounds)
            blocks.push_back(p);
        }
        for (std::size_t i = 0; i < blocks.size(); ++i)
            for (std::size_t j = i + 1; j < blocks.size(); ++j) BOOST_TEST(blocks[i] != blocks[j]);
        for (void* p : blocks) deallocate_aligned(p);
    }
    deallocate_aligned(nullptr);  // does nothing
}

BOOST_AUTO_TEST_CASE(an_impossible_size_throws_bad_alloc) {
    BOOST_CHECK_THROW(allocate_aligned(SIZE_MAX - 8, 64), std::bad_alloc);
    CacheLineAllocator<double> a;
    BOOST_CHECK_THROW((void)a.allocate(SIZE_MAX / 4), std::bad_array_new_length);
}

BOOST_AUTO_TEST_CASE(the_allocator_gives_cache_lines_and_rebinds) {
    CacheLineAllocator<int> ints;
    int* p = ints.allocate(3);
    BOOST_TEST(aligned_to(p, 64));
    p[0] = 1;
    p[2] = 3;
    ints.deallocate(p, 3);
    using Rebound = std::allocator_traits<CacheLineAllocator<int>>::rebind_alloc<Line>;
    Rebound lines(ints);
    Line* l = lines.allocate(2);
    BOOST_TEST(aligned_to(l, 64));
    BOOST_TEST(aligned_to(l + 1, 64));
    lines.deallocate(l, 2);
    BOOST_TEST((ints == CacheLineAllocator<int>()));

    std::vector<int, CacheLineAllocator<int>> v;
    for (int i = 0; i < 1000; ++i) v.push_back(i);
    BOOST_TEST(aligned_to(v.data(), 64));
    BOOST_TEST(v[999] == 999);
}

BOOST_AUTO_TEST_CASE(over_aligned_classes_come_aligned_and_delete_through_a_virtual_base) {
    auto line = std::make_unique<Line>();
    BOOST_TEST(aligned_to(line.get(), 64));
    line->bytes[99] = 1;
    int destroyed = 0;
    Base* b = new Derived(&destroyed);
    BOOST_TEST(aligned_to(dynamic_cast<Derived*>(b), 128));
    delete b;  // the deleting destructor is Derived's: its operator delete
    BOOST_TEST(destroyed == 1);
    auto plain = std::make_unique<Plain>();
    BOOST_TEST(plain->x == 7);
}

// The injection queue's lanes: a Boost.Lockfree queue whose nodes come from the allocator,
// used by producers and consumers at once; every value arrives once.
BOOST_AUTO_TEST_CASE(a_lockfree_queue_on_the_allocator_passes_every_value_once) {
    boost::lockfree::queue<std::uint64_t, boost::lockfree::allocator<CacheLineAllocator<void>>> q(
        1);
    constexpr int producers = 2, per_producer = 20000;
    std::vector<std::atomic<int>> seen(producers * per_producer);
    std::atomic<int> taken{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&, p] {
            for (int i = 0; i < per_producer; ++i)
                while (!q.push(static_cast<std::uint64_t>(p * per_producer + i))) {}
        });
    for (int c = 0; c < 2; ++c)
        threads.emplace_back([&] {
            std::uint64_t v = 0;
            while (taken.load(std::memory_order_relaxed) < producers * per_producer)
                if (q.pop(v)) {
                    seen[v].fetch_add(1, std::memory_order_relaxed);
                    taken.fetch_add(1, std::memory_order_relaxed);
                }
        });
    for (auto& t : threads) t.join();
    for (std::size_t i = 0; i < seen.size(); ++i) BOOST_TEST_REQUIRE(seen[i].load() == 1, i);
}
