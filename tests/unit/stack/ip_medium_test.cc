// An interface on an IP-medium device (TUN): bare datagrams, no Ethernet, no ARP.
#include <gtest/gtest.h>

#include <vector>

#include "link/loopback.h"
#include "stack/stack.h"
#include "support/hand_fed_device.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

namespace ustack::stack {
namespace {

using base::Ipv4Addr;

using testing::HandFedDevice;

std::vector<base::Byte> echo_request(Ipv4Addr src, Ipv4Addr dst) {
  const std::vector<base::Byte> data(16, 0x5a);
  const auto icmp = wire::IcmpRepr::echo_request(7, 1, data);
  std::vector<base::Byte> pkt(20 + icmp.buffer_len());
  icmp.emit(base::MutByteSpan(pkt).subspan(20));
  wire::Ipv4Repr ip{src, dst, wire::ip_proto::icmp, 64};
  ip.payload_len = static_cast<std::uint16_t>(icmp.buffer_len());
  ip.emit(pkt);
  return pkt;
}

TEST(IpMedium, AnswersPingWithABareDatagramAndSendsNoArp) {
  HandFedDevice tun;
  Stack s;
  s.add_interface(tun, {"tun0", {}, {Ipv4Addr(198, 18, 1, 2), 24}, std::nullopt});
  tun.in.push_back(echo_request(Ipv4Addr(198, 18, 1, 1), Ipv4Addr(198, 18, 1, 2)));
  s.poll(base::kEpoch);
  ASSERT_EQ(tun.out.size(), 1u);  // the reply only: no gratuitous ARP on a TUN
  auto ip = wire::Ipv4View::parse(tun.out[0]);
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->dst(), Ipv4Addr(198, 18, 1, 1));
  auto icmp = wire::IcmpView::parse(ip->payload());
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->type(), wire::icmp_type::echo_reply);
}

TEST(IpMedium, Ipv6DatagramsAreCountedApartFromIpv4HeaderErrors) {
  HandFedDevice tun;
  Stack s;
  s.add_interface(tun, {"tun0", {}, {Ipv4Addr(198, 18, 1, 2), 24}, std::nullopt});
  // An IPv6 router solicitation as the kernel sends on a new TUN (version 6).
  std::vector<base::Byte> v6(48, 0);
  v6[0] = 0x60;
  v6[6] = 58;  // next header: ICMPv6
  tun.in.push_back(v6);
  s.poll(base::kEpoch);
  EXPECT_EQ(s.counters().DropNotIpv4, 1u);
  EXPECT_EQ(s.counters().IpInHdrErrors, 0u);
  EXPECT_EQ(s.counters().IpInReceives, 0u);
  EXPECT_TRUE(tun.out.empty());
}

}  // namespace
}  // namespace ustack::stack
