// Broadcast (socket(7) SO_BROADCAST; RFC 1122 3.2.2.6 and 3.3.6), routing through a
// default gateway (RFC 1122 3.3.1), and loopback delivery (127/8 and our own address).
#include "helpers.h"

namespace ustack::simtest {
namespace {

TEST(Broadcast, NeedsSoBroadcastAndReachesWildcardButNotUnicastBoundSockets) {
  Lan lan;
  lan.world.settle();
  constexpr std::uint16_t kPort = 5000;
  // Two receivers on B on the same port: one on the wildcard, one on B's address.
  const SocketId any = lan.b.socket(AF_INET, SOCK_DGRAM, 0).value();
  const SocketId unicast = lan.b.socket(AF_INET, SOCK_DGRAM, 0).value();
  ASSERT_TRUE(lan.b.set_option(any, SOL_SOCKET, SO_REUSEADDR, 1).ok());
  ASSERT_TRUE(lan.b.set_option(unicast, SOL_SOCKET, SO_REUSEADDR, 1).ok());
  ASSERT_TRUE(lan.b.bind(any, Endpoint{Ipv4Addr::any(), kPort}).ok());
  ASSERT_TRUE(lan.b.bind(unicast, Endpoint{kIpB, kPort}).ok());

  const SocketId tx = udp_socket(lan.a);
  const Bytes data = pattern(30);
  for (Ipv4Addr dst : {Ipv4Addr::broadcast(), kSubnetBcast}) {
    const Endpoint to{dst, kPort};
    // socket(7) SO_BROADCAST: "Set or get the broadcast flag. When enabled, datagram
    // sockets are allowed to send packets to a broadcast address." Without: EACCES.
    auto r = lan.a.send_to(tx, data, &to, 0);
    ASSERT_FALSE(r.ok()) << dst.to_string();
    EXPECT_EQ(r.error(), Errc::access);
  }
  ASSERT_TRUE(lan.a.set_option(tx, SOL_SOCKET, SO_BROADCAST, 1).ok());
  EXPECT_EQ(*lan.a.get_option(tx, SOL_SOCKET, SO_BROADCAST), 1);
  for (Ipv4Addr dst : {Ipv4Addr::broadcast(), kSubnetBcast}) {
    const Endpoint to{dst, kPort};
    ASSERT_TRUE(lan.a.send_to(tx, data, &to, 0).ok()) << dst.to_string();
    lan.world.run_for(10ms);
    auto got = recv_all(lan.b, any);
    ASSERT_EQ(got.size(), 1u) << dst.to_string();
    EXPECT_EQ(got[0].data, data);
    EXPECT_EQ(got[0].from.addr, base::IpAddr(kIpA));
    EXPECT_TRUE(recv_all(lan.b, unicast).empty()) << dst.to_string();
  }
  // A broadcast to a port nobody has draws no port unreachable (RFC 1122 3.2.2).
  const Endpoint nobody{Ipv4Addr::broadcast(), 5999};
  ASSERT_TRUE(lan.a.send_to(tx, data, &nobody, 0).ok());
  lan.world.run_for(10ms);
  EXPECT_EQ(lan.b.counters().UdpNoPorts, 1u);
  EXPECT_EQ(lan.b.counters().IcmpOutDestUnreachs, 0u);
}

TEST(Broadcast, ConnectToBroadcastAlsoNeedsSoBroadcast) {
  Lan lan;
  const SocketId s = udp_socket(lan.a);
  auto st = lan.a.connect(s, Endpoint{kSubnetBcast, 9});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), Errc::access);
}

TEST(Broadcast, EchoRequestToBroadcastIsIgnored) {
  Lan lan;
  lan.world.settle();
  auto raw = lan.a.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(lan.a.set_option(*raw, SOL_SOCKET, SO_BROADCAST, 1).ok());
  const Bytes msg = icmp_message(wire::IcmpRepr::echo_request(3, 3, pattern(8)));
  for (Ipv4Addr dst : {Ipv4Addr::broadcast(), kSubnetBcast}) {
    const Endpoint to{dst, 0};
    ASSERT_TRUE(lan.a.send_to(*raw, msg, &to, 0).ok());
  }
  lan.world.run_for(100ms);
  // Linux net.ipv4.icmp_echo_ignore_broadcasts = 1 (RFC 1122 3.2.2.6 leaves it open:
  // "An ICMP Echo Request destined to an IP broadcast or IP multicast address MAY
  // be silently discarded").
  EXPECT_EQ(lan.b.counters().IcmpInEchos, 2u);
  EXPECT_EQ(lan.b.counters().DropIcmpBroadcastEcho, 2u);
  EXPECT_EQ(lan.b.counters().IcmpOutEchoReps, 0u);
  EXPECT_FALSE(readable(lan.a, *raw));
}

