// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Model check of SingleThreadedExecutor's remote queue and sleep: the real MpscInbox
// (concurrent/mpsc_inbox.hpp) and Parker (detail/parker.hpp), used as the executor uses them:
// a producer pushes a node and, if its push opened an epoch (found the inbox empty), unparks the
// driver; the driver takes everything, and parks when it found nothing.
//
// INVARIANTS:
//   - every node pushed is taken exactly once, in push order per producer, and the driver sees
//     what the producer wrote into it before pushing (a Relacy variable: a missing
//     happens-before edge is a DATA RACE);
//   - no lost wake-up: a driver asleep while a node waits, with the producers done, is a
//     DEADLOCK;
//   - after close(), a push is refused (the producer then disposes of its node).
//
// Planted bugs that this program catches (test/model/check_planted_bugs.sh):
//   inbox_push_release     the push's release CAS relaxed: the driver reads a node's payload
//                          without a happens-before edge (DATA RACE).
//   parker_unpark_release  Parker::unpark's exchange without its release half: the driver
//                          parks after the wake (DEADLOCK) or reads stale data.

#include <zuki/concurrent/mpsc_inbox.hpp>
#include <zuki/detail/parker.hpp>

#include "model.hpp"

namespace {

using zuki::detail::MpscInbox;
using zuki::detail::Parker;
using zuki_model::here;

struct Node {
    Node* next = nullptr;
    int producer = 0;
    int seq = 0;
    rl::var<int> payload;
};

template <int Producers, int PerProducer>
struct InboxSuite : rl::test_suite<InboxSuite<Producers, PerProducer>, Producers + 1> {
    static constexpr int total = Producers * PerProducer;

    MpscInbox<Node> inbox;
    Parker parker;
    Node nodes[Producers][PerProducer];

    void thread(unsigned i) {
        if (i < Producers) {
            for (int k = 0; k < PerProducer; ++k) {
                Node& n = nodes[i][k];
                n.producer = static_cast<int>(i);
                n.seq = k;
                n.payload(here()) = 100 * static_cast<int>(i) + k;
                bool unused = false;
                if (inbox.push(
                        &n, [] {}, unused) == MpscInbox<Node>::Pushed::first)
                    parker.unpark();
            }
            return;
        }
        // The driver (SingleThreadedScheduler::drive's take_inbox / park).
        int taken = 0;
        int next_seq[Producers] = {};
        while (taken < total) {
            Node* n = inbox.take_all();
            if (n == nullptr) {
                parker.park();
                continue;
            }
            for (; n != nullptr; n = n->next) {
                RL_ASSERT(n->seq == next_seq[n->producer]++);  // FIFO per producer
                RL_ASSERT(n->payload(here()) == 100 * n->producer + n->seq);
                ++taken;
            }
        }
        RL_ASSERT(inbox.close() == nullptr);
        Node late;
        bool unused = false;
        RL_ASSERT(inbox.push(
                      &late, [] {}, unused) == MpscInbox<Node>::Pushed::closed);
    }
};

}  // namespace

int main() {
    using zuki_model::check;
    bool ok = true;
    ok = ok && check<InboxSuite<1, 3>>("inbox: 1 producer, 3 nodes", 200000);
    ok = ok && check<InboxSuite<2, 2>>("inbox: 2 producers, 2 nodes each", 200000);
    ok = ok && check<InboxSuite<2, 1>>("inbox: 2 producers, exhaustive", 0, rl::sched_bound, 2);
    return ok ? 0 : 1;
}
