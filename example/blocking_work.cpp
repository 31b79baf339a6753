// Blocking work beside a busy pool: spawn_blocking runs file reads and a slow "client library"
// call on the pool's elastic blocking threads, while the workers keep running ordinary tasks;
// and attach() lends the main thread to the pool until the work is done.
//
//   example_blocking_work      # self-check: prints what ran where, exits 0

#include <zuki/zuki.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A blocking call, as from a client library without an async API.
std::string slow_lookup(int key) {
    std::this_thread::sleep_for(50ms);
    return "value-" + std::to_string(key);
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A task that reads a file and looks something up, each off the workers.
// (The JoinHandles are named: g++ 12 destroys a temporary with a non-trivial destructor, like
// a lambda capturing a path, twice when it is part of a co_await expression.)
zuki::Async<std::size_t> handle_request(fs::path file, int key) {
    zuki::JoinHandle<std::string> read = zuki::spawn_blocking([file] { return read_file(file); });
    std::string text = co_await std::move(read);
    zuki::JoinHandle<std::string> lookup = zuki::spawn_blocking([key] { return slow_lookup(key); });
    std::string value = co_await std::move(lookup);
    co_return text.size() + value.size();
}

}  // namespace

int main() {
    const fs::path dir =
        fs::temp_directory_path() / ("zuki_blocking_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::vector<fs::path> files;
    for (int i = 0; i < 8; ++i) {
        files.push_back(dir / ("f" + std::to_string(i)));
        std::ofstream(files.back()) << std::string(1000 + i, 'x');
    }

    zuki::WorkStealingConfig cfg;
    cfg.threads = 2;
    cfg.blocking_keep_alive = 200ms;
    zuki::WorkStealingExecutor pool(cfg);

    // 8 requests, each blocking twice (50 ms in the lookup) ...
    std::vector<zuki::JoinHandle<std::size_t>> requests;
    for (int i = 0; i < 8; ++i) requests.push_back(pool.spawn(handle_request(files[i], i)));
    // ... while the two workers stay free for ordinary tasks: 100,000 of them meanwhile.
    std::atomic<int> ordinary{0};
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 100'000; ++i) pool.spawn_detached([&] { ordinary.fetch_add(1); });

    // The main thread works for the pool too until join() ran the work out (as with
    // asio::thread_pool::attach()): a second thread calls join().
    std::thread joiner([&] {
        std::size_t total = 0;
        for (auto& r : requests) total += r.get();
        std::printf("8 requests: %zu bytes read and looked up\n", total);
        std::printf("%s",
                    [&] {
                        const zuki::Metrics m = pool.metrics();
                        char line[160];
                        std::snprintf(
                            line, sizeof line,
                            "blocking threads now: %zu (%zu idle); main attached: %zu place\n",
                            m.blocking_threads, m.blocking_idle, m.attached_threads);
                        return std::string(line);
                    }()
                        .c_str());
        pool.join();
    });
    pool.attach();  // returns once join() stopped the pool
    joiner.join();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("100000 ordinary tasks ran alongside, all done after %.1f ms\n", ms);

    fs::remove_all(dir);
    if (ordinary.load() != 100'000) {
        std::printf("FAILED: %d ordinary tasks ran\n", ordinary.load());
        return 1;
    }
    std::printf("ok\n");
    return 0;
}
