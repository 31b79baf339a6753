// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// The pools bench_zuki compares, and the three ways of driving them.
//
// - zuki: a `zuki::WorkStealingExecutor`, driven by Zuki tasks (`spawn`, `JoinHandle`, `Async`).
// - zuki_asio: another one, driven by Asio handlers (`boost::asio::post` on `get_executor()`).
// - asio_tp: `boost::asio::thread_pool`.
// - io_context: one `boost::asio::io_context` run by N threads.
// - tbb: oneTBB (`task_arena` + `task_group`).
//
// One pool per backend, all created up front and kept alive (idle pools sleep); a workload is
// written once per way of driving (`ZukiImpl`, `AsioImpl<Ex>`, `TbbImpl`) and `with_backend`
// picks the one for a backend.

#include <zuki/asio/executor.hpp>
#include <zuki/zuki.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <cstddef>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "harness/backend.hpp"
#include "harness/options.hpp"

namespace zuki_bench {

class IoContextPool {
public:
    explicit IoContextPool(std::size_t n)
        : ioc_(static_cast<int>(n)), guard_(boost::asio::make_work_guard(ioc_)) {
        for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this] { ioc_.run(); });
    }
    ~IoContextPool() {
        guard_.reset();
        ioc_.stop();
        for (auto& t : threads_) t.join();
    }
    boost::asio::io_context::executor_type get_executor() noexcept { return ioc_.get_executor(); }

private:
    boost::asio::io_context ioc_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::vector<std::thread> threads_;
};

// oneTBB with N worker threads: the market has N workers (global_control N+1: TBB counts the
// external thread), the arena has N slots, none reserved for external threads, so work enqueued
// from outside runs on N workers, like the other pools.
class TbbPool {
public:
    explicit TbbPool(std::size_t n)
        : gc_(tbb::global_control::max_allowed_parallelism, n + 1), arena_(static_cast<int>(n), 0) {
        arena_.initialize();
    }
    tbb::task_arena& arena() noexcept { return arena_; }

private:
    tbb::global_control gc_;
    tbb::task_arena arena_;
};

struct Pools {
    std::size_t n = 1;
    std::unique_ptr<zuki::WorkStealingExecutor> zuki;
    std::unique_ptr<zuki::WorkStealingExecutor> zuki_asio;
    std::unique_ptr<boost::asio::thread_pool> asio_tp;
    std::unique_ptr<IoContextPool> io_context;
    std::unique_ptr<TbbPool> tbb;

    void create(Backend b) {
        switch (b) {
            case Backend::zuki:
                zuki = std::make_unique<zuki::WorkStealingExecutor>(n);
                break;
            case Backend::zuki_asio:
                zuki_asio = std::make_unique<zuki::WorkStealingExecutor>(n);
                break;
            case Backend::asio_tp:
                asio_tp = std::make_unique<boost::asio::thread_pool>(n);
                break;
            case Backend::io_context:
                io_context = std::make_unique<IoContextPool>(n);
                break;
            case Backend::tbb:
                tbb = std::make_unique<TbbPool>(n);
                break;
        }
    }
    void destroy(Backend b) {
        switch (b) {
            case Backend::zuki:
                zuki.reset();
                break;
            case Backend::zuki_asio:
                zuki_asio.reset();
                break;
            case Backend::asio_tp:
                asio_tp.reset();
                break;
            case Backend::io_context:
                io_context.reset();
                break;
            case Backend::tbb:
                tbb.reset();
                break;
        }
    }
};

// The three ways of driving a pool: Zuki tasks, Asio handlers on some executor, oneTBB.
struct ZukiImpl {
    zuki::WorkStealingExecutor& pool;
};
template <class Ex>
struct AsioImpl {
    Ex ex;
};
struct TbbImpl {
    tbb::task_arena& arena;
};

template <class Fn>
auto with_backend(Backend b, Pools& p, Fn&& fn) {
    switch (b) {
        case Backend::zuki:
            return fn(ZukiImpl{*p.zuki});
        case Backend::zuki_asio:
            return fn(AsioImpl<decltype(p.zuki_asio->get_executor())>{p.zuki_asio->get_executor()});
        case Backend::asio_tp:
            return fn(AsioImpl<boost::asio::thread_pool::executor_type>{p.asio_tp->get_executor()});
        case Backend::io_context:
            return fn(
                AsioImpl<boost::asio::io_context::executor_type>{p.io_context->get_executor()});
        case Backend::tbb:
            return fn(TbbImpl{p.tbb->arena()});
    }
    die("backend not available");
}

// A Zuki task that runs a closure once: the "spawn a closure" idiom with the public API.
template <class F>
auto closure(F f) {
    return zuki::map(zuki::ready(), std::move(f));
}

template <class F>
void zspawn(zuki::WorkStealingExecutor& pool, F f) {
    pool.spawn_detached(closure(std::move(f)));
}

}  // namespace zuki_bench
