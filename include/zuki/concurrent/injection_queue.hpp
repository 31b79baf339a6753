// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `InjectionQueue<T>`: the global MPMC queue of a work-stealing pool, for submissions from
/// outside the pool, batches, and local-deque overflow.
///
/// Built on `boost::lockfree::queue`, which holds trivially copyable values and has no batch
/// push. So an element is a `Chunk`: the head of an intrusive list of tasks (linked through
/// `T::next`) and its length. A whole batch, or half of an overflowing deque, is one push; a
/// consumer takes a whole chunk with one pop, and gives back what it cannot use as one push.
///
/// Priorities: one lane per `TaskPriority`; consumers take from the highest non-empty lane (or,
/// when they ask, the lowest: the pool does that once in a while so no lane starves).
///
/// Full queue: the lock-free queue is pushed with `bounded_push`, so the hot path never
/// allocates. Its nodes are reserved as they are needed, not up front (4 lanes of 4,096 nodes,
/// each an aligned allocation, made a pool's construction and destruction cost 16 times an
/// `asio::thread_pool`'s; then 32 each, still 132 aligned allocations a pool): a lane starts
/// with `initial_reserve` node (and the lanes live in the queue's own block), and a push that finds
/// none free reserves as many again (doubling, under a mutex, never beyond the capacity) and
/// retries; so allocation happens only while a lane grows to its peak. If a lane is full (or
/// the allocation fails) the chunk goes to a mutex-protected spill list (a rare path: it needs
/// `capacity` chunks outstanding). Nothing is dropped and nothing
/// blocks waiting for room. While a lane has spilled chunks, later chunks of that lane go to
/// the spill list too, so a lane stays FIFO and spilled work cannot be overtaken indefinitely.
/// `pop` looks at the spill list only when its `spilled_` counter says it is non-empty.
///
/// Thread safety: every member function may be called from any thread concurrently.
///
/// Model checking: Relacy cannot see inside Boost.Lockfree (its atomics are not the swap
/// point's), so under `ZUKI_RELACY` the lock-free lane is `ModelMpmcQueue`, a bounded queue
/// with the same interface and no more than the guarantee the protocols rely on (a push
/// happens-before the pop that returns it).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#if defined(ZUKI_RELACY)
#include <bit>
#else
#include <boost/lockfree/queue.hpp>
#endif

#include <zuki/detail/aligned_memory.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/mutex.hpp>
#include <zuki/task/task_priority.hpp>

namespace zuki::detail {

#if defined(ZUKI_RELACY)
/// `boost::lockfree::queue`'s interface (what InjectionQueue uses) for the model checker: D.
/// Vyukov's bounded MPMC queue, whose only synchronisation is a release store of a cell's
/// sequence number paired with an acquire load, the weakest a lock-free queue can offer (a
/// queue behind a mutex would hide missing fences in the protocols around it).
template <class T>
class ModelMpmcQueue {
public:
    explicit ModelMpmcQueue(std::size_t capacity)
        : mask_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity) - 1),
          cells_(std::make_unique<Cell[]>(mask_ + 1)) {
        for (std::size_t i = 0; i <= mask_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
    }
    void reserve(std::size_t) noexcept {}  // reserved in full by the constructor
    bool bounded_push(const T& v) {
        std::size_t pos = tail_.load(std::memory_order_relaxed);
        Cell* c;
        for (;;) {
            c = &cells_[pos & mask_];
            // acquire: pairs with the release store in pop() that freed the cell.
            const std::size_t seq = c->seq.load(std::memory_order_acquire);
            const auto dif = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
            if (dif == 0) {
                // relaxed: only claims the cell; the seq store below publishes it.
                if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed,
                                                std::memory_order_relaxed))
                    break;
            } else if (dif < 0) {
                return false;  // full
            } else {
                pos = tail_.load(std::memory_order_relaxed);
            }
        }
        c->value = v;
        c->seq.store(pos + 1, std::memory_order_release);  // release: pairs with pop()'s acquire
        return true;
    }
    bool pop(T& out) {
        std::size_t pos = head_.load(std::memory_order_relaxed);
        Cell* c;
        for (;;) {
            c = &cells_[pos & mask_];
            // acquire: pairs with the release store in bounded_push() (the value is visible).
            const std::size_t seq = c->seq.load(std::memory_order_acquire);
            const auto dif =
                static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos + 1);
            if (dif == 0) {
                if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed,
                                                std::memory_order_relaxed))
                    break;
            } else if (dif < 0) {
                return false;  // empty
            } else {
                pos = head_.load(std::memory_order_relaxed);
            }
        }
        out = c->value;
        // release: pairs with bounded_push()'s acquire (our read happens before the reuse).
        c->seq.store(pos + mask_ + 1, std::memory_order_release);
        return true;
    }

