// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 2. spawn_many_remote_idle: the measurement is in spawn_many_remote.hpp (shared).

#include "workloads/spawn_many_remote.hpp"

namespace zuki_bench {

void add_spawn_many_remote_idle(Suite& s) {
    s.add("spawn_many_remote_idle",
          {make_row("spawn_many_remote_idle", "ns/task", Dir::lower, TargetKind::vs_best, 0.5,
                    "<= 0.5", every_backend())},
          s.reps_short, every_backend(),
          s.single([](auto impl) { return spawn_many_remote(impl); }));
}

}  // namespace zuki_bench
