// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `TaskRegistry`: the set of every live (not yet completed) task of one executor, so that shutdown
/// can find and cancel tasks that sit in no queue — a pending future whose waker is held by
/// someone who will never wake it, or by the future itself (a reference cycle).
///
/// Algorithm: a lock-free slab. Slots live in chunks that double in size and are never freed
/// before the registry (so a slot's address is stable); a free slot index is recycled through a
/// Treiber stack whose head packs a 32-bit ABA tag next to the index (Boost.Lockfree's tagged
/// index technique), so a stale `pop` whose head was popped and pushed back fails its CAS.
///
/// - `insert` (any thread): pop a free index or take a fresh one; store the task (release).
/// - `remove` (any thread, once per task): exchange the slot to null. Whoever gets the pointer
///   back (remove or `drain`) owns the registry's reference and, for `remove`, recycles the
///   index. So a completion racing with the shutdown sweep is resolved by that exchange.
/// - `drain` (shutdown, after the executor stopped accepting work): exchange every slot to null
///   and hand each task found to a callback.
///
/// Invariant: a slot holds a task pointer only between that task's insert and its remove/drain;
/// an index is on a free list only while its slot is null.
///
/// Worker caches: a thread that runs an executor's loop registers a `LocalCache` (owned by its
/// worker object, so it lives as long as the registry). On that thread, insert and remove use
/// the cache's plain array of free indices and a block of fresh indices reserved 64 at a time,
/// touching no shared line; only an empty or full cache falls back to the shared free list.

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <new>

#include <zuki/detail/atomic.hpp>

namespace zuki::detail {

class TaskHeader;

class TaskRegistry {
public:
    TaskRegistry() = default;
    TaskRegistry(const TaskRegistry&) = delete;
    TaskRegistry& operator=(const TaskRegistry&) = delete;
    ~TaskRegistry() {
        for (auto& c : chunks_) delete[] c.load(std::memory_order_relaxed);
    }

    /// A worker's private cache of free indices (see the file comment).
    struct LocalCache {
        static constexpr std::size_t size = 256;
        static constexpr std::uint32_t fresh_block = 64;
        TaskRegistry* owner = nullptr;
        std::size_t count = 0;
        std::uint32_t fresh_next = 0;
        std::uint32_t fresh_end = 0;
        std::uint32_t items[size];
    };
    /// The cache registered by the current thread, if any.
    static LocalCache*& local_cache() noexcept {
        struct Tag;
        return per_thread<LocalCache*, Tag>();
    }

    /// Record `t`; returns its slot index. Throws `std::bad_alloc` if a new chunk is needed and
    /// cannot be allocated (nothing is recorded then).
    std::uint32_t insert(TaskHeader* t) {
        std::uint32_t idx;
        LocalCache* lc = local_cache();
        if (lc != nullptr && lc->owner == this) {
            idx = take_local(*lc);
        } else if (!pop_free(idx)) {
            idx = next_fresh_.fetch_add(1, std::memory_order_relaxed);
            if (idx >= max_slots) throw std::bad_alloc();
            try {
                ensure_chunk(idx);
            } catch (...) {
                // The fresh index is lost for good; harmless (it is only an index).
                throw;
            }
        }
        // release: pairs with the acquire exchange in remove()/drain(), so whoever takes the
        // pointer back sees the task fully constructed.
        slot(idx).task.store(t, std::memory_order_release);
        return idx;
    }

    /// Take `t` (recorded at `idx`) out. Returns true if this call took it, false if `drain`
    /// already did (then the drainer owns the registry's reference).
    bool remove(std::uint32_t idx) noexcept {
        // acq_rel: acquire pairs with the release store in insert(); release orders our earlier
        // writes before a later drain/insert that reads the slot.
        TaskHeader* t = slot(idx).task.exchange(nullptr, std::memory_order_acq_rel);
        if (t == nullptr) return false;
        LocalCache* lc = local_cache();
        if (lc != nullptr && lc->owner == this && lc->count < LocalCache::size)
            lc->items[lc->count++] = idx;
        else
            push_free(idx);
        return true;
    }

