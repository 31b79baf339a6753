// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// The worker loop, thread start, idle/park and shutdown of WorkStealingExecutor.
// See doc/design.md for the pictures; the algorithms live in include/zuki/concurrent/.

#include <zuki/runtime/work_stealing_executor.hpp>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <zuki/concurrent/chase_lev_deque.hpp>
#include <zuki/concurrent/idle_set.hpp>
#include <zuki/concurrent/injection_queue.hpp>
#include <zuki/detail/futex.hpp>
#include <zuki/detail/thread_parker.hpp>

namespace zuki {

// ---- config -------------------------------------------------------------------------------

void WorkStealingConfig::validate() const {
    if (threads > 4096)
        throw std::invalid_argument("zuki::WorkStealingConfig::threads: at most 4096 workers");
    if (stack_size != 0 && stack_size < 64 * 1024)
        throw std::invalid_argument(
            "zuki::WorkStealingConfig::stack_size: must be 0 (default) or at least 65536 bytes");
    if (local_queue_capacity < 2 || local_queue_capacity > (std::size_t{1} << 20) ||
        (local_queue_capacity & (local_queue_capacity - 1)) != 0)
        throw std::invalid_argument(
            "zuki::WorkStealingConfig::local_queue_capacity: must be a power of two in [2, 2^20]");
    if (global_queue_capacity < 1 || global_queue_capacity > (std::size_t{1} << 24))
        throw std::invalid_argument(
            "zuki::WorkStealingConfig::global_queue_capacity: must be in [1, 2^24]");
}

std::size_t WorkStealingConfig::resolved_threads() const noexcept {
    if (threads != 0) return threads;
    const unsigned hc = std::thread::hardware_concurrency();
    return hc == 0 ? 1 : hc;
}

namespace detail {

namespace {

using concurrent::ChaseLevDeque;
using concurrent::Chunk;
using concurrent::IdleSet;
using concurrent::InjectionQueue;

// Workers check the global queue first every this many ticks, so it cannot starve (Tokio and
// Go use the same prime).
constexpr unsigned global_check_interval = 61;
// Steal rounds a searcher makes over all victims before it parks.
constexpr int search_rounds = 4;
// Tasks a worker takes from its LIFO slot in a row before the slot's task must queue like any
// other (Tokio's bound): two tasks that keep waking each other cannot starve the deque.
constexpr unsigned max_lifo_streak = 3;

// A single-writer counter: the owner increments with a plain load+store (no RMW); any thread may
// read it.
struct Counter {
    std::atomic<std::uint64_t> v{0};
    void inc(std::uint64_t n = 1) noexcept {
        v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

}  // namespace

class WsScheduler;

struct Worker {
    Worker(WsScheduler* s, std::size_t cap) : sched(s), deque(cap), scratch(cap / 2 + 1) {}

    WsScheduler* sched;
    std::size_t index = 0;
    ChaseLevDeque<TaskHeader> deque;
    // LIFO slot (owner only, invisible to thieves): the task most recently spawned or woken by
    // the task running here, run next (it is hot in this core's cache, and a spawn/wake chain
    // then wakes nobody). Filling an empty slot notifies no one; a task displaced from it goes
    // to the deque and notifies as usual. `lifo_streak` counts consecutive runs from the slot.
    TaskHeader* lifo = nullptr;
    unsigned lifo_streak = 0;
    // Tasks that woke themselves during their poll (yield). Owner only; FIFO.
    TaskHeader* yield_head = nullptr;
    TaskHeader* yield_tail = nullptr;
    std::vector<TaskHeader*> scratch;  // overflow buffer, capacity/2 + 1
    std::uint64_t rng = 0x9E3779B97F4A7C15ull;
    pthread_t thread{};
    bool started = false;

    Counter tasks_run, steals, tasks_stolen, overflows, global_takes, parks, unparks;

