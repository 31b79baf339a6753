// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// pool_lifecycle: what a short-lived pool costs (a unit test that makes a pool per case, a
// tool that makes one per job, a library with a private pool). Two figures, each the mean over
// 200 cycles, in microseconds:
//   - pool_create_post_join: construct a pool, post one handler, join (wait), destroy;
//   - pool_create_destroy: construct and destroy, nothing else.
// Pools: zuki (WorkStealingExecutor), zuki_asio (the same pool through asio::post),
// thread_pool, and io_context run by N threads (with a work guard, as a pool of them is used).

#include <atomic>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "harness/clock.hpp"
#include "harness/options.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

constexpr int cycles = 200;

// io_context run by n threads, as an Asio user makes one: threads started at construction,
// joined at destruction.
class IoContextThreads {
public:
    explicit IoContextThreads(std::size_t n)
        : ioc_(static_cast<int>(n)), guard_(boost::asio::make_work_guard(ioc_)) {
        threads_.reserve(n);
        for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this] { ioc_.run(); });
    }
    ~IoContextThreads() {
        guard_.reset();
        for (auto& t : threads_) t.join();
    }
    boost::asio::io_context& context() noexcept { return ioc_; }
    void join() {
        guard_.reset();
        for (auto& t : threads_) t.join();
        threads_.clear();
    }

private:
    boost::asio::io_context ioc_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::vector<std::thread> threads_;
};

template <class Make>
std::vector<double> lifecycle(Make make) {
    std::atomic<int> ran{0};
    auto t0 = now_ns();
    for (int i = 0; i < cycles; ++i) {
        auto pool = make();
        boost::asio::post(pool->context(), [&] { ran.fetch_add(1, std::memory_order_relaxed); });
        pool->join();
    }
    auto t1 = now_ns();
    for (int i = 0; i < cycles; ++i) {
        auto pool = make();
        (void)pool;
    }
    auto t2 = now_ns();
    if (ran.load() != cycles) die("pool_lifecycle: a posted handler did not run");
    return {double(t1 - t0) / 1e3 / cycles, double(t2 - t1) / 1e3 / cycles};
}

// Adapters with context() and join(), so one loop serves every pool.
struct ZukiPool {
    explicit ZukiPool(std::size_t n) : pool(n) {}
    zuki::WorkStealingExecutor& context() noexcept { return pool; }
    void join() { pool.join(); }
    zuki::WorkStealingExecutor pool;
};
struct AsioPool {
    explicit AsioPool(std::size_t n) : pool(n) {}
    boost::asio::thread_pool& context() noexcept { return pool; }
    void join() { pool.join(); }
    boost::asio::thread_pool pool;
};

std::vector<double> run(Backend b, std::size_t n) {
    switch (b) {
        case Backend::zuki:
        case Backend::zuki_asio:
            return lifecycle([n] { return std::make_unique<ZukiPool>(n); });
        case Backend::asio_tp:
            return lifecycle([n] { return std::make_unique<AsioPool>(n); });
        case Backend::io_context:
            return lifecycle([n] { return std::make_unique<IoContextThreads>(n); });
        case Backend::tbb:
            break;
    }
    return {NAN, NAN};
}

}  // namespace

void add_pool_lifecycle(Suite& s) {
    const std::vector<Backend> bs{Backend::zuki, Backend::asio_tp, Backend::io_context};
    s.add(
        "pool_lifecycle",
        {make_row("pool_create_post_join", "us", Dir::lower, TargetKind::vs_best, 1.0, "<= 1.0",
                  bs),
         make_row("pool_create_destroy", "us", Dir::lower, TargetKind::vs_best, 1.0, "<= 1.0", bs)},
        s.reps_short, bs, [n = s.workers](Backend b) { return run(b, n); });
}

}  // namespace zuki_bench
