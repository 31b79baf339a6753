// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// A per-thread recycling cache for task and handler memory (the role Asio's
/// `thread_info_base` plays for its own threads).
///
/// Blocks are grouped in 64-byte size classes up to 1 KiB. Each thread keeps, per class, at
/// most two **batches** of `batch_bytes` (16 KiB: 256 blocks of 64 bytes, 16 of 1 KiB): a
/// current one it allocates from and frees to, and a full spare, with exact counts. A block freed
/// on another thread than the one that allocated it joins the freeing thread's cache.
/// Producer/consumer programs (one thread spawns, workers free) would drain one cache and overflow
/// the other, so a thread whose current and spare batches are both full hands the spare to a
/// process-wide **depot** (a bounded lock-free stack of batches per class:
/// `boost::lockfree::stack`, ABA-safe by its tagged indices) in one push, and a thread with nothing
/// to allocate from takes one batch from it in one pop. A depot that is full (`depot_batches`, 4
/// MiB per class) returns the batch to the heap. The depots are static storage: using them never
/// allocates (an allocation failure cannot start inside a free). Larger requests go straight to
/// ::operator new.
///
/// Bounded by construction: a thread caches at most 32 KiB per class, the depot 4 MiB per
/// class; nothing else is held, and a depot holds only blocks that were once live at the same
/// time (it never allocates ahead). (The first version moved half a full cache
/// to an unbounded depot and took the whole depot back with one exchange, counting the taken
/// blocks as none: blocks taken that way sat at the bottom of a cache while other threads
/// allocated new ones, and the memory held grew in steps over tens of millions of tasks,
/// issue 15 item 6.)
///
/// Why 4 MiB: the depot must hold the live set of a warm fork-join, or every run of it goes
/// back to malloc for the excess, and its heap grows and shrinks with each run. A tree walk that
/// spawns its children and then awaits them keeps about (children x depth) tasks alive; the
/// unbalanced tree of the `uts_binomial` benchmark keeps more 128-byte task cells alive than the
/// 8,192 that the 1 MiB depot it had until the eleventh stop could hold: in a warm pool its cells
/// and frames still came from malloc, and each run grew the peak RSS by 230-480 KiB; with 4 MiB,
/// by 28 KiB (oneTBB's figure), at equal speed. The static cost is the depots' index nodes,
/// about 4 KiB per class.
///
/// A pool's worker thread uses its worker's cache instead of a thread-local one (`Binding`):
/// the worker outlives the thread's use of it, so the thread registers no thread-exit
/// destructor and a thread that starts and ends allocates nothing for its cache (issue 16).
///
/// Thread safety: each thread uses its own cache (or the one bound to it); the depot is a
/// lock-free MPMC stack.

#include <cstddef>
#include <new>
#include <utility>

#include <boost/lockfree/stack.hpp>

// Under AddressSanitizer recycling would hide use-after-free of task memory: go to the heap.
#if defined(__SANITIZE_ADDRESS__) && !defined(ZUKI_NO_RECYCLING)
#define ZUKI_NO_RECYCLING 1
#endif

namespace zuki::detail {

class RecyclingCache {
public:
    static constexpr std::size_t granule = 64;
    static constexpr std::size_t classes = 16;  // up to 1 KiB
    static constexpr std::size_t batch_bytes = 16 * 1024;
    static constexpr std::size_t depot_batches = 256;  // per class: 4 MiB
    /// Blocks per batch in class c.
    static constexpr std::size_t batch_of(std::size_t c) noexcept {
        return batch_bytes / ((c + 1) * granule);
    }

    static void* allocate(std::size_t n) {
#if defined(ZUKI_NO_RECYCLING)
        return ::operator new(n);
#endif
        const std::size_t c = class_of(n);
        if (c < classes) {
            Class& k = local().class_[c];
            if (k.count != 0) [[likely]]
                return k.pop();
            return allocate_refill(k, c);
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
                Class& k = self.class_[c];
                if (k.count == batch_of(c)) [[unlikely]]
                    k.retire(c);
                auto* b = static_cast<Node*>(p);
                b->next = k.head;
                k.head = b;
                ++k.count;
                return;
            }
        }
        ::operator delete(p);
    }