    // This worker's private share of the scheduler's reference count and registry free list
    // (see Scheduler and TaskRegistry): spawns and completions on it touch no shared line.
    Scheduler::RefBias bias;
    TaskRegistry::LocalCache registry_cache;
    // Outstanding work counted privately until a join() begins (see WsScheduler::work_started).
    std::int64_t work_delta = 0;
    bool work_folded = false;

    std::uint32_t next_random() noexcept {  // xorshift64*
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        return static_cast<std::uint32_t>((rng * 0x2545F4914F6CDD1Dull) >> 32);
    }
};

namespace {
thread_local Worker* current_worker = nullptr;
}

class WsScheduler final : public Scheduler {
public:
    explicit WsScheduler(WorkStealingConfig cfg)
        : Scheduler(/*biased=*/true), cfg_(std::move(cfg)), global_(cfg_.global_queue_capacity) {}

    // The executor's final release: fold every worker's reference delta in (workers joined).
    void final_release() noexcept {
        std::int64_t total = 0;
        for (auto& w : all_) total += w->bias.delta;
        fold_and_release(total);
    }

    // ---- Scheduler ------------------------------------------------------------------------
    void schedule(TaskHeader* t) noexcept override {
        Worker* w = current_worker;
        if (w != nullptr && w->sched == this) {
            push_lifo(*w, t);
            return;
        }
        // A wake from outside the pool: once the task is published a worker may run it to
        // completion and the executor may be destroyed before we call notify_one(), so hold a
        // scheduler reference across the push (found by TSan: timer thread vs destructor).
        acquire();
        push_global(Chunk<TaskHeader>::single(t), t->priority());
        release();  // may delete *this: nothing after
    }

    void report_exception(std::exception_ptr e) noexcept override {
        if (cfg_.on_unhandled_exception) {
            try {
                cfg_.on_unhandled_exception(e);
            } catch (...) {
                std::fputs("zuki: the unhandled-exception handler threw; ignored\n", stderr);
            }
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            std::fprintf(stderr, "zuki: unhandled exception in a detached task: %s\n", ex.what());
        } catch (...) {
            std::fputs("zuki: unhandled exception of unknown type in a detached task\n", stderr);
        }
    }

    void task_finished() noexcept override { work_finished(); }

    // ---- outstanding work (join) ------------------------------------------------------------
    // Outstanding work = tasks and handlers not yet finished + tracked Asio work. join() needs
    // to see it reach exactly zero, but a shared counter would cost two contended RMWs per
    // task. So, until a join() begins, a worker counts its own spawns and completions in a
    // private delta (Worker::work_delta) and only outside threads touch `outstanding_`. The
    // true value is outstanding_ + Σ deltas. join() raises join_waiting_ and wakes everyone;
    // each worker, the next time it counts or reaches the top of its loop, folds its delta
    // into outstanding_ once, acknowledges, and counts globally from then on. Once every
    // worker acknowledged, outstanding_ is exact, and join() waits for it to be zero.
    void work_started(std::int64_t n = 1) noexcept {
        Worker* w = current_worker;
        if (w != nullptr && w->sched == this && !w->work_folded) {
            // relaxed: a late view only delays the fold; join() waits for the acknowledgement.
            if (!join_waiting_.load(std::memory_order_relaxed)) {
                w->work_delta += n;
                return;
            }
            fold_work(*w);
        }
        outstanding_.fetch_add(n, std::memory_order_relaxed);
    }
    void tasks_added(std::size_t n) noexcept override {
        work_started(static_cast<std::int64_t>(n));
    }
    void work_finished() noexcept {
        Worker* w = current_worker;
        if (w != nullptr && w->sched == this && !w->work_folded) {
            if (!join_waiting_.load(std::memory_order_relaxed)) {  // relaxed: as above
                --w->work_delta;
                return;
            }
            fold_work(*w);
        }
        // seq_cst: a Dekker pair with join(): we decrement then read join_waiting_, join()
        // sets join_waiting_ then reads outstanding_; one of us sees the other.
        if (outstanding_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
            join_waiting_.load(std::memory_order_seq_cst))
            notify_join();
    }
    // Worker w switches to global counting (once, after join() began).
    void fold_work(Worker& w) noexcept {
        w.work_folded = true;
        // seq_cst (both): join()'s predicate reads acks_ then outstanding_; the fold must be
        // visible no later than the acknowledgement.
        outstanding_.fetch_add(std::exchange(w.work_delta, 0), std::memory_order_seq_cst);
        acks_.fetch_add(1, std::memory_order_seq_cst);
        notify_join();
    }
    void notify_join() noexcept {
        std::lock_guard lock(join_mutex_);
        join_cv_.notify_all();
    }
    bool join_done() const noexcept {
        return acks_.load(std::memory_order_seq_cst) == workers_.size() &&
               outstanding_.load(std::memory_order_seq_cst) == 0;
    }

