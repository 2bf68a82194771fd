// Ping between two stacks on a switch through a raw ICMP socket (raw(7)): echo
// (RFC 792, RFC 1122 3.2.2.6), the ARP exchange it starts (RFC 826), and the
// fragmentation and reassembly of an echo larger than the MTU (RFC 791 3.2).
#include "helpers.h"

namespace ustack::simtest {
namespace {

struct EchoReply {
  wire::Ipv4Repr ip;
  std::uint16_t ident, seq;
  Bytes data;
  std::size_t header_len;
};

/// Sends an echo request from `from` to dst on a raw ICMP socket and waits up to
/// 2 s for a reply; returns the reply as the raw socket delivered it.
std::optional<EchoReply> ping(Lan& lan, Stack& from, SocketId raw, Ipv4Addr dst, std::uint16_t ident,
                              std::uint16_t seq, const Bytes& data) {
  const Bytes msg = icmp_message(wire::IcmpRepr::echo_request(ident, seq, data));
  const Endpoint to{dst, 0};
  auto sent = from.send_to(raw, msg, &to, 0);
  EXPECT_TRUE(sent.ok());
  EXPECT_EQ(*sent, msg.size());
  if (!lan.world.run_until([&] { return readable(from, raw); }, 2s)) return std::nullopt;
  Bytes buf(70000);
  auto r = from.recv_from(raw, buf, 0);
  EXPECT_TRUE(r.ok());
  if (!r) return std::nullopt;
  EXPECT_EQ(r->copied, r->full_len);
  EXPECT_EQ(r->from.addr, base::IpAddr(dst));
  const base::ByteSpan got(buf.data(), r->copied);
  // raw(7): "For receiving, the IP header is always included in the packet."
  auto ip = wire::Ipv4Repr::parse(got);
  EXPECT_TRUE(ip.ok());
  if (!ip) return std::nullopt;
  const std::size_t hl = std::size_t{got[0] & 0xfu} * 4;
  auto icmp = wire::IcmpRepr::parse(got.subspan(hl));
  EXPECT_TRUE(icmp.ok());
  if (!icmp) return std::nullopt;
  EXPECT_EQ(icmp->type, wire::icmp_type::echo_reply);
  EXPECT_EQ(icmp->code, 0);
  return EchoReply{*ip, icmp->ident(), icmp->seq(), Bytes(icmp->data.begin(), icmp->data.end()), hl};
}

TEST(Ping, EchoReplyCarriesIdentSeqAndDataWithTheIpHeader) {
  Lan lan;
  lan.world.settle();  // both announce themselves first
  auto raw = lan.a.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  ASSERT_TRUE(raw.ok());
  const Bytes data = pattern(56);
  auto reply = ping(lan, lan.a, *raw, kIpB, 0x1234, 1, data);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->ip.src, kIpB);
  EXPECT_EQ(reply->ip.dst, kIpA);
  EXPECT_EQ(reply->ip.protocol, wire::ip_proto::icmp);
  EXPECT_EQ(reply->ip.payload_len, 8 + data.size());
  EXPECT_EQ(reply->header_len, 20u);
  // RFC 792: "The data received in the echo message must be returned in the echo
  // reply message"; identifier and sequence number are returned too.
  EXPECT_EQ(reply->ident, 0x1234);
  EXPECT_EQ(reply->seq, 1);
  EXPECT_EQ(reply->data, data);
  EXPECT_EQ(lan.b.counters().IcmpInEchos, 1u);
  EXPECT_EQ(lan.b.counters().IcmpOutEchoReps, 1u);
  EXPECT_EQ(lan.a.counters().IcmpInEchoReps, 1u);
}

TEST(Ping, FirstPingResolvesWithExactlyOneArpRequestAndReply) {
  Lan lan;
  lan.world.settle();
  // Each stack announced itself once (RFC 5227 2.3), and nothing else.
  EXPECT_EQ(lan.a.counters().ArpOutRequests, 1u);
  EXPECT_EQ(lan.b.counters().ArpOutRequests, 1u);
  EXPECT_TRUE(lan.a.arp_entries().empty());
  const auto a0 = lan.a.counters();
  const auto b0 = lan.b.counters();

  auto raw = lan.a.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(ping(lan, lan.a, *raw, kIpB, 7, 1, pattern(32)));
  EXPECT_EQ(lan.a.counters().ArpOutRequests - a0.ArpOutRequests, 1u);
  EXPECT_EQ(lan.a.counters().ArpInReplies - a0.ArpInReplies, 1u);
  EXPECT_EQ(lan.b.counters().ArpInRequests - b0.ArpInRequests, 1u);
  EXPECT_EQ(lan.b.counters().ArpOutReplies - b0.ArpOutReplies, 1u);
  // RFC 826: B, the target, merged A's pair, so its reply needed no request of its own.
  EXPECT_EQ(lan.b.counters().ArpOutRequests, b0.ArpOutRequests);

  auto a_entries = lan.a.arp_entries();
  ASSERT_EQ(a_entries.size(), 1u);
  EXPECT_EQ(a_entries[0].ip, kIpB);
  EXPECT_EQ(a_entries[0].mac, kMacB);
  EXPECT_EQ(a_entries[0].state, ip::ArpEntryInfo::State::reachable);
  auto b_entries = lan.b.arp_entries();
  ASSERT_EQ(b_entries.size(), 1u);
  EXPECT_EQ(b_entries[0].ip, kIpA);
  EXPECT_EQ(b_entries[0].mac, kMacA);
  EXPECT_EQ(b_entries[0].state, ip::ArpEntryInfo::State::reachable);

  // The second ping finds both caches warm.
  ASSERT_TRUE(ping(lan, lan.a, *raw, kIpB, 7, 2, pattern(32)));
  EXPECT_EQ(lan.a.counters().ArpOutRequests - a0.ArpOutRequests, 1u);
  EXPECT_EQ(lan.b.counters().ArpOutReplies - b0.ArpOutReplies, 1u);
}

TEST(Ping, AboveTheMtuIsFragmentedBothWaysAndReassembledByteExact) {
  Lan lan;
  lan.world.settle();
  auto raw = lan.a.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  ASSERT_TRUE(raw.ok());
  const Bytes data = pattern(4000, 3);
  auto reply = ping(lan, lan.a, *raw, kIpB, 0xbeef, 9, data);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->ident, 0xbeef);
  EXPECT_EQ(reply->seq, 9);
  EXPECT_EQ(reply->data, data);
  EXPECT_EQ(reply->ip.payload_len, 8u + 4000u);
  // 4008 bytes of ICMP over an MTU of 1500: RFC 791 fragments carry 1480, 1480
  // and 1048 payload bytes (every one but the last a multiple of 8).
  EXPECT_EQ(lan.a.counters().IpFragCreates, 3u);
  EXPECT_EQ(lan.a.counters().IpFragOKs, 1u);
  EXPECT_EQ(lan.b.counters().IpReasmReqds, 3u);
  EXPECT_EQ(lan.b.counters().IpReasmOKs, 1u);
  EXPECT_EQ(lan.b.counters().IpFragCreates, 3u);
  EXPECT_EQ(lan.a.counters().IpReasmOKs, 1u);
  EXPECT_EQ(lan.a.counters().IpReasmFails, 0u);
  // No fragment exceeded the MTU (the port refuses larger frames).
  EXPECT_EQ(lan.port_a.stats().tx_dropped, 0u);
  EXPECT_EQ(lan.port_b.stats().tx_dropped, 0u);
}

TEST(Ping, FragmentsOnTheWireHaveRfc791Offsets) {
  Lan lan;
  lan.world.settle();
  lan.know_raw();
  auto raw = lan.a.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  ASSERT_TRUE(raw.ok());
  const Bytes msg = icmp_message(wire::IcmpRepr::echo_request(1, 1, pattern(4000)));
  const Endpoint to{kIpRaw, 0};
  ASSERT_TRUE(lan.a.send_to(*raw, msg, &to, 0).ok());
  lan.world.settle();
  std::vector<std::tuple<std::uint32_t, bool, std::size_t>> frags;
  for (const auto& p : ipv4_packets(lan.drain_raw())) {
    auto ip = wire::Ipv4View::parse(p);
    ASSERT_TRUE(ip.ok());
    EXPECT_TRUE(ip->checksum_ok());
    EXPECT_FALSE(ip->dont_fragment());
    frags.emplace_back(ip->frag_offset(), ip->more_fragments(), ip->payload().size());
  }
  const std::vector<std::tuple<std::uint32_t, bool, std::size_t>> expected{
      {0, true, 1480}, {1480, true, 1480}, {2960, false, 1048}};
  EXPECT_EQ(frags, expected);
}

}  // namespace
}  // namespace ustack::simtest
