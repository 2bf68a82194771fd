// ICMP errors for TCP (RFC 1122 4.2.3.9, RFC 5927) and IP options of TCP sockets.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>

#include "stack/stack.h"
#include "support/hand_fed_device.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

namespace ustack::stack {
namespace {

using base::Ipv4Addr;
using testing::HandFedDevice;

const Ipv4Addr kLocal(198, 18, 1, 2), kRemote(198, 18, 1, 1);

struct Fixture {
  HandFedDevice tun;
  Stack stack;
  SocketId sock;
  Fixture(int ttl = -1) {
    stack.add_interface(tun, {"tun0", {}, {kLocal, 24}, std::nullopt});
    sock = *stack.socket(AF_INET, SOCK_STREAM, 0);
    if (ttl != -1) {
      EXPECT_TRUE(stack.set_option(sock, IPPROTO_IP, IP_TTL, ttl).ok());
    }
    EXPECT_EQ(stack.connect(sock, base::Endpoint{kRemote, 80}).error(), base::Errc::in_progress);
  }
  /// The SYN the stack sent.
  std::vector<base::Byte> syn() const { return tun.out.at(0); }
  /// An ICMP error from the remote host quoting `quoted` (its header + 8 bytes).
  void inject_icmp(std::uint8_t type, std::uint8_t code, std::vector<base::Byte> quoted) {
    quoted.resize(28);
    wire::IcmpRepr err{type, code, 0, quoted};
    std::vector<base::Byte> pkt(20 + err.buffer_len());
    err.emit(base::MutByteSpan(pkt).subspan(20));
    wire::Ipv4Repr ip{kRemote, kLocal, wire::ip_proto::icmp, 64};
    ip.payload_len = static_cast<std::uint16_t>(err.buffer_len());
    ip.emit(pkt);
    tun.in.push_back(pkt);
    stack.poll(base::kEpoch + std::chrono::milliseconds(10));
  }
};

TEST(TcpIcmp, HostUnreachableAbortsAConnectionStillOpening) {
  Fixture f;
  f.inject_icmp(wire::icmp_type::dest_unreachable, wire::icmp_unreach::host, f.syn());
  EXPECT_NE(f.stack.readiness(f.sock) & POLLERR, 0);
  EXPECT_EQ(*f.stack.get_option(f.sock, SOL_SOCKET, SO_ERROR), EHOSTUNREACH);
}

TEST(TcpIcmp, PortUnreachableRefusesTheConnection) {
  Fixture f;
  f.inject_icmp(wire::icmp_type::dest_unreachable, wire::icmp_unreach::port, f.syn());
  EXPECT_EQ(*f.stack.get_option(f.sock, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
}

TEST(TcpIcmp, AnErrorQuotingASequenceNumberNeverSentIsIgnored) {
  // RFC 5927 4.1: the quoted sequence number must lie in [SND.UNA, SND.MAX).
  Fixture f;
  auto forged = f.syn();
  base::store_be32(forged, 20 + 4, base::load_be32(forged, 20 + 4) + 100000);
  f.inject_icmp(wire::icmp_type::dest_unreachable, wire::icmp_unreach::port, forged);
  EXPECT_EQ(f.stack.readiness(f.sock) & POLLERR, 0);
  EXPECT_EQ(*f.stack.get_option(f.sock, SOL_SOCKET, SO_ERROR), 0);
}

TEST(TcpIcmp, IpTtlOfAStreamSocketIsUsedForItsSegments) {
  // RFC 9293 MUST-49 (via RFC 1122 4.2.4.2): the application may set the TTL.
  Fixture f(7);
  const auto syn = f.syn();
  auto ip = wire::Ipv4View::parse(syn);
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->ttl(), 7);
  EXPECT_EQ(ip->protocol(), wire::ip_proto::tcp);
  EXPECT_TRUE(ip->dont_fragment());  // TCP segments carry DF, as Linux's (path MTU discovery)
}

}  // namespace
}  // namespace ustack::stack
