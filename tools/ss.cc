// `ustack ss`: the sockets of every running ustack host, as Linux's ss(8) shows
// the kernel's: the same options, states, columns and a subset of its filter
// language; rendered by src/ctl/render.h.
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "ctl/render.h"
#include "inspect.h"

namespace ustack::tools {
namespace {

struct SsCommand {
  InspectOptions inspect;
  ctl::SsOptions ss;
  std::vector<std::string> filter;
};

/// The snapshots of every running ustack process (or of the one --ctl names).
/// A process that stopped between the listing and the request is no error.
std::optional<std::vector<ctl::Snapshot>> fetch_all(const InspectOptions& o, int& status) {
  std::vector<ctl::Endpoint> endpoints;
  if (!o.ctl.empty()) {
    auto ep = ctl::pick_one(o.ctl);
    if (!ep) {
      std::fprintf(stderr, "ustack ss: %s\n", ep.error().c_str());
      return std::nullopt;
    }
    endpoints.push_back(*ep);
  } else {
    auto eps = ctl::discover();
    if (!eps) {
      std::fprintf(stderr, "ustack ss: %s\n", eps.error().c_str());
      return std::nullopt;
    }
    if (eps->empty()) {
      std::fprintf(stderr, "ustack ss: no ustack process is running (no control socket in %s)\n",
                   ctl::control_dir().c_str());
      return std::nullopt;
    }
    endpoints = std::move(*eps);
  }
  std::vector<ctl::Snapshot> snaps;
  for (const auto& ep : endpoints) {
    auto snap = ctl::fetch_snapshot(ep.path);
    if (snap) {
      snaps.push_back(std::move(*snap));
    } else if (!o.ctl.empty() || ::access(ep.path.c_str(), F_OK) == 0) {
      std::fprintf(stderr, "ustack ss: %s\n", snap.error().c_str());
      status = 1;
    }
  }
  return snaps;
}

int run_ss(const SsCommand& o) {
  auto filter = ctl::SsFilter::parse(o.filter);
  if (!filter) {
    std::fprintf(stderr, "ustack ss: %s\n", filter.error().c_str());
    return 2;
  }
  int status = 0;
  auto snaps = fetch_all(o.inspect, status);
  if (!snaps) return 1;
  if (o.inspect.json) {
    std::fputs(ctl::render_ss_json(*snaps, o.ss, *filter).c_str(), stdout);
    return status;
  }
  std::fputs(ctl::render_ss(*snaps, o.ss, *filter).c_str(), stdout);
  return status;
}

}  // namespace

void register_ss(CLI::App& app) {
  auto o = std::make_shared<SsCommand>();
  auto* cmd = app.add_subcommand("ss", "Sockets of every running ustack process, as ss(8) shows the kernel's");
  cmd->add_flag("-t,--tcp", o->ss.tcp, "TCP sockets");
  cmd->add_flag("-u,--udp", o->ss.udp, "UDP sockets");
  cmd->add_flag("-w,--raw", o->ss.raw, "Raw sockets");
  cmd->add_flag("-l,--listening", o->ss.listening, "Only listening (and unconnected) sockets");
  cmd->add_flag("-a,--all", o->ss.all, "Sockets in every state");
  cmd->add_flag("-n,--numeric", o->ss.numeric, "Ports as numbers, not service names");
  cmd->add_flag("-e,--extended", o->ss.extended, "Socket ids");
  cmd->add_flag("-i,--info", o->ss.info, "TCP internals (RTT, window, congestion)");
  cmd->add_flag("-m,--memory", o->ss.memory, "Buffer use");
  cmd->add_flag("-s,--summary", o->ss.summary, "Counts by state and transport");
  cmd->add_flag("-p,--processes", o->ss.processes, "The ustack process of each socket");
  cmd->add_flag("-H,--no-header", o->ss.no_header, "No header line");
  add_inspect_options(*cmd, o->inspect);
  cmd->add_option("filter", o->filter,
                  "state|exclude STATE, sport|dport OP :PORT, src|dst ADDR[/LEN][:PORT]; and or not ( )");
  cmd->callback([o] { std::exit(run_ss(*o)); });
}

}  // namespace ustack::tools