    // ---- submission ---------------------------------------------------------------------------
    // A spawn or wake by the task running on `w`: into the LIFO slot (see Worker::lifo).
    void push_lifo(Worker& w, TaskHeader* t) noexcept {
        if (TaskHeader* prev = std::exchange(w.lifo, t)) push_local(w, prev);
    }
    // An Asio post (relationship.fork) from a worker: the deque, FIFO for the owner and
    // visible to thieves, as asio::thread_pool queues it.
    void schedule_fork(TaskHeader* t) noexcept {
        Worker* w = current_worker;
        assert(w != nullptr && w->sched == this);
        push_local(*w, t);
    }
    void push_local(Worker& w, TaskHeader* t) noexcept {
        if (!w.deque.push(t)) overflow(w, t);
        idle_->notify_one();
    }

    // Move half of a full deque plus `t` to the global queue in one push.
    void overflow(Worker& w, TaskHeader* t) noexcept {
        const std::size_t n = w.deque.take_half(w.scratch.data());
        for (std::size_t i = 0; i < n; ++i) w.scratch[i]->next = (i + 1 < n) ? w.scratch[i + 1] : t;
        t->next = nullptr;
        w.overflows.inc();
        push_global(Chunk<TaskHeader>{n ? w.scratch[0] : t, t, n + 1}, TaskPriority::Normal,
                    /*notify=*/false);
    }

    void push_global(Chunk<TaskHeader> c, TaskPriority p, bool notify = true) noexcept {
        global_.push(c, p);
        // seq_cst fence: our push must be ordered before reading closed_ (Dekker with
        // close_and_drain(), which stores closed_ and then drains), and before reading the idle
        // state in notify (step (b) of the idle protocol): one fence serves both.
        detail::fence(std::memory_order_seq_cst);
        if (closed_.load(std::memory_order_relaxed)) {
            drain_global();
            return;
        }
        if (notify) idle_->notify_one_fenced();
    }

