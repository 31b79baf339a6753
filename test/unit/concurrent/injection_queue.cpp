// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/concurrent/injection_queue.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki concurrent injection_queue
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using zuki::TaskPriority;
using zuki::detail::Chunk;
using zuki::detail::InjectionQueue;

namespace {

struct Node {
    Node* next = nullptr;
    std::size_t id = 0;
    std::uint32_t producer = 0;
    std::size_t lane = 0;
    std::uint64_t seq = 0;  // per producer and lane
};
using Queue = InjectionQueue<Node>;

using zuki::test::stress_scale;

using zuki::test::sanitized;

std::vector<Node> make_nodes(std::size_t n) {
    std::vector<Node> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i].id = i;
    return v;
}

// Links nodes[first, first+count) into a chunk.
Chunk<Node> chunk_of(std::vector<Node>& nodes, std::size_t first, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i)
        nodes[first + i].next = i + 1 < count ? &nodes[first + i + 1] : nullptr;
    return Chunk<Node>{&nodes[first], &nodes[first + count - 1], count};
}

// The ids of a popped chunk, following `next` exactly `count` times (the last link is not read:
// the queue does not promise it is null).
std::vector<std::size_t> ids_of(Chunk<Node> c) {
    std::vector<std::size_t> out;
    Node* n = c.head;
    for (std::size_t i = 0; i < c.count; ++i) {
        out.push_back(n->id);
        n = n->next;
    }
    return out;
}

// Pops everything; returns the ids in the order they came out.
std::vector<std::size_t> drain_ids(Queue& q) {
    std::vector<std::size_t> out;
    for (;;) {
        Chunk<Node> c = q.pop();
        if (c.count == 0) return out;
        for (std::size_t id : ids_of(c)) out.push_back(id);
    }
}

