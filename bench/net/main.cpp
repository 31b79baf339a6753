// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// bench_net: Asio networking servers on Zuki's WorkStealingExecutor against the Asio contexts a
// user would otherwise pick, in the same run on the same machine.
//
//   bench_net [--quick] [--rounds N] [--duration S] [--out DIR] [--only W1,W2] [--no-wrk]
//             [--timeout S]
//
// Server backends, 2 threads each (net/backends.hpp): zuki (WorkStealingExecutor(2), whose
// workers drive Asio's reactor), io_context (one io_context run by 2 threads),
// io_context_per_thread (2 io_contexts of one thread each, accepted sockets round-robin, as in
// Asio's HTTP server 2 example), thread_pool (asio::thread_pool(2)). One server source for all,
// templated on the executor (net/servers.hpp).
//
// Workloads:
//   echo64            callback-style TCP echo server; 64 connections in a closed loop, each
//                     sending 64 bytes and waiting for their echo (every byte checked)
//   http64            minimal HTTP/1.1 keep-alive server (async_read_until "\r\n\r\n", a fixed
//                     200 reply with Content-Length); load: `wrk -t1 -c64 -dDs --latency` if wrk
//                     is on PATH, else a built-in closed-loop client with 64 connections
//   timers10k         10,000 steady_timers at once inside the server process, each re-armed for
//                     a pseudo-random 0-2 ms after every wait (20 waits each, --quick; 50):
//                     waits per second and CPU per wait (a server's timeouts and ticks)
//   latency_pingpong  1 connection, 64-byte round trips: µs per round trip
//   latency_timer0    zero-length steady_timer waits in a row, inside the server process
//   The latency workloads compare zuki(1) and zuki(2) with io_context(1).
//
// Method:
// - The server runs in a child process: this program, forked and exec'd in its hidden `--serve`
//   mode (net/serve.hpp), a fresh one for every run. The load runs here, on one io_context run
//   by one thread (or in wrk). So the server's CPU time is its process's own: getrusage in the
//   child, read through a pipe ("mark") at the start and the end of the measured window.
// - Each run: connect, warm up 0.3 s, measure a window of D s (3, --quick 2; latency_pingpong
//   1 s, --quick 0.5 s). Requests/s = requests in the window / its length; server CPU per request
//   = the child's CPU delta over the window / those requests.
// - ROUNDS rounds (--rounds, default 5); round r runs every backend once, the order rotated by r,
//   so a burst of machine noise hits all backends alike. Each cell: median (min-max) of the
//   rounds. Ratios: zuki's median / the other backend's median, as is: for req/s above 1 means
//   zuki serves more, for CPU/request and latency below 1 means zuki costs less.
// - Any error (a connection error, an echoed byte that differs, a bad HTTP reply, a server that
//   fails or does not exit cleanly) ends the program with a non-zero status; a watchdog turns a
//   hang into such a failure.
//
// Outputs: two tables on stdout, and net_results.csv in --out DIR (every figure and ratio).
//
// Where things are: net/options.* (the command line), net/server_process.* (the child, parent
// side), net/serve.* (the child side), net/servers.hpp (the servers), net/load.* (the clients
// and wrk), and this driver. Reused from the bench_zuki harness: the watchdog, the statistics
// and the number format.

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness/clock.hpp"
#include "harness/options.hpp"
#include "harness/stats.hpp"
#include "harness/table.hpp"  // fmt()
#include "harness/watchdog.hpp"
#include "net/backends.hpp"
#include "net/load.hpp"
#include "net/options.hpp"
#include "net/serve.hpp"
#include "net/server_process.hpp"

