// Helpers for the simulated-network tests: a LAN of stacks on a learning switch
// with a "raw" port the test drives by hand, frame builders (on src/wire reprs)
// and small socket shortcuts over the Stack API.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/addr.h"
#include "base/bytes.h"
#include "base/packet.h"
#include "host/sim_world.h"
#include "link/impair.h"
#include "link/sim.h"
#include "stack/stack.h"
#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

namespace ustack::simtest {

using namespace std::chrono_literals;
using base::Endpoint;
using base::Errc;
using base::Ipv4Addr;
using base::MacAddr;
using Bytes = std::vector<base::Byte>;
using stack::SocketId;
using stack::Stack;

inline const Ipv4Addr kIpA(198, 18, 0, 1);
inline const Ipv4Addr kIpB(198, 18, 0, 2);
inline const Ipv4Addr kIpRaw(198, 18, 0, 99);      // the hand-driven port
inline const Ipv4Addr kIpAbsent(198, 18, 0, 77);   // nobody has it
inline const Ipv4Addr kSubnetBcast(198, 18, 0, 255);
inline const MacAddr kMacA({0x02, 0, 0, 0, 0, 1});  // SimWorld's order of add_host
inline const MacAddr kMacB({0x02, 0, 0, 0, 0, 2});
inline const MacAddr kMacRaw({0x02, 0, 0, 0, 0, 0x99});

/// Two stacks, A (198.18.0.1) and B (198.18.0.2), and a raw port (198.18.0.99)
/// on one switch. A's port may be wrapped in an impairment.
struct Lan {
  /// `configure` adjusts the StackConfig both hosts start with.
  explicit Lan(std::uint64_t seed = 1, std::optional<link::ImpairSpec> impair_a = std::nullopt,
               std::size_t mtu = 1500, const std::function<void(stack::StackConfig&)>& configure = {})
      : world(seed),
        configured(((configure ? configure(world.host_config()) : void()), true)),
        sw(world.net().add_switch("sw")),
        port_a(world.net().add_port("a", mtu)),
        port_b(world.net().add_port("b", mtu)),
        port_raw(world.net().add_port("raw", mtu)),
        dev_a(impair_a ? world.impair(port_a, *impair_a) : port_a),
        a(world.add_host("a", dev_a, {kIpA, 24})),
        b(world.add_host("b", port_b, {kIpB, 24})) {
    EXPECT_TRUE(world.net().attach(sw, port_a).ok());
    EXPECT_TRUE(world.net().attach(sw, port_b).ok());
    EXPECT_TRUE(world.net().attach(sw, port_raw).ok());
  }

  /// Frames that reached the raw port so far (due now), oldest first.
  std::vector<Bytes> drain_raw() {
    std::vector<Bytes> out;
    Bytes buf(65536);
    while (auto n = port_raw.receive(world.now(), buf)) out.emplace_back(buf.begin(), buf.begin() + *n);
    return out;
  }
  /// Sends a frame from the raw port now.
  void inject(const Bytes& frame) { ASSERT_TRUE(port_raw.transmit(world.now(), frame)); }
  /// Lets each stack know the raw host's MAC, so that replies to it need no ARP.
  void know_raw() {
    ASSERT_TRUE(a.add_static_arp(kIpRaw, kMacRaw).ok());
    ASSERT_TRUE(b.add_static_arp(kIpRaw, kMacRaw).ok());
  }

