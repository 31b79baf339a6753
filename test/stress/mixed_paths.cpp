// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/runtime/work_stealing_executor.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki stress mixed_paths
#include <boost/test/unit_test.hpp>

// Exactly once with every submission path of a WorkStealingExecutor mixed in one run.
//
// A seed generates a random forest of work items. Roots are submitted by 3 outside threads, each
// by one of: spawn (any priority, handle kept or detached), a Batch (flushed at a random size),
// or an Asio post. When an item completes, it submits its children from inside the pool by one
// of: spawn (Normal/Low to the worker's deque, High/Critical to the global queue), a Batch built
// and submitted on the worker, Asio post, defer or dispatch (inline there). Task items are
// leaves (ready at once), "penders" (pending 1-3 times; each time their waker goes to a mailbox,
// from which 2 foreign threads wake them by value or by reference — and running items also wake
// a few, from inside), or "yielders" (wake themselves 1-3 times: the yield-list path). Asio
// items are handlers. The pool has local deques of capacity 2 and a global queue of capacity 1
// per lane, so overflow (half a deque to the global queue) and the global spill list are on the
// hot path.
//
// Checked per item id: completed exactly once, polled exactly as often as it asked (k + 1),
// never polled concurrently; kept JoinHandles return their id; join() returns (outstanding
// work counted right). Pools of 1, 2, 4 and 8 workers (oversubscribed on purpose), for a fixed
// list of seeds plus one random seed, printed (rerun it with ZUKI_STRESS_SEED=<seed>). Size:
// ZUKI_STRESS_SCALE (default 1) times a base that keeps the TSan build under ~20 s.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/defer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "common/test_env.hpp"
#include "common/watchdog.hpp"

using namespace std::chrono_literals;
using zuki::Batch;
using zuki::Context;
using zuki::JoinHandle;
using zuki::Poll;
using zuki::TaskPriority;
using zuki::WorkStealingConfig;
using zuki::WorkStealingExecutor;

namespace {

#if defined(ZUKI_TSAN)
constexpr std::size_t base_items = 15'000;
#elif defined(__SANITIZE_ADDRESS__)
constexpr std::size_t base_items = 20'000;
#else
constexpr std::size_t base_items = 20'000;
#endif

using zuki::test::stress_scale;

enum class Kind : std::uint8_t { leaf, pender, yielder, handler };
enum class Path : std::uint8_t {
    out_spawn,
    out_batch,
    out_post,  // roots, from outside threads
    in_spawn,
    in_batch,
    in_post,
    in_defer,
    in_dispatch,  // children, from inside the pool
};
constexpr bool is_asio(Path p) {
    return p == Path::out_post || p == Path::in_post || p == Path::in_defer ||
           p == Path::in_dispatch;
}

struct Spec {
    Kind kind = Kind::leaf;
    std::uint8_t k = 0;  // pendings (pender) or self-wakes (yielder)
    TaskPriority priority = TaskPriority::Normal;
    Path path = Path::out_spawn;
    bool keep_handle = false;  // outside spawns and batches
    std::uint32_t first_child = 0;
    std::uint32_t children = 0;
};

// A random forest of `total` items: roots first, then children in breadth-first order (so each
// item's children are contiguous).
std::vector<Spec> make_plan(std::uint64_t seed, std::size_t total) {
    std::mt19937_64 rng(seed);
    auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
    auto fill = [&](Spec& s, bool root) {
        const std::uint32_t p = pick(100);
        if (root)
            s.path = p < 40 ? Path::out_spawn : p < 75 ? Path::out_batch : Path::out_post;
        else
            s.path = p < 40   ? Path::in_spawn
                     : p < 65 ? Path::in_batch
                     : p < 80 ? Path::in_post
                     : p < 90 ? Path::in_defer
                              : Path::in_dispatch;
        if (is_asio(s.path)) {
            s.kind = Kind::handler;
        } else {
            const std::uint32_t q = pick(100);
            s.kind = q < 50 ? Kind::leaf : q < 85 ? Kind::pender : Kind::yielder;
            if (s.kind != Kind::leaf) s.k = static_cast<std::uint8_t>(1 + pick(3));
        }
        s.priority = static_cast<TaskPriority>(pick(zuki::task_priority_levels));
        s.keep_handle = root && !is_asio(s.path) && pick(100) < 30;
    };
    std::vector<Spec> plan(total / 3);
    for (auto& s : plan) fill(s, true);
    for (std::size_t i = 0; i < plan.size() && plan.size() < total; ++i) {
        const std::uint32_t c =
            std::min<std::uint32_t>(pick(4), static_cast<std::uint32_t>(total - plan.size()));
        plan[i].first_child = static_cast<std::uint32_t>(plan.size());
        plan[i].children = c;
        for (std::uint32_t j = 0; j < c; ++j) {
            Spec s;
            fill(s, false);
            plan.push_back(s);
        }
    }
    return plan;
}

// Wakers waiting for a foreign (or inside) wake.
class Mailbox {
public:
    void push(zuki::Waker w) {
        {
            std::lock_guard lock(m_);
            wakers_.push_back(std::move(w));
        }
        cv_.notify_one();
    }
    // Takes up to `max` wakers (waits up to `wait` for one).
    std::vector<zuki::Waker> take(std::size_t max, std::chrono::microseconds wait) {
        std::unique_lock lock(m_);
        if (wakers_.empty() && wait.count() > 0) cv_.wait_for(lock, wait);
        std::vector<zuki::Waker> out;
        while (!wakers_.empty() && out.size() < max) {
            out.push_back(std::move(wakers_.back()));
            wakers_.pop_back();
        }
        return out;
    }
    std::size_t size() {
        std::lock_guard lock(m_);
        return wakers_.size();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<zuki::Waker> wakers_;
};

struct Run {
    const std::vector<Spec>* plan;
    WorkStealingExecutor* ex;
    std::unique_ptr<std::atomic<std::uint32_t>[]> polls;
    std::unique_ptr<std::atomic<std::uint32_t>[]> done;
    std::unique_ptr<std::atomic<std::uint8_t>[]> in_poll;
    std::atomic<std::uint64_t> overlaps{0};
    std::atomic<std::uint64_t> inside_wakes{0};
    std::atomic<std::uint64_t> completed{0};
    Mailbox mailbox;