TEST(Routing, OffSubnetTrafficGoesToTheGatewaysMac) {
  Lan lan;
  const Ipv4Addr gateway = kIpRaw;  // the raw port plays the router
  ASSERT_TRUE(lan.a.set_default_gateway(gateway).ok());
  ASSERT_TRUE(lan.a.add_static_arp(gateway, kMacRaw).ok());
  lan.world.settle();
  lan.drain_raw();
  const SocketId s = udp_socket(lan.a);
  const Ipv4Addr far(203, 0, 113, 5);
  const Endpoint to{far, 53};
  ASSERT_TRUE(lan.a.send_to(s, pattern(10), &to, 0).ok());
  lan.world.settle();
  std::vector<Bytes> ip_frames;
  for (auto& f : lan.drain_raw()) {
    auto eth = wire::EthernetView::parse(f);
    if (eth && eth->ethertype() == static_cast<std::uint16_t>(wire::EtherType::ipv4)) ip_frames.push_back(f);
  }
  ASSERT_EQ(ip_frames.size(), 1u);
  auto eth = wire::EthernetView::parse(ip_frames[0]);
  // RFC 1122 3.3.1.2: the datagram for a remote destination is sent to the gateway;
  // the IP destination stays the final one.
  EXPECT_EQ(eth->dst(), kMacRaw);
  EXPECT_EQ(eth->src(), kMacA);
  auto ip = wire::Ipv4View::parse(eth->payload());
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->dst(), far);
  EXPECT_EQ(ip->src(), kIpA);
  // And no ARP for the far address itself.
  EXPECT_EQ(lan.a.counters().ArpOutRequests, 1u);  // the announcement only
}

TEST(Routing, GatewayIsResolvedByArpWhenNotStatic) {
  Lan lan;
  ASSERT_TRUE(lan.a.set_default_gateway(kIpB).ok());  // B plays the router
  lan.world.settle();
  const SocketId s = udp_socket(lan.a);
  const Endpoint to{Ipv4Addr(203, 0, 113, 5), 53};
  ASSERT_TRUE(lan.a.send_to(s, pattern(10), &to, 0).ok());
  lan.world.run_for(10ms);
  // B receives it (a host does not forward: dropped as not for it).
  EXPECT_EQ(lan.b.counters().DropIpNotForHost, 1u);
  auto entries = lan.a.arp_entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].ip, kIpB);
}

TEST(Routing, NoRouteGivesEnetunreach) {
  Lan lan;
  const SocketId s = udp_socket(lan.a);
  const Endpoint to{Ipv4Addr(203, 0, 113, 5), 53};
  auto r = lan.a.send_to(s, pattern(10), &to, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Errc::net_unreachable);
  auto c = lan.a.connect(s, to);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error(), Errc::net_unreachable);
  EXPECT_EQ(lan.a.counters().IpOutNoRoutes, 2u);
  // A gateway outside every subnet cannot be used.
  EXPECT_EQ(lan.a.set_default_gateway(Ipv4Addr(10, 9, 9, 9)).error(), Errc::net_unreachable);
}

void expect_loopback_exchange(Lan& lan, Ipv4Addr addr) {
  Stack& s = lan.a;
  const SocketId rx = udp_socket(s, Endpoint{Ipv4Addr::any(), 6000});
  const SocketId tx = udp_socket(s, Endpoint{Ipv4Addr::any(), 6001});
  const Endpoint to{addr, 6000};
  const Bytes data = pattern(2000);  // above the Ethernet MTU, within loopback's
  ASSERT_TRUE(s.send_to(tx, data, &to, 0).ok());
  ASSERT_TRUE(lan.world.run_until([&] { return readable(s, rx); }, 1s));
  auto got = recv_all(s, rx);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, data);
  // The reply's source is the address the datagram was sent to (ip(7): the local
  // address of a datagram to ourselves is that address).
  EXPECT_EQ(got[0].from, (Endpoint{addr, 6001}));
  ASSERT_TRUE(s.send_to(rx, pattern(5), &got[0].from, 0).ok());
  ASSERT_TRUE(lan.world.run_until([&] { return readable(s, tx); }, 1s));
  auto back = recv_all(s, tx);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].from, to);
  // Nothing went out on the wire.
  EXPECT_EQ(lan.port_a.stats().tx_frames, 1u);  // the announcement
  EXPECT_EQ(lan.a.counters().IpFragCreates, 0u);
}

TEST(Loopback, UdpBetweenTwoSocketsOver127001) {
  Lan lan;
  lan.world.settle();
  expect_loopback_exchange(lan, Ipv4Addr::loopback());
}

TEST(Loopback, UdpBetweenTwoSocketsOverTheInterfaceAddress) {
  Lan lan;
  lan.world.settle();
  expect_loopback_exchange(lan, kIpA);
}

TEST(Loopback, PingOurOwnAddress) {
  Lan lan;
  lan.world.settle();
  auto raw = lan.a.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  ASSERT_TRUE(raw.ok());
  const Bytes msg = icmp_message(wire::IcmpRepr::echo_request(1, 2, pattern(20)));
  const Endpoint to{Ipv4Addr::loopback(), 0};
  ASSERT_TRUE(lan.a.send_to(*raw, msg, &to, 0).ok());
  lan.world.run_for(10ms);
  // The raw socket sees both the request it sent (delivered to us) and the reply.
  std::vector<std::uint8_t> types;
  Bytes buf(1000);
  while (auto r = lan.a.recv_from(*raw, buf, 0)) {
    auto ip = wire::Ipv4View::parse(base::ByteSpan(buf.data(), r->copied));
    ASSERT_TRUE(ip.ok());
    types.push_back(ip->payload()[0]);
  }
  EXPECT_EQ(types, (std::vector<std::uint8_t>{wire::icmp_type::echo_request, wire::icmp_type::echo_reply}));
  EXPECT_EQ(lan.a.counters().IcmpOutEchoReps, 1u);
}

}  // namespace
}  // namespace ustack::simtest
