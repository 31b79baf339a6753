// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/concurrent/chase_lev_deque.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki concurrent chase_lev_deque
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using zuki::detail::ChaseLevDeque;

namespace {

struct Item {
    std::size_t id = 0;
};
using Deque = ChaseLevDeque<Item>;

using zuki::test::stress_scale;

using zuki::test::sanitized;

std::vector<Item> make_items(std::size_t n) {
    std::vector<Item> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i].id = i;
    return v;
}

// Pops everything (owner side) and returns the ids in the order they came out.
std::vector<std::size_t> drain(Deque& d) {
    std::vector<std::size_t> out;
    while (Item* it = d.pop()) out.push_back(it->id);
    return out;
}

struct XorShift {
    std::uint64_t s;
    explicit XorShift(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    std::uint64_t next() noexcept {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
};

}  // namespace

// ---- construction ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(capacity_must_be_a_power_of_two_of_at_least_two) {
    for (std::size_t bad : {0u, 1u, 3u, 6u, 12u, 1000u}) {
        BOOST_TEST_CONTEXT("capacity " << bad) {
            BOOST_CHECK_THROW(Deque{bad}, std::invalid_argument);
        }
    }
    for (std::size_t good : {2u, 4u, 8u, 256u, 1024u}) {
        Deque d(good);
        BOOST_TEST(d.capacity() == good);
        BOOST_TEST(d.size() == 0u);
        BOOST_TEST(d.empty());
        BOOST_TEST(d.pop() == nullptr);
    }
}

// ---- owner side ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(push_returns_false_when_full_and_changes_nothing) {
    auto items = make_items(9);
    Deque d(8);
    for (std::size_t i = 0; i < 8; ++i) BOOST_TEST(d.push(&items[i]));
    BOOST_TEST(d.size() == 8u);
    BOOST_TEST(!d.push(&items[8]));
    BOOST_TEST(d.size() == 8u);
    // Room again after one pop; the refused item was not stored.
    BOOST_TEST(d.pop() != nullptr);
    BOOST_TEST(d.push(&items[8]));
    BOOST_TEST(!d.push(&items[8]));
    std::vector<std::size_t> got = drain(d);
    BOOST_TEST(got.size() == 8u);
}

// Observed and documented order: pop takes the newest item while size > capacity/2 (LIFO in the
// deep part, no CAS) and the oldest once size <= capacity/2 (FIFO in the shallow part, one CAS).
BOOST_AUTO_TEST_CASE(pop_is_lifo_while_deep_and_fifo_when_shallow) {
    auto items = make_items(16);
    {
        Deque d(8);
        for (std::size_t i = 0; i < 8; ++i) BOOST_TEST(d.push(&items[i]));
        const std::vector<std::size_t> want{7, 6, 5, 4, 0, 1, 2, 3};
        BOOST_TEST(drain(d) == want, boost::test_tools::per_element());
    }
    {
        Deque d(2);
        BOOST_TEST(d.push(&items[0]));
        BOOST_TEST(d.push(&items[1]));
        const std::vector<std::size_t> want{1, 0};
        BOOST_TEST(drain(d) == want, boost::test_tools::per_element());
    }
    {
        // Shallow from the start: plain FIFO.
        Deque d(16);
        for (std::size_t i = 0; i < 5; ++i) BOOST_TEST(d.push(&items[i]));
        const std::vector<std::size_t> want{0, 1, 2, 3, 4};
        BOOST_TEST(drain(d) == want, boost::test_tools::per_element());
    }
    {
        // Deep again after refilling: LIFO down to capacity/2, then FIFO.
        Deque d(8);
        for (std::size_t i = 0; i < 6; ++i) BOOST_TEST(d.push(&items[i]));
        BOOST_TEST(d.pop()->id == 5u);  // size 6 > 4
        BOOST_TEST(d.pop()->id == 4u);  // size 5 > 4
        BOOST_TEST(d.pop()->id == 0u);  // size 4: shallow
        for (std::size_t i = 6; i < 10; ++i) BOOST_TEST(d.push(&items[i]));  // 1 2 3 6 7 8 9
        const std::vector<std::size_t> want{9, 8, 7, 1, 2, 3, 6};
        BOOST_TEST(drain(d) == want, boost::test_tools::per_element());
    }
}