    /// Shutdown sweep: hand every still-recorded task to `f` (which receives the registry's
    /// reference). Indices are not recycled: no insert may follow a drain.
    template <class F>
    void drain(F&& f) {
        const std::uint32_t n = std::min(next_fresh_.load(std::memory_order_acquire), max_slots);
        for (std::uint32_t i = 0; i < n; ++i) {
            Slot* chunk = chunks_[chunk_of(i)].load(std::memory_order_acquire);
            if (chunk == nullptr) continue;  // a failed chunk allocation
            // acq_rel: see remove().
            TaskHeader* t = chunk[offset_of(i)].task.exchange(nullptr, std::memory_order_acq_rel);
            if (t != nullptr) f(t);
        }
    }

private:
    std::uint32_t take_local(LocalCache& lc) {
        if (lc.count != 0) return lc.items[--lc.count];
        std::uint32_t idx;
        if (pop_free(idx)) return idx;
        if (lc.fresh_next == lc.fresh_end) {
            // relaxed: only uniqueness of the reserved block matters.
            const std::uint32_t first =
                next_fresh_.fetch_add(LocalCache::fresh_block, std::memory_order_relaxed);
            if (first >= max_slots - LocalCache::fresh_block) throw std::bad_alloc();
            lc.fresh_next = first;
            lc.fresh_end = first + LocalCache::fresh_block;
        }
        idx = lc.fresh_next;
        ensure_chunk(idx);  // throws bad_alloc: the index is simply retried next time
        ++lc.fresh_next;
        return idx;
    }

    struct Slot {
        atomic<TaskHeader*> task{nullptr};
        atomic<std::uint32_t> next_free{0};  // index+1 of the next free slot; 0 ends the list
    };
    static constexpr std::uint32_t base = 256;  // slots in chunk 0; chunk k has base << k
    static constexpr std::size_t chunk_count = 24;
    static constexpr std::uint32_t max_slots = 0xFFFF'0000u;

    static std::size_t chunk_of(std::uint32_t idx) noexcept {
        return static_cast<std::size_t>(std::bit_width(idx / base + 1) - 1);
    }
    static std::uint32_t offset_of(std::uint32_t idx) noexcept {
        const std::size_t k = chunk_of(idx);
        return idx - base * ((1u << k) - 1);
    }
    Slot& slot(std::uint32_t idx) noexcept {
        // acquire: pairs with the release CAS in ensure_chunk() that published the chunk.
        Slot* c = chunks_[chunk_of(idx)].load(std::memory_order_acquire);
        assert(c != nullptr);
        return c[offset_of(idx)];
    }
    void ensure_chunk(std::uint32_t idx) {
        auto& c = chunks_[chunk_of(idx)];
        if (c.load(std::memory_order_acquire) != nullptr) return;  // pairs with the CAS below
        Slot* fresh = new Slot[static_cast<std::size_t>(base) << chunk_of(idx)];
        Slot* expected = nullptr;
        // release: publishes the constructed slots; acquire (on failure): see the winner's.
        if (!c.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel,
                                       std::memory_order_acquire))
            delete[] fresh;
    }

    // Free list head: high 32 bits an ABA tag bumped by every successful CAS, low 32 bits
    // index+1 (0 = empty).
    bool pop_free(std::uint32_t& idx) noexcept {
        // acquire: pairs with the release CAS in push_free(), so next_free below is the value
        // written before that push.
        std::uint64_t h = free_head_.load(std::memory_order_acquire);
        for (;;) {
            const auto low = static_cast<std::uint32_t>(h);
            if (low == 0) return false;
            const std::uint32_t next = slot(low - 1).next_free.load(std::memory_order_relaxed);
            const std::uint64_t n = (((h >> 32) + 1) << 32) | next;
            // A stale `next` (the head was popped and re-pushed meanwhile) fails here: the tag
            // changed. acquire: as above, for the retry.
            if (free_head_.compare_exchange_weak(h, n, std::memory_order_acquire,
                                                 std::memory_order_acquire)) {
                idx = low - 1;
                return true;
            }
        }
    }
    void push_free(std::uint32_t idx) noexcept {
        std::uint64_t h = free_head_.load(std::memory_order_relaxed);
        for (;;) {
            slot(idx).next_free.store(static_cast<std::uint32_t>(h), std::memory_order_relaxed);
            const std::uint64_t n = (((h >> 32) + 1) << 32) | (idx + 1);
            // release: pairs with the acquire in pop_free(), publishing next_free.
            if (free_head_.compare_exchange_weak(h, n, std::memory_order_release,
                                                 std::memory_order_relaxed))
                return;
        }
    }

    alignas(cache_line) atomic<std::uint64_t> free_head_{0};
    alignas(cache_line) atomic<std::uint32_t> next_fresh_{0};
    alignas(cache_line) atomic<Slot*> chunks_[chunk_count]{};
};

}  // namespace zuki::detail