    Run(const std::vector<Spec>& p, WorkStealingExecutor& e)
        : plan(&p), ex(&e), polls(std::make_unique<std::atomic<std::uint32_t>[]>(p.size())),
          done(std::make_unique<std::atomic<std::uint32_t>[]>(p.size())),
          in_poll(std::make_unique<std::atomic<std::uint8_t>[]>(p.size())) {
        for (std::size_t i = 0; i < p.size(); ++i) {
            polls[i].store(0, std::memory_order_relaxed);
            done[i].store(0, std::memory_order_relaxed);
            in_poll[i].store(0, std::memory_order_relaxed);
        }
    }
};

void submit_children(Run& r, std::uint32_t id);

// A running item wakes a couple of mailbox wakers from inside the pool.
void help_wake(Run& r) {
    for (auto& w : r.mailbox.take(2, std::chrono::microseconds(0))) {
        r.inside_wakes.fetch_add(1, std::memory_order_relaxed);
        w.wake();
    }
}

struct Item {
    Run* r;
    std::uint32_t id;
    std::uint8_t left;  // pendings or self-wakes still to do

    Poll<std::uint32_t> poll(Context& cx) {
        // acq_rel: an overlapping poll of the same item would read 1 here.
        if (r->in_poll[id].exchange(1, std::memory_order_acq_rel) != 0)
            r->overlaps.fetch_add(1, std::memory_order_relaxed);
        r->polls[id].fetch_add(1, std::memory_order_relaxed);
        const Spec& s = (*r->plan)[id];
        if (left > 0) {
            --left;
            // release: the next poll (on any thread) must see `left` and our counts.
            r->in_poll[id].store(0, std::memory_order_release);
            if (s.kind == Kind::pender)
                r->mailbox.push(cx.waker());
            else
                cx.waker().wake_by_ref();  // yield
            return Poll<std::uint32_t>::pending();
        }
        r->done[id].fetch_add(1, std::memory_order_relaxed);
        submit_children(*r, id);
        help_wake(*r);
        r->in_poll[id].store(0, std::memory_order_release);
        r->completed.fetch_add(1, std::memory_order_relaxed);
        return Poll<std::uint32_t>::ready(id);
    }
};

// An Asio handler item.
struct Handler {
    Run* r;
    std::uint32_t id;
    void operator()() const {
        r->polls[id].fetch_add(1, std::memory_order_relaxed);
        r->done[id].fetch_add(1, std::memory_order_relaxed);
        submit_children(*r, id);
        help_wake(*r);
        r->completed.fetch_add(1, std::memory_order_relaxed);
    }
};

Item item_of(Run& r, std::uint32_t id) { return Item{&r, id, (*r.plan)[id].k}; }

void submit_children(Run& r, std::uint32_t id) {
    const Spec& s = (*r.plan)[id];
    if (s.children == 0) return;
    Batch batch(*r.ex);
    for (std::uint32_t c = s.first_child; c < s.first_child + s.children; ++c) {
        const Spec& cs = (*r.plan)[c];
        switch (cs.path) {
            case Path::in_spawn:
                r.ex->spawn(item_of(r, c), cs.priority).detach();
                break;
            case Path::in_batch:
                batch.push(item_of(r, c), cs.priority).detach();
                break;
            case Path::in_post:
                boost::asio::post(*r.ex, Handler{&r, c});
                break;
            case Path::in_defer:
                boost::asio::defer(*r.ex, Handler{&r, c});
                break;
            case Path::in_dispatch:
                boost::asio::dispatch(*r.ex, Handler{&r, c});
                break;  // inline
            default:
                BOOST_ERROR("a child with an outside path");
                break;
        }
    }
    if (!batch.empty()) r.ex->spawn_batch(std::move(batch));
}

struct Totals {
    std::uint64_t items = 0, overflows = 0, steals = 0, inside_wakes = 0;
};

// Returns false if the run stalled (then the other configurations are skipped).
bool run_config(std::size_t workers, std::uint64_t seed, std::size_t total, Totals& totals) {
    const std::vector<Spec> plan = make_plan(seed, total);
    WorkStealingConfig cfg;
    cfg.threads = workers;
    cfg.local_queue_capacity = 2;
    cfg.global_queue_capacity = 1;
    WorkStealingExecutor ex(cfg);
    Run r(plan, ex);
    const auto t0 = std::chrono::steady_clock::now();

    std::atomic<bool> stop_waking{false};
    std::vector<std::thread> wakers;
    for (int t = 0; t < 2; ++t) {
        wakers.emplace_back([&r, &stop_waking, t] {
            std::uint64_t n = 0;
            while (!stop_waking.load(std::memory_order_acquire)) {
                for (auto& w : r.mailbox.take(16, 500us)) {
                    if ((++n + static_cast<std::uint64_t>(t)) % 2 == 0) {
                        w.wake();
                    } else {
                        w.wake_by_ref();  // and drop the reference afterwards
                    }
                }
            }
        });
    }

    constexpr std::uint32_t submitters = 3;
    std::size_t roots = 0;
    while (roots < plan.size() &&
           (plan[roots].path == Path::out_spawn || plan[roots].path == Path::out_batch ||
            plan[roots].path == Path::out_post))
        ++roots;
    std::vector<std::vector<std::pair<std::uint32_t, JoinHandle<std::uint32_t>>>> kept_by(
        submitters);
    std::vector<std::thread> outside;
    for (std::uint32_t t = 0; t < submitters; ++t) {
        outside.emplace_back([&, t] {
            std::mt19937 rng(static_cast<std::uint32_t>(seed) + t);
            auto& kept = kept_by[t];
            Batch batch(ex);
            std::size_t flush_at = 1 + rng() % 8;
            for (std::uint32_t id = t; id < roots; id += submitters) {
                const Spec& s = plan[id];
                switch (s.path) {
                    case Path::out_spawn: {
                        auto h = ex.spawn(item_of(r, id), s.priority);
                        if (s.keep_handle) kept.emplace_back(id, std::move(h));
                        break;
                    }
                    case Path::out_batch: {
                        auto h = batch.push(item_of(r, id), s.priority);
                        if (s.keep_handle) kept.emplace_back(id, std::move(h));
                        if (batch.size() >= flush_at) {
                            ex.spawn_batch(std::move(batch));
                            flush_at = 1 + rng() % 8;
                        }
                        break;
                    }
                    case Path::out_post:
                        boost::asio::post(ex, Handler{&r, id});
                        break;
                    default:
                        break;
                }
            }
            if (!batch.empty()) ex.spawn_batch(std::move(batch));
        });
    }
    for (auto& t : outside) t.join();
    // Wait for every item; no completion for 30 s is a hang (a lost wake-up or a lost task):
    // fail with the metrics instead of waiting for the watchdog. The destructor then cancels
    // what is left.
    bool stalled = false;
    {
        std::uint64_t last = 0;
        auto last_change = std::chrono::steady_clock::now();
        for (;;) {
            const std::uint64_t now_done = r.completed.load(std::memory_order_relaxed);
            if (now_done == plan.size()) break;
            const auto now = std::chrono::steady_clock::now();
            if (now_done != last) {
                last = now_done;
                last_change = now;
            } else if (now - last_change > 30s) {
                stalled = true;
                break;
            }
            std::this_thread::sleep_for(1ms);
        }
    }
    if (stalled) {
        std::size_t shown = 0;
        std::ostringstream missing;
        for (std::size_t id = 0; id < plan.size() && shown < 10; ++id)
            if (r.done[id].load() == 0) {
                missing << ' ' << id << "(kind " << static_cast<int>(plan[id].kind) << ", path "
                        << static_cast<int>(plan[id].path) << ", polls " << r.polls[id].load()
                        << ')';
                ++shown;
            }
        std::ostringstream diag;  // formatted here: the log stream may carry other flags
        diag << "no progress for 30 s: " << r.completed.load() << " of " << plan.size()
             << " items completed; mailbox " << r.mailbox.size()
             << "; not completed:" << missing.str() << '\n'
             << ex.metrics();
        BOOST_ERROR(diag.str());
    } else {
        ex.join();  // outstanding work reaches zero: returns
    }
    stop_waking.store(true, std::memory_order_release);
    for (auto& t : wakers) t.join();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    if (stalled) return false;  // the destructor cancels the rest

    std::size_t wrong_values = 0;
    for (auto& kept : kept_by)
        for (auto& [id, h] : kept) wrong_values += h.get() != id;
    BOOST_TEST(wrong_values == 0u);
    BOOST_TEST(r.overlaps.load() == 0u, "items polled concurrently");
    BOOST_TEST(r.mailbox.size() == 0u, "wakers left in the mailbox after join()");
    std::size_t wrong = 0;
    for (std::size_t id = 0; id < plan.size(); ++id) {
        const Spec& s = plan[id];
        const std::uint32_t want_polls = s.kind == Kind::handler ? 1u : 1u + s.k;
        const std::uint32_t d = r.done[id].load(std::memory_order_relaxed);
        const std::uint32_t p = r.polls[id].load(std::memory_order_relaxed);
        if ((d != 1 || p != want_polls) && wrong++ < 10)
            BOOST_ERROR("item " << id << " (kind " << static_cast<int>(s.kind) << ", path "
                                << static_cast<int>(s.path) << ", k " << static_cast<int>(s.k)
                                << "): completed " << d << " times, polled " << p
                                << " times, want 1 and " << want_polls);
    }
    BOOST_TEST(wrong == 0u);
    const zuki::WorkerMetrics m = ex.metrics().total();
    totals.items += plan.size();
    totals.overflows += m.overflows;
    totals.steals += m.steals;
    totals.inside_wakes += r.inside_wakes.load();
    BOOST_TEST_MESSAGE(workers << " workers, seed " << seed << ": " << plan.size() << " items in "
                               << ms.count() << " ms; " << m);
    return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_item_completes_exactly_once_with_every_submission_path_mixed) {
    zuki::test::Watchdog w(280s, "mixed_paths");
    const std::size_t total = base_items * stress_scale();
    std::vector<std::uint64_t> seeds = {1, 2, 3, 0xC0FFEE};
    std::uint64_t random_seed = std::random_device{}();
    if (const char* s = std::getenv("ZUKI_STRESS_SEED"); s != nullptr && *s != '\0')
        random_seed = std::strtoull(s, nullptr, 0);
    seeds.push_back(random_seed);
    BOOST_TEST_MESSAGE("random seed " << random_seed
                                      << " (rerun with ZUKI_STRESS_SEED=" << random_seed << ")");
    std::cout << "mixed_paths: random seed " << random_seed
              << " (rerun with ZUKI_STRESS_SEED=" << random_seed << ")"
              << std::endl;  // also in ctest's --output-on-failure
    Totals totals;
    bool going = true;
    for (std::size_t workers : {1u, 2u, 4u, 8u}) {
        for (std::uint64_t seed : seeds) {
            if (going) {
                BOOST_TEST_CONTEXT(workers << " workers, seed " << seed) {
                    going = run_config(workers, seed, total, totals);
                }
            }
        }
    }
    BOOST_REQUIRE_MESSAGE(going, "stopped after the first configuration that made no progress");
    BOOST_TEST_MESSAGE(totals.items << " items; " << totals.overflows << " overflows, "
                                    << totals.steals << " steals, " << totals.inside_wakes
                                    << " wakes from inside");
    BOOST_TEST(totals.overflows > 0u,
               "capacity 2 never overflowed: the overflow path was not exercised");
    BOOST_TEST(totals.inside_wakes > 0u);
}
