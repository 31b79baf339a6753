// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// nqueens10: count the solutions of 10-queens (724) by backtracking, a task per placement: a
// task holds a partial board (the columns and both diagonals taken, as bit masks) and spawns a
// task for every safe square of the next row, then returns the sum of their counts. No
// sequential cutoff: every placement on every row is a task, the same on every backend (35,538
// tasks, most of them dead ends that do a few bit operations), so this measures spawn and join
// under irregular fan-out (0 to 10 children). Milliseconds for the whole search, from the root's
// start to its end.
//
// After its runs, the workload counts the solutions sequentially on this thread, without a pool:
// the reference printed under the table with each backend's speed-up over it.

#include <array>
#include <atomic>

#include "harness/options.hpp"
#include "harness/sync.hpp"
#include "workloads/count_join.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

constexpr int queens_n = 10;
constexpr long queens_solutions = 724;
constexpr unsigned queens_all = (1u << queens_n) - 1;  // the columns of a row

// The safe squares of the next row, given the columns and diagonals taken (bits beyond the board
// that the diagonals shift out are masked off here).
constexpr unsigned queens_free(unsigned cols, unsigned left, unsigned right) {
    return queens_all & ~(cols | left | right);
}

[[gnu::noinline]] long queens_seq(int row, unsigned cols, unsigned left, unsigned right) {
    if (row == queens_n) return 1;
    long n = 0;
    for (unsigned f = queens_free(cols, left, right); f != 0; f &= f - 1) {
        const unsigned bit = f & (0u - f);
        n += queens_seq(row + 1, cols | bit, (left | bit) << 1, (right | bit) >> 1);
    }
    return n;
}
volatile long queens_sink = 0;  // keeps the sequential reference run from being optimised away

double check_queens(double ms) {
    if (S.result.load() != queens_solutions) die("nqueens10: wrong solution count");
    return ms;
}

// Zuki, the way a user writes it: spawn a task per safe square, then co_await their handles.
zuki::Async<long> zuki_queens(zuki::WorkStealingExecutor& pool, int row, unsigned cols,
                              unsigned left, unsigned right) {
    if (row == queens_n) co_return 1;
    std::array<zuki::JoinHandle<long>, queens_n> kids;
    int k = 0;
    for (unsigned f = queens_free(cols, left, right); f != 0; f &= f - 1) {
        const unsigned bit = f & (0u - f);
        kids[k++] = pool.spawn(
            zuki_queens(pool, row + 1, cols | bit, (left | bit) << 1, (right | bit) >> 1));
    }
    long n = 0;
    for (int i = 0; i < k; ++i) n += co_await kids[i];
    co_return n;
}
zuki::Async<void> zuki_queens_root(zuki::WorkStealingExecutor& pool) {
    S.t0.store(now_ns(), std::memory_order_relaxed);
    S.result.store(co_await zuki_queens(pool, 0, 0, 0, 0));
    S.done.fire();
}
double nqueens(ZukiImpl z) {
    S.done.reset(1);
    z.pool.spawn_detached(zuki_queens_root(z.pool));
    const auto t1 = S.done.wait("nqueens10");
    return check_queens(double(t1 - S.t0.load()) / 1e6);
}

// Asio has no join: continuation passing, as in fib25. A board with safe squares allocates a
// join record (the solutions so far and an atomic countdown) and posts a handler per square; the
// last to report forwards the sum to the parent's record. A full board reports 1, a dead end 0.
template <class Ex>
void asio_queens(Ex ex, int row, unsigned cols, unsigned left, unsigned right, CountJoin* parent) {
    if (row == queens_n) return count_join_report(parent, 1);
    const unsigned free = queens_free(cols, left, right);
    if (free == 0) return count_join_report(parent, 0);
    auto* j = new CountJoin{parent, {0}, {__builtin_popcount(free)}};
    for (unsigned f = free; f != 0; f &= f - 1) {
        const unsigned bit = f & (0u - f);
        boost::asio::post(ex, [ex, j, row, c = cols | bit, l = (left | bit) << 1,
                               r = (right | bit) >> 1] { asio_queens(ex, row + 1, c, l, r, j); });
    }
}
template <class Ex>
double nqueens(AsioImpl<Ex> a) {
    S.done.reset(1);
    boost::asio::post(a.ex, [ex = a.ex] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        asio_queens(ex, 0, 0, 0, 0, nullptr);
    });
    const auto t1 = S.done.wait("nqueens10");
    return check_queens(double(t1 - S.t0.load()) / 1e6);
}

// oneTBB: a task_group per board, a run() per safe square, wait().
long tbb_queens(int row, unsigned cols, unsigned left, unsigned right) {
    if (row == queens_n) return 1;
    std::array<long, queens_n> counts{};
    int k = 0;
    tbb::task_group tg;
    for (unsigned f = queens_free(cols, left, right); f != 0; f &= f - 1) {
        const unsigned bit = f & (0u - f);
        tg.run([&counts, i = k++, row, c = cols | bit, l = (left | bit) << 1,
                r = (right | bit) >> 1] { counts[std::size_t(i)] = tbb_queens(row + 1, c, l, r); });
    }
    tg.wait();
    long n = 0;
    for (long x : counts) n += x;
    return n;
}
double nqueens(TbbImpl t) {
    S.done.reset(1);
    t.arena.enqueue([] {
        S.t0.store(now_ns(), std::memory_order_relaxed);
        S.result.store(tbb_queens(0, 0, 0, 0));
        S.done.fire();
    });
    const auto t1 = S.done.wait("nqueens10");
    return check_queens(double(t1 - S.t0.load()) / 1e6);
}

// The search on this thread, no pool, as many times as the workload's measured runs.
void time_queens_sequential(std::size_t ref, int reps) {
    Figure& f = sequential_refs[ref].time;
    for (int r = 0; r < (opt.reps_override > 0 ? opt.reps_override : reps); ++r) {
        const auto t0 = now_ns();
        queens_sink = queens_seq(0, 0, 0, 0);
        f.runs.push_back(double(now_ns() - t0) / 1e6);
        if (queens_sink != queens_solutions) die("nqueens10: wrong sequential solution count");
    }
    summarise(f);
}

}  // namespace

void add_nqueens(Suite& s) {
    Workload& w =
        s.add("nqueens10",
              {make_row("nqueens10", "ms", Dir::lower, TargetKind::vs_tbb, 1.0, "<= 1.0 vs tbb",
                        every_backend())},
              s.reps_short, every_backend(), s.single([](auto impl) { return nqueens(impl); }));
    const std::size_t ref = add_sequential_ref("nqueens10", w.rows[0]);
    w.after = [ref, reps = s.reps_short] { time_queens_sequential(ref, reps); };
}

}  // namespace zuki_bench
