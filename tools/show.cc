// `ustack netstat -s`, `ustack neigh`, `ustack route`, `ustack addr`: the
// counters, ARP cache, routes and interfaces of one running ustack host, in the
// shapes of netstat -s / nstat, ip neigh, ip route and ip addr.
#include <cstdio>
#include <string>

#include "cli.h"
#include "ctl/render.h"
#include "inspect.h"

namespace ustack::tools {
namespace {

struct NetstatOptions {
  InspectOptions inspect;
  bool statistics = false;
  bool flat = false;
};

int run_netstat(const NetstatOptions& o) {
  if (!o.statistics && !o.flat) {
    std::fprintf(stderr, "ustack netstat: only -s (statistics) or --flat; for sockets, see `ustack ss`\n");
    return 2;
  }
  auto snap = fetch_one("netstat", o.inspect);
  if (!snap) return 1;
  const std::string out = o.inspect.json ? ctl::render_counters_json(*snap)
                          : o.flat      ? ctl::render_nstat(*snap)
                                        : ctl::render_netstat_s(*snap);
  std::fputs(out.c_str(), stdout);
  return 0;
}

/// neigh, route, addr: one snapshot, one renderer for text and one for JSON.
int run_ip(const char* name, const InspectOptions& o, std::string (*text)(const ctl::Snapshot&),
           std::string (*json)(const ctl::Snapshot&)) {
  auto snap = fetch_one(name, o);
  if (!snap) return 1;
  const std::string out = o.json ? json(*snap) : text(*snap);
  std::fputs(out.c_str(), stdout);
  return 0;
}

int run_neigh(const InspectOptions& o) { return run_ip("neigh", o, ctl::render_neigh, ctl::render_neigh_json); }
int run_route(const InspectOptions& o) { return run_ip("route", o, ctl::render_route, ctl::render_route_json); }
int run_addr(const InspectOptions& o) { return run_ip("addr", o, ctl::render_addr, ctl::render_addr_json); }

}  // namespace

void register_netstat(CLI::App& app) {
  auto o = std::make_shared<NetstatOptions>();
  auto* cmd = app.add_subcommand("netstat", "Counters of a running ustack process, as netstat -s (or nstat with --flat)");
  cmd->add_flag("-s,--statistics", o->statistics, "Counters grouped by protocol");
  cmd->add_flag("--flat", o->flat, "Every counter as NAME VALUE, one a line (as nstat -az)");
  add_inspect_options(*cmd, o->inspect);
  cmd->callback([o] { std::exit(run_netstat(*o)); });
}

void register_neigh(CLI::App& app) {
  auto o = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand("neigh", "The ARP cache of a running ustack process, as ip neigh");
  add_inspect_options(*cmd, *o);
  cmd->callback([o] { std::exit(run_neigh(*o)); });
}

void register_route(CLI::App& app) {
  auto o = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand("route", "The routes of a running ustack process, as ip route");
  add_inspect_options(*cmd, *o);
  cmd->callback([o] { std::exit(run_route(*o)); });
}

void register_addr(CLI::App& app) {
  auto o = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand("addr", "The interfaces and addresses of a running ustack process, as ip addr");
  add_inspect_options(*cmd, *o);
  cmd->callback([o] { std::exit(run_addr(*o)); });
}

}  // namespace ustack::tools