private:
    struct Cell {
        atomic<std::size_t> seq{0};
        T value{};
    };
    std::size_t mask_;
    std::unique_ptr<Cell[]> cells_;
    atomic<std::size_t> tail_{0};
    atomic<std::size_t> head_{0};
};
template <class T>
using LaneQueue = ModelMpmcQueue<T>;
#else
// Nodes cache-line aligned as Boost.Lockfree's default allocator makes them, without its
// posix_memalign per node (detail/aligned_memory.hpp).
template <class T>
using LaneQueue = boost::lockfree::queue<T, boost::lockfree::allocator<CacheLineAllocator<void>>>;
#endif

/// An intrusive list of tasks: `head` .. `tail` linked through `next`, `count` long (count >= 1;
/// `tail` is the `count`-th node; its `next` is not read). Carrying the tail makes splicing a
/// chunk O(1), so moving a long chunk around (the spill list, a worker giving back the part of
/// a chunk it cannot keep) never walks it.
template <class T>
struct Chunk {
    T* head = nullptr;
    T* tail = nullptr;
    std::size_t count = 0;
    /// A worker's own tasks that overflowed its deque (a fork-join), not work submitted from
    /// outside it. (Chunks that went through the spill list come back untagged.)
    bool overflow = false;

    /// A chunk of one task.
    static Chunk single(T* t) noexcept { return Chunk{t, t, 1}; }
};

template <class T>
class InjectionQueue {
public:
    /// Nodes a lane reserves at construction (the rest as it grows; all of it in model checks,
    /// whose lane queue is a fixed array).
#if defined(ZUKI_RELACY)
    static constexpr std::size_t initial_reserve = SIZE_MAX;
#else
    static constexpr std::size_t initial_reserve = 1;
#endif

    /// `capacity`: chunks each lane holds before spilling (> 0).
    explicit InjectionQueue(std::size_t capacity)
        : lanes_(make_lanes(capacity, std::make_index_sequence<task_priority_levels>{})) {}

    /// Push a chunk of tasks with one synchronising operation. Never allocates on the lock-free
    /// path; never fails. Release semantics: everything written to the tasks before the push is
    /// visible to the thread that pops them.
    void push(Chunk<T> c, TaskPriority p) noexcept {
        Lane& lane = lanes_[static_cast<std::size_t>(p)];
        // relaxed: the length is a hint for consumers (they still pop to find out); it may lag.
        // Sequenced before the caller's seq_cst fence, so the idle protocol's re-check after
        // its own fence sees it (see concurrent/idle_set.hpp).
        lane.pushed.fetch_add(c.count, std::memory_order_relaxed);
        // FIFO within a lane: while earlier chunks of this lane wait in the spill list, a new
        // chunk queues behind them there (else it would overtake them, and a steady stream
        // through the lock-free part could starve them). relaxed: coherence suffices; a push
        // ordered after a spill of this lane sees that spill, or the pop that emptied it.
        if (lane.spilled.load(std::memory_order_relaxed) == 0 &&
            (lane.queue.bounded_push(c) || (grow(lane) && lane.queue.bounded_push(c))))
            return;  // the queue's CAS publishes (release)
        std::lock_guard lock(spill_mutex_);
        spill_[static_cast<std::size_t>(p)].push(c);
        // relaxed: under the mutex; read as a hint by push() (see above).
        lane.spilled.fetch_add(c.count, std::memory_order_relaxed);
        // release: pairs with the acquire load in pop(); under the mutex anyway.
        spilled_.fetch_add(c.count, std::memory_order_release);
    }

    /// Pop the chunk at the head of the highest non-empty lane (with `lowest_first`, of the
    /// lowest: a consumer's anti-starvation turn). Returns a chunk with count 0 when everything
    /// is empty.
    Chunk<T> pop(bool lowest_first = false) noexcept {
        const std::size_t n = lanes_.size();
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = lowest_first ? k : n - 1 - k;
            Lane& lane = lanes_[i];
            if (lane.length() <= 0 && spilled_.load(std::memory_order_relaxed) == 0) continue;
            Chunk<T> c;
            // acquire (spilled_): pairs with the release add in push().
            if (lane.queue.pop(c) ||
                (spilled_.load(std::memory_order_acquire) != 0 && pop_spill(i, c))) {
                lane.popped.fetch_add(c.count, std::memory_order_relaxed);
                return c;
            }
        }
        return {};
    }

    /// Approximate number of queued tasks (exact when quiescent).
    std::int64_t size_hint() const noexcept {
        std::int64_t n = 0;
        for (const Lane& l : lanes_) n += l.length();
        return n;
    }
    bool empty_hint() const noexcept { return size_hint() <= 0; }
    /// Approximate number of tasks queued in lane `p` (exact when quiescent).
    std::int64_t size_hint(TaskPriority p) const noexcept {
        return lanes_[static_cast<std::size_t>(p)].length();
    }

    /// Nodes lane `p`'s lock-free part has reserved so far (it grows to the capacity as needed).
    std::size_t reserved(TaskPriority p) const noexcept {
        // relaxed: a statistic.
        return lanes_[static_cast<std::size_t>(p)].reserved.load(std::memory_order_relaxed);
    }

