// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

#include "harness/outputs.hpp"

#include <sys/utsname.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "harness/options.hpp"
#include "harness/table.hpp"

namespace zuki_bench {

namespace {

std::string csv_num(double v) {
    if (std::isnan(v) || std::isinf(v)) return "";
    char b[40];
    std::snprintf(b, sizeof b, "%.6g", v);
    return b;
}

}  // namespace

std::string machine_line() {
    std::string model = "unknown CPU";
    std::ifstream cpu("/proc/cpuinfo");
    for (std::string line; std::getline(cpu, line);)
        if (line.rfind("model name", 0) == 0) {
            model = line.substr(line.find(':') + 2);
            break;
        }
    utsname u{};
    uname(&u);
    char date[64];
    const std::time_t t = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M", std::localtime(&t));
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s, %u logical CPUs, %s %s, %s, load %.2f", model.c_str(),
                  std::thread::hardware_concurrency(), u.sysname, u.release, date, load[0]);
    return buf;
}

void write_outputs(const std::string& header_comment) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(opt.out_dir, ec);
    const fs::path dir(opt.out_dir);
    const fs::path results = dir / "bench_results.csv";
    const fs::path ratios = dir / "bench_ratios.csv";
    const fs::path png = dir / "bench_ratios.png";
    {
        std::ofstream o(results);
        if (!o) die("cannot write " + results.string());
        o << "workload,unit,backend,median,min,max,runs,ratio,ratio_against,target,verdict\n";
        for (const Row& r : table) {
            for (Backend b : enabled) {
                const auto& c = r.cell(b);
                if (std::isnan(c.median)) continue;
                RatioInfo ri;
                if (b == Backend::zuki || b == Backend::zuki_asio) ri = ratio_for(r, b);
                o << r.name << ',' << r.unit << ',' << name_of(b) << ',' << csv_num(c.median) << ','
                  << csv_num(c.min) << ',' << csv_num(c.max) << ',' << c.runs.size() << ','
                  << csv_num(ri.ratio) << ',' << ri.against << ','
                  << (b == Backend::zuki ? r.target_text : "") << ','
                  << (b == Backend::zuki ? verdict_for(r) : "") << '\n';
            }
        }
        if (!fib_sequential.runs.empty())
            o << "fib25_sequential,ms,sequential," << csv_num(fib_sequential.median) << ','
              << csv_num(fib_sequential.min) << ',' << csv_num(fib_sequential.max) << ','
              << fib_sequential.runs.size() << ",,,,\n";
        for (const SequentialRef& ref : sequential_refs) {
            if (ref.time.runs.empty()) continue;
            o << ref.name << "_sequential,ms,sequential," << csv_num(ref.time.median) << ','
              << csv_num(ref.time.min) << ',' << csv_num(ref.time.max) << ','
              << ref.time.runs.size() << ",,,,\n";
            // sequential median / the backend's median; no min, max or runs of its own.
            for (Backend b : enabled)
                if (const double x = speedup(ref, b); !std::isnan(x))
                    o << ref.name << "_speedup,x," << name_of(b) << ',' << csv_num(x)
                      << ",,,,,,,\n";
        }
    }
    {
        // For the chart: one line per workload with a defined zuki ratio. The target is the
        // largest cost ratio that meets it (empty: no target on that row).
        std::ofstream o(ratios);
        if (!o) die("cannot write " + ratios.string());
        o << "# " << header_comment << '\n';
        o << "workload,zuki,zuki_asio,target\n";
        for (const Row& r : table) {
            const double z = ratio_for(r, Backend::zuki).ratio;
            if (std::isnan(z) || std::isinf(z) || !(z > 0)) continue;
            const double za = ratio_for(r, Backend::zuki_asio).ratio;
            double t = NAN;
            if (r.kind == TargetKind::vs_best || r.kind == TargetKind::vs_single ||
                r.kind == TargetKind::vs_tbb)
                t = r.target;
            o << r.name << ',' << csv_num(z) << ',' << csv_num(za > 0 ? za : NAN) << ','
              << csv_num(t) << '\n';
        }
    }
    std::printf("\nwrote %s and %s\n", results.c_str(), ratios.c_str());

    if (!opt.chart) return;
    if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
        std::printf("gnuplot not found: no PNG chart (scripts/deps.sh installs gnuplot-nox)\n");
        return;
    }
    fs::path script = opt.chart_script;
    // Default: bench/bench_chart.gp in the source tree this file was compiled from
    // (this file is bench/harness/outputs.cpp).
    if (script.empty()) script = fs::path(__FILE__).parent_path().parent_path() / "bench_chart.gp";
    if (!fs::exists(script)) {
        std::printf("chart script %s not found (use --chart-script PATH): no PNG chart\n",
                    script.c_str());
        return;
    }
    std::string sanitized = header_comment;
    for (char& ch : sanitized)
        if (ch == '\'' || ch == '"' || ch == '\\' || ch == '$' || ch == '`') ch = ' ';
    for (const auto* p : {&ratios, &png})
        if (p->string().find('\'') != std::string::npos) {
            std::printf("output path contains a quote: no PNG chart\n");
            return;
        }
    const std::string cmd = "gnuplot -e \"csv='" + ratios.string() + "'; png='" + png.string() +
                            "'; subtitle='" + sanitized + "'; have_asio=1\" '" + script.string() +
                            "' 2>&1";
    std::FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) {
        std::printf("could not run gnuplot: no PNG chart\n");
        return;
    }
    char buf[512];
    std::string output;
    while (std::fgets(buf, sizeof buf, p)) output += buf;
    const int rc = pclose(p);
    if (rc != 0 || !fs::exists(png))
        std::printf("gnuplot failed (status %d): no PNG chart\n%s", rc, output.c_str());
    else
        std::printf("wrote %s\n", png.c_str());
}

}  // namespace zuki_bench
