// ICMP errors between stacks: port and protocol unreachable (RFC 1122 3.2.2.1,
// 4.1.3.1), reported to connected sockets as Linux does (udp(7)); reassembly time
// exceeded (RFC 1122 3.3.2); and the rate limit on errors (RFC 1812 4.3.2.8).
#include "helpers.h"

namespace ustack::simtest {
namespace {

TEST(IcmpErrors, UdpToClosedPortGivesConnectedSocketEconnrefusedExactlyOnce) {
  Lan lan;
  const SocketId s = udp_socket(lan.a);
  ASSERT_TRUE(lan.a.connect(s, Endpoint{kIpB, 9}).ok());
  const Bytes data = pattern(20);
  ASSERT_TRUE(lan.a.send_to(s, data, nullptr, 0).ok());
  ASSERT_TRUE(lan.world.run_until([&] { return (lan.a.readiness(s) & POLLERR) != 0; }, 1s));
  // RFC 1122 4.1.3.1: "If a datagram arrives addressed to a UDP port for which there
  // is no pending LISTEN call, UDP SHOULD send an ICMP Port Unreachable message."
  EXPECT_EQ(lan.b.counters().UdpNoPorts, 1u);
  EXPECT_EQ(lan.b.counters().IcmpOutDestUnreachs, 1u);
  EXPECT_EQ(lan.a.counters().IcmpInDestUnreachs, 1u);
  // udp(7): "ECONNREFUSED No receiver was associated with the destination address.
  // This might be caused by a previous packet sent over the socket." Reported once.
  Bytes buf(100);
  auto r = lan.a.recv_from(s, buf, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Errc::conn_refused);
  r = lan.a.recv_from(s, buf, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Errc::would_block);
  EXPECT_EQ(lan.a.readiness(s) & POLLERR, 0);

  // Again, now seen by the next send.
  ASSERT_TRUE(lan.a.send_to(s, data, nullptr, 0).ok());
  lan.world.run_for(10ms);
  auto w = lan.a.send_to(s, data, nullptr, 0);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error(), Errc::conn_refused);
  EXPECT_TRUE(lan.a.send_to(s, data, nullptr, 0).ok());  // the error was consumed
}

TEST(IcmpErrors, UnconnectedSocketIsNotToldOfPortUnreachable) {
  Lan lan;
  const SocketId s = udp_socket(lan.a);
  const Endpoint to{kIpB, 9};
  ASSERT_TRUE(lan.a.send_to(s, pattern(20), &to, 0).ok());
  lan.world.run_for(100ms);
  EXPECT_EQ(lan.a.counters().IcmpInDestUnreachs, 1u);  // the error did arrive
  // udp(7) (without IP_RECVERR) reports ICMP errors only on connected sockets.
  EXPECT_EQ(lan.a.readiness(s) & POLLERR, 0);
  EXPECT_EQ(*lan.a.get_option(s, SOL_SOCKET, SO_ERROR), 0);
  Bytes buf(100);
  auto r = lan.a.recv_from(s, buf, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Errc::would_block);
  EXPECT_TRUE(lan.a.send_to(s, pattern(20), &to, 0).ok());
}

TEST(IcmpErrors, PortUnreachableQuotesTheOffendingHeaderAndEightBytes) {
  Lan lan;
  lan.know_raw();
  lan.world.settle();
  lan.drain_raw();
  const Bytes ip = ip_packet(kIpRaw, kIpB, wire::ip_proto::udp, udp_segment(kIpRaw, kIpB, 4000, 9, pattern(100)));
  lan.inject(raw_ip_frame(kMacB, ip));
  lan.world.settle();
  auto seen = icmp_in(lan.drain_raw());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].src, kIpB);
  EXPECT_EQ(seen[0].dst, kIpRaw);
  EXPECT_EQ(seen[0].type, wire::icmp_type::dest_unreachable);
  EXPECT_EQ(seen[0].code, wire::icmp_unreach::port);
  // RFC 792: "the internet header plus the first 64 bits of the original datagram's
  // data"; we quote more, within 576 bytes, as RFC 1812 4.3.2.3 allows.
  ASSERT_GE(seen[0].body.size(), 28u);
  EXPECT_TRUE(std::equal(seen[0].body.begin(), seen[0].body.end(), ip.begin()));
}

