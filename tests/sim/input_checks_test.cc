// What a host must drop on input (RFC 1122 3.2.1: IP header checks and martian
// addresses; 4.1.3.4 and 3.2.2: UDP and ICMP checksums; link-layer filtering),
// counted by reason, without losing its ability to answer afterwards.
#include "helpers.h"
#include "support/hand_fed_device.h"
#include "wire/checksum.h"

namespace ustack::simtest {
namespace {

/// Injects frames from the raw port at B, then checks that A can still ping B.
struct InputFixture : ::testing::Test {
  InputFixture() {
    lan.know_raw();
    lan.world.settle();
    lan.drain_raw();
  }
  void send(const Bytes& frame) {
    lan.inject(frame);
    lan.world.settle();
  }
  Bytes udp_ip(Ipv4Addr src, Ipv4Addr dst, std::uint16_t dport = 9) {
    return ip_packet(src, dst, wire::ip_proto::udp, udp_segment(src, dst, 4000, dport, pattern(12)));
  }
  void expect_ping_still_answered() {
    auto raw = lan.a.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    ASSERT_TRUE(raw.ok());
    const Bytes msg = icmp_message(wire::IcmpRepr::echo_request(99, 1, pattern(8)));
    const Endpoint to{kIpB, 0};
    ASSERT_TRUE(lan.a.send_to(*raw, msg, &to, 0).ok());
    EXPECT_TRUE(lan.world.run_until([&] { return readable(lan.a, *raw); }, 1s));
    EXPECT_EQ(lan.b.counters().IcmpOutEchoReps, 1u);
  }
  /// Nothing but counters changed: no ICMP came back to the raw host.
  void expect_silence() { EXPECT_TRUE(icmp_in(lan.drain_raw()).empty()); }

