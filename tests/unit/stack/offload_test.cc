// TAP offloads as the stack sees them: a device that vouches for a frame's
// TCP/UDP checksum (partial or already verified) is believed, any other frame's
// checksum is verified; a TCP super-frame far beyond the MTU is taken as one
// segment and acknowledged at once; poll() ends by flushing the devices' batches.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <vector>

#include "stack/stack.h"
#include "support/hand_fed_device.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/udp.h"

namespace ustack::stack {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;
using Bytes = std::vector<base::Byte>;

const Ipv4Addr kUs(10, 0, 0, 1);
const Ipv4Addr kPeer(10, 0, 0, 2);

Bytes ip_packet(std::uint8_t proto, const Bytes& payload) {
  Bytes ip(20 + payload.size());
  wire::Ipv4Repr h{kPeer, kUs, proto, 64};
  h.payload_len = static_cast<std::uint16_t>(payload.size());
  h.emit(ip);
  std::copy(payload.begin(), payload.end(), ip.begin() + 20);
  return ip;
}

// A TCP segment whose checksum field holds only the pseudo-header sum, as the
// kernel leaves it with VIRTIO_NET_HDR_F_NEEDS_CSUM: wrong to anyone verifying it.
Bytes partial_tcp(wire::TcpRepr seg, std::size_t payload) {
  Bytes tcp(seg.header_len() + payload);
  for (std::size_t i = 0; i < payload; ++i) tcp[seg.header_len() + i] = static_cast<base::Byte>(i * 7);
  seg.emit(tcp, kPeer, kUs);
  wire::Checksum c;
  c.add_pseudo_header(kPeer, kUs, wire::ip_proto::tcp, static_cast<std::uint16_t>(tcp.size()));
  base::store_be16(tcp, 16, c.folded());
  return ip_packet(wire::ip_proto::tcp, tcp);
}

struct Offload : ::testing::Test {
  Offload() { s.add_interface(dev, {"hand0", base::MacAddr(), {kUs, 24}, std::nullopt}); }

  std::vector<wire::TcpRepr> feed(const Bytes& packet, bool trusted) {
    dev.trusted = trusted;
    dev.in.push_back(packet);
    s.poll(now);
    now += 1ms;
    std::vector<wire::TcpRepr> answers;
    for (const auto& p : dev.out) {
      auto v = wire::Ipv4View::parse(p);
      if (!v || v->protocol() != wire::ip_proto::tcp) continue;
      auto r = wire::TcpRepr::parse(v->payload(), v->src(), v->dst());
      EXPECT_TRUE(r.ok());
      if (r) answers.push_back(*r);
    }
    dev.out.clear();
    return answers;
  }

  testing::HandFedDevice dev;
  Stack s;
  base::Instant now = base::kEpoch + 1s;
};

TEST_F(Offload, PartialTcpChecksumIsBelievedOnlyWhenTheDeviceVouchesForIt) {
  wire::TcpRepr syn;
  syn.src_port = 40000;
  syn.dst_port = 9;  // closed: a SYN that passes is answered with RST|ACK
  syn.seq = 100;
  syn.flags = wire::tcp_flag::syn;
  EXPECT_TRUE(feed(partial_tcp(syn, 0), false).empty());
  EXPECT_EQ(s.counters().DropTcpMalformed, 1u);
  const auto answers = feed(partial_tcp(syn, 0), true);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].flags, wire::tcp_flag::rst | wire::tcp_flag::ack);
  EXPECT_EQ(s.counters().DropTcpMalformed, 1u);
}

TEST_F(Offload, UdpChecksumIsBelievedOnlyWhenTheDeviceVouchesForIt) {
  auto id = s.socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(s.bind(*id, {kUs, 5000}).ok());
  Bytes udp(8 + 4, 0x42);
  base::store_be16(udp, 0, 6000);
  base::store_be16(udp, 2, 5000);
  base::store_be16(udp, 4, static_cast<std::uint16_t>(udp.size()));
  base::store_be16(udp, 6, 0x1234);  // wrong (a partial sum, say)
  feed(ip_packet(wire::ip_proto::udp, udp), false);
  EXPECT_EQ(s.counters().UdpInCsumErrors, 1u);
  Bytes buf(100);
  EXPECT_FALSE(s.recv_from(*id, buf, 0).ok());
  feed(ip_packet(wire::ip_proto::udp, udp), true);
  EXPECT_EQ(s.counters().UdpInCsumErrors, 1u);
  auto got = s.recv_from(*id, buf, 0);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->copied, 4u);
}

TEST_F(Offload, SuperFrameBeyondTheMtuIsOneSegmentAcknowledgedAtOnce) {
  auto l = s.socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE(s.bind(*l, {kUs, 80}).ok());
  ASSERT_TRUE(s.listen(*l, 4).ok());
  wire::TcpRepr seg;
  seg.src_port = 40000;
  seg.dst_port = 80;
  seg.seq = 1000;
  seg.window = 65535;
  seg.flags = wire::tcp_flag::syn;
  seg.options.mss = 1460;
  auto synack = feed(partial_tcp(seg, 0), true);
  ASSERT_EQ(synack.size(), 1u);
  seg.options = {};
  seg.flags = wire::tcp_flag::ack;
  seg.seq = 1001;
  seg.ack = synack[0].seq + 1;
  EXPECT_TRUE(feed(partial_tcp(seg, 0), true).empty());
  base::Endpoint peer;
  auto c = s.accept(*l, &peer);
  ASSERT_TRUE(c.ok());
  // Out of quick-ACK mode first (the first 16 segments are acknowledged at once).
  for (int i = 0; i < 16; ++i) {
    feed(partial_tcp(seg, 100), true);
    seg.seq += 100;
  }
  Bytes sink(100000);
  ASSERT_TRUE(s.recv_from(*c, sink, 0).ok());
  // 30000 bytes in one segment: 20 times the MTU, as a GRO super-frame.
  const auto acks = feed(partial_tcp(seg, 30000), true);
  ASSERT_EQ(acks.size(), 1u) << "a super-frame is more than one full-sized segment: ACK at once";
  EXPECT_EQ(acks[0].ack, seg.seq + 30000);
  auto got = s.recv_from(*c, sink, 0);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->copied, 30000u);
  for (std::size_t i = 0; i < 30000; ++i) ASSERT_EQ(sink[i], static_cast<base::Byte>(i * 7)) << i;
}

TEST_F(Offload, PollEndsByFlushingTheDevicesBatches) {
  const int before = dev.flushes;
  s.poll(now);
  EXPECT_EQ(dev.flushes, before + 1);
  s.flush_tx();
  EXPECT_EQ(dev.flushes, before + 2);
}

}  // namespace
}  // namespace ustack::stack
