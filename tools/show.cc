// `ustack netstat -s`, `ustack neigh`, `ustack route`, `ustack addr`: the
// counters, ARP cache, routes and interfaces of one running ustack host, in the
// shapes of netstat -s / nstat, ip neigh, ip route and ip addr.
#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <map>
#include <string>

#include "cli.h"
#include "inspect.h"

namespace ustack::tools {
namespace {

/// The snapshot's JSON, one member of it, printed.
void print_json_member(const ctl::Snapshot& s, const char* member) {
  const auto j = nlohmann::json::parse(ctl::to_json(s));
  nlohmann::json out = {{"program", s.program}, {"pid", s.pid}, {member, j.at(member)}};
  std::printf("%s\n", out.dump(2).c_str());
}

std::string iface_name(const ctl::Snapshot& s, ip::InterfaceId id) {
  for (const auto& i : s.interfaces) {
    if (i.id == id) return i.name;
  }
  return "if" + std::to_string(id);
}

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
  if (o.inspect.json) {
    nlohmann::json counters = nlohmann::json::object();
    for (const auto& [name, v] : snap->counters) counters[name] = v;
    nlohmann::json out = {{"program", snap->program}, {"pid", snap->pid}, {"counters", counters}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  if (o.flat) {  // as nstat -az: every counter, one a line
    for (const auto& [name, v] : snap->counters) std::printf("%-32s%llu\n", name.c_str(), static_cast<unsigned long long>(v));
    return 0;
  }
  // As netstat -s: grouped by protocol, "value name" under each.
  static const char* groups[] = {"Ip", "Icmp", "Udp", "Tcp", "Arp", "Drop"};
  for (const char* g : groups) {
    std::printf("%s:\n", g);
    for (const auto& [name, v] : snap->counters) {
      const std::string gs = g;
      if (!name.starts_with(gs)) continue;
      if (gs == "Ip" && name.size() > 2 && !std::isupper(static_cast<unsigned char>(name[2]))) continue;
      std::printf("    %llu %s\n", static_cast<unsigned long long>(v), name.substr(gs.size()).c_str());
    }
  }
  return 0;
}

const char* arp_state(ip::ArpEntryInfo::State s) {
  switch (s) {
    case ip::ArpEntryInfo::State::incomplete: return "INCOMPLETE";
    case ip::ArpEntryInfo::State::reachable: return "REACHABLE";
    case ip::ArpEntryInfo::State::failed: return "FAILED";
    case ip::ArpEntryInfo::State::permanent: return "PERMANENT";
  }
  return "?";
}

int run_neigh(const InspectOptions& o) {
  auto snap = fetch_one("neigh", o);
  if (!snap) return 1;
  if (o.json) {
    print_json_member(*snap, "neighbours");
    return 0;
  }
  for (const auto& n : snap->neighbours) {
    std::printf("%s", n.ip.to_string().c_str());
    if (n.mac) std::printf(" lladdr %s", n.mac->to_string().c_str());
    std::printf(" %s\n", arp_state(n.state));
  }
  return 0;
}

int run_route(const InspectOptions& o) {
  auto snap = fetch_one("route", o);
  if (!snap) return 1;
  if (o.json) {
    print_json_member(*snap, "routes");
    return 0;
  }
  for (const auto& r : snap->routes) {
    const std::string dest = r.dest.prefix_len == 0 ? "default" : r.dest.to_string();
    std::printf("%s", dest.c_str());
    if (r.gateway) std::printf(" via %s", r.gateway->to_string().c_str());
    std::printf(" dev %s", iface_name(*snap, r.iface).c_str());
    if (r.kind == ip::Route::Kind::connected) {
      std::printf(" proto kernel scope link");
      for (const auto& i : snap->interfaces) {
        if (i.id == r.iface) std::printf(" src %s", i.addr.addr.to_string().c_str());
      }
    }
    if (r.metric) std::printf(" metric %u", r.metric);
    std::printf("\n");
  }
  return 0;
}

int run_addr(const InspectOptions& o) {
  auto snap = fetch_one("addr", o);
  if (!snap) return 1;
  if (o.json) {
    print_json_member(*snap, "interfaces");
    return 0;
  }
  for (const auto& i : snap->interfaces) {
    std::printf("%u: %s: <%s> mtu %zu\n", static_cast<unsigned>(i.id), i.name.c_str(), i.loopback ? "LOOPBACK,UP" : "UP",
                i.mtu);
    if (i.loopback) {
      std::printf("    link/loopback 00:00:00:00:00:00\n");
    } else {
      std::printf("    link/ether %s\n", i.mac.to_string().c_str());
    }
    std::printf("    inet %s\n", i.addr.to_string().c_str());
  }
  return 0;
}

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
