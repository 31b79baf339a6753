// The same program on both executors: only the executor's type changes.
//
// A recursive fork-join (a parallel tree sum) written as `zuki::Async` coroutines that spawn
// children and `co_await` their JoinHandles, plus a cooperative `yield_now()` loop. It runs on
// `SingleThreadedExecutor` and on `WorkStealingExecutor` with identical code and must give the
// same answers.

#include <zuki/zuki.hpp>

#include <cstdio>

template <class Executor>
zuki::Async<long> tree_sum(Executor& ex, int depth) {
    if (depth == 0) co_return 1;
    zuki::JoinHandle<long> left = ex.spawn(tree_sum(ex, depth - 1));  // runs concurrently
    const long right = co_await tree_sum(ex, depth - 1);  // runs inline
    co_return 1 + right + co_await left;
}

zuki::Async<int> polite_counter(int n) {
    int i = 0;
    for (; i < n; ++i) co_await zuki::yield_now();  // let the other tasks run
    co_return i;
}

template <class Executor>
bool run_on(Executor& ex, const char* name) {
    const long nodes = ex.block_on(tree_sum(ex, 12));  // 2^13 - 1 nodes
    const int yields = ex.block_on(polite_counter(1000));
    std::printf("%-24s tree nodes = %ld, yields = %d\n", name, nodes, yields);
    return nodes == (1L << 13) - 1 && yields == 1000;
}

int main() {
    bool ok = true;
    {
        zuki::SingleThreadedExecutor ex;
        ok &= run_on(ex, "SingleThreadedExecutor:");
    }
    {
        zuki::WorkStealingExecutor ex;  // one worker per logical core
        ok &= run_on(ex, "WorkStealingExecutor:");
    }
    std::puts(ok ? "same results on both executors" : "MISMATCH");
    return ok ? 0 : 1;
}
