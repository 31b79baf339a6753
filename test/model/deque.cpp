// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Model check of zuki::detail::ChaseLevDeque (include/zuki/concurrent/chase_lev_deque.hpp),
// the real header running on Relacy's atomics.
//
// INVARIANT: every item the owner pushes is taken exactly once, by exactly one of
//   - the owner's pop() (LIFO without a CAS in the deep part, FIFO with a CAS when shallow),
//   - the owner's take_half() when a push finds the deque full (the overflow path of
//     WsScheduler: half the deque plus the new item leave for the global queue),
//   - a thief's steal_half_into(): the item it returns, or one it moved into its own deque
//     and then popped (a second thief may steal those from the first thief's deque),
// and whoever takes an item sees what the owner wrote into it before pushing it (the item's
// payload is a Relacy variable: a missing happens-before edge is reported as a data race).
//
// Configurations: capacity 2 and 4 (so pushes find the deque full and overflow, and the
// owner's pop switches between its no-CAS and CAS paths), against 1 and 2 thieves; and capacity
// 8 with a claim bound of 1 (the pool bounds claims below capacity/2). Each thief
// makes several claims, which is what a stale view of `bottom` needs to go wrong.
//
// Planted bugs that this program catches (test/model/check_planted_bugs.sh):
//   deque_pop_fence     the seq_cst fence in pop() removed: a thief that reads a stale bottom
//                       claims the item the owner popped without a CAS (taken twice).
//   deque_push_release  push() publishes bottom with a relaxed store: a thief sees the new
//                       bottom but not the item (data race on the payload / wrong item).

#include <zuki/concurrent/chase_lev_deque.hpp>

#include "model.hpp"

namespace {

using zuki::detail::ChaseLevDeque;
using zuki_model::here;

struct Item {
    int id = 0;
    rl::var<int> payload;
};

// The owner pushes Items items and pops once after every PopEvery pushes; each thief makes
// Claims steal attempts.
// MaxSteal: the claim bound (0: capacity/2), which is also the depth where the owner's pop
// turns from FIFO (with a CAS) to LIFO (without).
template <std::size_t Capacity, int Thieves, int Items, int Claims, int PopEvery,
          std::size_t MaxSteal = 0>
struct DequeSuite : rl::test_suite<DequeSuite<Capacity, Thieves, Items, Claims, PopEvery, MaxSteal>,
                                   1 + Thieves> {
    static constexpr std::size_t max_claim = MaxSteal == 0 ? Capacity / 2 : MaxSteal;
    ChaseLevDeque<Item> owner{Capacity, MaxSteal};
    ChaseLevDeque<Item> dst0{Capacity, MaxSteal};
    ChaseLevDeque<Item> dst1{Capacity, MaxSteal};
    Item items[Items];
    int taken[Items] = {};  // bookkeeping outside the model (the fibres run one at a time)

    void before() {
        for (int i = 0; i < Items; ++i) items[i].id = i;
    }

    void take(Item* it) {
        RL_ASSERT(it != nullptr);
        RL_ASSERT(it->payload(here()) == 100 + it->id);  // the owner's write is visible
        it->payload(here()) = -1;  // the taker consumes it
        RL_ASSERT(taken[it->id] == 0);  // never taken twice
        ++taken[it->id];
    }

    // The owner: pushes with a pop after every PopEvery pushes; a full deque overflows like
    // WsScheduler::overflow (take_half + the new item go elsewhere); finally drains.
    void run_owner() {
        Item* out[Capacity / 2 + 1];
        for (int i = 0; i < Items; ++i) {
            Item* it = &items[i];
            it->payload(here()) = 100 + i;
            if (!owner.push(it)) {
                const std::size_t n = owner.take_half(out);
                // n == 0 when thieves emptied the deque since push() saw it full.
                RL_ASSERT(n <= Capacity / 2);
                for (std::size_t k = 0; k < n; ++k) take(out[k]);
                take(it);
            }
            if (i % PopEvery == PopEvery - 1) {
                if (Item* p = owner.pop()) take(p);
            }
        }
        while (Item* p = owner.pop()) take(p);
    }

    void run_thief(int k) {
        ChaseLevDeque<Item>& mine = k == 0 ? dst0 : dst1;
        for (int c = 0; c < Claims; ++c) {
            // The second thief also raids the first thief's deque once (steal from a thief).
            ChaseLevDeque<Item>& victim = (k == 1 && c == Claims - 1) ? dst0 : owner;
            std::size_t stolen = 0;
            if (Item* first = victim.steal_half_into(mine, stolen)) {
                RL_ASSERT(stolen >= 1 && stolen <= max_claim);
                take(first);
            } else {
                RL_ASSERT(stolen == 0);
            }
            while (Item* p = mine.pop()) take(p);
        }
    }

    void thread(unsigned index) {
        if (index == 0)
            run_owner();
        else
            run_thief(static_cast<int>(index) - 1);
    }

    void after() {
        for (int i = 0; i < Items; ++i) RL_ASSERT(taken[i] == 1);  // exactly once
        RL_ASSERT(owner.size() == 0 && dst0.size() == 0 && dst1.size() == 0);
    }
};

}  // namespace

int main() {
    using zuki_model::check;
    bool ok = true;
    // Random schedules, then bounded exhaustive searches (every interleaving and every
    // weak-memory outcome with at most that many preemptions).
    ok = ok && check<DequeSuite<2, 1, 4, 3, 2>>("deque: capacity 2, 1 thief", 300000);
    ok = ok && check<DequeSuite<4, 1, 6, 3, 3>>("deque: capacity 4, 1 thief", 300000);
    ok = ok && check<DequeSuite<2, 2, 4, 2, 2>>("deque: capacity 2, 2 thieves", 300000);
    ok = ok && check<DequeSuite<4, 2, 6, 2, 3>>("deque: capacity 4, 2 thieves", 300000);
    ok = ok && check<DequeSuite<2, 1, 4, 2, 2>>("deque: capacity 2, 1 thief, 4 items, exhaustive",
                                                0, rl::sched_bound, 2);
    ok = ok && check<DequeSuite<2, 1, 3, 2, 2>>("deque: capacity 2, 1 thief, 3 items, exhaustive",
                                                0, rl::sched_bound, 3);
    ok = ok && check<DequeSuite<4, 1, 6, 2, 3>>("deque: capacity 4, 1 thief, 6 items, exhaustive",
                                                0, rl::sched_bound, 2);
    ok = ok && check<DequeSuite<2, 2, 3, 1, 2>>("deque: capacity 2, 2 thieves, 3 items, exhaustive",
                                                0, rl::sched_bound, 2);
    // A claim bound below capacity/2 (the pool's 64 of 256): the owner pops LIFO without a CAS
    // from depth 2 on, while take_half still moves half.
    ok = ok &&
         check<DequeSuite<8, 1, 9, 3, 3, 1>>("deque: capacity 8, max_steal 1, 1 thief", 300000);
    ok = ok &&
         check<DequeSuite<8, 2, 9, 2, 3, 1>>("deque: capacity 8, max_steal 1, 2 thieves", 300000);
    ok = ok && check<DequeSuite<8, 1, 6, 2, 2, 1>>(
                   "deque: capacity 8, max_steal 1, 1 thief, exhaustive", 0, rl::sched_bound, 2);
    return ok ? 0 : 1;
}
