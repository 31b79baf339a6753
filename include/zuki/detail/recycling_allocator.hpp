// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// A per-thread recycling cache for task and handler memory (the role Asio's
/// `thread_info_base` plays for its own threads).
///
/// Blocks are grouped in 64-byte size classes up to 1 KiB; each thread keeps up to
/// `max_cached` free blocks per class. A block freed on another thread than the one that
/// allocated it joins the freeing thread's cache. Producer/consumer programs (one thread
/// spawns, workers free) would drain one cache and overflow the other, so a full cache moves
/// half its blocks to a process-wide depot (one lock-free stack per class) with one CAS, and
/// an empty cache takes the whole depot with one exchange. Taking everything makes the depot's
/// pop ABA-free (a Treiber stack is only ABA-prone when single nodes are popped). Larger
/// requests go straight to ::operator new.
///
/// Thread safety: each thread uses its own cache; the depot is a lock-free MPMC stack.

#include <atomic>
#include <cstddef>
#include <new>

// Under AddressSanitizer recycling would hide use-after-free of task memory: go to the heap.
#if defined(__SANITIZE_ADDRESS__) && !defined(ZUKI_NO_RECYCLING)
#define ZUKI_NO_RECYCLING 1
#endif

namespace zuki::detail {

class RecyclingCache {
public:
    static constexpr std::size_t granule = 64;
    static constexpr std::size_t classes = 16;  // up to 1 KiB
    static constexpr std::size_t max_cached = 256;

    static void* allocate(std::size_t n) {
#if defined(ZUKI_NO_RECYCLING)
        return ::operator new(n);
#endif
        const std::size_t c = class_of(n);
        if (c < classes) {
            RecyclingCache& self = local();
            if (self.free_[c] == nullptr) self.refill(c);
            if (Node* b = self.free_[c]) {
                self.free_[c] = b->next;
                // The next allocation reads that block's link, and its caller writes the block:
                // start the (often cold: freed on another core) line now, so a burst of
                // allocations overlaps its misses instead of serialising them on the list.
                if (b->next != nullptr) __builtin_prefetch(b->next, 1);
                if (self.count_[c] > 0) --self.count_[c];  // a lower bound (see refill)
                return b;
            }
            return ::operator new((c + 1) * granule);
        }
        return ::operator new(n);
    }
    static void deallocate(void* p, std::size_t n) noexcept {
#if defined(ZUKI_NO_RECYCLING)
        ::operator delete(p);
        return;
#endif
        const std::size_t c = class_of(n);
        if (c < classes) {
            RecyclingCache& self = local();
            if (!self.dead_) {
                if (self.count_[c] >= max_cached) self.spill(c);
                auto* b = static_cast<Node*>(p);
                b->next = self.free_[c];
                self.free_[c] = b;
                ++self.count_[c];
                return;
            }
        }
        ::operator delete(p);
    }

    ~RecyclingCache() {
        dead_ = true;  // frees during thread exit after this point go to ::operator delete
        for (auto& head : free_) {
            while (head != nullptr) {
                Node* next = head->next;
                ::operator delete(head);
                head = next;
            }
        }
    }

private:
    struct Node {
        Node* next;
    };
    static std::atomic<Node*>& depot(std::size_t c) noexcept {
        static std::atomic<Node*> heads[classes] = {};
        return heads[c];
    }
    // Move the newer half of class c to the depot with one CAS. count_ >= max_cached is a
    // lower bound of the list's length, so the walk stays inside the list.
    void spill(std::size_t c) noexcept {
        Node* first = free_[c];
        Node* last = first;
        for (std::size_t i = 1; i < max_cached / 2; ++i) last = last->next;
        free_[c] = last->next;
        count_[c] -= max_cached / 2;
        // relaxed load: the CAS below validates it.
        Node* head = depot(c).load(std::memory_order_relaxed);
        do {
            last->next = head;
            // release: publishes the blocks' `next` links to the acquire exchange in refill().
        } while (!depot(c).compare_exchange_weak(head, first, std::memory_order_release,
                                                 std::memory_order_relaxed));
    }
    // Take every block of class c from the depot with one exchange.
    void refill(std::size_t c) noexcept {
        // relaxed pre-check: skip the RMW when the depot is empty.
        if (depot(c).load(std::memory_order_relaxed) == nullptr) return;
        // acquire: pairs with the release CAS in spill().
        // Not walked (that would touch every cold block): count_ becomes a lower bound of the
        // list's length, which is all spill() needs.
        free_[c] = depot(c).exchange(nullptr, std::memory_order_acquire);
        count_[c] = 0;
    }
    static std::size_t class_of(std::size_t n) noexcept { return (n + granule - 1) / granule - 1; }
    static RecyclingCache& local() noexcept {
        thread_local RecyclingCache cache;
        return cache;
    }

    Node* free_[classes] = {};
    std::size_t count_[classes] = {};
    bool dead_ = false;
};

/// Mix-in giving a class `operator new/delete` through the recycling cache.
struct Recycled {
    static void* operator new(std::size_t n) { return RecyclingCache::allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept {
        RecyclingCache::deallocate(p, n);
    }
    // Over-aligned types bypass the cache.
    static void* operator new(std::size_t n, std::align_val_t a) { return ::operator new(n, a); }
    static void operator delete(void* p, std::size_t n, std::align_val_t a) noexcept {
        (void)n;
        ::operator delete(p, a);
    }
};

}  // namespace zuki::detail