std::vector<std::size_t> iota(std::size_t first, std::size_t n) {
    std::vector<std::size_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = first + i;
    return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(empty_queue_pops_a_zero_chunk) {
    Queue q(8);
    Chunk<Node> c = q.pop();
    BOOST_TEST(c.count == 0u);
    BOOST_TEST(q.empty_hint());
    BOOST_TEST(q.size_hint() == 0);
}

BOOST_AUTO_TEST_CASE(a_chunk_comes_back_whole_with_its_list) {
    auto nodes = make_nodes(5);
    Queue q(8);
    q.push(chunk_of(nodes, 0, 5), TaskPriority::Normal);
    BOOST_TEST(q.size_hint() == 5);  // counts tasks, not chunks
    BOOST_TEST(!q.empty_hint());
    Chunk<Node> c = q.pop();
    BOOST_TEST(c.count == 5u);
    BOOST_TEST(c.head == &nodes[0]);
    BOOST_TEST(ids_of(c) == iota(0, 5), boost::test_tools::per_element());
    BOOST_TEST(q.pop().count == 0u);
    BOOST_TEST(q.size_hint() == 0);
}

BOOST_AUTO_TEST_CASE(a_chunk_keeps_its_overflow_tag_through_the_lock_free_part) {
    // The pool tells a worker's own overflow from outside work by the tag (a take of outside
    // work holds the LIFO slot back; of overflow, not): it must survive the queue.
    auto nodes = make_nodes(4);
    Queue q(8);
    Chunk<Node> mine = chunk_of(nodes, 0, 2);
    mine.overflow = true;
    q.push(mine, TaskPriority::Normal);
    q.push(chunk_of(nodes, 2, 2), TaskPriority::Normal);
    const Chunk<Node> a = q.pop();
    const Chunk<Node> b = q.pop();
    BOOST_TEST(a.count == 2u);
    BOOST_TEST(a.overflow);
    BOOST_TEST(b.count == 2u);
    BOOST_TEST(!b.overflow);
}

BOOST_AUTO_TEST_CASE(chunks_are_fifo_within_a_lane) {
    auto nodes = make_nodes(40);
    Queue q(64);
    for (std::size_t i = 0; i < 20; ++i) q.push(chunk_of(nodes, 2 * i, 2), TaskPriority::Low);
    BOOST_TEST(q.size_hint() == 40);
    BOOST_TEST(drain_ids(q) == iota(0, 40), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(higher_priority_lanes_are_taken_first) {
    auto nodes = make_nodes(8);
    Queue q(8);
    // Submitted lowest first; ids 0..7 = (Low, Normal, High, Critical) x 2.
    const TaskPriority ps[4] = {TaskPriority::Low, TaskPriority::Normal, TaskPriority::High,
                                TaskPriority::Critical};
    for (std::size_t round = 0; round < 2; ++round)
        for (std::size_t p = 0; p < 4; ++p) q.push(chunk_of(nodes, round * 4 + p, 1), ps[p]);
    const std::vector<std::size_t> want{3, 7, 2, 6, 1, 5, 0, 4};  // by lane, FIFO within it
    BOOST_TEST(drain_ids(q) == want, boost::test_tools::per_element());

    // A Critical chunk pushed after Low work is queued still goes first.
    q.push(chunk_of(nodes, 0, 1), TaskPriority::Low);
    q.push(chunk_of(nodes, 1, 1), TaskPriority::Low);
    BOOST_TEST(q.pop().head == &nodes[0]);
    q.push(chunk_of(nodes, 2, 1), TaskPriority::Critical);
    BOOST_TEST(q.pop().head == &nodes[2]);
    BOOST_TEST(q.pop().head == &nodes[1]);
    BOOST_TEST(q.pop().count == 0u);
}

BOOST_AUTO_TEST_CASE(beyond_capacity_chunks_spill_and_nothing_is_lost_or_reordered) {
    auto nodes = make_nodes(64);
    Queue q(1);
    // 16 chunks of sizes 1..4 into one lane whose lock-free part holds one chunk.
    std::size_t next = 0;
    for (std::size_t i = 0; i < 16; ++i) {
        const std::size_t n = 1 + i % 4;
        q.push(chunk_of(nodes, next, n), TaskPriority::Normal);
        next += n;
    }
    BOOST_TEST(q.size_hint() == static_cast<std::int64_t>(next));
    BOOST_TEST(drain_ids(q) == iota(0, next), boost::test_tools::per_element());
    BOOST_TEST(q.size_hint() == 0);
    BOOST_TEST(q.pop().count == 0u);
}

BOOST_AUTO_TEST_CASE(a_lane_reserves_its_nodes_as_it_grows_and_stops_at_its_capacity) {
    // A pool's construction must not pay for 4 lanes x capacity nodes (issue 16): a lane starts
    // small and doubles while pushes find no free node, up to its capacity; then chunks spill.
    auto nodes = make_nodes(3000);
    Queue q(1000);
    const std::size_t initial = q.reserved(TaskPriority::Normal);
    BOOST_TEST(initial == std::min<std::size_t>(1000, Queue::initial_reserve));
    BOOST_TEST(q.reserved(TaskPriority::Low) == initial);
    for (std::size_t i = 0; i < 500; ++i) q.push(chunk_of(nodes, i, 1), TaskPriority::Normal);
    const std::size_t grown = q.reserved(TaskPriority::Normal);
    BOOST_TEST(grown >= 500u);  // grown, not spilled
    BOOST_TEST(grown <= 1000u);
    BOOST_TEST(q.reserved(TaskPriority::Low) == initial);  // other lanes untouched
    BOOST_TEST(drain_ids(q) == iota(0, 500), boost::test_tools::per_element());
    // Beyond the capacity: the lane stops growing and the rest spills, still FIFO.
    for (std::size_t i = 0; i < 3000; ++i) q.push(chunk_of(nodes, i, 1), TaskPriority::Normal);
    BOOST_TEST(q.reserved(TaskPriority::Normal) == 1000u);
    BOOST_TEST(drain_ids(q) == iota(0, 3000), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(spilled_chunks_keep_their_lane_priority) {
    auto nodes = make_nodes(12);
    Queue q(1);
    for (std::size_t i = 0; i < 4; ++i) q.push(chunk_of(nodes, i, 1), TaskPriority::Low);
    for (std::size_t i = 4; i < 8; ++i) q.push(chunk_of(nodes, i, 1), TaskPriority::High);
    for (std::size_t i = 8; i < 12; ++i) q.push(chunk_of(nodes, i, 1), TaskPriority::Normal);
    const std::vector<std::size_t> want{4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3};
    BOOST_TEST(drain_ids(q) == want, boost::test_tools::per_element());
}

// A chunk pushed while earlier chunks of its lane sit in the spill list must not overtake them
// (FIFO within a lane; otherwise spilled work can also starve behind a steady stream).
BOOST_AUTO_TEST_CASE(a_push_after_a_spill_does_not_overtake_the_spilled_chunks) {
    auto nodes = make_nodes(8);
    Queue q(1);
    // Fill the lock-free part, spill once, make room, push again.
    std::size_t pushed = 0;
    for (; pushed < 4; ++pushed) q.push(chunk_of(nodes, pushed, 1), TaskPriority::Normal);
    std::vector<std::size_t> got;
    for (std::size_t id : ids_of(q.pop())) got.push_back(id);
    for (; pushed < 8; ++pushed) q.push(chunk_of(nodes, pushed, 1), TaskPriority::Normal);
    for (std::size_t id : drain_ids(q)) got.push_back(id);
    BOOST_TEST(got == iota(0, 8), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(spilled_work_is_not_starved_by_a_steady_stream) {
    // Alternating push/pop keeps the lock-free part non-empty; the spilled chunk must still come
    // out within a bounded number of pops (FIFO: right after what was queued before it).
    auto nodes = make_nodes(1000);
    Queue q(1);
    q.push(chunk_of(nodes, 0, 1), TaskPriority::Normal);
    q.push(chunk_of(nodes, 1, 1), TaskPriority::Normal);
    q.push(chunk_of(nodes, 2, 1), TaskPriority::Normal);  // spills for sure
    std::size_t pops_until_2 = 0;
    bool found = false;
    for (std::size_t i = 3; i < 1000 && !found; ++i) {
        q.push(chunk_of(nodes, i, 1), TaskPriority::Normal);
        Chunk<Node> c = q.pop();
        ++pops_until_2;
        for (std::size_t id : ids_of(c)) found = found || id == 2;
    }
    BOOST_TEST(found);
    BOOST_TEST(pops_until_2 <= 3u);
    drain_ids(q);
}

// ---- concurrent ----------------------------------------------------------------------------

namespace {

// `producers` threads each push `chunks` chunks of 1..4 nodes at random priorities; `consumers`
// threads pop until everything was seen. Every node must be seen exactly once. With one consumer
// it also checks that each producer's chunks come out in push order within a lane (pushes of one
// thread are ordered, so a FIFO lane must return them in that order).
void run_concurrent(std::size_t producers, std::size_t consumers, std::size_t chunks,
                    std::size_t capacity) {
    // Producer p owns nodes [p * per, (p + 1) * per); it uses a prefix of them.
    const std::size_t per = chunks * 4;
    auto nodes = make_nodes(producers * per);
    for (std::size_t p = 0; p < producers; ++p)
        for (std::size_t i = 0; i < per; ++i)
            nodes[p * per + i].producer = static_cast<std::uint32_t>(p);
    auto seen = std::make_unique<std::atomic<std::uint8_t>[]>(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) seen[i].store(0, std::memory_order_relaxed);

    Queue q(capacity);
    std::atomic<std::size_t> total_pushed{0};
    std::atomic<std::size_t> total_seen{0};
    std::atomic<std::size_t> producers_done{0};
    std::atomic<std::size_t> order_violations{0};

    std::vector<std::thread> threads;
    for (std::size_t p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            std::uint64_t rng = p * 0x9E3779B97F4A7C15ull + 12345;
            std::uint64_t seq[zuki::task_priority_levels] = {};
            std::size_t next = p * per;
            for (std::size_t c = 0; c < chunks; ++c) {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                const std::size_t n = 1 + rng % 4;
                const std::size_t lane = (rng >> 8) % zuki::task_priority_levels;
                for (std::size_t i = 0; i < n; ++i) {
                    nodes[next + i].seq = seq[lane]++;
                    nodes[next + i].lane = lane;
                }
                q.push(chunk_of(nodes, next, n), static_cast<TaskPriority>(lane));
                next += n;
                total_pushed.fetch_add(n, std::memory_order_relaxed);
            }
            // release: pairs with the consumers' acquire load (they may then trust the total).
            producers_done.fetch_add(1, std::memory_order_release);
        });
    }
    for (std::size_t k = 0; k < consumers; ++k) {
        threads.emplace_back([&] {
            // Last seq seen per (producer, lane), for the single-consumer order check.
            std::vector<std::int64_t> last(producers * zuki::task_priority_levels, -1);
            for (;;) {
                Chunk<Node> c = q.pop();
                if (c.count == 0) {
                    if (producers_done.load(std::memory_order_acquire) == producers &&
                        total_seen.load(std::memory_order_relaxed) ==
                            total_pushed.load(std::memory_order_relaxed))
                        return;
                    std::this_thread::yield();
                    continue;
                }
                Node* n = c.head;
                for (std::size_t i = 0; i < c.count; ++i) {
                    Node* next = n->next;
                    seen[n->id].fetch_add(1, std::memory_order_relaxed);
                    if (consumers == 1) {
                        auto& l = last[n->producer * zuki::task_priority_levels + n->lane];
                        if (static_cast<std::int64_t>(n->seq) <= l)
                            order_violations.fetch_add(1, std::memory_order_relaxed);
                        l = static_cast<std::int64_t>(n->seq);
                    }
                    n = next;
                }
                total_seen.fetch_add(c.count, std::memory_order_relaxed);
            }
        });
    }
    for (auto& t : threads) t.join();

    std::size_t wrong = 0;
    std::size_t seen_total = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const auto s = seen[i].load(std::memory_order_relaxed);
        seen_total += s;
        if (s > 1) {
            if (wrong < 10) BOOST_ERROR("node " << i << " popped " << int(s) << " times");
            ++wrong;
        }
    }
    BOOST_TEST(wrong == 0u);
    BOOST_TEST(seen_total == total_pushed.load());  // so none was lost either
    BOOST_TEST(order_violations.load() == 0u);
    BOOST_TEST(q.pop().count == 0u);
    BOOST_TEST(q.size_hint() == 0);
}

std::size_t concurrent_chunks() { return (sanitized ? 20'000 : 100'000) * stress_scale(); }

void concurrent_case(std::size_t consumers) {
    zuki::test::Watchdog w(std::chrono::seconds(120), "injection_queue concurrent");
    for (std::size_t capacity : {std::size_t{1}, std::size_t{8}, std::size_t{4096}}) {
        BOOST_TEST_CONTEXT("capacity " << capacity) {
            const auto t0 = std::chrono::steady_clock::now();
            run_concurrent(4, consumers, concurrent_chunks(), capacity);
            std::cout << "4 producers x " << concurrent_chunks() << " chunks, " << consumers
                      << " consumer(s), capacity " << capacity << ": "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - t0)
                             .count()
                      << " ms\n";
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(four_producers_two_consumers_every_node_exactly_once) { concurrent_case(2); }

BOOST_AUTO_TEST_CASE(four_producers_one_consumer_keeps_each_producers_order_within_a_lane) {
    concurrent_case(1);
}