namespace zuki_bench::net {
namespace {

constexpr int connections = 64;
constexpr std::size_t message_size = 64;
constexpr double warmup_s = 0.3;

// A column of a table: one server configuration.
struct Column {
    std::string label;
    ServerSpec spec;
};

// One line of a table: a figure of one workload, one Figure per column.
struct Line {
    std::string name;
    std::string unit;
    std::vector<Figure> cells;
};

// Workloads that share the columns of one table, and the ratios it shows (column a / column b).
struct Section {
    std::string title;
    std::vector<Column> columns;
    std::vector<std::pair<std::size_t, std::size_t>> ratios;
    std::vector<Line> lines;
};

struct Workload {
    std::string name;
    Section* section;
    std::vector<std::pair<std::string, std::string>> figures;  // line name, unit
    std::function<std::vector<double>(const ServerSpec&)> run;  // one value per figure
    std::string load;  // how the load is generated (for the CSV)
};

std::string machine_line() {
    std::string model = "unknown CPU";
    std::ifstream cpu("/proc/cpuinfo");
    for (std::string line; std::getline(cpu, line);)
        if (line.rfind("model name", 0) == 0) {
            model = line.substr(line.find(':') + 2);
            break;
        }
    char date[64];
    const std::time_t t = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M", std::localtime(&t));
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s, %u logical CPUs, %s, load %.2f", model.c_str(),
                  std::thread::hardware_concurrency(), date, load[0]);
    return buf;
}

// ---- the runs ------------------------------------------------------------------------------

std::vector<double> run_echo64(const ServerSpec& spec, double window_s) {
    ServerProcess server(spec, "echo");
    const LoadResult r = echo_load(server, connections, message_size, warmup_s, window_s);
    server.finish();
    return {r.per_second(), r.cpu_us_per_request()};
}

std::vector<double> run_http64(const ServerSpec& spec, int window_s,
                               const std::optional<std::string>& wrk) {
    ServerProcess server(spec, "http");
    const LoadResult r = wrk ? wrk_load(*wrk, server, connections, window_s, warmup_s)
                             : http_load(server, connections, warmup_s, window_s);
    server.finish();
    return {r.per_second(), r.cpu_us_per_request()};
}

std::vector<double> run_pingpong(const ServerSpec& spec, double window_s) {
    ServerProcess server(spec, "echo");
    const LoadResult r = echo_load(server, 1, message_size, warmup_s, window_s);
    server.finish();
    return {1e6 * r.seconds / double(r.requests), r.cpu_us_per_request()};
}

std::vector<double> run_timer0(const ServerSpec& spec, long waits) {
    ServerProcess server(spec, "timer");
    server.command("timer " + std::to_string(std::max(1L, waits / 10)));  // warm-up
    const std::int64_t cpu0 = server.mark();
    const std::string took = server.command("timer " + std::to_string(waits));
    const std::int64_t cpu1 = server.mark();
    server.finish();
    const double ns = std::strtod(took.c_str(), nullptr);
    if (!(ns > 0)) die("timer: bad reply '" + took + "'");
    return {ns / 1e3 / double(waits), double(cpu1 - cpu0) / double(waits)};
}

// `timers` timers at once, `waits` each (0-2 ms apiece, net/servers.hpp TimerStorm), after a
// warm-up a tenth as long: waits per second and the server's CPU per wait.
std::vector<double> run_timer_storm(const ServerSpec& spec, long timers, long waits) {
    ServerProcess server(spec, "timer");
    server.command("storm " + std::to_string(timers) + " " +
                   std::to_string(std::max(1L, waits / 10)));
    const std::int64_t cpu0 = server.mark();
    const std::string took =
        server.command("storm " + std::to_string(timers) + " " + std::to_string(waits));
    const std::int64_t cpu1 = server.mark();
    server.finish();
    const double ns = std::strtod(took.c_str(), nullptr);
    if (!(ns > 0)) die("storm: bad reply '" + took + "'");
    const double total = double(timers) * double(waits);
    return {total / (ns / 1e9), double(cpu1 - cpu0) / total};
}

void run_workload(Workload& w, int rounds, double run_timeout) {
    std::printf("  %-18s", w.name.c_str());
    std::fflush(stdout);
    const auto start = now_ns();
    Section& s = *w.section;
    std::vector<std::size_t> lines;
    for (const auto& [name, unit] : w.figures) {
        s.lines.push_back(Line{name, unit, std::vector<Figure>(s.columns.size())});
        lines.push_back(s.lines.size() - 1);
    }
    const std::size_t n = s.columns.size();
    for (int r = 0; r < rounds; ++r)
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t c = (k + std::size_t(r)) % n;
            watchdog->arm(w.name + " on " + s.columns[c].label + ", round " + std::to_string(r + 1),
                          run_timeout);
            const std::vector<double> v = w.run(s.columns[c].spec);
            watchdog->disarm();
            for (std::size_t i = 0; i < lines.size() && i < v.size(); ++i)
                s.lines[lines[i]].cells[c].runs.push_back(v[i]);
        }
    for (std::size_t i : lines)
        for (auto& f : s.lines[i].cells) summarise(f);
    std::printf(" %6.1f s\n", double(now_ns() - start) / 1e9);
}

