// Counters as `netstat -s` and `nstat` print them, and neighbours, routes and
// addresses as iproute2's `ip neigh`, `ip route` and `ip addr` do.
#include <cctype>
#include <cstdio>

#include "ctl/json.h"
#include "ctl/render.h"

namespace ustack::ctl {

namespace {

using Json = nlohmann::ordered_json;

std::string iface_name(const Snapshot& s, ip::InterfaceId id) {
  for (const auto& i : s.interfaces)
    if (i.id == id) return i.name;
  return "if" + std::to_string(id);
}

/// The interface a neighbour is on: the one whose subnet holds it.
std::string neighbour_dev(const Snapshot& s, base::Ipv4Addr a) {
  for (const auto& i : s.interfaces)
    if (!i.loopback && i.addr.contains(a)) return i.name;
  for (const auto& i : s.interfaces)
    if (!i.loopback) return i.name;
  return "?";
}

bool is_ip_medium(const stack::InterfaceInfo& i) { return !i.loopback && i.mac == base::MacAddr(); }

Json header(const Snapshot& s) {
  Json j;
  j["version"] = s.version;
  j["program"] = s.program;
  j["pid"] = s.pid;
  return j;
}

}  // namespace

std::string render_netstat_s(const Snapshot& s) {
  // netstat's order of sections (IpExt and TcpExt as in /proc/net/netstat), then
  // ustack's own.
  static constexpr std::pair<const char*, const char*> kSections[] = {
      {"Ip", "Ip:"},     {"IpExt", "IpExt:"}, {"Icmp", "Icmp:"}, {"Tcp", "Tcp:"}, {"Udp", "Udp:"},
      {"TcpExt", "TcpExt:"}, {"Arp", "Arp:"},   {"Drop", "ustack drops:"}};
  // A counter belongs to the longest section prefix it starts with ("Ip" must not
  // take "Icmp..." nor "IpExt...", "Tcp" "TcpExt..."): the letter after it starts a word.
  auto section_of = [&](const std::string& name) -> std::string_view {
    std::string_view best;
    for (const auto& [prefix, title] : kSections) {
      const std::string_view p(prefix);
      if (name.size() <= p.size() || name.compare(0, p.size(), p) != 0) continue;
      if (!std::isupper(static_cast<unsigned char>(name[p.size()]))) continue;
      if (p.size() > best.size()) best = p;
    }
    return best;
  };
  std::string out;
  for (const auto& [prefix, title] : kSections) {
    const std::string_view p(prefix);
    out += title;
    out += "\n";
    for (const auto& [name, value] : s.counters) {
      if (section_of(name) != p) continue;
      out += "    " + name.substr(p.size()) + ": " + std::to_string(value) + "\n";
    }
  }
  // The memory account (docs/hardening.md "Memory limits"), as Linux's
  // /proc/net/sockstat "mem" and the tcp_mem sysctl.
  const MemoryInfo& m = s.memory;
  char buf[256];
  out += "ustack memory:\n";
  std::snprintf(buf, sizeof buf, "    InUse: %llu (tcp %llu, udp %llu, frag %llu)\n",
                static_cast<unsigned long long>(m.usage), static_cast<unsigned long long>(m.tcp),
                static_cast<unsigned long long>(m.udp), static_cast<unsigned long long>(m.frag));
  out += buf;
  std::snprintf(buf, sizeof buf, "    Peak: %llu\n    Limits: min %llu pressure %llu max %llu\n",
                static_cast<unsigned long long>(m.peak), static_cast<unsigned long long>(m.min),
                static_cast<unsigned long long>(m.pressure), static_cast<unsigned long long>(m.max));
  out += buf;
  std::snprintf(buf, sizeof buf, "    UnderPressure: %s\n    PressureEntries: %llu\n    Refused: %llu\n",
                m.under_pressure ? "yes" : "no", static_cast<unsigned long long>(m.pressure_entries),
                static_cast<unsigned long long>(m.refusals));
  out += buf;
  return out;
}

std::string render_nstat(const Snapshot& s) {
  std::string out = "#ustack\n";
  char buf[128];
  for (const auto& [name, value] : s.counters) {
    std::snprintf(buf, sizeof buf, "%-31s %llu\n", name.c_str(), static_cast<unsigned long long>(value));
    out += buf;
  }
  return out;
}

std::string render_counters_json(const Snapshot& s) {
  Json j = header(s);
  j["counters"] = counters_json(s);
  return j.dump(2) + "\n";
}

std::string render_neigh(const Snapshot& s) {
  std::string out;
  using St = ip::ArpEntryInfo::State;
  for (const auto& n : s.neighbours) {
    std::string l = n.ip.to_string() + " dev " + neighbour_dev(s, n.ip);
    if (n.mac && (n.state == St::reachable || n.state == St::permanent)) l += " lladdr " + n.mac->to_string();
    switch (n.state) {
      case St::incomplete: l += " INCOMPLETE"; break;
      case St::reachable: l += n.expires <= s.now ? " STALE" : " REACHABLE"; break;
      case St::failed: l += " FAILED"; break;
      case St::permanent: l += " PERMANENT"; break;
    }
    out += l + "\n";
  }
  return out;
}

std::string render_neigh_json(const Snapshot& s) {
  Json j = header(s);
  j["now_ns"] = s.now.time_since_epoch().count();
  j["neighbours"] = Json::array();
  for (const auto& n : s.neighbours) j["neighbours"].push_back(neighbour_json(n));
  return j.dump(2) + "\n";
}

std::string render_route(const Snapshot& s) {
  std::string out;
  // Default routes first, as Linux's main table lists them.
  std::vector<ip::Route> routes;
  for (const auto& r : s.routes)
    if (r.dest.prefix_len == 0) routes.push_back(r);
  for (const auto& r : s.routes)
    if (r.dest.prefix_len != 0) routes.push_back(r);
  for (const auto& r : routes) {
    const stack::InterfaceInfo* iface = nullptr;
    for (const auto& i : s.interfaces)
      if (i.id == r.iface) iface = &i;
    // The loopback's own route lives in Linux's local table, which `ip route` does not show.
    if (iface && iface->loopback && r.kind == ip::Route::Kind::connected) continue;
    std::string l = r.dest.prefix_len == 0
                        ? std::string("default")
                        : base::Ipv4Cidr{r.dest.network(), r.dest.prefix_len}.to_string();
    if (r.gateway) l += " via " + r.gateway->to_string();
    l += " dev " + iface_name(s, r.iface);
    if (r.kind == ip::Route::Kind::connected) {
      l += " proto kernel scope link";
      if (iface) l += " src " + iface->addr.addr.to_string();
    }
    if (r.metric) l += " metric " + std::to_string(r.metric);
    out += l + "\n";
  }
  return out;
}

std::string render_route_json(const Snapshot& s) {
  Json j = header(s);
  j["routes"] = Json::array();
  for (const auto& r : s.routes) j["routes"].push_back(route_json(r));
  j["interfaces"] = Json::array();
  for (const auto& i : s.interfaces) j["interfaces"].push_back(interface_json(i));
  return j.dump(2) + "\n";
}

std::string render_addr(const Snapshot& s) {
  std::string out;
  for (const auto& i : s.interfaces) {
    const std::string index = std::to_string(i.id + 1);
    if (i.loopback) {
      out += index + ": " + i.name + ": <LOOPBACK,UP,LOWER_UP> mtu " + std::to_string(i.mtu) + " state UNKNOWN\n";
      out += "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n";
      out += "    inet " + i.addr.to_string() + " scope host " + i.name + "\n";
    } else if (is_ip_medium(i)) {
      out += index + ": " + i.name + ": <POINTOPOINT,NOARP,UP,LOWER_UP> mtu " + std::to_string(i.mtu) +
             " state UNKNOWN\n";
      out += "    link/none\n";
      out += "    inet " + i.addr.to_string() + " scope global " + i.name + "\n";
    } else {
      out += index + ": " + i.name + ": <BROADCAST,MULTICAST,UP,LOWER_UP> mtu " + std::to_string(i.mtu) +
             " state UP\n";
      out += "    link/ether " + i.mac.to_string() + " brd ff:ff:ff:ff:ff:ff\n";
      out += "    inet " + i.addr.to_string();
      if (i.addr.prefix_len < 31) out += " brd " + i.addr.broadcast().to_string();
      out += " scope global " + i.name + "\n";
    }
    out += "       valid_lft forever preferred_lft forever\n";
  }
  return out;
}

std::string render_addr_json(const Snapshot& s) {
  Json j = header(s);
  j["interfaces"] = Json::array();
  for (const auto& i : s.interfaces) j["interfaces"].push_back(interface_json(i));
  return j.dump(2) + "\n";
}

}  // namespace ustack::ctl
