// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::JoinSet<T>`: a set of spawned tasks whose results are taken in completion order
/// (Tokio's `JoinSet`; oneTBB's `task_group` in Zuki's terms).

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <zuki/core/combinators.hpp>
#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/core/waker.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/mutex.hpp>
#include <zuki/task/handle.hpp>
#include <zuki/task/join_handle.hpp>

namespace zuki {

namespace detail {

/// What a JoinSet shares with the wakers of its entries: the list of entries that completed
/// (or may have), and the waker of the task waiting in `next()`.
///
/// Each entry has a node here whose waker is the join waker of the entry's task (registered at
/// spawn, re-registered whenever `next()` finds it not yet complete), so a completion costs one
/// wake of the waiting task and `next()` looks only at entries that completed: completion
/// order, O(1) per result. The node's `queued` flag keeps an index in `ready` at most once, so
/// `ready`, reserved to the number of nodes at each spawn, never allocates inside a wake.
///
/// Lifetime: reference counted by the JoinSet and every waker clone of a node (a task may
/// complete after its JoinSet is gone). Nodes live in a `std::deque` that only the JoinSet's
/// owner grows (at spawn): growing never moves a node, and a node's `owner` / `index` never
/// change, so a waker on another thread may read them while the owner spawns.
class JoinSetShared {
public:
    struct Node {
        JoinSetShared* owner;
        std::uint32_t index;
        bool queued = false;  // guarded by owner->mutex_
    };

    static JoinSetShared* make() { return new JoinSetShared(); }
    // relaxed: a new reference is made from one the caller holds, so the count cannot reach
    // zero meanwhile; ref_dec's acq_rel orders every holder's accesses before the delete.
    void ref_inc() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void ref_dec() noexcept {
        // acq_rel: the last release sees every other holder's writes before deleting.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    /// Owner: make sure node `index` exists (nodes are made in index order). Throws
    /// `std::bad_alloc`; what was made before stays (an unused node is harmless). `ready_` is
    /// reserved before each node is added, so a report never allocates.
    void ensure_node(std::uint32_t index) {
        while (nodes_.size() <= index) {
            {
                std::lock_guard lock(mutex_);
                ready_.reserve(nodes_.size() + 1);
            }
            nodes_.push_back(Node{this, static_cast<std::uint32_t>(nodes_.size())});
        }
    }
    /// A waker that reports node `index` (one reference on this).
    Waker node_waker(std::uint32_t index) noexcept {
        ref_inc();
        return Waker(&nodes_[index], &node_vtable);
    }
    /// Owner: the next reported index, or nothing; with nothing, `waiter` is registered to be
    /// woken by the next report.
    std::optional<std::uint32_t> take_ready(const Waker& waiter) {
        std::lock_guard lock(mutex_);
        if (head_ == ready_.size()) {
            waiter_ = waiter;  // may throw (clone): nothing changed then
            return std::nullopt;
        }
        const std::uint32_t index = ready_[head_++];
        nodes_[index].queued = false;
        if (head_ == ready_.size()) {
            ready_.clear();
            head_ = 0;
        }
        return index;
    }

private:
    JoinSetShared() = default;

    void report(Node* n) noexcept {
        Waker waiter = Waker::noop();
        {
            std::lock_guard lock(mutex_);
            if (!n->queued) {
                n->queued = true;
                ready_.push_back(n->index);  // within the reserved capacity: no allocation
            }
            if (waiter_) {
                waiter = std::move(*waiter_);
                waiter_.reset();
            }
        }
        waiter.wake();  // outside the lock: the waiting task may run at once
    }

    static Node* node(const void* p) noexcept { return static_cast<Node*>(const_cast<void*>(p)); }
    static const void* clone_fn(const void* p) noexcept {
        node(p)->owner->ref_inc();
        return p;
    }
    static void wake_fn(const void* p) noexcept {
        Node* n = node(p);
        JoinSetShared* o = n->owner;
        o->report(n);
        o->ref_dec();
    }
    static void wake_by_ref_fn(const void* p) noexcept { node(p)->owner->report(node(p)); }
    static void drop_fn(const void* p) noexcept { node(p)->owner->ref_dec(); }
    static constexpr WakerVTable node_vtable{&clone_fn, &wake_fn, &wake_by_ref_fn, &drop_fn};

    atomic<std::size_t> refs_{1};
    std::deque<Node> nodes_;  // grown by the owner only; nodes never move
    mutex mutex_;
    std::vector<std::uint32_t> ready_;  // reported indices from head_ on (guarded by mutex_)
    std::size_t head_ = 0;  // guarded by mutex_
    std::optional<Waker> waiter_;  // guarded by mutex_
};

}  // namespace detail

/// A set of spawned tasks of output `T`, whose results are taken in the order the tasks
/// complete. Tokio's `JoinSet`; in oneTBB's terms a `task_group` whose results you collect.
///
/// - `spawn(work)` spawns `work` (a future or an invocable, see `Spawnable`) on the executor of
///   the calling task (`Handle::current()`), or on the executor of the handle the set was made
///   with; `spawn_on(work, handle)` on a given one. Each returns an `AbortHandle`.
/// - `co_await set.next()` yields the output of the next task to complete, as
///   `std::optional<value_or_monostate_t<T>>` (`std::monostate` for `void`), and an empty
///   optional once the set is empty. A task that threw makes `next()` rethrow its exception; a
///   cancelled one makes it throw `TaskCancelled`; either way that task has left the set.
/// - `co_await set.join_all()` waits for every task and yields their outputs in completion
///   order (`std::vector<T>`, or `void`). If one task fails, the others are cancelled and its
///   exception is rethrown (Tokio's `join_all`).
/// - `abort_all()` cancels every task in the set (they stay in it: `next()` reports each as
///   `TaskCancelled`, or its result if it had completed); `detach_all()` lets them run on
///   without the set. Destroying the set cancels every task still in it.
///
/// @code
/// zuki::Async<long> sum_all(std::vector<std::vector<long>> parts) {
///     zuki::JoinSet<long> set;
///     for (auto& p : parts)
///         set.spawn([p = std::move(p)] { return std::accumulate(p.begin(), p.end(), 0L); });
///     long total = 0;
///     while (std::optional<long> r = co_await set.next()) total += *r;
///     co_return total;
/// }
/// @endcode
///
/// Thread safety: a JoinSet is used by one task (or thread) at a time, like a JoinHandle; its
/// tasks run and complete on any thread. A `next()` future borrows the set: keep the set alive
/// and do not spawn into it while the future is being polled from another thread.
template <class T>
class JoinSet {
public:
    /// What `next()` yields for one task.
    using value_type = value_or_monostate_t<T>;