// ---- outputs ---------------------------------------------------------------------------------

double ratio(const Line& l, std::pair<std::size_t, std::size_t> r) {
    const double a = l.cells[r.first].median, b = l.cells[r.second].median;
    return b > 0 ? a / b : NAN;
}

std::string ratio_text(double v) {
    if (std::isnan(v) || std::isinf(v)) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", v);
    return b;
}

void print_section(const Section& s) {
    std::vector<std::string> head = {"workload", "unit"};
    for (const auto& c : s.columns) head.push_back(c.label);
    for (auto [a, b] : s.ratios) head.push_back(s.columns[a].label + "/" + s.columns[b].label);
    std::vector<std::vector<std::string>> rows;
    for (const Line& l : s.lines) {
        std::vector<std::string> row = {l.name, l.unit};
        for (const Figure& f : l.cells)
            row.push_back(std::isnan(f.median)
                              ? ""
                              : fmt(f.median) + " (" + fmt(f.min) + "-" + fmt(f.max) + ")");
        for (auto r : s.ratios) row.push_back(ratio_text(ratio(l, r)));
        rows.push_back(std::move(row));
    }
    std::vector<std::size_t> w(head.size());
    for (std::size_t i = 0; i < head.size(); ++i) w[i] = head[i].size();
    for (auto& r : rows)
        for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
    auto print_row = [&](const std::vector<std::string>& r) {
        std::fputs("|", stdout);
        for (std::size_t i = 0; i < r.size(); ++i)
            std::printf(i < 2 ? " %-*s |" : " %*s |", int(w[i]), r[i].c_str());
        std::fputs("\n", stdout);
    };
    std::printf("\n%s\n\n", s.title.c_str());
    print_row(head);
    std::fputs("|", stdout);
    for (std::size_t i = 0; i < head.size(); ++i)
        std::printf("%s%s|", std::string(w[i] + 1, '-').c_str(), i < 2 ? "-" : ":");
    std::fputs("\n", stdout);
    for (auto& r : rows) print_row(r);
}

std::string csv_num(double v) {
    if (std::isnan(v) || std::isinf(v)) return "";
    char b[40];
    std::snprintf(b, sizeof b, "%.6g", v);
    return b;
}

