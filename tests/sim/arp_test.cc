// ARP on the simulated LAN: the announcement at start (RFC 5227 2.3), retries and
// failure towards an absent neighbour (RFC 1122 2.3.2.1), reported to the socket
// as Linux does (EHOSTUNREACH).
#include "helpers.h"

namespace ustack::simtest {
namespace {

std::vector<wire::ArpRepr> arps_in(const std::vector<Bytes>& frames, std::vector<MacAddr>* eth_dst = nullptr) {
  std::vector<wire::ArpRepr> out;
  for (const auto& f : frames) {
    auto eth = wire::EthernetView::parse(f);
    if (!eth || eth->ethertype() != static_cast<std::uint16_t>(wire::EtherType::arp)) continue;
    auto arp = wire::ArpRepr::parse(eth->payload());
    if (!arp) continue;
    out.push_back(*arp);
    if (eth_dst) eth_dst->push_back(eth->dst());
  }
  return out;
}

TEST(Arp, GratuitousAnnouncementAtFirstPoll) {
  Lan lan;
  EXPECT_EQ(lan.a.counters().ArpOutRequests, 0u);
  lan.world.settle();
  EXPECT_EQ(lan.a.counters().ArpOutRequests, 1u);
  std::vector<MacAddr> dsts;
  auto arps = arps_in(lan.drain_raw(), &dsts);
  ASSERT_EQ(arps.size(), 2u);  // A's and B's
  for (std::size_t i = 0; i < arps.size(); ++i) {
    // RFC 5227 2.3: an ARP Announcement is "an ARP Request packet, broadcast on the
    // local link" with "both the sender and target IP addresses ... set to the
    // host's newly selected IPv4 address"; the target hardware address is zero.
    EXPECT_EQ(arps[i].op, wire::ArpOp::request);
    EXPECT_EQ(arps[i].sender_ip, arps[i].target_ip);
    EXPECT_TRUE(arps[i].target_mac.is_zero());
    EXPECT_TRUE(dsts[i].is_broadcast());
  }
  EXPECT_EQ(arps[0].sender_ip, kIpA);
  EXPECT_EQ(arps[0].sender_mac, kMacA);
  EXPECT_EQ(arps[1].sender_ip, kIpB);
  // Only once.
  lan.world.run_for(5s);
  EXPECT_EQ(lan.a.counters().ArpOutRequests, 1u);
  EXPECT_TRUE(arps_in(lan.drain_raw()).empty());
}

TEST(Arp, UnansweredNeighbourGetsThreeRequestsOneSecondApartThenHostUnreachable) {
  Lan lan;
  lan.world.settle();
  lan.drain_raw();
  const SocketId s = udp_socket(lan.a);
  ASSERT_TRUE(lan.a.connect(s, Endpoint{kIpAbsent, 9}).ok());
  const base::Instant t0 = lan.world.now();
  const Bytes data = pattern(10);
  ASSERT_TRUE(lan.a.send_to(s, data, nullptr, 0).ok());

  std::vector<base::Duration> request_times;
  std::optional<base::Duration> error_at;
  for (int step = 0; step <= 60; ++step) {  // 6 s in 100 ms steps
    if (step > 0) lan.world.run_for(100ms);
    else lan.world.settle();
    for (const auto& arp : arps_in(lan.drain_raw())) {
      if (arp.op == wire::ArpOp::request && arp.target_ip == kIpAbsent && arp.sender_ip == kIpA)
        request_times.push_back(lan.world.now() - t0);
    }
    if (!error_at && (lan.a.readiness(s) & POLLERR)) error_at = lan.world.now() - t0;
  }
  // ArpConfig: max_requests 3, retry_interval 1 s (Linux mcast_solicit 3, retrans_time 1 s).
  ASSERT_EQ(request_times.size(), 3u);
  EXPECT_EQ(request_times[0], 0s);  // at once
  EXPECT_EQ(request_times[1] - request_times[0], 1s);
  EXPECT_EQ(request_times[2] - request_times[1], 1s);
  ASSERT_TRUE(error_at);
  EXPECT_GT(*error_at, request_times[2]);
  EXPECT_LE(*error_at, request_times[2] + 1100ms);
  EXPECT_EQ(lan.a.counters().DropArpUnresolved, 1u);
  // Linux reports an unresolved neighbour to the sending socket as EHOSTUNREACH, once.
  Bytes buf(100);
  auto r = lan.a.recv_from(s, buf, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Errc::host_unreachable);
  r = lan.a.recv_from(s, buf, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Errc::would_block);
}

TEST(Arp, RequestForUsIsAnsweredToTheAskerAndTeachesUsTheSender) {
  Lan lan;
  lan.world.settle();
  lan.drain_raw();
  wire::ArpRepr req{wire::ArpOp::request, kMacRaw, kIpRaw, MacAddr(), kIpB};
  Bytes arp(wire::ArpView::kLen);
  req.emit(arp);
  lan.inject(eth_frame(MacAddr::broadcast(), kMacRaw, static_cast<std::uint16_t>(wire::EtherType::arp), arp));
  lan.world.settle();
  std::vector<MacAddr> dsts;
  auto replies = arps_in(lan.drain_raw(), &dsts);
  ASSERT_EQ(replies.size(), 1u);
  // RFC 826: "swap fields, putting the local hardware and protocol addresses in the
  // sender fields ... Send the packet to the (new) target hardware address".
  EXPECT_EQ(replies[0].op, wire::ArpOp::reply);
  EXPECT_EQ(replies[0].sender_ip, kIpB);
  EXPECT_EQ(replies[0].sender_mac, kMacB);
  EXPECT_EQ(replies[0].target_ip, kIpRaw);
  EXPECT_EQ(replies[0].target_mac, kMacRaw);
  EXPECT_EQ(dsts[0], kMacRaw);
  auto entries = lan.b.arp_entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].ip, kIpRaw);
  EXPECT_EQ(entries[0].mac, kMacRaw);
  // A was not the target: RFC 826 adds the sender only "if I am the target".
  EXPECT_TRUE(lan.a.arp_entries().empty());
  EXPECT_EQ(lan.a.counters().DropArpNotForUs, 2u);  // B's announcement and this request
}

}  // namespace
}  // namespace ustack::simtest