    /// A set that spawns on the executor of the calling task (`Handle::current()` at each
    /// spawn).
    JoinSet() noexcept = default;
    /// A set that spawns on `executor` (for a set filled from outside any executor).
    explicit JoinSet(Handle executor) noexcept : executor_(std::move(executor)) {}
    JoinSet(JoinSet&& o) noexcept
        : shared_(std::exchange(o.shared_, nullptr)), executor_(std::move(o.executor_)),
          entries_(std::move(o.entries_)), free_(std::move(o.free_)),
          size_(std::exchange(o.size_, 0)) {}
    JoinSet& operator=(JoinSet&& o) noexcept {
        if (this != &o) {
            JoinSet old(std::move(*this));
            shared_ = std::exchange(o.shared_, nullptr);
            executor_ = std::move(o.executor_);
            entries_ = std::move(o.entries_);
            free_ = std::move(o.free_);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    JoinSet(const JoinSet&) = delete;
    JoinSet& operator=(const JoinSet&) = delete;
    /// Cancels every task still in the set.
    ~JoinSet() {
        abort_all();
        entries_.clear();  // drop the JoinHandles (a failed, untaken result is reported)
        if (shared_ != nullptr) shared_->ref_dec();
    }

    /// Spawn `work` into the set on its executor (see the constructors). Throws
    /// `std::logic_error` when there is none (a default-constructed set used outside any
    /// executor), otherwise as the executor's `spawn`; nothing is added then.
    template <Spawnable F>
    requires std::is_same_v<spawn_output_t<F>, T>
        AbortHandle spawn(F work, TaskPriority priority = TaskPriority::Normal) {
        if (executor_.valid()) return spawn_on(std::move(work), executor_, priority);
        return insert(zuki::spawn(std::move(work), priority));
    }
    /// Spawn `work` into the set on the executor of `executor`.
    template <Spawnable F>
    requires std::is_same_v<spawn_output_t<F>, T> AbortHandle
    spawn_on(F work, const Handle& executor, TaskPriority priority = TaskPriority::Normal) {
        return insert(executor.spawn(std::move(work), priority));
    }

    /// The future of `co_await set.next()` (see the class comment). It borrows the set.
    class Next {
    public:
        using output_type = std::optional<value_type>;
        Poll<output_type> poll(Context& cx) { return set_->poll_next(cx); }

    private:
        friend class JoinSet;
        explicit Next(JoinSet* s) noexcept : set_(s) {}
        JoinSet* set_;
    };
    /// The output of the next task to complete; an empty optional when the set is empty.
    Next next() noexcept { return Next(this); }

    /// The future of `co_await set.join_all()` (see the class comment). It borrows the set.
    class JoinAllFuture {
    public:
        using output_type = std::conditional_t<std::is_void_v<T>, void, std::vector<T>>;
        Poll<output_type> poll(Context& cx) {
            for (;;) {
                std::optional<std::optional<value_type>> r;
                try {
                    Poll<std::optional<value_type>> p = set_->poll_next(cx);
                    if (p.is_pending()) return Poll<output_type>::pending();
                    r.emplace(std::move(p).value());
                } catch (...) {
                    set_->abort_all();
                    throw;
                }
                if (!*r) break;
                if constexpr (!std::is_void_v<T>) out_.push_back(std::move(**r));
            }
            if constexpr (std::is_void_v<T>)
                return Poll<void>::ready();
            else
                return Poll<output_type>::ready(std::move(out_));
        }

    private:
        friend class JoinSet;
        explicit JoinAllFuture(JoinSet* s) noexcept : set_(s) {}
        JoinSet* set_;
        [[no_unique_address]] std::conditional_t<std::is_void_v<T>, std::monostate,
                                                 std::vector<value_type>>
            out_;
    };
    /// Every task's output, in completion order (see the class comment).
    JoinAllFuture join_all() noexcept { return JoinAllFuture(this); }

    /// Tasks in the set (spawned and not yet taken by `next()`).
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

    /// Cancel every task in the set (see the class comment). Any thread that owns the set.
    void abort_all() noexcept {
        for (JoinHandle<T>& h : entries_)
            if (h.valid()) h.cancel();
    }
    /// Let every task run on without the set (their results are discarded); the set is empty
    /// afterwards.
    void detach_all() noexcept {
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (entries_[i].valid()) {
                entries_[i].detach();
                free_.push_back(static_cast<std::uint32_t>(i));  // reserved: no allocation
            }
        }
        size_ = 0;
    }

private:
    AbortHandle insert(JoinHandle<T> h) {
        // Make room first. If that throws, the handle is dropped and its task (already
        // spawned) detached: the best a failed insertion can do.
        if (shared_ == nullptr) shared_ = detail::JoinSetShared::make();
        if (free_.empty()) {
            const auto index = static_cast<std::uint32_t>(entries_.size());
            free_.reserve(entries_.size() + 1);
            shared_->ensure_node(index);
            entries_.emplace_back();  // strong guarantee: unchanged if it throws
            free_.push_back(index);  // reserved above
        }
        const std::uint32_t index = free_.back();
        AbortHandle abort = h.abort_handle();
        free_.pop_back();
        entries_[index] = std::move(h);
        ++size_;
        watch(index);
        return abort;
    }
    // Register node `index`'s waker as the join waker of its task; report it at once if the
    // task is already complete.
    void watch(std::uint32_t index) {
        const Waker w = shared_->node_waker(index);
        if (detail::join_handle_ready(entries_[index], w)) w.wake_by_ref();
    }

    Poll<std::optional<value_type>> poll_next(Context& cx) {
        using R = std::optional<value_type>;
        while (size_ != 0) {
            const std::optional<std::uint32_t> index = shared_->take_ready(cx.waker());
            if (!index) return Poll<R>::pending();
            JoinHandle<T>& h = entries_[*index];
            if (!h.valid()) continue;  // a stale report (the entry was detached)
            // A reported task has usually completed: then no waker is needed (making one costs
            // two RMWs on the shared count). Otherwise register the node's waker: it reports
            // again when the task completes.
            if (!h.is_finished() && !detail::join_handle_ready(h, shared_->node_waker(*index)))
                continue;
            JoinHandle<T> done = std::move(h);
            free_.push_back(*index);  // reserved: no allocation
            --size_;
            if constexpr (std::is_void_v<T>) {
                detail::take_completed(done);  // or it rethrows
                return Poll<R>::ready(R(std::in_place));
            } else {
                return Poll<R>::ready(R(detail::take_completed(done)));
            }
        }
        return Poll<R>::ready(R());
    }

    detail::JoinSetShared* shared_ = nullptr;  // made at the first spawn
    Handle executor_;  // empty: the current executor at each spawn
    std::vector<JoinHandle<T>> entries_;  // by node index; empty = free
    std::vector<std::uint32_t> free_;  // free entry indices (capacity >= entries_.size())
    std::size_t size_ = 0;
};

}  // namespace zuki
