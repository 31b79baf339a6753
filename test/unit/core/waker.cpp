// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/core/waker.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki core waker
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/counting_waker.hpp"

using zuki::Waker;
using zuki::test::CountingWaker;

static_assert(std::is_nothrow_move_constructible_v<Waker>);
static_assert(std::is_nothrow_move_assignable_v<Waker>);
static_assert(std::is_copy_constructible_v<Waker>);
static_assert(!std::is_default_constructible_v<Waker>);

BOOST_AUTO_TEST_CASE(constructing_from_raw_parts_adopts_the_reference) {
    CountingWaker cw;
    {
        Waker w = cw.make();
        BOOST_TEST(w.data() == static_cast<const void*>(&cw));
        BOOST_TEST(w.vtable() == &CountingWaker::vtable);
        BOOST_TEST(cw.clones == 0);
        BOOST_TEST(cw.drops == 0);
    }
    BOOST_TEST(cw.drops == 1);  // released exactly once
    BOOST_TEST(cw.live() == 0);
}

BOOST_AUTO_TEST_CASE(copy_is_a_clone_and_each_copy_drops_once) {
    CountingWaker cw;
    {
        Waker a = cw.make();
        Waker b = a;  // NOLINT(performance-unnecessary-copy-initialization)
        BOOST_TEST(cw.clones == 1);
        BOOST_TEST(b.will_wake(a));
        Waker c(b);
        BOOST_TEST(cw.clones == 2);
        BOOST_TEST(cw.live() == 3);
    }
    BOOST_TEST(cw.drops == 3);
    BOOST_TEST(cw.live() == 0);
}

BOOST_AUTO_TEST_CASE(copy_assignment_clones_the_source_and_drops_the_old_target) {
    CountingWaker first, second;
    {
        Waker a = first.make();
        Waker b = second.make();
        a = b;
        BOOST_TEST(first.drops == 1);
        BOOST_TEST(second.clones == 1);
        BOOST_TEST(a.will_wake(b));
        a.wake_by_ref();
        BOOST_TEST(second.wakes_by_ref == 1);
        BOOST_TEST(first.total_wakes() == 0);
    }
    BOOST_TEST(first.live() == 0);
    BOOST_TEST(second.live() == 0);
    BOOST_TEST(second.drops == 2);
}

BOOST_AUTO_TEST_CASE(self_copy_and_self_move_assignment_change_nothing) {
    CountingWaker cw;
    {
        Waker a = cw.make();
        Waker& alias = a;
        a = alias;
        a = std::move(alias);
        BOOST_TEST(cw.clones == 0);
        BOOST_TEST(cw.drops == 0);
        BOOST_TEST(a.data() == static_cast<const void*>(&cw));
    }
    BOOST_TEST(cw.drops == 1);
}

BOOST_AUTO_TEST_CASE(move_transfers_the_reference_without_clone_or_drop) {
    CountingWaker cw;
    {
        Waker a = cw.make();
        Waker b = std::move(a);
        BOOST_TEST(cw.clones == 0);
        BOOST_TEST(cw.drops == 0);
        BOOST_TEST(b.data() == static_cast<const void*>(&cw));
        b.wake_by_ref();
        BOOST_TEST(cw.wakes_by_ref == 1);
    }
    BOOST_TEST(cw.drops == 1);
    BOOST_TEST(cw.live() == 0);
}

BOOST_AUTO_TEST_CASE(move_assignment_drops_the_old_target) {
    CountingWaker first, second;
    {
        Waker a = first.make();
        Waker b = second.make();
        a = std::move(b);
        BOOST_TEST(first.drops == 1);
        BOOST_TEST(second.drops == 0);
        BOOST_TEST(second.clones == 0);
        BOOST_TEST(a.data() == static_cast<const void*>(&second));
    }
    BOOST_TEST(second.drops == 1);
    BOOST_TEST(first.live() == 0);
    BOOST_TEST(second.live() == 0);
}

BOOST_AUTO_TEST_CASE(moved_from_waker_is_a_noop_waker) {
    CountingWaker cw;
    {
        Waker a = cw.make();
        Waker b = std::move(a);
        // The moved-from object does nothing, and is a noop waker.
        a.wake_by_ref();  // NOLINT(bugprone-use-after-move)
        Waker a2 = a;  // clone of a noop: no call reaches cw
        a2.wake();
        a.wake();
        BOOST_TEST(a.will_wake(Waker::noop()));
        BOOST_TEST(a.data() == nullptr);
        BOOST_TEST(cw.clones == 0);
        BOOST_TEST(cw.total_wakes() == 0);
        BOOST_TEST(cw.drops == 0);
    }
    BOOST_TEST(cw.drops == 1);  // only b's reference
}