    // ---- threads --------------------------------------------------------------------------
    void start() {
        const std::size_t n = cfg_.resolved_threads();
        all_.reserve(n);
        for (std::size_t i = 0; i < n; ++i)
            all_.push_back(std::make_unique<Worker>(this, cfg_.local_queue_capacity));

        pthread_attr_t attr;
        if (int rc = pthread_attr_init(&attr); rc != 0)
            throw std::system_error(rc, std::generic_category(), "zuki: pthread_attr_init");
        struct AttrGuard {
            pthread_attr_t* a;
            ~AttrGuard() { pthread_attr_destroy(a); }
        } attr_guard{&attr};
        if (cfg_.stack_size != 0) {
            if (int rc = pthread_attr_setstacksize(&attr, cfg_.stack_size); rc != 0)
                throw std::system_error(rc, std::generic_category(),
                                        "zuki: WorkStealingConfig::stack_size rejected");
        }
        // From here on a started thread runs on `all_`: nothing below may throw without first
        // aborting the gate and joining what started. `workers_` has its room up front, and the
        // failure text goes to a fixed buffer, so recording a start cannot throw.
        workers_.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            Worker& w = *all_[i];
            int rc = 0;
            char why[160] = "";
            try {
                if (cfg_.before_thread_start) cfg_.before_thread_start(i);
                rc = pthread_create(&w.thread, &attr, &WsScheduler::thread_entry, &w);
                if (rc != 0) std::snprintf(why, sizeof why, "%s", std::strerror(rc));
            } catch (const std::exception& e) {
                rc = -1;
                std::snprintf(why, sizeof why, "%s", e.what());
            } catch (...) {
                rc = -1;
                std::snprintf(why, sizeof why, "unknown exception");
            }
            if (rc == 0) {
                w.started = true;
                workers_.push_back(&w);  // within the reserved capacity: no throw
            } else {
                ++failed_starts_;
                std::fprintf(stderr,
                             "zuki: worker thread %zu failed to start (%s); running with "
                             "the others\n",
                             i, why);
            }
        }
        if (workers_.empty()) {
            open_gate(/*abort=*/true);
            join_threads();
            throw std::system_error(
                std::make_error_code(std::errc::resource_unavailable_try_again),
                "zuki::WorkStealingExecutor: no worker thread could be started");
        }
        for (std::size_t i = 0; i < workers_.size(); ++i) workers_[i]->index = i;
        try {
            idle_ = std::make_unique<IdleSet>(workers_.size());
        } catch (...) {
            // The started workers wait at the gate: let them out and join them before the
            // constructor unwinds and frees what they run on.
            open_gate(/*abort=*/true);
            join_threads();
            throw;
        }
        open_gate(/*abort=*/false);
    }

    void stop() noexcept {
        // release: pairs with the acquire loads in the worker loop.
        stopping_.store(true, std::memory_order_release);
        accepting_.store(false, std::memory_order_release);
        if (idle_) idle_->notify_all();
        std::lock_guard lock(join_mutex_);
        join_cv_.notify_all();  // a join() waiting for outstanding work returns now
    }

    void join() {
        if (current_worker != nullptr && current_worker->sched == this)
            throw std::logic_error(
                "zuki::WorkStealingExecutor::join: called on one of the pool's own workers");
        join_waiting_.store(true, std::memory_order_seq_cst);  // see work_finished()
        idle_->notify_all();  // parked workers wake up to fold their counts (then park again)
        {
            std::unique_lock lock(join_mutex_);
            join_cv_.wait(lock,
                          [&] { return join_done() || stopping_.load(std::memory_order_acquire); });
        }
        stop();
        join_threads();
    }

    // The executor's destructor, part 1: stop and join the workers.
    void stop_and_join() noexcept {
        if (current_worker != nullptr && current_worker->sched == this) {
            std::fputs("zuki: a WorkStealingExecutor was destroyed by one of its own workers\n",
                       stderr);
            std::terminate();
        }
        stop();
        join_threads();
    }

    // The executor's destructor, part 2 (after Asio's services shut down): cancel every task
    // and handler left, and refuse what comes later.
    void close_and_drain() noexcept {
        // seq_cst: Dekker with push_global(): after this store, a pusher either sees closed_ and
        // drains itself, or its push is visible to our drain below.
        closed_.store(true, std::memory_order_seq_cst);
        detail::fence(std::memory_order_seq_cst);
        for (auto& w : all_) {
            if (TaskHeader* t = std::exchange(w->lifo, nullptr)) cancel_queued(t);
            while (TaskHeader* t = w->deque.pop()) cancel_queued(t);
            for (TaskHeader* t = w->yield_head; t != nullptr;) {
                TaskHeader* next = t->next;
                cancel_queued(t);
                t = next;
            }
            w->yield_head = w->yield_tail = nullptr;
        }
        drain_global();
        registry.drain([](TaskHeader* t) {
            t->cancel();
            t->ref_dec();  // the registry's reference
        });
    }

