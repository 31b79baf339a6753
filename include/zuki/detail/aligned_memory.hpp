// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Over-aligned memory from plain `malloc`: the pool's cache-line-aligned objects (the
/// scheduler, its workers and idle set, the reactor driver) and the nodes of the injection
/// queue's Boost.Lockfree lanes.
///
/// Why not the C library's aligned allocator (what `operator new(size, align_val_t)` and
/// `boost::alignment::aligned_allocator`, Boost.Lockfree's default, call): glibc's
/// `posix_memalign` allocates a larger chunk and gives its leading and trailing parts back to the
/// heap as two free chunks each time. A pool makes thirteen such blocks and frees them when it
/// goes, and measured under callgrind (issue 16, doc/benchmarks.md) those allocations, the
/// frees, and the `malloc_consolidate` runs the leftover fragments set off cost ~11,000
/// instructions of a pool's construction and destruction, more than `asio::thread_pool`'s whole
/// cycle (start two threads, post, join: ~10,800). Asking `malloc` for `size + alignment` bytes
/// and rounding the pointer up costs one ordinary (thread-cached) allocation and leaves no
/// fragments; the price is up to `alignment` bytes of slack per block, and the blocks are few.
///
/// The original pointer is kept in the word just below the aligned block (`malloc` aligns to at
/// least 16 bytes, so rounding `raw + 1` up to `alignment` always leaves between 16 and
/// `alignment` bytes below the block).
///
/// *Thread safety*: as `malloc` / `free`.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace zuki::detail {

/// `size` bytes aligned to `alignment` (a power of two, at most 4096), from `malloc`. Throws
/// `std::bad_alloc` when that fails. Release with `deallocate_aligned`.
inline void* allocate_aligned(std::size_t size, std::size_t alignment) {
    static_assert(alignof(std::max_align_t) >= sizeof(void*));
    if (alignment < alignof(std::max_align_t)) alignment = alignof(std::max_align_t);
    if (size > SIZE_MAX - alignment) throw std::bad_alloc();
    void* raw = std::malloc(size + alignment);
    if (raw == nullptr) throw std::bad_alloc();
    // Round raw + 1 up: at least alignof(max_align_t) bytes below the block hold the raw
    // pointer, and at most `alignment` bytes are skipped.
    const std::uintptr_t at =
        (reinterpret_cast<std::uintptr_t>(raw) + alignment) & ~(std::uintptr_t(alignment) - 1);
    void* block = reinterpret_cast<void*>(at);
    static_cast<void**>(block)[-1] = raw;
    return block;
}

/// Releases a block of `allocate_aligned` (null does nothing).
inline void deallocate_aligned(void* block) noexcept {
    if (block != nullptr) std::free(static_cast<void**>(block)[-1]);
}

/// A standard allocator of `T`s aligned to a cache line (or `alignof(T)` if larger), through
/// `allocate_aligned`: Boost.Lockfree's node allocator for the injection queue's lanes (its
/// default is `boost::alignment::aligned_allocator<node, 64>`, which calls `posix_memalign` for
/// every node).
template <class T>
class CacheLineAllocator {
public:
    using value_type = T;

    CacheLineAllocator() noexcept = default;
    template <class U>
    CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}
    template <class U>
    struct rebind {
        using other = CacheLineAllocator<U>;
    };

    T* allocate(std::size_t n) {
        if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
        constexpr std::size_t alignment = alignof(T) > 64 ? alignof(T) : 64;
        return static_cast<T*>(allocate_aligned(n * sizeof(T), alignment));
    }
    void deallocate(T* p, std::size_t) noexcept { deallocate_aligned(p); }

    friend bool operator==(const CacheLineAllocator&, const CacheLineAllocator&) noexcept {
        return true;
    }
};

/// Mix-in giving an over-aligned class `operator new/delete` through `allocate_aligned` (a
/// class that is not over-aligned gets the global ones). Deleting through a base whose
/// destructor is virtual finds these too (the deleting destructor is the derived class's).
struct AlignedAllocated {
    static void* operator new(std::size_t n) { return ::operator new(n); }
    static void operator delete(void* p) noexcept { ::operator delete(p); }
#if defined(ZUKI_RELACY)
    // Models keep the global forms, which the model checker tracks for leaks.
    static void* operator new(std::size_t n, std::align_val_t a) { return ::operator new(n, a); }
    static void operator delete(void* p, std::align_val_t a) noexcept { ::operator delete(p, a); }
#else
    static void* operator new(std::size_t n, std::align_val_t a) {
        return allocate_aligned(n, static_cast<std::size_t>(a));
    }
    static void operator delete(void* p, std::align_val_t) noexcept { deallocate_aligned(p); }
#endif
};

}  // namespace zuki::detail