    /// While one is alive, the calling thread allocates from and frees to `cache` (owned by
    /// something that outlives the binding: a pool's worker) instead of its own thread-local
    /// cache. A worker thread then never makes that one, nor registers its thread-exit
    /// destructor: a thread that starts, runs the pool's tasks and ends touches the heap for
    /// none of it (issue 16). Blocks left in `cache` are freed by its destructor, on whatever
    /// thread destroys the owner (after the bound thread finished with it).
    class Binding {
    public:
        explicit Binding(RecyclingCache& cache) noexcept
            : previous_(std::exchange(bound_, &cache)) {}
        ~Binding() { bound_ = previous_; }
        Binding(const Binding&) = delete;
        Binding& operator=(const Binding&) = delete;

    private:
        RecyclingCache* previous_;
    };

    ~RecyclingCache() {
        dead_ = true;  // frees during thread exit after this point go to ::operator delete
        for (Class& k : class_) {
            free_list(k.head);
            free_list(k.spare);
        }
    }

private:
    struct Node {
        Node* next;
    };
    // One class's cache: `head`, a list of `count` blocks (0..batch_of(c)), and `spare`, null
    // or a list of exactly batch_of(c) blocks.
    struct Class {
        Node* head = nullptr;
        std::size_t count = 0;
        Node* spare = nullptr;

        // Precondition: count != 0.
        void* pop() noexcept {
            Node* b = head;
            head = b->next;
            --count;
            // The next allocation reads that block's link, and its caller writes the block:
            // start the (often cold: freed on another core) line now, so a burst of
            // allocations overlaps its misses instead of serialising them on the list.
            if (head != nullptr) __builtin_prefetch(head, 1);
            return b;
        }

        // `head` is empty: take the spare, or a batch from the depot.
        void refill(std::size_t c) noexcept {
            if (spare != nullptr) {
                head = std::exchange(spare, nullptr);
                count = batch_of(c);
            } else if (depot(c).pop(head)) {
                count = batch_of(c);
            }
        }
        // `head` is full: it becomes the spare; a spare already there goes to the depot (or,
        // the depot full, to the heap).
        [[gnu::noinline]] void retire(std::size_t c) noexcept {
            if (spare != nullptr && !depot(c).bounded_push(spare)) free_list(spare);
            spare = std::exchange(head, nullptr);
            count = 0;
        }
    };

    // allocate() with the class's list empty: a batch from the spare or the depot, else
    // ::operator new. Out of line: the common path stays small enough to inline everywhere.
    [[gnu::noinline]] static void* allocate_refill(Class& k, std::size_t c) {
        k.refill(c);
        if (k.count != 0) return k.pop();
        return ::operator new((c + 1) * granule);
    }

    static void free_list(Node* n) noexcept {
        while (n != nullptr) ::operator delete(std::exchange(n, n->next));
    }

    // The depot of class c: batches (their first block; the blocks' `next` links end the
    // batch). Boost.Lockfree's push and pop are seq_cst CASes on the top (with a tag against
    // ABA), so the thread that pops a batch sees the links its pusher wrote. Its capacity is
    // compile-time: the nodes live inside the object, and nothing is allocated.
    using Depot = boost::lockfree::stack<Node*, boost::lockfree::capacity<depot_batches>>;
    static Depot& depot(std::size_t c) noexcept {
        // Built once, never destroyed: threads may free into the depots during static
        // destruction.
        alignas(Depot) static unsigned char storage[sizeof(Depot) * classes];
        static Depot* const depots = [] {
            auto* d = reinterpret_cast<Depot*>(storage);
            for (std::size_t i = 0; i < classes; ++i) new (d + i) Depot();
            return d;
        }();
        return depots[c];
    }
    static std::size_t class_of(std::size_t n) noexcept { return (n + granule - 1) / granule - 1; }
    static RecyclingCache& local() noexcept {
        if (RecyclingCache* b = bound_) [[likely]]
            return *b;
        return unbound();
    }
    // A thread outside any executor: its own cache (out of line: a thread-local with a
    // destructor costs a guard check at every use).
    [[gnu::noinline]] static RecyclingCache& unbound() noexcept {
        thread_local RecyclingCache cache;
        return cache;
    }
    // The cache a Binding lent the calling thread, or null. A plain pointer, constant
    // initialised: reading it costs no guard and registers no thread-exit destructor.
    static inline thread_local RecyclingCache* bound_ = nullptr;

    Class class_[classes];
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
