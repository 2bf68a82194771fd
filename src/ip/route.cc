// The IPv4 routing table: longest-prefix match (RFC 1812 5.2.4.3), then the lowest
// metric, then the route added first. A linear scan: tables here hold a handful of
// routes (connected subnets, a few static routes, a default gateway).
#include "ip/route.h"

#include <algorithm>

namespace ustack::ip {

namespace {
base::Ipv4Cidr normalised(base::Ipv4Cidr c) {
  if (c.prefix_len > 32) c.prefix_len = 32;
  return base::Ipv4Cidr{c.network(), c.prefix_len};
}
}  // namespace

void RouteTable::add(Route r) {
  r.dest = normalised(r.dest);
  for (Route& old : routes_) {
    if (old.dest == r.dest && old.gateway == r.gateway && old.iface == r.iface) {
      old = r;  // replaced in place: it keeps its age for the tie-break
      return;
    }
  }
  routes_.push_back(r);
}

std::size_t RouteTable::remove(base::Ipv4Cidr dest) {
  dest = normalised(dest);
  return std::erase_if(routes_, [&](const Route& r) { return r.dest == dest; });
}

void RouteTable::remove_interface(InterfaceId iface) {
  std::erase_if(routes_, [&](const Route& r) { return r.iface == iface; });
}

std::optional<NextHop> RouteTable::lookup(base::Ipv4Addr dst) const {
  const Route* best = nullptr;
  for (const Route& r : routes_) {  // in order added: a later route must be strictly better
    if (!r.dest.contains(dst)) continue;
    if (best == nullptr || r.dest.prefix_len > best->dest.prefix_len ||
        (r.dest.prefix_len == best->dest.prefix_len && r.metric < best->metric)) {
      best = &r;
    }
  }
  if (best == nullptr) return std::nullopt;
  // A connected route delivers to the destination itself; any other goes through its gateway.
  return NextHop{best->iface, best->gateway ? *best->gateway : dst};
}

}  // namespace ustack::ip
