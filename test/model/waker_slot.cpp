// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Model check of the waker-slot protocol that zuki::sync's primitives share: the real
// OneshotSender / OneshotReceiver (include/zuki/sync/oneshot.hpp: WakerSlot over the state
// word), the real Semaphore and Notify (include/zuki/sync/semaphore.hpp, notify.hpp: waiter
// nodes, each with an AtomicWaker, in a FIFO list under a mutex, behind a lock-free word), on
// Relacy's atomics and mutex. Only the waker is the test's: it unparks a real Parker, and the
// test's block_on parks on it between polls, as zuki::test::block_on sleeps on its WakeSignal.
//
// INVARIANTS (each suite races a completer — send, a sender's drop, release, notify_one —
// against a future's first poll, its re-registration with another waker, or its drop):
//   - no lost wake-up: a future that returned pending is woken once the completer ran, so the
//     blocked thread polls again and finishes. A lost wake leaves it parked: Relacy reports a
//     DEADLOCK;
//   - the value (a Relacy variable written by the sender before the send) is seen by the
//     receiver: a missing happens-before edge is a DATA RACE;
//   - the value is destroyed exactly once, whether the receiver took it, the dropped receiver
//     destroyed it, or the sender took it back (Relacy reports a leak or a double free);
//   - permits and notifications are conserved across a dropped pending future (asserted after
//     the threads joined).
//
// Planted bug that this program catches (test/model/check_planted_bugs.sh):
//   oneshot_send_release  OneshotSender::send's fetch_or that sets COMPLETE|VALUE is acquire
//                         instead of acq_rel: the receiver reads the value without seeing it
//                         written (DATA RACE on the value).

#include <zuki/detail/parker.hpp>
#include <zuki/sync/notify.hpp>
#include <zuki/sync/oneshot.hpp>
#include <zuki/sync/semaphore.hpp>

#include "model.hpp"

namespace {

using zuki::Context;
using zuki::Poll;
using zuki::Waker;
using zuki::WakerVTable;
using zuki::detail::Parker;
using zuki::sync::Notify;
using zuki::sync::Semaphore;
using zuki_model::here;

// A waker that unparks a Parker (no reference count: the Parker outlives every waker).
const void* parker_clone(const void* d) { return d; }
void parker_wake(const void* d) { static_cast<Parker*>(const_cast<void*>(d))->unpark(); }
void parker_drop(const void*) {}
constexpr WakerVTable parker_vtable{&parker_clone, &parker_wake, &parker_wake, &parker_drop};
Waker waker_of(Parker& p) { return Waker(&p, &parker_vtable); }

// A waker that does nothing: the "other task" a future was polled by before it moved.
Waker stale_waker() { return Waker::noop(); }

// Poll until ready, parking between polls (a lost wake-up parks forever: DEADLOCK).
template <class F>
auto block_on(F& f, Parker& parker) {
    const Waker w = waker_of(parker);
    Context cx(w);
    for (;;) {
        auto p = f.poll(cx);
        if (p.is_ready()) return p;
        parker.park();
    }
}

// The value a oneshot carries: a heap cell holding a Relacy variable, owned by one Payload.
struct Payload {
    explicit Payload(int v) : cell(new rl::var<int>) { (*cell)(here()) = v; }
    Payload(Payload&& o) noexcept : cell(std::exchange(o.cell, nullptr)) {}
    Payload(const Payload&) = delete;
    ~Payload() { delete cell; }
    int read() const { return (*cell)(here()); }
    rl::var<int>* cell;
};

// Sender sends while the receiver polls with a stale waker, re-registers with its own, parks.
struct OneshotSendSuite : rl::test_suite<OneshotSendSuite, 2> {
    zuki::sync::OneshotSender<Payload>* tx = nullptr;
    zuki::sync::OneshotReceiver<Payload>* rx = nullptr;
    Parker parker;

    void before() {
        auto [s, r] = zuki::sync::oneshot<Payload>();
        tx = new zuki::sync::OneshotSender<Payload>(std::move(s));
        rx = new zuki::sync::OneshotReceiver<Payload>(std::move(r));
    }
    void thread(unsigned i) {
        if (i == 0) {
            RL_ASSERT(tx->send(Payload(42)).sent());
            delete tx;
            return;
        }
        {
            const Waker w = stale_waker();
            Context cx(w);
            auto p = rx->poll(cx);  // registers the stale waker (or is ready already)
            if (p.is_ready()) {
                RL_ASSERT(p.value().read() == 42);
                delete rx;
                return;
            }
        }
        auto p = block_on(*rx, parker);  // re-registers: the send must wake this one
        RL_ASSERT(p.value().read() == 42);
        delete rx;
    }
};

// The sender is dropped without sending while the receiver waits: it fails, it is not lost.
struct OneshotDropSenderSuite : rl::test_suite<OneshotDropSenderSuite, 2> {
    zuki::sync::OneshotSender<Payload>* tx = nullptr;
    zuki::sync::OneshotReceiver<Payload>* rx = nullptr;
    Parker parker;

