// ustack-sweep: goodput of one TCP flow over loss x RTT x bottleneck rate on the
// simulated network, for each congestion control, compared with the Mathis
// bound (bench/README.md). Writes a CSV and a markdown table; scripts/plot-sweep.py
// draws the CSV.
//
//   ustack-sweep [--quick] [--hand-set-buffers] [--jobs N] [--cc cubic,reno,bbr] [--csv FILE] [--md FILE]
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench/goodput.h"
#include "tcp/cc.h"

namespace {

using namespace std::chrono_literals;
using ustack::bench::Cell;
using ustack::bench::CellResult;

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t p = 0;
  while (p <= s.size()) {
    const std::size_t q = s.find(',', p);
    out.push_back(s.substr(p, q == std::string::npos ? std::string::npos : q - p));
    if (q == std::string::npos) break;
    p = q + 1;
  }
  return out;
}

std::string rate_name(std::uint64_t bps) {
  if (bps >= 1'000'000'000) return fmt::format("{}G", bps / 1'000'000'000);
  return fmt::format("{}M", bps / 1'000'000);
}

std::string mbps(double bps) {
  if (std::isinf(bps)) return "inf";
  return bps >= 100e6 ? fmt::format("{:.0f}", bps / 1e6) : fmt::format("{:.2f}", bps / 1e6);
}