    // ---- accessors ------------------------------------------------------------------------
    bool accepting() const noexcept { return accepting_.load(std::memory_order_acquire); }
    bool stopped() const noexcept { return stopping_.load(std::memory_order_acquire); }
    std::size_t thread_count() const noexcept { return workers_.size(); }
    Metrics metrics() const {
        Metrics m;
        m.failed_thread_starts = failed_starts_;
        for (Worker* w : workers_) {
            WorkerMetrics x;
            x.tasks_run = w->tasks_run.get();
            x.steals = w->steals.get();
            x.tasks_stolen = w->tasks_stolen.get();
            x.overflows = w->overflows.get();
            x.global_takes = w->global_takes.get();
            x.parks = w->parks.get();
            x.unparks = w->unparks.get();
            m.workers.push_back(x);
        }
        return m;
    }
    bool is_own_worker() const noexcept {
        return current_worker != nullptr && current_worker->sched == this;
    }

private:
    static void cancel_queued(TaskHeader* t) noexcept {
        t->cancel_scheduled();
        t->ref_dec();  // the queue's reference
    }
    void drain_global() noexcept {
        for (;;) {
            Chunk<TaskHeader> c = global_.pop();
            if (c.count == 0) return;
            TaskHeader* t = c.head;
            for (std::size_t i = 0; i < c.count; ++i) {
                TaskHeader* next = t->next;
                cancel_queued(t);
                t = next;
            }
        }
    }

    void open_gate(bool abort) noexcept {
        gate_abort_ = abort;
        // release: publishes workers_, indices and idle_ to the workers' acquire load.
        gate_.store(1, std::memory_order_release);
        detail::futex_wake(gate_, INT32_MAX);
    }
    void join_threads() noexcept {
        std::lock_guard lock(threads_mutex_);  // join() and the destructor may both get here
        for (auto& w : all_) {
            if (w->started) {
                pthread_join(w->thread, nullptr);
                w->started = false;
            }
        }
    }

    static void* thread_entry(void* arg) noexcept {
        auto& w = *static_cast<Worker*>(arg);
        WsScheduler& s = *w.sched;
        // acquire: pairs with the release store in open_gate().
        while (s.gate_.load(std::memory_order_acquire) == 0) detail::futex_wait(s.gate_, 0);
        if (s.gate_abort_) return nullptr;
        char name[16];  // the kernel's limit, terminator included; formatting cannot throw
        std::snprintf(name, sizeof name, "%s%zu", s.cfg_.thread_name_prefix.c_str(), w.index);
        pthread_setname_np(pthread_self(), name);
        w.rng ^= (w.index + 1) * 0x9E3779B97F4A7C15ull;
        current_worker = &w;
        w.bias.owner = &s;
        Scheduler::local_bias() = &w.bias;
        w.registry_cache.owner = &s.registry;
        TaskRegistry::local_cache() = &w.registry_cache;
        ++executor_thread_depth;
        s.run_worker(w);
        --executor_thread_depth;
        TaskRegistry::local_cache() = nullptr;
        Scheduler::local_bias() = nullptr;
        current_worker = nullptr;
        return nullptr;
    }

    void run_worker(Worker& w) noexcept {
        unsigned tick = 0;
        bool searching = false;
        for (;;) {
            // acquire: pairs with the release store in stop().
            if (stopping_.load(std::memory_order_acquire)) return;
            // relaxed: see work_started().
            if (!w.work_folded && join_waiting_.load(std::memory_order_relaxed)) fold_work(w);
            TaskHeader* t = next_task(w, ++tick);
            if (t == nullptr) {
                if (!searching) searching = idle_->try_begin_search();
                if (searching) t = search(w);
                if (t == nullptr) {
                    park(w, searching);
                    searching = true;  // a parked worker wakes as a searcher
                    continue;
                }
            }
            if (searching) {
                searching = false;
                if (idle_->end_search()) pass_the_baton();
            }
            run_task(w, t);
        }
    }

