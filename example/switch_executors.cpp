// The same program on both executors: only the executor's type changes.
//
// A recursive fork-join (a parallel tree sum) written as `zuki::Async` coroutines that spawn
// children with `zuki::spawn` (on whichever executor runs them: no executor parameter) and
// `co_await` their JoinHandles; a fan-out gathered with a `zuki::JoinSet` in completion order;
// and a cooperative `yield_now()` loop. `run_on` takes a `zuki::Handle`, so it is not a
// template over the executor type. It runs on `SingleThreadedExecutor` and on
// `WorkStealingExecutor` and must give the same answers.

#include <zuki/zuki.hpp>

#include <cstdio>
#include <optional>

zuki::Async<long> tree_sum(int depth) {
    if (depth == 0) co_return 1;
    zuki::JoinHandle<long> left = zuki::spawn(tree_sum(depth - 1));  // runs concurrently
    const long right = co_await tree_sum(depth - 1);  // runs inline
    co_return 1 + right + co_await left;
}

zuki::Async<long> squares(int n) {
    zuki::JoinSet<long> set;
    for (long i = 1; i <= n; ++i) set.spawn([i] { return i * i; });  // plain invocables
    long sum = 0;
    while (std::optional<long> r = co_await set.next()) sum += *r;  // as they complete
    co_return sum;
}

zuki::Async<int> polite_counter(int n) {
    int i = 0;
    for (; i < n; ++i) co_await zuki::yield_now();  // let the other tasks run
    co_return i;
}

bool run_on(zuki::Handle ex, const char* name) {
    const long nodes = ex.block_on(tree_sum(12));  // 2^13 - 1 nodes
    const long sq = ex.block_on(squares(100));
    const int yields = ex.block_on(polite_counter(1000));
    std::printf("%-24s tree nodes = %ld, squares = %ld, yields = %d\n", name, nodes, sq, yields);
    return nodes == (1L << 13) - 1 && sq == 338350 && yields == 1000;
}

int main() {
    bool ok = true;
    {
        zuki::SingleThreadedExecutor ex;
        ok &= run_on(ex.handle(), "SingleThreadedExecutor:");
    }
    {
        zuki::WorkStealingExecutor ex;  // one worker per logical core
        ok &= run_on(ex.handle(), "WorkStealingExecutor:");
    }
    std::puts(ok ? "same results on both executors" : "MISMATCH");
    return ok ? 0 : 1;
}