  host::SimWorld world;
  bool configured;  // after world, before the hosts: `configure` has run
  link::SimSwitch& sw;
  link::SimPort& port_a;
  link::SimPort& port_b;
  link::SimPort& port_raw;
  link::Device& dev_a;  // port_a, or the impairment around it
  Stack& a;
  Stack& b;
};

// ---- Frames -----------------------------------------------------------------

inline Bytes eth_frame(MacAddr dst, MacAddr src, std::uint16_t type, base::ByteSpan payload) {
  Bytes f(wire::EthernetView::kHeaderLen + payload.size());
  wire::EthernetRepr{dst, src, type}.emit(f);
  std::copy(payload.begin(), payload.end(), f.begin() + wire::EthernetView::kHeaderLen);
  return f;
}

struct IpFields {
  std::uint16_t ident = 0x4242;
  bool more_fragments = false;
  std::uint16_t frag_offset = 0;  // bytes
  std::uint8_t ttl = 64;
};

/// A 20-byte header (checksum filled) followed by payload.
inline Bytes ip_packet(Ipv4Addr src, Ipv4Addr dst, std::uint8_t proto, base::ByteSpan payload,
                       IpFields f = {}) {
  Bytes p(20 + payload.size());
  wire::Ipv4Repr h{src, dst, proto, f.ttl};
  h.ident = f.ident;
  h.more_fragments = f.more_fragments;
  h.frag_offset = f.frag_offset;
  h.payload_len = static_cast<std::uint16_t>(payload.size());
  h.emit(p);
  std::copy(payload.begin(), payload.end(), p.begin() + 20);
  return p;
}

inline Bytes udp_segment(Ipv4Addr src, Ipv4Addr dst, std::uint16_t sport, std::uint16_t dport,
                         base::ByteSpan data) {
  Bytes u(8 + data.size());
  std::copy(data.begin(), data.end(), u.begin() + 8);
  wire::UdpRepr{sport, dport}.emit(u, src, dst);
  return u;
}

inline Bytes icmp_message(const wire::IcmpRepr& r) {
  Bytes m(r.buffer_len());
  r.emit(m);
  return m;
}

/// An Ethernet frame from the raw host carrying an IPv4 packet.
inline Bytes raw_ip_frame(MacAddr dst_mac, const Bytes& ip) {
  return eth_frame(dst_mac, kMacRaw, static_cast<std::uint16_t>(wire::EtherType::ipv4), ip);
}

inline Bytes pattern(std::size_t n, std::uint8_t salt = 0) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<base::Byte>(i * 31 + salt + (i >> 8));
  return b;
}

/// The IPv4 packets among frames, as owned copies of the IP bytes.
inline std::vector<Bytes> ipv4_packets(const std::vector<Bytes>& frames) {
  std::vector<Bytes> out;
  for (const auto& f : frames) {
    auto eth = wire::EthernetView::parse(f);
    if (!eth || eth->ethertype() != static_cast<std::uint16_t>(wire::EtherType::ipv4)) continue;
    out.emplace_back(eth->payload().begin(), eth->payload().end());
  }
  return out;
}

/// The ICMP messages among IPv4 packets.
struct IcmpSeen {
  Ipv4Addr src, dst;
  std::uint8_t type, code;
  Bytes body;  // after the 8-byte ICMP header
};
inline std::vector<IcmpSeen> icmp_in(const std::vector<Bytes>& frames) {
  std::vector<IcmpSeen> out;
  for (const auto& p : ipv4_packets(frames)) {
    auto ip = wire::Ipv4View::parse(p);
    if (!ip || ip->protocol() != wire::ip_proto::icmp) continue;
    auto icmp = wire::IcmpView::parse(ip->payload());
    if (!icmp || !icmp->checksum_ok()) continue;
    out.push_back({ip->src(), ip->dst(), icmp->type(), icmp->code(),
                   Bytes(icmp->payload().begin(), icmp->payload().end())});
  }
  return out;
}

// ---- Sockets ----------------------------------------------------------------

inline SocketId udp_socket(Stack& s, std::optional<Endpoint> bind_to = std::nullopt) {
  auto id = s.socket(AF_INET, SOCK_DGRAM, 0);
  EXPECT_TRUE(id.ok());
  if (bind_to) {
    EXPECT_TRUE(s.bind(*id, *bind_to).ok());
  }
  return *id;
}

struct Datagram {
  Endpoint from;
  Bytes data;
};

/// Every datagram queued on the socket now.
inline std::vector<Datagram> recv_all(Stack& s, SocketId id) {
  std::vector<Datagram> out;
  Bytes buf(70000);
  while (true) {
    auto r = s.recv_from(id, buf, 0);
    if (!r) break;
    out.push_back({r->from, Bytes(buf.begin(), buf.begin() + r->copied)});
  }
  return out;
}

inline std::map<std::string, std::uint64_t> counter_map(const Stack& s) {
  std::map<std::string, std::uint64_t> m;
  s.counters().for_each([&](std::string_view n, std::uint64_t v) { m[std::string(n)] = v; });
  return m;
}

inline bool readable(const Stack& s, SocketId id) { return (s.readiness(id) & POLLIN) != 0; }

}  // namespace ustack::simtest