    // The last searcher found work: wake one parked worker if work is left for it (Tokio wakes
    // one unconditionally; doing it only when has_work() says so keeps a futex wake and a
    // spurious search off the path of a lone task, e.g. a wake into an idle pool). Liveness
    // never depends on this wake: this worker re-checks every queue before it parks. The fence
    // makes it prompt: a submitter that saw us still searching did not wake anyone, and
    // either its push is visible to has_work() here (our end_search RMW, fence, read vs its
    // push, fence, read of the counters: one of the two sees the other), or it saw the search
    // end and woke a worker itself.
    void pass_the_baton() noexcept {
        // seq_cst: see above; pairs with the fence in push_global() / IdleSet::notify_one().
        detail::fence(std::memory_order_seq_cst);
        if (has_work()) idle_->notify_one_fenced();
    }

    void run_task(Worker& w, TaskHeader* t) noexcept {
        w.tasks_run.inc();
        switch (t->run()) {
            case RunOutcome::finished:
            case RunOutcome::idle:
                t->ref_dec();  // the queue's reference
                break;
            case RunOutcome::reschedule:  // it woke itself: run it after what is queued
                t->next = nullptr;
                if (w.yield_tail != nullptr)
                    w.yield_tail->next = t;
                else
                    w.yield_head = t;
                w.yield_tail = t;
                break;
        }
    }

    // Order: every 61 ticks the global queue and the yielded tasks first (neither can starve
    // behind local work); then the LIFO slot (at most max_lifo_streak in a row); the deque; the
    // global queue; and only then this worker's own yielded tasks: a yield lets other work run,
    // outside submissions included (Tokio defers yielded tasks the same way). Yielded tasks
    // wait at most one interval.
    TaskHeader* next_task(Worker& w, unsigned tick) noexcept {
        if (tick % global_check_interval == 0) {
            flush_yielded(w);
            if (TaskHeader* t = take_global(w)) return t;
        }
        if (w.lifo != nullptr) {
            if (w.lifo_streak < max_lifo_streak) {
                ++w.lifo_streak;
                return std::exchange(w.lifo, nullptr);
            }
            // Queue it like any other, without a notify (as Tokio): if the deque was empty
            // this worker pops it right below; otherwise the tasks already there were
            // announced when they were pushed.
            TaskHeader* t = std::exchange(w.lifo, nullptr);
            if (!w.deque.push(t)) overflow(w, t);
        }
        w.lifo_streak = 0;
        if (TaskHeader* t = w.deque.pop()) return t;
        if (TaskHeader* t = take_global(w)) return t;
        if (flush_yielded(w)) return w.deque.pop();
        return nullptr;
    }

    // Move yielded tasks into the deque (visible to thieves again). Returns true if any.
    bool flush_yielded(Worker& w) noexcept {
        TaskHeader* t = w.yield_head;
        if (t == nullptr) return false;
        w.yield_head = w.yield_tail = nullptr;
        TaskHeader* rest = nullptr;
        w.deque.push_chain(t, SIZE_MAX, rest);  // the list is null-terminated
        while (rest != nullptr) {  // the deque filled up: the rest overflows as usual
            TaskHeader* next = rest->next;
            if (!w.deque.push(rest)) overflow(w, rest);
            rest = next;
        }
        return true;
    }

