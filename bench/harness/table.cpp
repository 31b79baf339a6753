// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

#include "harness/table.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

namespace zuki_bench {

std::vector<Row> table;
std::vector<Backend> enabled;
Figure fib_sequential;
std::vector<SequentialRef> sequential_refs;

std::size_t add_row(Row r) {
    table.push_back(std::move(r));
    return table.size() - 1;
}

std::size_t add_sequential_ref(std::string name, std::size_t row) {
    SequentialRef ref;
    ref.name = std::move(name);
    ref.row = row;
    sequential_refs.push_back(std::move(ref));
    return sequential_refs.size() - 1;
}

double speedup(const SequentialRef& ref, Backend b) {
    const double par = table[ref.row].cell(b).median;
    if (std::isnan(ref.time.median) || !(par > 0)) return NAN;
    return ref.time.median / par;
}

Row make_row(std::string name, std::string unit, Dir dir, TargetKind kind, double target,
             std::string text, std::vector<Backend> bs) {
    Row r;
    r.name = std::move(name);
    r.unit = std::move(unit);
    r.dir = dir;
    r.kind = kind;
    r.target = target;
    r.target_text = std::move(text);
    r.backends = std::move(bs);
    return r;
}

namespace {

double cost_ratio(const Row& r, double mine, double theirs) {
    if (!(mine > 0) && !(theirs > 0)) return NAN;
    if (r.dir == Dir::lower) return theirs > 0 ? mine / theirs : NAN;
    return mine > 0 ? theirs / mine : NAN;
}

std::optional<Backend> best_anchor(const Row& r) {
    std::optional<Backend> best;
    for (Backend b : r.backends) {
        if (!is_anchor(b)) continue;
        const double v = r.cell(b).median;
        if (std::isnan(v)) continue;
        if (!best || (r.dir == Dir::lower ? v < r.cell(*best).median : v > r.cell(*best).median))
            best = b;
    }
    return best;
}

std::string fmt_ratio(double v) {
    if (std::isnan(v) || std::isinf(v)) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", v);
    return b;
}

std::string cell_text(const Row::Cell& c) {
    if (std::isnan(c.median)) return "";
    return fmt(c.median) + " (" + fmt(c.min) + "-" + fmt(c.max) + ")";
}

}  // namespace

RatioInfo ratio_for(const Row& r, Backend b) {
    RatioInfo out;
    const double mine = r.cell(b).median;
    if (std::isnan(mine)) return out;
    if (r.kind == TargetKind::vs_single) {
        // the single-submission figure is the next row
        const Row& single = table[static_cast<std::size_t>(&r - table.data()) + 1];
        out.ratio = cost_ratio(r, mine, single.cell(b).median);
        out.against = "zuki single";
        return out;
    }
    if (auto best = best_anchor(r)) {
        out.ratio = cost_ratio(r, mine, r.cell(*best).median);
        out.against = name_of(*best);
    }
    return out;
}

std::string verdict_for(const Row& r) {
    const double z = r.cell(Backend::zuki).median;
    if (r.kind == TargetKind::none || std::isnan(z)) return "";
    double ratio = NAN;
    switch (r.kind) {
        case TargetKind::absolute:
            return z <= r.target ? "met" : "MISSED x" + [&] {
                char b[32];
                std::snprintf(b, sizeof b, "%.0f", z / r.target);
                return std::string(b);
            }();
        case TargetKind::vs_tbb:
            ratio = cost_ratio(r, z, r.cell(Backend::tbb).median);
            break;
        default:
            ratio = ratio_for(r, Backend::zuki).ratio;
            break;
    }
    if (std::isnan(ratio)) return "n/a";
    if (ratio <= r.target) return "met";
    char b[48];
    std::snprintf(b, sizeof b, "MISSED x%.2f", ratio / r.target);
    return b;
}

std::string fmt(double v) {
    if (std::isnan(v)) return "-";
    char b[32];
    const double a = std::fabs(v);
    if (a >= 100)
        std::snprintf(b, sizeof b, "%.0f", v);
    else if (a >= 10)
        std::snprintf(b, sizeof b, "%.1f", v);
    else if (a >= 1)
        std::snprintf(b, sizeof b, "%.2f", v);
    else if (a >= 0.01)
        std::snprintf(b, sizeof b, "%.3f", v);
    else if (a == 0)
        std::snprintf(b, sizeof b, "0");
    else
        std::snprintf(b, sizeof b, "%.4f", v);
    return b;
}

void print_table(std::FILE* f) {
    std::vector<std::string> head = {"workload", "unit"};
    for (Backend b : enabled) head.push_back(name_of(b));
    head.push_back("best anchor");
    head.push_back("zuki ratio");
    const bool zasio =
        std::find(enabled.begin(), enabled.end(), Backend::zuki_asio) != enabled.end();
    if (zasio) head.push_back("zuki_asio ratio");
    head.push_back("target (ratio)");
    head.push_back("zuki verdict");

    std::vector<std::vector<std::string>> rows;
    for (const Row& r : table) {
        bool any = false;
        for (Backend b : enabled) any |= !std::isnan(r.cell(b).median);
        if (!any) continue;
        std::vector<std::string> line = {r.name, r.unit};
        for (Backend b : enabled) line.push_back(cell_text(r.cell(b)));
        const auto best = best_anchor(r);
        line.push_back(r.kind == TargetKind::vs_single ? "zuki single"
                       : best                          ? name_of(*best)
                                                       : "-");
        line.push_back(fmt_ratio(ratio_for(r, Backend::zuki).ratio));
        if (zasio) line.push_back(fmt_ratio(ratio_for(r, Backend::zuki_asio).ratio));
        line.push_back(r.target_text);
        line.push_back(verdict_for(r));
        rows.push_back(std::move(line));
    }
    std::vector<std::size_t> w(head.size());
    for (std::size_t i = 0; i < head.size(); ++i) w[i] = head[i].size();
    for (auto& l : rows)
        for (std::size_t i = 0; i < l.size(); ++i) w[i] = std::max(w[i], l[i].size());
    auto print_line = [&](const std::vector<std::string>& l) {
        std::fputs("|", f);
        for (std::size_t i = 0; i < l.size(); ++i) {
            const bool left = i < 2;
            std::fprintf(f, left ? " %-*s |" : " %*s |", int(w[i]), l[i].c_str());
        }
        std::fputs("\n", f);
    };
    print_line(head);
    std::fputs("|", f);
    for (std::size_t i = 0; i < head.size(); ++i)
        std::fprintf(f, "%s%s|", std::string(w[i] + 1, '-').c_str(), i < 2 ? "-" : ":");
    std::fputs("\n", f);
    for (auto& l : rows) print_line(l);
}

}  // namespace zuki_bench