TEST(IcmpErrors, UnknownProtocolGivesProtocolUnreachable) {
  Lan lan;
  auto icmp = lan.a.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  auto p253 = lan.a.socket(AF_INET, SOCK_RAW, 253);
  ASSERT_TRUE(icmp.ok());
  ASSERT_TRUE(p253.ok());
  const Endpoint to{kIpB, 0};
  const Bytes payload = pattern(16);
  ASSERT_TRUE(lan.a.send_to(*p253, payload, &to, 0).ok());
  ASSERT_TRUE(lan.world.run_until([&] { return readable(lan.a, *icmp); }, 1s));
  Bytes buf(2000);
  auto r = lan.a.recv_from(*icmp, buf, 0);
  ASSERT_TRUE(r.ok());
  auto ip = wire::Ipv4View::parse(base::ByteSpan(buf.data(), r->copied));
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->src(), kIpB);
  auto msg = wire::IcmpView::parse(ip->payload());
  ASSERT_TRUE(msg.ok());
  // RFC 1122 3.2.2.1: a host SHOULD generate Destination Unreachable messages with
  // code 2 (Protocol) when the designated transport protocol is not supported.
  EXPECT_EQ(msg->type(), wire::icmp_type::dest_unreachable);
  EXPECT_EQ(msg->code(), wire::icmp_unreach::protocol);
  auto quoted = msg->payload();
  ASSERT_GE(quoted.size(), 28u);
  EXPECT_EQ(quoted[9], 253);  // the offending datagram's protocol
  EXPECT_EQ(lan.b.counters().IpInUnknownProtos, 1u);
  EXPECT_EQ(lan.b.counters().IcmpOutDestUnreachs, 1u);
  // A raw 253 socket on B takes such datagrams, and then nothing is unreachable.
  auto b253 = lan.b.socket(AF_INET, SOCK_RAW, 253);
  ASSERT_TRUE(b253.ok());
  ASSERT_TRUE(lan.a.send_to(*p253, payload, &to, 0).ok());
  lan.world.run_for(100ms);
  EXPECT_TRUE(readable(lan.b, *b253));
  EXPECT_EQ(lan.b.counters().IpInUnknownProtos, 1u);
  EXPECT_EQ(lan.b.counters().IcmpOutDestUnreachs, 1u);
}

TEST(IcmpErrors, ReassemblyTimeoutSendsTimeExceededCode1WhenFragmentZeroArrived) {
  Lan lan;
  lan.know_raw();
  lan.world.settle();
  lan.drain_raw();
  const Bytes udp = udp_segment(kIpRaw, kIpB, 4000, 5000, pattern(3000));
  // Only the first of three fragments (1480 payload bytes, MF set).
  const Bytes first = ip_packet(kIpRaw, kIpB, wire::ip_proto::udp,
                                base::ByteSpan(udp).first(1480), {.ident = 77, .more_fragments = true});
  lan.inject(raw_ip_frame(kMacB, first));
  lan.world.run_for(29s);
  EXPECT_TRUE(icmp_in(lan.drain_raw()).empty());
  lan.world.run_for(2s);
  auto seen = icmp_in(lan.drain_raw());
  ASSERT_EQ(seen.size(), 1u);
  // RFC 1122 3.3.2: "If the reassembly timeout expires, the partially-reassembled
  // datagram MUST be discarded and an ICMP Time Exceeded message sent to the source
  // host (if fragment zero has been received)."
  EXPECT_EQ(seen[0].type, wire::icmp_type::time_exceeded);
  EXPECT_EQ(seen[0].code, wire::icmp_time_exceeded::reassembly);
  EXPECT_EQ(seen[0].dst, kIpRaw);
  ASSERT_GE(seen[0].body.size(), 28u);
  EXPECT_TRUE(std::equal(seen[0].body.begin(), seen[0].body.begin() + 28, first.begin()));
  EXPECT_EQ(lan.b.counters().IpReasmTimeout, 1u);
  EXPECT_EQ(lan.b.counters().IpReasmFails, 1u);
  EXPECT_EQ(lan.b.counters().IcmpOutTimeExcds, 1u);
}

TEST(IcmpErrors, ReassemblyTimeoutWithoutFragmentZeroSendsNothing) {
  Lan lan;
  lan.know_raw();
  lan.world.settle();
  lan.drain_raw();
  const Bytes udp = udp_segment(kIpRaw, kIpB, 4000, 5000, pattern(3000));
  const Bytes second = ip_packet(kIpRaw, kIpB, wire::ip_proto::udp, base::ByteSpan(udp).subspan(1480, 1480),
                                 {.ident = 78, .more_fragments = true, .frag_offset = 1480});
  lan.inject(raw_ip_frame(kMacB, second));
  lan.world.run_for(35s);
  // RFC 1122 3.3.2: "If fragment zero is not available, then no time-exceeded need
  // be sent at all."
  EXPECT_TRUE(icmp_in(lan.drain_raw()).empty());
  EXPECT_EQ(lan.b.counters().IpReasmTimeout, 1u);
  EXPECT_EQ(lan.b.counters().IcmpOutTimeExcds, 0u);
}