    // Take one chunk from the global queue: run its first task, keep what fits locally, give
    // the rest back in one push.
    TaskHeader* take_global(Worker& w) noexcept {
        if (global_.empty_hint()) return nullptr;
        Chunk<TaskHeader> c = global_.pop();
        if (c.count == 0) return nullptr;
        w.global_takes.inc();
        TaskHeader* first = c.head;
        TaskHeader* rest = nullptr;
        const std::size_t pushed =
            c.count > 1 ? w.deque.push_chain(first->next, c.count - 1, rest) : 0;
        const std::size_t left = c.count - 1 - pushed;
        if (left > 0) push_global(Chunk<TaskHeader>{rest, c.tail, left}, first->priority(), false);
        if (pushed > 0 || left > 0) idle_->notify_one();  // let an idle worker steal the rest
        return first;
    }

    TaskHeader* search(Worker& w) noexcept {
        const std::size_t n = workers_.size();
        for (int round = 0; round < search_rounds; ++round) {
            const std::size_t start = n > 1 ? w.next_random() % n : 0;
            for (std::size_t k = 0; k < n; ++k) {
                Worker& v = *workers_[(start + k) % n];
                if (&v == &w) continue;
                std::size_t stolen = 0;
                if (TaskHeader* t = v.deque.steal_half_into(w.deque, stolen)) {
                    w.steals.inc();
                    w.tasks_stolen.inc(stolen);
                    return t;
                }
            }
            if (TaskHeader* t = take_global(w)) return t;
            if (stopping_.load(std::memory_order_acquire)) return nullptr;
            std::this_thread::yield();
        }
        return nullptr;
    }

    bool has_work() const noexcept {
        if (!global_.empty_hint()) return true;
        for (Worker* v : workers_)
            if (!v->deque.empty()) return true;
        return false;
    }

    void park(Worker& w, bool searching) noexcept {
        idle_->prepare_park(w.index, searching);
        // The re-check of the idle protocol (see concurrent/idle_set.hpp).
        // join_waiting_ too: join() stores it and then wakes parked workers (a Dekker pair
        // with our parked bit + fence), so a worker that has not folded its count yet either
        // sees it here or is woken.
        if (has_work() || stopping_.load(std::memory_order_acquire) || w.yield_head != nullptr ||
            w.lifo != nullptr ||
            (!w.work_folded && join_waiting_.load(std::memory_order_seq_cst))) {
            idle_->cancel_park(w.index);
            w.unparks.inc();
            return;
        }
        w.parks.inc();
        idle_->park(w.index);
        w.unparks.inc();
    }

    WorkStealingConfig cfg_;
    InjectionQueue<TaskHeader> global_;
    std::unique_ptr<IdleSet> idle_;
    std::vector<std::unique_ptr<Worker>> all_;
    std::vector<Worker*> workers_;  // the started ones, indexed by Worker::index
    std::size_t failed_starts_ = 0;

    std::atomic<std::uint32_t> gate_{0};
    bool gate_abort_ = false;
    std::mutex threads_mutex_;