private:
    struct Lane;
    // No free node: reserve as many as the lane has (doubling), up to its capacity. Returns
    // false if it is at capacity or the allocation failed (the caller spills). Concurrent
    // pushers that all found no node grow once: the others see `reserved` moved and retry.
    bool grow(Lane& lane) noexcept {
        // relaxed: a hint; re-read under the mutex.
        const std::size_t seen = lane.reserved.load(std::memory_order_relaxed);
        if (seen >= lane.capacity) return false;
        std::lock_guard lock(lane.grow_mutex);
        const std::size_t now = lane.reserved.load(std::memory_order_relaxed);
        if (now != seen) return true;  // someone grew it meanwhile: retry
        const std::size_t add = std::min(now, lane.capacity - now);
        try {
            lane.queue.reserve(add);  // thread-safe: nodes go onto the lock-free freelist
        } catch (...) {  // std::bad_alloc: spill instead
            return false;
        }
        // relaxed: the count is only a hint for grow(); the nodes are published by the
        // freelist's own atomics.
        lane.reserved.store(now + add, std::memory_order_relaxed);
        return true;
    }

    struct SpillList {
        // Chunks are kept by splicing their task lists: no allocation under the lock.
        T* head = nullptr;
        T* tail = nullptr;
        std::size_t count = 0;
        void push(Chunk<T> c) noexcept {  // O(1): splices at the tail
            if (tail)
                tail->next = c.head;
            else
                head = c.head;
            tail = c.tail;
            count += c.count;
        }
    };
    bool pop_spill(std::size_t lane, Chunk<T>& out) noexcept {
        std::lock_guard lock(spill_mutex_);
        // FIFO: our lock-free pop may have found the lane empty just before a chunk went into
        // it and a later one spilled. Every chunk pushed there before a spilled chunk is visible
        // now (its pusher spilled under this mutex afterwards), so take those first.
        if (lanes_[lane].queue.pop(out)) return true;
        SpillList& s = spill_[lane];
        if (s.count == 0) return false;
        out = Chunk<T>{s.head, s.tail, s.count};
        // relaxed: under the mutex.
        lanes_[lane].spilled.fetch_sub(s.count, std::memory_order_relaxed);
        spilled_.fetch_sub(s.count, std::memory_order_relaxed);
        s = SpillList{};
        return true;
    }
    struct Lane {
        explicit Lane(std::size_t cap)
            : capacity(cap), queue(std::min(cap, initial_reserve)),
              reserved(std::min(cap, initial_reserve)) {}
        const std::size_t capacity;
        LaneQueue<Chunk<T>> queue;
        detail::atomic<std::size_t> reserved;  // nodes reserved so far (grow())
        mutex grow_mutex;
        // The length is pushed - popped: two counters on their own cache lines, so producers
        // and consumers each update a line the other side only reads (one shared counter
        // would move between them on every push and every pop).
        // `spilled` shares the producers' line: every push reads it, spills are rare.
        alignas(detail::cache_line) detail::atomic<std::int64_t> pushed{0};
        detail::atomic<std::uint64_t> spilled{0};  // tasks of this lane in the spill list
        alignas(detail::cache_line) detail::atomic<std::int64_t> popped{0};
        // relaxed: a hint (see push()); it may be momentarily off, even negative, while pushes
        // and pops are in flight; callers treat <= 0 as empty and pop to find out.
        std::int64_t length() const noexcept {
            const std::int64_t out = popped.load(std::memory_order_relaxed);
            return pushed.load(std::memory_order_relaxed) - out;
        }
    };
    // The lanes in one block with the queue (a lane is not movable: built in place).
    template <std::size_t... I>
    static std::array<Lane, task_priority_levels> make_lanes(std::size_t capacity,
                                                             std::index_sequence<I...>) {
        return {{((void)I, Lane(capacity))...}};
    }
    std::array<Lane, task_priority_levels> lanes_;
    detail::atomic<std::uint64_t> spilled_{0};  // tasks in spill lists
    mutex spill_mutex_;
    std::array<SpillList, task_priority_levels> spill_;
};

}  // namespace zuki::detail
