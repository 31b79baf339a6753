// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// 8. remote_post_throughput: P outside producers post 200,000 empty handlers each (each handler
//    decrements the completion counter, for every backend alike). Million handlers per second.
//    Workloads remote_post_1p, remote_post_2p and remote_post_4p.

#include <string>
#include <thread>
#include <vector>

#include "harness/sync.hpp"
#include "workloads/workload.hpp"

namespace zuki_bench {
namespace {

template <class PostOne>
double remote_post(int producers, PostOne post_one) {
    const long total = long(producers) * posts_per_producer;
    S.done.reset(total);
    Gate gate;
    std::vector<std::thread> ts;
    for (int p = 0; p < producers; ++p)
        ts.emplace_back([&] {
            gate.wait();
            for (int i = 0; i < posts_per_producer; ++i) post_one();
        });
    const auto t0 = now_ns();
    gate.open();
    const auto t1 = S.done.wait("remote_post");
    for (auto& t : ts) t.join();
    return double(total) / (double(t1 - t0) / 1e9) / 1e6;
}
double remote_post(ZukiImpl z, int producers) {
    return remote_post(producers, [&] { zspawn(z.pool, [] { arrive(); }); });
}
template <class Ex>
double remote_post(AsioImpl<Ex> a, int producers) {
    return remote_post(producers, [&] { boost::asio::post(a.ex, [] { arrive(); }); });
}
double remote_post(TbbImpl t, int producers) {
    return remote_post(producers, [&] { t.arena.enqueue([] { arrive(); }); });
}

}  // namespace

void add_remote_post(Suite& s) {
    for (int p : {1, 2, 4}) {
        const std::string name = "remote_post_" + std::to_string(p) + "p";
        s.add(name,
              {make_row(name, "Mhandlers/s", Dir::higher,
                        p == 4 ? TargetKind::vs_best : TargetKind::none, 0.4,
                        p == 4 ? "<= 0.4 (2.5x)" : "", every_backend())},
              s.reps_heavy, every_backend(),
              s.single([p](auto impl) { return remote_post(impl, p); }));
    }
}

}  // namespace zuki_bench
