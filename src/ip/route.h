// The IPv4 routing table: longest-prefix match over connected routes, static
// routes and a default gateway.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/addr.h"

namespace ustack::ip {

using InterfaceId = std::uint32_t;

struct Route {
  base::Ipv4Cidr dest;                  // network and prefix length (address bits outside the mask ignored)
  std::optional<base::Ipv4Addr> gateway;  // nullopt: directly connected
  InterfaceId iface = 0;
  std::uint32_t metric = 0;             // lower wins between equal prefixes
  enum class Kind { connected, static_route } kind = Kind::static_route;
  bool operator==(const Route&) const = default;
};

struct NextHop {
  InterfaceId iface;
  base::Ipv4Addr addr;  // the gateway, or the destination itself when connected
};

class RouteTable {
 public:
  /// Adds a route; a route with the same dest (network/prefix), gateway and iface replaces it.
  void add(Route r);
  /// Removes routes to exactly this network/prefix (any gateway); returns how many.
  std::size_t remove(base::Ipv4Cidr dest);
  /// Removes every route through iface.
  void remove_interface(InterfaceId iface);
  void set_default_gateway(base::Ipv4Addr gw, InterfaceId iface) {
    add({base::Ipv4Cidr{base::Ipv4Addr::any(), 0}, gw, iface, 0, Route::Kind::static_route});
  }

  /// Longest prefix match; among equal prefixes the lowest metric, then the first added.
  std::optional<NextHop> lookup(base::Ipv4Addr dst) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace ustack::ip
