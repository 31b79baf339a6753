// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 9. spawn_batch (zuki only): 10,000 tasks as one Batch vs 10,000 single outside submissions.
//    ns per task, from the first push/spawn to the last task's end.

#include <utility>
#include <vector>

#include "harness/sync.hpp"
#include "workloads/spawn_many_remote.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

double zuki_batch(zuki::WorkStealingExecutor& pool) {
    S.done.reset(batch_size);
    const auto t0 = now_ns();
    zuki::Batch batch(pool);
    for (int i = 0; i < batch_size; ++i) batch.push_detached(closure([] { arrive(); }));
    pool.spawn_batch(std::move(batch));
    return per_op(t0, S.done.wait("spawn_batch"), batch_size);
}

}  // namespace

void add_spawn_batch(Suite& s) {
    const std::vector<Backend> zuki_only = {Backend::zuki};
    s.add("spawn_batch_10k",
          {make_row("spawn_batch_10k(batch)", "ns/task", Dir::lower, TargetKind::vs_single,
                    1.0 / 3.0, "<= 0.33 vs single", zuki_only),
           make_row("spawn_batch_10k(single)", "ns/task", Dir::lower, TargetKind::none, 0, "",
                    zuki_only)},
          s.reps_short, zuki_only, [p = &s.pools](Backend) {
              double batch = zuki_batch(*p->zuki);
              settle();
              double single_ = spawn_many_remote(ZukiImpl{*p->zuki});
              return std::vector<double>{batch, single_};
          });
}

}  // namespace zuki_bench