TEST(IcmpErrors, ErrorsAreRateLimitedToBurstPlusRateTimesTime) {
  // The host-wide limit alone: the per-destination one (icmp_ratelimit) is off.
  Lan lan(1, std::nullopt, 1500, [](stack::StackConfig& c) { c.icmp_ratelimit_ms = 0; });
  ASSERT_TRUE(lan.a.add_static_arp(kIpB, kMacB).ok());
  ASSERT_TRUE(lan.b.add_static_arp(kIpA, kMacA).ok());
  lan.world.settle();
  const SocketId s = udp_socket(lan.a);
  const Bytes data = pattern(8);
  auto flood = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const Endpoint to{kIpB, static_cast<std::uint16_t>(20000 + i)};
      ASSERT_TRUE(lan.a.send_to(s, data, &to, 0).ok());
    }
  };
  flood(200);
  lan.world.settle();
  // Linux net.ipv4.icmp_msgs_burst = 50: a burst at one instant gets 50 errors.
  EXPECT_EQ(lan.b.counters().UdpNoPorts, 200u);
  EXPECT_EQ(lan.b.counters().IcmpOutDestUnreachs, 50u);
  EXPECT_EQ(lan.b.counters().IcmpOutRateLimited, 150u);
  EXPECT_EQ(lan.a.counters().IcmpInDestUnreachs, 50u);
  // 20 ms later, icmp_msgs_per_sec = 1000 has refilled 20 tokens.
  lan.world.run_for(20ms);
  flood(200);
  lan.world.settle();
  EXPECT_EQ(lan.b.counters().UdpNoPorts, 400u);
  EXPECT_EQ(lan.b.counters().IcmpOutDestUnreachs, 70u);
  EXPECT_EQ(lan.b.counters().IcmpOutRateLimited, 330u);
  // A long pause refills only up to the burst.
  lan.world.run_for(10s);
  flood(200);
  lan.world.settle();
  EXPECT_EQ(lan.b.counters().IcmpOutDestUnreachs, 120u);
  EXPECT_EQ(lan.b.counters().IcmpOutDestUnreachs + lan.b.counters().IcmpOutRateLimited,
            lan.b.counters().UdpNoPorts);
}

TEST(IcmpErrors, ErrorsToOneHostAreLimitedToSixThenOneASecond) {
  // Linux net.ipv4.icmp_ratelimit = 1000 ms per destination, XRLIM_BURST_FACTOR 6;
  // another host has its own allowance.
  Lan lan;
  lan.know_raw();
  ASSERT_TRUE(lan.a.add_static_arp(kIpB, kMacB).ok());
  ASSERT_TRUE(lan.b.add_static_arp(kIpA, kMacA).ok());
  lan.world.settle();
  const SocketId s = udp_socket(lan.a);
  const Bytes data = pattern(8);
  auto flood = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const Endpoint to{kIpB, static_cast<std::uint16_t>(20000 + i)};
      ASSERT_TRUE(lan.a.send_to(s, data, &to, 0).ok());
    }
    lan.world.settle();
  };
  flood(20);
  EXPECT_EQ(lan.b.counters().UdpNoPorts, 20u);
  EXPECT_EQ(lan.b.counters().IcmpOutDestUnreachs, 6u);
  EXPECT_EQ(lan.b.counters().IcmpOutRateLimitHost, 14u);
  EXPECT_EQ(lan.b.counters().IcmpOutRateLimited, 0u);  // the host-wide bucket is not spent by them
  // Another source still gets its error.
  lan.inject(raw_ip_frame(kMacB, ip_packet(kIpRaw, kIpB, wire::ip_proto::udp,
                                           udp_segment(kIpRaw, kIpB, 5000, 20000, data))));
  lan.world.settle();
  EXPECT_EQ(icmp_in(lan.drain_raw()).size(), 1u);
  EXPECT_EQ(lan.b.counters().IcmpOutDestUnreachs, 7u);
  // A second later, one more for A.
  lan.world.run_for(1s);
  flood(5);
  EXPECT_EQ(lan.b.counters().IcmpOutDestUnreachs, 8u);
}

}  // namespace
}  // namespace ustack::simtest