    alignas(cache_line) std::atomic<bool> stopping_{false};
    std::atomic<bool> accepting_{true};
    std::atomic<bool> closed_{false};
    alignas(cache_line) std::atomic<std::int64_t> outstanding_{0};
    std::atomic<bool> join_waiting_{false};
    std::atomic<std::size_t> acks_{0};  // workers that folded their work_delta
    std::mutex join_mutex_;
    std::condition_variable join_cv_;
};

}  // namespace detail

// ---- WorkStealingExecutor -------------------------------------------------------------------

WorkStealingExecutor::WorkStealingExecutor(WorkStealingConfig config) {
    config.validate();
    auto* s = new detail::WsScheduler(std::move(config));
    try {
        s->start();
    } catch (...) {
        s->final_release();
        throw;
    }
    sched_ = s;
}

WorkStealingExecutor::WorkStealingExecutor(std::size_t threads)
    : WorkStealingExecutor([&] {
          if (threads == 0)
              throw std::invalid_argument(
                  "zuki::WorkStealingExecutor: threads must be > 0 (use WorkStealingConfig{} for "
                  "one per core)");
          WorkStealingConfig c;
          c.threads = threads;
          return c;
      }()) {}

WorkStealingExecutor::~WorkStealingExecutor() {
    sched_->stop_and_join();
    // Asio's services (timers, sockets, its reactor thread) go first, as in thread_pool; the
    // handlers they still had queued on us are then cancelled with everything else.
    shutdown();
    sched_->close_and_drain();
    destroy();
    sched_->final_release();
}

void WorkStealingExecutor::asio_submit(detail::TaskHeader* t, bool continuation) noexcept {
    // From a worker: a continuation goes to its LIFO slot (runs next, on this worker), a fork to
    // its deque (FIFO for the worker, stealable), as thread_pool keeps both on the worker;
    // from outside: the global queue.
    if (sched_->is_own_worker()) {
        if (continuation)
            sched_->schedule(t);
        else
            sched_->schedule_fork(t);
    } else {
        sched_->push_global(concurrent::Chunk<detail::TaskHeader>::single(t), TaskPriority::Normal);
    }
}

void WorkStealingExecutor::asio_work_finished() noexcept { sched_->work_finished(); }

void WorkStealingExecutor::spawn_batch(Batch&& batch) {
    if (batch.executor_ != this)
        throw std::invalid_argument(
            "zuki::WorkStealingExecutor::spawn_batch: the batch belongs to another executor");
    auto lanes = std::exchange(batch.lanes_, {});
    // The batch's tasks count as outstanding work from here (not while it was being built, so
    // join() never waits for a batch nobody submits): one update for the whole batch, before
    // any of them can run and finish.
    if (const std::size_t n = std::exchange(batch.size_, 0); n != 0) sched_->tasks_added(n);
    for (std::size_t p = task_priority_levels; p-- > 0;) {
        if (lanes[p].count == 0) continue;
        sched_->push_global(
            concurrent::Chunk<detail::TaskHeader>{lanes[p].head, lanes[p].tail, lanes[p].count},
            static_cast<TaskPriority>(p));
    }
}

std::size_t WorkStealingExecutor::thread_count() const noexcept { return sched_->thread_count(); }
void WorkStealingExecutor::join() { sched_->join(); }
void WorkStealingExecutor::stop() noexcept { sched_->stop(); }
bool WorkStealingExecutor::stopped() const noexcept { return sched_->stopped(); }
bool WorkStealingExecutor::running_in_this_thread() const noexcept {
    return sched_->is_own_worker();
}
Metrics WorkStealingExecutor::metrics() const { return sched_->metrics(); }
detail::Scheduler* WorkStealingExecutor::scheduler() const noexcept { return sched_; }
void WorkStealingExecutor::check_accepting() const {
    if (!sched_->accepting())
        throw ExecutorStopped("zuki::WorkStealingExecutor: the executor was stopped");
}
void WorkStealingExecutor::work_started() noexcept { sched_->work_started(); }

void WorkStealingExecutor::submit(detail::TaskHeader* t) noexcept {
    const auto p = t->priority();
    if (sched_->is_own_worker() && p <= TaskPriority::Normal)
        sched_->schedule(t);
    else
        sched_->push_global(concurrent::Chunk<detail::TaskHeader>::single(t), p);
}

void Batch::cancel_all() noexcept {
    // Each cancelled task finishes (task_finished), so count them first (the executor may be
    // gone: go through the tasks' scheduler, which they keep alive).
    for (auto& l : lanes_) {
        if (l.count != 0) {
            l.head->scheduler()->tasks_added(size_);
            break;
        }
    }
    for (auto& l : lanes_) {
        detail::TaskHeader* t = l.head;
        for (std::size_t i = 0; i < l.count; ++i) {
            detail::TaskHeader* next = t->next;
            t->cancel_scheduled();
            t->ref_dec();
            t = next;
        }
        l = Lane{};
    }
    size_ = 0;
}

}  // namespace zuki
