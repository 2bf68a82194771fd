// ICMP errors for TCP (RFC 1122 4.2.3.9, RFC 5927) and IP options of TCP sockets.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
  /// An ICMP error from the remote host quoting `quoted` (its header + 8 bytes);
  /// `rest` is the word after the checksum (the next-hop MTU for frag-needed).
  void inject_icmp(std::uint8_t type, std::uint8_t code, std::vector<base::Byte> quoted,
                   std::uint32_t rest = 0) {
    quoted.resize(28);
    wire::IcmpRepr err{type, code, rest, quoted};
    std::vector<base::Byte> pkt(20 + err.buffer_len());
    err.emit(base::MutByteSpan(pkt).subspan(20));
    wire::Ipv4Repr ip{kRemote, kLocal, wire::ip_proto::icmp, 64};
    ip.payload_len = static_cast<std::uint16_t>(err.buffer_len());
    ip.emit(pkt);
    tun.in.push_back(pkt);
    stack.poll(base::kEpoch + std::chrono::milliseconds(10));
  }
  /// Completes the handshake with a SYN-ACK offering MSS 1460.
  void establish();
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

namespace ustack::stack {
namespace {

/// A TCP/IPv4 packet from the remote host.
std::vector<base::Byte> segment_from_remote(const wire::TcpRepr& tcp) {
  std::vector<base::Byte> pkt(20 + tcp.header_len());
  tcp.emit(base::MutByteSpan(pkt).subspan(20), kRemote, kLocal);
  wire::Ipv4Repr ip{kRemote, kLocal, wire::ip_proto::tcp, 64};
  ip.payload_len = static_cast<std::uint16_t>(tcp.header_len());
  ip.emit(pkt);
  return pkt;
}

void Fixture::establish() {
  const auto s = syn();
  wire::TcpRepr synack;
  synack.src_port = 80;
  synack.dst_port = base::load_be16(s, 20);
  synack.seq = 5000;
  synack.ack = base::load_be32(s, 20 + 4) + 1;
  synack.flags = wire::tcp_flag::syn | wire::tcp_flag::ack;
  synack.window = 65535;
  synack.options.mss = 1460;
  tun.in.push_back(segment_from_remote(synack));
  stack.poll(base::kEpoch + std::chrono::milliseconds(1));
}

/// Data segments the stack sent from index `from` on: {seq, payload length, packet}.
struct Sent {
  std::uint32_t seq;
  std::size_t len;
  std::vector<base::Byte> packet;
};
std::vector<Sent> data_sent(const HandFedDevice& tun, std::size_t from) {
  std::vector<Sent> out;
  for (std::size_t i = from; i < tun.out.size(); ++i) {
    auto ip = wire::Ipv4View::parse(tun.out[i]);
    if (!ip || ip->protocol() != wire::ip_proto::tcp) continue;
    auto tcp = wire::TcpView::parse(ip->payload());
    if (tcp && !tcp->payload().empty()) out.push_back({tcp->seq(), tcp->payload().size(), tun.out[i]});
  }
  return out;
}

/// An established connection with 3000 bytes in flight, in two 1460-byte segments and more.
std::vector<Sent> established_with_data(Fixture& f) {
  f.establish();
  EXPECT_NE(f.stack.readiness(f.sock) & POLLOUT, 0);
  const std::vector<base::Byte> data(3000, 0x61);
  EXPECT_EQ(*f.stack.send_to(f.sock, data, nullptr, 0), 3000u);
  auto sent = data_sent(f.tun, 0);
  EXPECT_GE(sent.size(), 2u);
  if (!sent.empty()) {
    EXPECT_EQ(sent[0].len, 1460u);
  }
  return sent;
}

TEST(TcpPathMtu, FragmentationNeededShrinksTheMssAndResendsAtOnce) {
  // RFC 1191 (our segments carry DF): the next-hop MTU in the ICMP error is the
  // new path MTU; Linux (tcp_v4_mtu_reduced) resends what was in flight in the
  // smaller size without waiting for a timeout.
  Fixture f;
  const auto first = established_with_data(f);
  ASSERT_FALSE(first.empty());
  const std::size_t before = f.tun.out.size();
  f.inject_icmp(wire::icmp_type::dest_unreachable, wire::icmp_unreach::frag_needed, first[0].packet, 1000);
  const auto again = data_sent(f.tun, before);  // at 10 ms: long before any timeout
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].seq, first[0].seq);  // from SND.UNA
  for (const auto& s : again) EXPECT_LE(s.len, 1000u - 40u) << "seq " << s.seq;
  EXPECT_EQ(*f.stack.get_option(f.sock, IPPROTO_TCP, TCP_MAXSEG), 960);
}

TEST(TcpPathMtu, AnErrorForASequenceNumberNotInFlightChangesNothing) {
  // RFC 5927 4.1: a forged "fragmentation needed" (its quoted sequence number was
  // never sent) neither shrinks the MSS nor makes the stack resend.
  Fixture f;
  auto forged = established_with_data(f);
  ASSERT_FALSE(forged.empty());
  base::store_be32(forged[0].packet, 20 + 4, forged[0].seq + 100000);
  const std::size_t before = f.tun.out.size();
  f.inject_icmp(wire::icmp_type::dest_unreachable, wire::icmp_unreach::frag_needed, forged[0].packet, 600);
  EXPECT_TRUE(data_sent(f.tun, before).empty());
  EXPECT_EQ(*f.stack.get_option(f.sock, IPPROTO_TCP, TCP_MAXSEG), 1460);
  EXPECT_EQ(f.stack.readiness(f.sock) & POLLERR, 0);
}

}  // namespace
}  // namespace ustack::stack