/// Virtual time for a cell: 100 RTTs, within [2 s, 10 s], and at most 2.5 GB of
/// line rate (the 10 Gbit/s cells run 2 s: simulating every frame costs CPU).
ustack::base::Duration duration_for(std::uint64_t rate_bps, ustack::base::Duration rtt) {
  using ustack::base::Duration;
  Duration d = std::clamp<Duration>(rtt * 100, 2s, 10s);
  const Duration byte_budget = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(2.5e9 * 8 / static_cast<double>(rate_bps)));
  return std::max<Duration>(std::min(d, byte_budget), 2s);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  bool hand_set = false;
  unsigned jobs = 2;
  std::string cc_list = "cubic,reno,bbr", csv_path = "sweep.csv", md_path = "sweep.md", one, trace;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ustack-sweep: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--quick") quick = true;
    else if (a == "--hand-set-buffers") hand_set = true;
    else if (a == "--jobs") jobs = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--cc") cc_list = next();
    else if (a == "--csv") csv_path = next();
    else if (a == "--md") md_path = next();
    else if (a == "--one") one = next();
    else if (a == "--trace") trace = next();
    else {
      std::fprintf(stderr, "usage: ustack-sweep [--quick] [--hand-set-buffers] [--jobs N] [--cc cubic,reno,bbr] [--csv FILE] [--md FILE]\n"
                           "       ustack-sweep --one RATE_BPS,RTT_MS,LOSS,CC[,SECONDS] [--trace FILE.csv]\n");
      return 2;
    }
  }
  if (!one.empty()) {
    // One cell, with its TCP trace if asked: to see why a cell is slow.
    const auto f = split(one);
    if (f.size() < 4) return 2;
    Cell c;
    c.rate_bps = std::stoull(f[0]);
    c.rtt = std::chrono::milliseconds(std::stoi(f[1]));
    c.loss = std::stod(f[2]);
    c.cc = f[3];
    c.duration = f.size() > 4 ? std::chrono::duration_cast<ustack::base::Duration>(std::chrono::duration<double>(std::stod(f[4])))
                              : duration_for(c.rate_bps, c.rtt);
    c.trace_csv = trace;
    c.hand_set_buffers = hand_set;
    const CellResult r = ustack::bench::run_cell(c);
    std::printf("goodput %s Mbit/s, ceiling %s Mbit/s, delivered %llu bytes, %llu retransmitted segments, %llu RTOs, "
                "%llu queue drops, %llu random drops, queue %zu frames, buffer %zu bytes, %.1f s\n",
                mbps(r.goodput_bps).c_str(), mbps(r.ceiling_bps()).c_str(), static_cast<unsigned long long>(r.delivered),
                static_cast<unsigned long long>(r.retrans_segs), static_cast<unsigned long long>(r.timeouts),
                static_cast<unsigned long long>(r.queue_drops), static_cast<unsigned long long>(r.random_drops),
                r.queue_frames, r.buffer_bytes, r.wall_seconds);
    return r.cc_available ? 0 : 2;
  }
  std::vector<std::string> ccs;
  for (const auto& name : split(cc_list)) {
    if (ustack::tcp::make_congestion_control(name)) ccs.push_back(name);
    else std::fprintf(stderr, "ustack-sweep: congestion control '%s' is not in this build; skipped\n", name.c_str());
  }
  if (ccs.empty()) return 2;
  const std::vector<std::uint64_t> rates =
      quick ? std::vector<std::uint64_t>{10'000'000, 100'000'000}
            : std::vector<std::uint64_t>{10'000'000, 100'000'000, 1'000'000'000, 10'000'000'000};
  const std::vector<int> rtts_ms = quick ? std::vector<int>{1, 20, 100} : std::vector<int>{1, 10, 50, 100};
  const std::vector<double> losses =
      quick ? std::vector<double>{0, 0.01, 0.05} : std::vector<double>{0, 0.001, 0.005, 0.01, 0.02, 0.05};

  std::vector<Cell> cells;
  for (auto rate : rates)
    for (int rtt : rtts_ms)
      for (double loss : losses)
        for (const auto& cc : ccs) {
          Cell c;
          c.rate_bps = rate;
          c.rtt = std::chrono::milliseconds(rtt);
          c.loss = loss;
          c.cc = cc;
          c.duration = duration_for(rate, c.rtt);
          c.hand_set_buffers = hand_set;
          // The same seed for every algorithm in a cell: the same loss draws.
          c.seed = 1000 + static_cast<std::uint64_t>(rtt) * 7 + static_cast<std::uint64_t>(loss * 1e4);
          cells.push_back(c);
        }
  // The costliest first, so that the threads finish together.
  std::vector<std::size_t> order(cells.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto cost = [&](const Cell& c) {
    return static_cast<double>(c.rate_bps) * ustack::base::to_seconds(c.duration) * (1 - std::min(0.9, c.loss * 20));
  };
  std::sort(order.begin(), order.end(), [&](auto x, auto y) { return cost(cells[x]) > cost(cells[y]); });
  std::vector<CellResult> results(cells.size());
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex out_mu;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < std::max(1u, jobs); ++j)
    threads.emplace_back([&] {
      for (std::size_t k; (k = next++) < order.size();) {
        const std::size_t i = order[k];
        results[i] = ustack::bench::run_cell(cells[i]);
        std::lock_guard lock(out_mu);
        const Cell& c = cells[i];
        std::fprintf(stderr, "[%3zu/%zu] %4s %3lldms loss %5.2f%% %-6s %9s Mbit/s (%.1f s)\n", ++done, cells.size(),
                     rate_name(c.rate_bps).c_str(), static_cast<long long>(ustack::base::to_millis(c.rtt)),
                     c.loss * 100, c.cc.c_str(), mbps(results[i].goodput_bps).c_str(), results[i].wall_seconds);
      }
    });
  for (auto& t : threads) t.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::FILE* csv = std::fopen(csv_path.c_str(), "w");
  if (!csv) {
    std::fprintf(stderr, "ustack-sweep: cannot write %s: %s\n", csv_path.c_str(), std::strerror(errno));
    return 1;
  }
  std::fprintf(csv, "rate_bps,rtt_ms,loss,cc,duration_s,queue_frames,buffer_bytes,goodput_bps,mathis_bps,"
                    "window_bps,ceiling_bps,delivered,retrans_segs,fast_retrans,timeouts,queue_drops,random_drops,"
                    "wall_s\n");
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    const CellResult& r = results[i];
    std::fprintf(csv, "%llu,%lld,%g,%s,%g,%zu,%zu,%.0f,%.0f,%.0f,%.0f,%llu,%llu,%llu,%llu,%llu,%llu,%.2f\n",
                 static_cast<unsigned long long>(c.rate_bps), static_cast<long long>(ustack::base::to_millis(c.rtt)),
                 c.loss, c.cc.c_str(), ustack::base::to_seconds(c.duration), r.queue_frames, r.buffer_bytes,
                 r.goodput_bps, std::isinf(r.mathis_bps) ? -1.0 : r.mathis_bps, r.window_bps, r.ceiling_bps(),
                 static_cast<unsigned long long>(r.delivered), static_cast<unsigned long long>(r.retrans_segs),
                 static_cast<unsigned long long>(r.fast_retrans), static_cast<unsigned long long>(r.timeouts),
                 static_cast<unsigned long long>(r.queue_drops), static_cast<unsigned long long>(r.random_drops),
                 r.wall_seconds);
  }
  std::fclose(csv);

  // Markdown: one row per (rate, RTT, loss); per algorithm its goodput and its
  // share of the ceiling min(bottleneck, Mathis, buffer/RTT).
  std::string md = fmt::format(
      "# Goodput sweep\n\nOne TCP flow per cell on ustack's simulated network; {} cells in {:.0f} s of wall time "
      "({} threads). Generated by `ustack-sweep{}` (bench/README.md).\n\n"
      "- bottleneck: the rate below in both directions, one-way delay RTT/2 each way; data-direction queue of one "
      "bandwidth-delay product of 1514-byte frames (at least {} frames), tail drop;\n"
      "- loss: each data frame from the sender dropped with probability p (the ACK path is clean);\n"
      "- socket buffers: {};\n"
      "- virtual time per cell: 100 RTTs within [2 s, 10 s], at most 2.5 GB at line rate (10 Gbit/s cells: 2 s); "
      "goodput counted after the first {:.0f}% of it;\n"
      "- ceiling = min(bottleneck, Mathis bound MSS/RTT * 1.22/sqrt(p) with MSS {}, buffer/RTT); "
      "`%` = goodput / ceiling.\n\n",
      cells.size() / ccs.size(), wall, jobs, std::string(quick ? " --quick" : "") + (hand_set ? " --hand-set-buffers" : ""),
      ustack::bench::kMinQueueFrames,
      hand_set ? "set by hand to 2 BDP + 1 MiB (at most 64 MiB), window scale to match"
               : "the stack's defaults, auto-tuned (receive window and send buffer, docs/buffers.md), as an "
                 "application that sets none",
      ustack::bench::kWarmupFraction * 100, ustack::bench::kMss);
  md += "| rate | RTT | loss | ceiling Mbit/s |";
  for (const auto& cc : ccs) md += fmt::format(" {} Mbit/s | {} % | {} rtx/RTO |", cc, cc, cc);
  md += "\n|---|---|---|---|";
  for (std::size_t k = 0; k < ccs.size(); ++k) md += "---|---|---|";
  md += "\n";
  for (std::size_t i = 0; i < cells.size(); i += ccs.size()) {
    const Cell& c = cells[i];
    md += fmt::format("| {} | {} ms | {:g}% | {} |", rate_name(c.rate_bps), ustack::base::to_millis(c.rtt),
                      c.loss * 100, mbps(results[i].ceiling_bps()));
    for (std::size_t k = 0; k < ccs.size(); ++k) {
      const CellResult& r = results[i + k];
      md += fmt::format(" {} | {:.0f} | {}/{} |", mbps(r.goodput_bps), 100 * r.goodput_bps / r.ceiling_bps(),
                        r.retrans_segs, r.timeouts);
    }
    md += "\n";
  }
  std::FILE* mdf = std::fopen(md_path.c_str(), "w");
  if (!mdf) {
    std::fprintf(stderr, "ustack-sweep: cannot write %s: %s\n", md_path.c_str(), std::strerror(errno));
    return 1;
  }
  std::fputs(md.c_str(), mdf);
  std::fclose(mdf);
  std::fprintf(stderr, "ustack-sweep: %zu runs in %.0f s -> %s, %s\n", cells.size(), wall, csv_path.c_str(),
               md_path.c_str());
  return 0;
}
