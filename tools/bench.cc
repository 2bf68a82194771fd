// `ustack bench`: the benchmark suite (bench/README.md). Every figure is
// measured next to its reference in the same run and shown as a ratio.
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>

#include "bench/suite.h"
#include "cli.h"

namespace ustack::tools {
namespace {

struct BenchOptions {
  bool json = false;
  bool quick = false;
  bool no_memory = false, no_tap = false, no_scale = false;
  double seconds = 2.0;
  std::string md;
  std::string wrk = "wrk";
  std::string lwip_peer;
  std::string only;
  bool tap_offload = true;
  std::string tap_io = "auto";
};

std::string utc_now() {
  char buf[64];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string load_line() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

int run(const BenchOptions& bo, const std::string& command_line) {
  bench::SuiteOptions o;
  o.memory = !bo.no_memory;
  o.tap = !bo.no_tap;
  o.scale = !bo.no_scale;
  o.seconds = bo.seconds;
  o.wrk = bo.wrk;
  o.lwip_peer = bo.lwip_peer;
  o.only = bo.only;
  o.tap_offload = bo.tap_offload;
  o.tap_io = bo.tap_io;
  if (!o.only.empty()) {
    // One row: its group runs, the others do not.
    const bool tap_row = o.only == "linux_to_ustack" || o.only == "ustack_to_linux" || o.only == "lwip_bulk_in" ||
                         o.only == "lwip_bulk_out" || o.only == "conn_serial" || o.only == "http_wrk";
    o.scale = false;
    o.memory = o.memory && !tap_row;
    o.tap = o.tap && tap_row;
  }
  if (bo.quick) {
    o.seconds = 0.5;
    o.bulk_bytes = 256ull << 20;
    o.tap_bulk_seconds = 1.0;
    o.scale_counts = {10000};
  }
  o.on_result = [&](const bench::Measurement& m) {
    if (bo.json) {
      std::cout << bench::to_json(m) << std::endl;
    } else {
      std::cerr << "  " << m.group << "/" << m.name << ": "
                << (m.skipped.empty() ? "done" : "skipped (" + m.skipped + ")") << std::endl;
    }
  };
  const std::string load_before = load_line();
  const std::string started = utc_now();
  std::vector<bench::Measurement> all;
  auto add = [&](std::vector<bench::Measurement> v) { all.insert(all.end(), v.begin(), v.end()); };
  if (o.memory) add(bench::run_memory_suite(o));
  if (o.tap) add(bench::run_tap_suite(o));
  if (o.scale) add(bench::run_scale_suite(o));
  const std::string load_after = load_line();
  if (!bo.json) std::cout << bench::render_table(all);
  if (!bo.md.empty()) {
    std::ofstream f(bo.md);
    f << "# ustack bench\n\n"
      << "Run " << started << " with `" << command_line << "`; load average (1, 5, 15 min) " << load_before
      << " before, " << load_after << " after. Ratios are ustack / reference, both measured in this run "
      << "(bench/README.md says how; for memory per connection, lower is better and the reference is the "
      << "2 KB target).\n\n"
      << bench::render_markdown(all);
    if (!f) {
      std::cerr << "ustack bench: cannot write " << bo.md << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

void register_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench", "Measure ustack against Linux in the same run (bench/README.md)");
  cmd->add_flag("--json", o->json, "One JSON object per measurement on stdout, as each finishes");
  cmd->add_flag("--quick", o->quick, "Shorter runs (seconds each, 256 MiB bulk, 10,000 connections)");
  cmd->add_option("--seconds", o->seconds, "Seconds each timed rate runs (default 2)");
  cmd->add_option("--md", o->md, "Also write the results as markdown to this file");
  cmd->add_flag("--no-memory", o->no_memory, "Skip the in-memory measurements");
  cmd->add_flag("--no-tap", o->no_tap, "Skip the TAP measurements (they need root)");
  cmd->add_flag("--no-scale", o->no_scale, "Skip memory per connection at scale");
  cmd->add_option("--wrk", o->wrk, "The wrk binary (default: wrk on PATH)");
  cmd->add_option("--lwip-peer", o->lwip_peer,
                  "The lwIP peer program (default: ustack-lwip-peer beside this executable)");
  cmd->add_option("--tap-offload", o->tap_offload,
                  "ustack's TAP offloads in the tap rows: 1 (default) GRO/TSO super-frames and checksum offload, "
                  "0 plain frames (as before offloads, for comparison)");
  cmd->add_option("--tap-io", o->tap_io,
                  "How ustack's TAP writes frames in the tap rows: uring batched through io_uring, plain one "
                  "write() per frame, auto (default) uring without offloads, plain with them")
      ->check(CLI::IsMember({"uring", "plain", "auto"}));
  cmd->add_option("--only", o->only, "Only this measurement (tcp_bulk, tcp_bulk_nocsum, tcp_rr, ..., ustack_to_linux, http_wrk, ...), e.g. under perf");
  cmd->callback([o, cmd] {
    std::string line = "ustack bench";
    if (o->quick) line += " --quick";
    if (o->json) line += " --json";
    if (o->no_memory) line += " --no-memory";
    if (o->no_tap) line += " --no-tap";
    if (o->no_scale) line += " --no-scale";
    if (cmd->count("--seconds")) line += " --seconds " + std::to_string(o->seconds);
    if (!o->only.empty()) line += " --only " + o->only;
    if (!o->tap_offload) line += " --tap-offload 0";
    if (o->tap_io != "auto") line += " --tap-io " + o->tap_io;
    if (!o->md.empty()) line += " --md " + o->md;
    std::exit(run(*o, line));
  });
}

}  // namespace ustack::tools