// With a claim bound below capacity/2 (the pool's 64 of 256), the order turns from FIFO to
// LIFO at that depth instead; thieves claim at most that many; take_half still moves half.
BOOST_AUTO_TEST_CASE(max_steal_sets_the_lifo_depth_and_bounds_claims) {
    auto items = make_items(16);
    {
        Deque d(16, 2);
        BOOST_TEST(d.max_steal() == 2u);
        for (std::size_t i = 0; i < 6; ++i) BOOST_TEST(d.push(&items[i]));
        // Sizes 6, 5, 4, 3 > 2: newest first; the last 2: oldest first.
        const std::vector<std::size_t> want{5, 4, 3, 2, 0, 1};
        BOOST_TEST(drain(d) == want, boost::test_tools::per_element());
    }
    {
        Deque src(16, 2);
        Deque dst(16, 2);
        for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(src.push(&items[i]));
        std::size_t stolen = 0;
        Item* first = src.steal_half_into(dst, stolen);
        BOOST_TEST(stolen == 2u);  // bounded by max_steal, not ceil(10/2)
        BOOST_TEST(first->id == 0u);
        BOOST_TEST(dst.size() == 1u);
        BOOST_TEST(src.size() == 8u);
        std::vector<Item*> out(8, nullptr);
        BOOST_TEST(src.take_half(out.data()) == 4u);  // the owner's overflow: half of 8
    }
    Deque defaults(16);
    BOOST_TEST(defaults.max_steal() == 8u);
    BOOST_CHECK_THROW(Deque(16, 9), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(indices_wrap_around_the_ring_many_times) {
    auto items = make_items(8);
    Deque d(4);
    for (int round = 0; round < 10'000; ++round) {
        for (std::size_t i = 0; i < 3; ++i) BOOST_REQUIRE(d.push(&items[i]));
        // size 3 > 2: newest first, then FIFO
        BOOST_REQUIRE(d.pop()->id == 2u);
        BOOST_REQUIRE(d.pop()->id == 0u);
        BOOST_REQUIRE(d.pop()->id == 1u);
        BOOST_REQUIRE(d.pop() == nullptr);
    }
}

BOOST_AUTO_TEST_CASE(take_half_takes_the_older_half_at_least_one) {
    constexpr std::size_t cap = 16;
    auto items = make_items(cap);
    for (std::size_t k = 0; k <= cap; ++k) {
        BOOST_TEST_CONTEXT("K = " << k) {
            Deque d(cap);
            for (std::size_t i = 0; i < k; ++i) BOOST_REQUIRE(d.push(&items[i]));
            std::vector<Item*> out(cap / 2, nullptr);
            const std::size_t n = d.take_half(out.data());
            const std::size_t want =
                k == 0 ? 0 : std::min(std::max<std::size_t>(k / 2, 1), cap / 2);
            BOOST_TEST(n == want);
            for (std::size_t i = 0; i < n; ++i) BOOST_TEST(out[i]->id == i);  // oldest first
            BOOST_TEST(d.size() == k - n);
            // The rest stays, in order (size <= cap/2 now: pop is FIFO).
            std::vector<std::size_t> rest = drain(d);
            BOOST_TEST(rest.size() == k - n);
            for (std::size_t i = 0; i < rest.size(); ++i) BOOST_TEST(rest[i] == n + i);
        }
    }
}

// ---- thief side ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(steal_half_into_takes_ceil_half_returns_the_oldest_and_pushes_the_rest) {
    constexpr std::size_t cap = 16;
    auto items = make_items(cap);
    for (std::size_t k = 1; k <= cap; ++k) {
        BOOST_TEST_CONTEXT("K = " << k) {
            Deque src(cap);
            Deque dst(cap);
            for (std::size_t i = 0; i < k; ++i) BOOST_REQUIRE(src.push(&items[i]));
            std::size_t stolen = 99;
            Item* first = src.steal_half_into(dst, stolen);
            const std::size_t want = std::min((k + 1) / 2, cap / 2);
            BOOST_REQUIRE(first != nullptr);
            BOOST_TEST(first->id == 0u);  // the oldest
            BOOST_TEST(stolen == want);
            BOOST_TEST(src.size() == k - want);
            BOOST_TEST(dst.size() == want - 1);
            // dst holds items 1 .. want-1 in order (shallow: pop is FIFO).
            std::vector<std::size_t> moved = drain(dst);
            BOOST_TEST(moved.size() == want - 1);
            for (std::size_t i = 0; i < moved.size(); ++i) BOOST_TEST(moved[i] == i + 1);
            // src keeps want .. k-1 (size <= cap/2: FIFO).
            std::vector<std::size_t> rest = drain(src);
            BOOST_TEST(rest.size() == k - want);
            for (std::size_t i = 0; i < rest.size(); ++i) BOOST_TEST(rest[i] == want + i);
        }
    }
}

BOOST_AUTO_TEST_CASE(steal_half_into_is_capped_by_the_destinations_room) {
    constexpr std::size_t cap = 16;
    auto items = make_items(cap + 4);
    for (std::size_t room = 0; room <= 4; ++room) {
        BOOST_TEST_CONTEXT("room " << room) {
            Deque src(cap);
            Deque dst(4);
            for (std::size_t i = 0; i < cap; ++i) BOOST_REQUIRE(src.push(&items[i]));
            for (std::size_t i = 0; i < 4 - room; ++i) BOOST_REQUIRE(dst.push(&items[cap + i]));
            std::size_t stolen = 0;
            Item* first = src.steal_half_into(dst, stolen);
            BOOST_REQUIRE(first != nullptr);
            BOOST_TEST(first->id == 0u);
            // ceil(16/2) = 8, cap/2 = 8, room + 1 (the first item is returned, not pushed)
            BOOST_TEST(stolen == std::min<std::size_t>(8, room + 1));
            BOOST_TEST(dst.size() == 4 - room + stolen - 1);
            BOOST_TEST(src.size() == cap - stolen);
        }
    }
}

BOOST_AUTO_TEST_CASE(steal_from_empty_returns_null_and_zero) {
    Deque src(8);
    Deque dst(8);
    std::size_t stolen = 42;
    BOOST_TEST(src.steal_half_into(dst, stolen) == nullptr);
    BOOST_TEST(stolen == 0u);
    BOOST_TEST(dst.empty());
    // Also after items came and went.
    auto items = make_items(3);
    for (auto& it : items) BOOST_REQUIRE(src.push(&it));
    drain(src);
    BOOST_TEST(src.steal_half_into(dst, stolen) == nullptr);
    BOOST_TEST(stolen == 0u);
}

// A single-threaded model check: random pushes, pops, take_half and steals in both directions on
// two deques, each result compared with a reference model of the documented rules.
BOOST_AUTO_TEST_CASE(random_operations_match_the_documented_model) {
    auto items = make_items(4096);
    std::size_t next_item = 0;
    XorShift rng(7);
    for (std::size_t cap : {2u, 4u, 8u, 16u}) {
        BOOST_TEST_CONTEXT("capacity " << cap) {
            Deque d[2] = {Deque(cap), Deque(cap * 2)};
            std::deque<Item*> m[2];  // front: oldest (top), back: newest (bottom)
            const std::size_t caps[2] = {cap, cap * 2};
            std::vector<int> seen(items.size(), 0);
            for (int op = 0; op < 20'000; ++op) {
                const int w = static_cast<int>(rng.next() % 2);
                const std::size_t half = caps[w] / 2;
                switch (rng.next() % 5) {
                    case 0:
                    case 1: {  // push
                        Item* it = &items[next_item++ % items.size()];
                        const bool full = m[w].size() >= caps[w];
                        if (full) {
                            BOOST_REQUIRE(!d[w].push(it));
                            --next_item;
                        } else {
                            BOOST_REQUIRE(d[w].push(it));
                            m[w].push_back(it);
                            ++seen[it->id];
                        }
                        break;
                    }
                    case 2: {  // pop
                        Item* got = d[w].pop();
                        if (m[w].empty()) {
                            BOOST_REQUIRE(got == nullptr);
                        } else if (m[w].size() > half) {
                            BOOST_REQUIRE(got == m[w].back());
                            m[w].pop_back();
                        } else {
                            BOOST_REQUIRE(got == m[w].front());
                            m[w].pop_front();
                        }
                        if (got) --seen[got->id];
                        break;
                    }
                    case 3: {  // take_half
                        std::vector<Item*> out(half + 1, nullptr);
                        const std::size_t n = d[w].take_half(out.data());
                        const std::size_t sz = m[w].size();
                        const std::size_t want =
                            sz == 0 ? 0 : std::min(std::max<std::size_t>(sz / 2, 1), half);
                        BOOST_REQUIRE(n == want);
                        for (std::size_t i = 0; i < n; ++i) {
                            BOOST_REQUIRE(out[i] == m[w].front());
                            --seen[out[i]->id];
                            m[w].pop_front();
                        }
                        break;
                    }
                    default: {  // steal from d[w] into d[1-w]
                        const int o = 1 - w;
                        std::size_t stolen = 0;
                        Item* got = d[w].steal_half_into(d[o], stolen);
                        const std::size_t sz = m[w].size();
                        if (sz == 0) {
                            BOOST_REQUIRE(got == nullptr);
                            BOOST_REQUIRE(stolen == 0u);
                            break;
                        }
                        const std::size_t room = caps[o] - m[o].size();
                        const std::size_t want = std::min({(sz + 1) / 2, half, room + 1});
                        BOOST_REQUIRE(stolen == want);
                        BOOST_REQUIRE(got == m[w].front());
                        m[w].pop_front();
                        --seen[got->id];
                        for (std::size_t i = 1; i < want; ++i) {
                            m[o].push_back(m[w].front());
                            m[w].pop_front();
                        }
                        break;
                    }
                }
                BOOST_REQUIRE(d[0].size() == m[0].size());
                BOOST_REQUIRE(d[1].size() == m[1].size());
            }
            for (int w = 0; w < 2; ++w) {
                while (Item* it = d[w].pop()) --seen[it->id];
            }
            for (std::size_t i = 0; i < seen.size(); ++i) BOOST_REQUIRE(seen[i] == 0);
        }
    }
}

// ---- concurrent stress -----------------------------------------------------------------------

namespace {

struct StressResult {
    std::uint64_t owner_pops = 0;
    std::uint64_t owner_self_takes = 0;  // push refused (full): the owner runs it itself
    std::uint64_t steals = 0;
    std::uint64_t stolen_items = 0;
};

// One owner pushing and popping a random mix; `thieves` threads calling steal_half_into, each
// into its own destination deque, which it drains (partly, at random) with pop. Every item must
// be taken exactly once.
StressResult run_stress(std::size_t capacity, int thieves, std::size_t n_items,
                        std::uint64_t seed) {
    auto items = make_items(n_items);
    auto taken = std::make_unique<std::atomic<std::uint8_t>[]>(n_items);
    for (std::size_t i = 0; i < n_items; ++i) taken[i].store(0, std::memory_order_relaxed);
    auto take = [&](Item* it) { taken[it->id].fetch_add(1, std::memory_order_relaxed); };

    Deque src(capacity);
    std::atomic<bool> owner_done{false};
    std::atomic<bool> go{false};
    std::atomic<int> ready{0};
    std::atomic<std::uint64_t> steals{0}, stolen_items{0}, bad_counts{0};

    std::vector<std::thread> ts;
    for (int k = 0; k < thieves; ++k) {
        ts.emplace_back([&, k] {
            Deque dst(capacity);
            XorShift rng(seed * 31 + static_cast<std::uint64_t>(k) + 1);
            std::uint64_t my_steals = 0, my_items = 0, misses = 0;
            ready.fetch_add(1, std::memory_order_relaxed);
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            for (;;) {
                const std::size_t before = dst.size();
                std::size_t stolen = 0;
                Item* it = src.steal_half_into(dst, stolen);
                if (it != nullptr) {
                    take(it);
                    ++my_steals;
                    my_items += stolen;
                    // We own dst and nobody steals from it: exactly stolen-1 items arrived.
                    if (stolen == 0 || dst.size() != before + stolen - 1)
                        bad_counts.fetch_add(1, std::memory_order_relaxed);
                    // Drain only part of dst sometimes, so its room limits the next claim.
                    std::size_t k_pop = static_cast<std::size_t>(rng.next() % (dst.size() + 1));
                    while (k_pop-- > 0) {
                        if (Item* x = dst.pop()) take(x);
                    }
                    misses = 0;
                } else {
                    if (stolen != 0) bad_counts.fetch_add(1, std::memory_order_relaxed);
                    while (Item* x = dst.pop()) take(x);
                    // acquire: pairs with the owner's release store after its final drain.
                    if (owner_done.load(std::memory_order_acquire) && src.empty()) break;
                    if (++misses % 16 == 0) std::this_thread::yield();
                }
            }
            while (Item* x = dst.pop()) take(x);
            steals.fetch_add(my_steals, std::memory_order_relaxed);
            stolen_items.fetch_add(my_items, std::memory_order_relaxed);
        });
    }

    StressResult r;
    {
        XorShift rng(seed);
        while (ready.load(std::memory_order_relaxed) < thieves) std::this_thread::yield();
        go.store(true, std::memory_order_release);
        for (std::size_t i = 0; i < n_items; ++i) {
            if (!src.push(&items[i])) {
                take(&items[i]);
                ++r.owner_self_takes;
            }
            const std::uint64_t x = rng.next();
            if (x % 4 == 0) {
                if (Item* it = src.pop()) {
                    take(it);
                    ++r.owner_pops;
                }
            } else if (x % 97 == 1) {
                for (int j = 0; j < 8; ++j) {
                    if (Item* it = src.pop()) {
                        take(it);
                        ++r.owner_pops;
                    }
                }
            } else if (x % 389 == 2) {
                std::this_thread::yield();  // let thieves see a deep deque
            }
        }
        while (Item* it = src.pop()) {
            take(it);
            ++r.owner_pops;
        }
        owner_done.store(true, std::memory_order_release);
    }
    for (auto& t : ts) t.join();

    r.steals = steals.load();
    r.stolen_items = stolen_items.load();
    BOOST_TEST(bad_counts.load() == 0u);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n_items; ++i) {
        if (taken[i].load(std::memory_order_relaxed) != 1) {
            if (wrong < 10)
                BOOST_ERROR("item " << i << " taken " << int(taken[i].load()) << " times");
            ++wrong;
        }
    }
    BOOST_TEST(wrong == 0u);
    BOOST_TEST(r.owner_pops + r.owner_self_takes + r.stolen_items == n_items);
    return r;
}

std::size_t stress_items() { return (sanitized ? 200'000 : 2'000'000) * stress_scale(); }

void stress_case(std::size_t capacity, int thieves) {
    zuki::test::Watchdog w(std::chrono::seconds(120), "chase_lev_deque stress");
    // Every run checks exactly-once. A run must also have exercised stealing; on a loaded
    // 2-core machine the owner can finish a whole run before a thief gets a time slice, so a
    // run without steals is repeated with the next seed (a few times at most).
    constexpr int max_runs = 10;
    StressResult r;
    for (int run = 0; run < max_runs; ++run) {
        const auto t0 = std::chrono::steady_clock::now();
        r = run_stress(capacity, thieves, stress_items(),
                       capacity * 10 + static_cast<std::size_t>(thieves) +
                           1000 * static_cast<std::size_t>(run));
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - t0)
                            .count();
        std::cout << "capacity " << capacity << ", " << thieves << " thieves, " << stress_items()
                  << " items, run " << run + 1 << ": owner pops " << r.owner_pops
                  << ", owner self-takes " << r.owner_self_takes << ", steals " << r.steals << " ("
                  << r.stolen_items << " items), " << ms << " ms\n";
        if (r.steals > 0) break;
    }
    BOOST_TEST(r.steals > 0u);
    if (capacity <= 4) BOOST_TEST(r.owner_self_takes > 0u);  // the full path was exercised
}

}  // namespace

BOOST_AUTO_TEST_CASE(stress_two_thieves_capacity_256) { stress_case(256, 2); }
BOOST_AUTO_TEST_CASE(stress_three_thieves_capacity_256) { stress_case(256, 3); }
BOOST_AUTO_TEST_CASE(stress_two_thieves_capacity_4) { stress_case(4, 2); }
BOOST_AUTO_TEST_CASE(stress_three_thieves_capacity_4) { stress_case(4, 3); }
BOOST_AUTO_TEST_CASE(stress_two_thieves_capacity_2) { stress_case(2, 2); }
BOOST_AUTO_TEST_CASE(stress_three_thieves_capacity_2) { stress_case(2, 3); }