// A text field: quoted when it holds a comma or a quote.
std::string csv_text(const std::string& s) {
    if (s.find_first_of(",\"") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

void write_csv(const std::vector<Section*>& sections, const std::vector<Workload>& workloads) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(opt.out_dir, ec);
    const fs::path path = fs::path(opt.out_dir) / "net_results.csv";
    std::ofstream o(path);
    if (!o) die("cannot write " + path.string());
    o << "line,unit,column,backend,threads,median,min,max,runs,load\n";
    auto load_of = [&](const Line& l) -> std::string {
        for (const auto& w : workloads)
            if (l.name.rfind(w.name, 0) == 0) return w.load;
        return "";
    };
    for (const Section* s : sections)
        for (const Line& l : s->lines) {
            for (std::size_t c = 0; c < s->columns.size(); ++c) {
                const Figure& f = l.cells[c];
                if (f.runs.empty()) continue;
                o << csv_text(l.name) << ',' << csv_text(l.unit) << ','
                  << csv_text(s->columns[c].label) << ',' << name_of(s->columns[c].spec.backend)
                  << ',' << s->columns[c].spec.threads << ',' << csv_num(f.median) << ','
                  << csv_num(f.min) << ',' << csv_num(f.max) << ',' << f.runs.size() << ','
                  << csv_text(load_of(l)) << '\n';
            }
            for (auto r : s->ratios)
                o << csv_text(l.name) << ",ratio,"
                  << csv_text(s->columns[r.first].label + '/' + s->columns[r.second].label) << ",,,"
                  << csv_num(ratio(l, r)) << ",,,," << csv_text(load_of(l)) << '\n';
        }
    if (!o.flush()) die("cannot write " + path.string());
    std::printf("\nwrote %s\n", path.c_str());
}

int run(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "--serve") == 0) return serve_main(argc, argv);
    if (!parse_options(argc, argv)) return 0;
    signal(SIGPIPE, SIG_IGN);  // a dead child's pipe is an error reported by die(), not a signal

    const bool q = opt.quick;
    const int window_s = opt.duration_s > 0 ? opt.duration_s : (q ? 2 : 3);
    const double pingpong_s = q ? 0.5 : 1.0;
    const long timer_waits = q ? 5'000 : 20'000;
    const long storm_timers = 10'000;
    const long storm_waits = q ? 20 : 50;
    const double run_timeout = 60.0 + 2.0 * window_s;
    const std::optional<std::string> wrk = opt.use_wrk ? find_wrk() : std::nullopt;

    Section throughput{"Throughput: 2 server threads per backend, 64 connections",
                       {{"zuki", {NetBackend::zuki, 2}},
                        {"io_context", {NetBackend::io_context, 2}},
                        {"io_context_per_thread", {NetBackend::io_context_per_thread, 2}},
                        {"thread_pool", {NetBackend::thread_pool, 2}}},
                       {{0, 1}, {0, 2}, {0, 3}},
                       {}};
    Section latency{"Latency: one connection / one timer at a time",
                    {{"zuki(1)", {NetBackend::zuki, 1}},
                     {"zuki(2)", {NetBackend::zuki, 2}},
                     {"io_context(1)", {NetBackend::io_context, 1}}},
                    {{0, 2}, {1, 2}},
                    {}};
    const std::string http_load_text =
        wrk ? "wrk -t1 -c64 -d" + std::to_string(window_s) + "s" : "built-in client, 64 conns";
    std::vector<Workload> workloads = {
        {"echo64",
         &throughput,
         {{"echo64", "req/s"}, {"echo64 server CPU", "us/req"}},
         [&](const ServerSpec& s) { return run_echo64(s, window_s); },
         "built-in client, 64 conns"},
        {"http64",
         &throughput,
         {{"http64", "req/s"}, {"http64 server CPU", "us/req"}},
         [&](const ServerSpec& s) { return run_http64(s, window_s, wrk); },
         http_load_text},
        {"timers10k",
         &throughput,
         {{"timers10k", "waits/s"}, {"timers10k server CPU", "us/wait"}},
         [&](const ServerSpec& s) { return run_timer_storm(s, storm_timers, storm_waits); },
         "in the server, " + std::to_string(storm_timers) + " timers x " +
             std::to_string(storm_waits) + " waits of 0-2 ms"},
        {"latency_pingpong",
         &latency,
         {{"latency_pingpong", "us/round trip"}, {"latency_pingpong server CPU", "us/round trip"}},
         [&](const ServerSpec& s) { return run_pingpong(s, pingpong_s); },
         "built-in client, 1 conn"},
        {"latency_timer0",
         &latency,
         {{"latency_timer0", "us/wait"}, {"latency_timer0 server CPU", "us/wait"}},
         [&](const ServerSpec& s) { return run_timer0(s, timer_waits); },
         "in the server, " + std::to_string(timer_waits) + " waits"},
    };
    bool any = false;
    for (const auto& w : workloads) any |= selected(w.name);
    if (!any)
        die("--only selects no workload (echo64, http64, timers10k, latency_pingpong, "
            "latency_timer0)");

    Watchdog wd;
    watchdog = &wd;
    wd.set_suite_deadline(opt.timeout_s > 0 ? opt.timeout_s : (q ? 900 : 1800));
    self_path();  // resolve before the first fork

    const std::string machine = machine_line();
    std::printf("bench_net: %s mode, %d rounds, windows of %d s (latency_pingpong %.1f s), "
                "warm-up %.1f s\n  http64 load: %s\n  machine: %s\n",
                q ? "quick" : "full", opt.rounds, window_s, pingpong_s, warmup_s,
                http_load_text.c_str(), machine.c_str());
    std::fflush(stdout);
    const auto start = now_ns();
    for (auto& w : workloads)
        if (selected(w.name)) run_workload(w, opt.rounds, run_timeout);

    std::printf("\nrun: %.0f s. Each cell: median (min-max) of %d rounds. Ratio = zuki's median / "
                "the other's:\nreq/s above 1 = zuki serves more; CPU and latency below 1 = zuki "
                "costs less.\n",
                double(now_ns() - start) / 1e9, opt.rounds);
    std::vector<Section*> sections;
    for (Section* s : {&throughput, &latency})
        if (!s->lines.empty()) sections.push_back(s);
    for (const Section* s : sections) print_section(*s);
    write_csv(sections, workloads);
    watchdog = nullptr;
    return 0;
}

}  // namespace
}  // namespace zuki_bench::net

int main(int argc, char** argv) { return zuki_bench::net::run(argc, argv); }