BOOST_AUTO_TEST_CASE(wake_consumes_the_reference) {
    CountingWaker cw;
    {
        Waker w = cw.make();
        w.wake();
        BOOST_TEST(cw.wakes == 1);
        BOOST_TEST(cw.drops == 0);  // wake released the reference itself
        BOOST_TEST(w.will_wake(Waker::noop()));
        w.wake();  // now a noop
        w.wake_by_ref();
        BOOST_TEST(cw.wakes == 1);
        BOOST_TEST(cw.wakes_by_ref == 0);
    }
    BOOST_TEST(cw.drops == 0);  // no double release at destruction
    BOOST_TEST(cw.live() == 0);
}

BOOST_AUTO_TEST_CASE(wake_by_ref_keeps_the_reference) {
    CountingWaker cw;
    {
        const Waker w = cw.make();
        w.wake_by_ref();
        w.wake_by_ref();
        BOOST_TEST(cw.wakes_by_ref == 2);
        BOOST_TEST(cw.wakes == 0);
        BOOST_TEST(cw.drops == 0);
    }
    BOOST_TEST(cw.drops == 1);
}

BOOST_AUTO_TEST_CASE(noop_waker_does_nothing_and_wakes_like_any_noop) {
    Waker n = Waker::noop();
    BOOST_TEST(n.data() == nullptr);
    BOOST_TEST(n.vtable() != nullptr);
    n.wake_by_ref();
    Waker c = n;
    BOOST_TEST(c.will_wake(n));
    BOOST_TEST(n.will_wake(Waker::noop()));
    BOOST_TEST(Waker::noop().vtable() == Waker::noop().vtable());
    c.wake();
    BOOST_TEST(c.will_wake(n));
}

BOOST_AUTO_TEST_CASE(will_wake_compares_data_and_vtable) {
    CountingWaker one, two;
    Waker a = one.make();
    Waker a2 = a;
    Waker b = two.make();
    BOOST_TEST(a.will_wake(a));
    BOOST_TEST(a.will_wake(a2));
    BOOST_TEST(!a.will_wake(b));
    BOOST_TEST(!a.will_wake(Waker::noop()));
    BOOST_TEST(!Waker::noop().will_wake(a));

    // Same data, different vtable: not the same wake target.
    static const zuki::WakerVTable other_vtable = CountingWaker::vtable;
    Waker c(&one, &other_vtable);
    BOOST_TEST(!a.will_wake(c));
    c = Waker::noop();  // c's reference is released through other_vtable's drop
    BOOST_TEST(one.drops == 1);
}

namespace {

/// A heap wake target released when its last waker goes, as an executor's task would be.
struct RefCountedTarget {
    std::atomic<int> refs{1};
    std::atomic<int> wakes{0};
    std::atomic<int>* destroyed;

    static const void* clone(const void* d) {
        // relaxed: a new reference is made from an existing one, which keeps the object alive.
        self(d)->refs.fetch_add(1, std::memory_order_relaxed);
        return d;
    }
    static void wake(const void* d) {
        wake_by_ref(d);
        drop(d);
    }
    static void wake_by_ref(const void* d) {
        self(d)->wakes.fetch_add(1, std::memory_order_relaxed);
    }
    static void drop(const void* d) {
        // acq_rel: the last release must see every other thread's use of the object.
        if (self(d)->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            self(d)->destroyed->fetch_add(1, std::memory_order_relaxed);
            delete self(d);
        }
    }
    static RefCountedTarget* self(const void* d) {
        return const_cast<RefCountedTarget*>(static_cast<const RefCountedTarget*>(d));
    }
    static const zuki::WakerVTable vtable;
};
const zuki::WakerVTable RefCountedTarget::vtable{&RefCountedTarget::clone, &RefCountedTarget::wake,
                                                 &RefCountedTarget::wake_by_ref,
                                                 &RefCountedTarget::drop};

}  // namespace

BOOST_AUTO_TEST_CASE(wakers_are_usable_from_many_threads_at_once) {
    constexpr int threads = 8;
    constexpr int rounds = 2000;
    std::atomic<int> destroyed{0};
    auto* target = new RefCountedTarget;
    target->destroyed = &destroyed;
    std::atomic<int> observed_wakes{0};
    {
        Waker shared(target, &RefCountedTarget::vtable);
        std::atomic<bool> go{false};
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&shared, &go] {
                while (!go.load(std::memory_order_acquire)) {}
                for (int i = 0; i < rounds; ++i) {
                    shared.wake_by_ref();  // concurrent wake_by_ref on one shared object
                    Waker mine = shared;  // concurrent clone
                    if (i % 2 == 0) {
                        mine.wake();  // wake by value releases the clone
                    }  // otherwise ~Waker drops it
                }
            });
        }
        go.store(true, std::memory_order_release);
        for (auto& th : pool) th.join();
        BOOST_TEST(destroyed == 0);  // `shared` still holds a reference
        observed_wakes = target->wakes.load();
        BOOST_TEST(target->refs.load() == 1);
    }
    BOOST_TEST(observed_wakes.load() == threads * rounds + threads * rounds / 2);
    BOOST_TEST(destroyed == 1);  // freed exactly once, by the last drop
}
