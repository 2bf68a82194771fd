// UDP demultiplexing by local address (RFC 768; Linux's rules for bind conflicts
// and for choosing among sockets that share a port).
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "base/addr.h"
#include "udp/socket.h"

namespace ustack::udp {

class Table {
 public:
  /// Would binding s to (addr, port) clash with a socket already bound? Two
  /// bindings clash when their ports are equal and their addresses are equal or
  /// either is the wildcard, unless both sockets set SO_REUSEADDR.
  bool conflicts(const Socket& s, base::IpAddr addr, std::uint16_t port) const;
  bool port_in_use(std::uint16_t port) const { return by_port_.contains(port); }

  void insert(Socket* s);
  void erase(Socket* s);

  /// The socket that receives a unicast datagram to local:port from `from`: the
  /// most specific match (a connected peer beats none, a bound address beats the
  /// wildcard); among equals the one bound last, as on Linux with SO_REUSEADDR.
  Socket* lookup(base::IpAddr local, std::uint16_t port, const base::Endpoint& from) const;
  /// Every socket that accepts a datagram to the broadcast address `local`:port.
  void for_each_broadcast(base::IpAddr local, std::uint16_t port, const base::Endpoint& from,
                          const std::function<void(Socket&)>& f) const;

 private:
  static int match_score(const Socket& s, base::IpAddr local, const base::Endpoint& from);
  std::unordered_map<std::uint16_t, std::vector<Socket*>> by_port_;
};

}  // namespace ustack::udp
