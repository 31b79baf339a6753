// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/concurrent/mpsc_inbox.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki concurrent mpsc_inbox
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;

namespace {
struct Node {
    Node* next = nullptr;
    int producer = 0;
    int seq = 0;
};
using Inbox = zuki::detail::MpscInbox<Node>;

Inbox::Pushed push(Inbox& in, Node& n, int* before_first_calls = nullptr) {
    bool called = false;
    const auto r = in.push(
        &n,
        [&] {
            if (before_first_calls) ++*before_first_calls;
        },
        called);
    return r;
}
}  // namespace

BOOST_AUTO_TEST_CASE(take_all_returns_the_nodes_in_push_order) {
    Inbox in;
    Node a, b, c;
    BOOST_TEST(in.empty());
    BOOST_TEST(in.take_all() == nullptr);
    int firsts = 0;
    BOOST_TEST((push(in, a, &firsts) == Inbox::Pushed::first));
    BOOST_TEST((push(in, b, &firsts) == Inbox::Pushed::queued));
    BOOST_TEST((push(in, c, &firsts) == Inbox::Pushed::queued));
    BOOST_TEST(firsts == 1);  // only the push into the empty inbox runs before_first
    BOOST_TEST(!in.empty());
    Node* n = in.take_all();
    BOOST_TEST(n == &a);
    BOOST_TEST(n->next == &b);
    BOOST_TEST(n->next->next == &c);
    BOOST_TEST(c.next == nullptr);
    BOOST_TEST(in.empty());
    BOOST_TEST((push(in, a) == Inbox::Pushed::first));  // a new epoch
}

BOOST_AUTO_TEST_CASE(close_returns_what_is_left_and_refuses_later_pushes) {
    Inbox in;
    Node a, b, late;
    push(in, a);
    push(in, b);
    Node* n = in.close();
    BOOST_TEST(n == &a);
    BOOST_TEST(n->next == &b);
    BOOST_TEST((push(in, late) == Inbox::Pushed::closed));
    BOOST_TEST(in.take_all() == nullptr);
    BOOST_TEST(in.empty());
}

BOOST_AUTO_TEST_CASE(many_producers_every_node_once_fifo_per_producer) {
    zuki::test::Watchdog w(120s, "mpsc inbox producers");
    constexpr int producers = 4;
    const int per = static_cast<int>(20'000 * zuki::test::stress_scale());
    std::vector<std::vector<Node>> nodes(producers, std::vector<Node>(per));
    Inbox in;
    std::atomic<int> go{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&, p] {
            while (go.load(std::memory_order_acquire) == 0) std::this_thread::yield();
            for (int k = 0; k < per; ++k) {
                nodes[p][k].producer = p;
                nodes[p][k].seq = k;
                push(in, nodes[p][k]);
            }
        });
    go.store(1, std::memory_order_release);
    std::vector<int> next(producers, 0);
    int taken = 0;
    while (taken < producers * per) {
        for (Node* n = in.take_all(); n != nullptr; n = n->next) {
            BOOST_REQUIRE(n->seq == next[n->producer]);
            ++next[n->producer];
            ++taken;
        }
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(in.take_all() == nullptr);
}