  Lan lan;
};

TEST_F(InputFixture, BadIpHeaderChecksumIsDropped) {
  Bytes ip = udp_ip(kIpRaw, kIpB);
  ip[10] ^= 0x01;
  send(raw_ip_frame(kMacB, ip));
  // RFC 1122 3.2.1.2: "A host MUST verify the IP header checksum on every received
  // datagram and silently discard every datagram that has a bad checksum."
  EXPECT_EQ(lan.b.counters().IpInCsumErrors, 1u);
  EXPECT_EQ(lan.b.counters().IpInHdrErrors, 1u);
  EXPECT_EQ(lan.b.counters().UdpNoPorts, 0u);
  expect_silence();
  expect_ping_still_answered();
}

TEST_F(InputFixture, HeaderLengthBelowFiveWordsIsDropped) {
  Bytes ip = udp_ip(kIpRaw, kIpB);
  ip[0] = 0x44;  // IHL 4
  // RFC 791 3.1: "the minimum value for a correct header is 5".
  send(raw_ip_frame(kMacB, ip));
  EXPECT_EQ(lan.b.counters().IpInHdrErrors, 1u);
  EXPECT_EQ(lan.b.counters().IpInTruncatedPkts, 0u);
  expect_silence();
  expect_ping_still_answered();
}

TEST_F(InputFixture, TotalLengthBeyondTheFrameIsDropped) {
  Bytes ip = udp_ip(kIpRaw, kIpB);
  base::store_be16(ip, 2, static_cast<std::uint16_t>(ip.size() + 100));
  base::store_be16(ip, 10, 0);
  base::store_be16(ip, 10, wire::internet_checksum(base::ByteSpan(ip).first(20)));
  send(raw_ip_frame(kMacB, ip));
  // RFC 1122 3.2.1.1/3.2.1.2 discard: the datagram is shorter than it claims.
  EXPECT_EQ(lan.b.counters().IpInTruncatedPkts, 1u);
  EXPECT_EQ(lan.b.counters().IpInHdrErrors, 1u);
  expect_silence();
  expect_ping_still_answered();
}

TEST_F(InputFixture, BadUdpChecksumIsDropped) {
  Bytes ip = udp_ip(kIpRaw, kIpB);
  ip[20 + 8] ^= 0xff;  // a data byte: the checksum no longer matches
  send(raw_ip_frame(kMacB, ip));
  // RFC 1122 4.1.3.4: "If a UDP datagram is received with a checksum that is non-
  // zero and invalid, UDP MUST silently discard the datagram." No port unreachable.
  EXPECT_EQ(lan.b.counters().UdpInCsumErrors, 1u);
  EXPECT_EQ(lan.b.counters().UdpInErrors, 1u);
  EXPECT_EQ(lan.b.counters().UdpNoPorts, 0u);
  expect_silence();
  expect_ping_still_answered();
}

TEST_F(InputFixture, BadIcmpChecksumIsDropped) {
  Bytes icmp = icmp_message(wire::IcmpRepr::echo_request(5, 5, pattern(16)));
  icmp[2] ^= 0x10;
  send(raw_ip_frame(kMacB, ip_packet(kIpRaw, kIpB, wire::ip_proto::icmp, icmp)));
  EXPECT_EQ(lan.b.counters().IcmpInCsumErrors, 1u);
  EXPECT_EQ(lan.b.counters().IcmpInErrors, 1u);
  EXPECT_EQ(lan.b.counters().IcmpInEchos, 0u);
  EXPECT_TRUE(icmp_in(lan.drain_raw()).empty());  // no echo reply
  expect_ping_still_answered();
}

TEST_F(InputFixture, UnknownEthertypeIsDropped) {
  send(eth_frame(kMacB, kMacRaw, 0x88b5, pattern(46)));
  EXPECT_EQ(lan.b.counters().DropEthUnknownType, 1u);
  EXPECT_EQ(lan.b.counters().IpInReceives, 0u);
  expect_ping_still_answered();
}

TEST_F(InputFixture, FrameForAnotherMacIsDropped) {
  // The switch has not learned 02:..:55, so it floods the frame to B as well.
  const MacAddr other({0x02, 0, 0, 0, 0, 0x55});
  send(raw_ip_frame(other, udp_ip(kIpRaw, kIpB)));
  EXPECT_EQ(lan.b.counters().DropEthNotForUs, 1u);
  EXPECT_EQ(lan.a.counters().DropEthNotForUs, 1u);
  EXPECT_EQ(lan.b.counters().IpInReceives, 0u);
  expect_silence();
  expect_ping_still_answered();
}

TEST_F(InputFixture, EthernetHeaderWithoutIpIsTruncated) {
  send(eth_frame(kMacB, kMacRaw, static_cast<std::uint16_t>(wire::EtherType::ipv4), Bytes(10)));
  EXPECT_EQ(lan.b.counters().IpInTruncatedPkts, 1u);
  EXPECT_EQ(lan.b.counters().IpInHdrErrors, 1u);
  expect_ping_still_answered();
}

TEST_F(InputFixture, MartianSourcesAreDroppedAndCounted) {
  // RFC 1122 3.2.1.3: a host MUST silently discard an incoming datagram whose source
  // is a broadcast or multicast address, {0, <Host-number>} ("this network" other
  // than 0.0.0.0 itself), {127, <any>} from outside, or class E.
  const Ipv4Addr martians[] = {
      Ipv4Addr(127, 0, 0, 1), Ipv4Addr(0, 1, 2, 3),       Ipv4Addr(224, 0, 0, 5),
      Ipv4Addr::broadcast(),  Ipv4Addr(240, 0, 0, 1),     kSubnetBcast,
  };
  std::uint64_t n = 0;
  for (Ipv4Addr src : martians) {
    send(raw_ip_frame(kMacB, udp_ip(src, kIpB)));
    ++n;
    EXPECT_EQ(lan.b.counters().DropIpMartianSource, n) << src.to_string();
    EXPECT_EQ(lan.b.counters().IpInAddrErrors, n) << src.to_string();
  }
  EXPECT_EQ(lan.b.counters().UdpNoPorts, 0u);
  EXPECT_EQ(lan.b.counters().IcmpOutMsgs, 0u);
  expect_silence();
  expect_ping_still_answered();
}

TEST_F(InputFixture, LandAttackFromOwnAddressIsDropped) {
  // The land attack (CVE-1999-0016): a SYN from B's own address and port to
  // itself. Linux drops a datagram from outside whose source is one of its own
  // addresses (fib_validate_source: martian source); before ustack did, B
  // answered itself and each answer drew another, without end.
  auto l = *lan.b.socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(lan.b.bind(l, {Ipv4Addr::any(), 80}).ok());
  ASSERT_TRUE(lan.b.listen(l, 8).ok());
  wire::TcpRepr syn;
  syn.src_port = 80;
  syn.dst_port = 80;
  syn.seq = 1000;
  syn.flags = wire::tcp_flag::syn;
  syn.window = 8192;
  Bytes seg(syn.header_len());
  syn.emit(seg, kIpB, kIpB);
  const std::uint64_t out_before = lan.b.counters().IpOutRequests;
  for (int i = 0; i < 3; ++i) send(raw_ip_frame(kMacB, ip_packet(kIpB, kIpB, wire::ip_proto::tcp, seg)));
  send(raw_ip_frame(kMacB, udp_ip(kIpB, kIpB)));
  EXPECT_EQ(lan.b.counters().DropIpMartianSource, 4u);
  EXPECT_EQ(lan.b.counters().TcpInSegs, 0u);
  EXPECT_EQ(lan.b.counters().TcpPassiveOpens, 0u);
  EXPECT_EQ(lan.b.counters().IpOutRequests, out_before) << "B answered a datagram from its own address";
  expect_silence();
  expect_ping_still_answered();
}

TEST_F(InputFixture, DatagramForAnotherHostIsNotForwarded) {
  // RFC 1122 3.3.1: a host that is not a gateway does not forward.
  send(raw_ip_frame(kMacB, udp_ip(kIpRaw, Ipv4Addr(203, 0, 113, 9))));
  EXPECT_EQ(lan.b.counters().DropIpNotForHost, 1u);
  EXPECT_EQ(lan.b.counters().UdpNoPorts, 0u);
  expect_silence();
}

}  // namespace
}  // namespace ustack::simtest

namespace ustack::simtest {
namespace {

/// Lets a frame shorter than an Ethernet header (which a SimPort refuses to send) reach a stack.
struct QueueDevice : ustack::testing::HandFedDevice {
  QueueDevice() : HandFedDevice(link::Medium::ethernet) {}
};

TEST(InputChecks, TruncatedEthernetFrameIsDropped) {
  QueueDevice dev;
  host::SimWorld world;
  Stack& s = world.add_host("q", dev, {kIpB, 24});
  world.settle();
  dev.in.push_back(Bytes{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0});  // 9 bytes
  world.settle();
  EXPECT_EQ(s.counters().DropEthTruncated, 1u);
  EXPECT_EQ(s.counters().IpInReceives, 0u);
}

}  // namespace
}  // namespace ustack::simtest