    void before() {
        auto [s, r] = zuki::sync::oneshot<Payload>();
        tx = new zuki::sync::OneshotSender<Payload>(std::move(s));
        rx = new zuki::sync::OneshotReceiver<Payload>(std::move(r));
    }
    void thread(unsigned i) {
        if (i == 0) {
            delete tx;
            return;
        }
        const Waker w = waker_of(parker);
        Context cx(w);
        for (;;) {  // block_on over poll_recv (no exception in a Relacy fibre)
            auto p = rx->poll_recv(cx);
            if (p.is_ready()) {
                RL_ASSERT(!p.value().has_value());  // the sender left without sending
                break;
            }
            parker.park();
        }
        delete rx;
    }
};

// The receiver is dropped while the value is sent: exactly one of them owns the value.
struct OneshotDropReceiverSuite : rl::test_suite<OneshotDropReceiverSuite, 2> {
    zuki::sync::OneshotSender<Payload>* tx = nullptr;
    zuki::sync::OneshotReceiver<Payload>* rx = nullptr;

    void before() {
        auto [s, r] = zuki::sync::oneshot<Payload>();
        tx = new zuki::sync::OneshotSender<Payload>(std::move(s));
        rx = new zuki::sync::OneshotReceiver<Payload>(std::move(r));
    }
    void thread(unsigned i) {
        if (i == 0) {
            auto r = tx->send(Payload(7));
            if (!r.sent()) RL_ASSERT(r.value().read() == 7);  // given back intact
            delete tx;
            return;
        }
        const Waker w = stale_waker();
        Context cx(w);
        if (rx->poll(cx).is_ready()) {}  // ready or not, the receiver goes now
        delete rx;
    }
};

// Two acquirers wait on an empty semaphore, one of them first through a stale waker; a
// releaser hands over two permits. The data written before the release is seen after acquire.
struct SemaphoreSuite : rl::test_suite<SemaphoreSuite, 3> {
    Semaphore* sem = nullptr;
    rl::var<int> data;
    Parker parkers[2];

    void before() { sem = new Semaphore(0); }
    void thread(unsigned i) {
        if (i == 2) {
            data(here()) = 5;
            sem->release(2);
            return;
        }
        Semaphore::Acquire a = sem->acquire(1);
        if (i == 0) {
            const Waker w = stale_waker();
            Context cx(w);
            if (a.poll(cx).is_ready()) {
                RL_ASSERT(data(here()) == 5);
                return;
            }
        }
        auto p = block_on(a, parkers[i]);
        RL_ASSERT(data(here()) == 5);
        if (i == 1) p.value().forget();  // thread 0 gives its permit back
    }
    void after() {
        RL_ASSERT(sem->available_permits() == 1);  // thread 0's permit came back, if it got one
        delete sem;
    }
};

// A pending acquire is dropped while a release races with it: the permit is not lost.
struct SemaphoreCancelSuite : rl::test_suite<SemaphoreCancelSuite, 3> {
    Semaphore* sem = nullptr;
    Parker parker;

    void before() { sem = new Semaphore(0); }
    void thread(unsigned i) {
        if (i == 2) {
            sem->release(1);
            return;
        }
        Semaphore::Acquire a = sem->acquire(1);
        if (i == 0) {
            const Waker w = stale_waker();
            Context cx(w);
            (void)a.poll(cx);  // if ready, the permit goes back with the Poll at once
            return;  // dropped: pending, granted-unseen or still queued
        }
        auto p = block_on(a, parker);  // thread 1 must get the one permit
        p.value().forget();
    }
    void after() {
        RL_ASSERT(sem->available_permits() == 0);
        delete sem;
    }
};

// notify_one races with a waiter's registration and a second waiter's drop; nothing is lost.
struct NotifySuite : rl::test_suite<NotifySuite, 3> {
    Notify* notify = nullptr;
    rl::var<int> data;
    Parker parker;

    void before() { notify = new Notify; }
    void thread(unsigned i) {
        if (i == 2) {
            data(here()) = 3;
            notify->notify_one();
            return;
        }
        Notify::Notified n = notify->notified();
        if (i == 0) {  // polls once and goes away: a notification it got passes to thread 1
            const Waker w = stale_waker();
            Context cx(w);
            if (n.poll(cx).is_ready()) notify->notify_one();  // it took the one: hand it on
            return;
        }
        (void)block_on(n, parker);
        RL_ASSERT(data(here()) == 3);
    }
    void after() { delete notify; }
};

}  // namespace

int main() {
    using zuki_model::check;
    bool ok = true;
    ok = ok && check<OneshotSendSuite>("oneshot: send vs poll, re-register, park", 200000);
    ok = ok && check<OneshotSendSuite>("oneshot: send, exhaustive", 0, rl::sched_bound, 3);
    ok = ok && check<OneshotDropSenderSuite>("oneshot: sender dropped vs poll", 100000);
    ok = ok && check<OneshotDropReceiverSuite>("oneshot: receiver dropped vs send", 100000);
    ok = ok && check<SemaphoreSuite>("semaphore: release vs two acquires", 200000);
    ok = ok && check<SemaphoreCancelSuite>("semaphore: release vs a dropped acquire", 200000);
    ok = ok && check<SemaphoreCancelSuite>("semaphore: dropped acquire, exhaustive", 0,
                                           rl::sched_bound, 2);
    ok = ok && check<NotifySuite>("notify: notify_one vs register and drop", 200000);
    ok = ok && check<NotifySuite>("notify: exhaustive", 0, rl::sched_bound, 2);
    return ok ? 0 : 1;
}
