// A datagram with a malformed IP option is discarded with a parameter problem
// (RFC 1122 3.2.2.5; Linux ip_options_compile), a well-formed one is passed by
// (RFC 1122 3.2.1.8: options a host does not implement MUST be ignored).
#include <gtest/gtest.h>

#include <vector>

#include "stack/stack.h"
#include "support/hand_fed_device.h"
#include "wire/checksum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

namespace ustack::stack {
namespace {

using base::Ipv4Addr;

using testing::HandFedDevice;

/// An echo request with a 4-byte option area holding `options`.
std::vector<base::Byte> echo_with_options(std::vector<base::Byte> options) {
  const auto icmp = wire::IcmpRepr::echo_request(1, 1, {});
  std::vector<base::Byte> pkt(24 + icmp.buffer_len());
  icmp.emit(base::MutByteSpan(pkt).subspan(24));
  pkt[0] = 0x46;  // version 4, IHL 6
  base::store_be16(pkt, 2, static_cast<std::uint16_t>(pkt.size()));
  pkt[8] = 64;
  pkt[9] = wire::ip_proto::icmp;
  base::store_be32(pkt, 12, Ipv4Addr(198, 18, 1, 1).value());
  base::store_be32(pkt, 16, Ipv4Addr(198, 18, 1, 2).value());
  std::copy(options.begin(), options.end(), pkt.begin() + 20);
  base::store_be16(pkt, 10, wire::internet_checksum(base::ByteSpan(pkt).first(24)));
  return pkt;
}

struct Fixture {
  HandFedDevice tun;
  Stack stack;
  Fixture() { stack.add_interface(tun, {"tun0", {}, {Ipv4Addr(198, 18, 1, 2), 24}, std::nullopt}); }
  std::optional<wire::IcmpView> reply_icmp(std::size_t i = 0) {
    if (tun.out.size() <= i) return std::nullopt;
    auto ip = wire::Ipv4View::parse(tun.out[i]);
    if (!ip) return std::nullopt;
    auto icmp = wire::IcmpView::parse(ip->payload());
    if (!icmp) return std::nullopt;
    return *icmp;
  }
};

TEST(IpOptions, WellFormedUnknownOptionIsIgnoredAndPingAnswered) {
  Fixture f;
  f.tun.in.push_back(echo_with_options({0x94, 4, 0, 0}));  // router alert
  f.stack.poll(base::kEpoch);
  auto icmp = f.reply_icmp();
  ASSERT_TRUE(icmp.has_value());
  EXPECT_EQ(icmp->type(), wire::icmp_type::echo_reply);
  EXPECT_EQ(f.stack.counters().DropIpBadOptions, 0u);
}

TEST(IpOptions, MalformedOptionIsDiscardedWithParameterProblemPointingAtIt) {
  Fixture f;
  f.tun.in.push_back(echo_with_options({7, 255, 4, 0}));  // record route, length past the header
  f.stack.poll(base::kEpoch);
  EXPECT_EQ(f.stack.counters().DropIpBadOptions, 1u);
  EXPECT_EQ(f.stack.counters().IpInHdrErrors, 1u);
  EXPECT_EQ(f.stack.counters().IcmpInEchos, 0u);  // never reached ICMP
  auto icmp = f.reply_icmp();
  ASSERT_TRUE(icmp.has_value());
  EXPECT_EQ(icmp->type(), wire::icmp_type::param_problem);
  EXPECT_EQ(icmp->rest() >> 24, 20u);  // RFC 792: the pointer names the octet of the error
  EXPECT_EQ(f.tun.out.size(), 1u);     // no echo reply
}

}  // namespace
}  // namespace ustack::stack
