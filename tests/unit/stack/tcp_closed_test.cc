// Until ustack has TCP every port is closed: RFC 9293 3.10.7.1 says how a closed
// port answers. Driven over an IP-medium device the test feeds by hand.
#include <gtest/gtest.h>

#include "support/hand_fed_device.h"

#include <vector>

#include "stack/stack.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

namespace ustack::stack {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;
using Bytes = std::vector<base::Byte>;

const Ipv4Addr kUs(10, 0, 0, 1);
const Ipv4Addr kPeer(10, 0, 0, 2);

using HandFedTun = ustack::testing::HandFedDevice;

struct ClosedPort : ::testing::Test {
  ClosedPort() { s.add_interface(dev, {"hand0", base::MacAddr(), {kUs, 24}, std::nullopt}); }

  /// Sends a segment from the peer and returns the stack's answers.
  std::vector<wire::TcpRepr> exchange(const wire::TcpRepr& seg, std::size_t payload = 0,
                                      Ipv4Addr dst = kUs) {
    Bytes tcp(seg.header_len() + payload, 0x61);
    seg.emit(tcp, kPeer, dst);
    Bytes ip(20 + tcp.size());
    wire::Ipv4Repr h{kPeer, dst, wire::ip_proto::tcp, 64};
    h.payload_len = static_cast<std::uint16_t>(tcp.size());
    h.emit(ip);
    std::copy(tcp.begin(), tcp.end(), ip.begin() + 20);
    dev.in.push_back(ip);
    s.poll(now);
    now += 1ms;
    std::vector<wire::TcpRepr> answers;
    for (const auto& p : dev.out) {
      auto v = wire::Ipv4View::parse(p);
      EXPECT_TRUE(v.ok());
      if (!v || v->protocol() != wire::ip_proto::tcp) continue;
      EXPECT_EQ(v->src(), kUs);
      EXPECT_EQ(v->dst(), kPeer);
      auto r = wire::TcpRepr::parse(v->payload(), v->src(), v->dst());  // checksum verified
      EXPECT_TRUE(r.ok());
      if (r) answers.push_back(*r);
    }
    dev.out.clear();
    return answers;
  }

  HandFedTun dev;
  Stack s;
  base::Instant now = base::kEpoch + 1s;
};

TEST_F(ClosedPort, SynIsAnsweredWithRstAckAcknowledgingTheSyn) {
  wire::TcpRepr syn{.src_port = 40000, .dst_port = 80, .seq = 1000, .flags = wire::tcp_flag::syn,
                    .window = 65535};
  auto answers = exchange(syn);
  ASSERT_EQ(answers.size(), 1u);
  // RFC 9293 3.10.7.1: "If the ACK bit is off, sequence number zero is used,
  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"; the SYN occupies one sequence number.
  EXPECT_EQ(answers[0].flags, wire::tcp_flag::rst | wire::tcp_flag::ack);
  EXPECT_EQ(answers[0].seq, 0u);
  EXPECT_EQ(answers[0].ack, 1001u);
  EXPECT_EQ(answers[0].src_port, 80);
  EXPECT_EQ(answers[0].dst_port, 40000);
  EXPECT_EQ(s.counters().TcpOutRsts, 1u);
}

TEST_F(ClosedPort, SequenceWrapsAndDataAndFinCountInSegLen) {
  wire::TcpRepr syn_fin{.src_port = 1, .dst_port = 2, .seq = 0xffffffffu,
                        .flags = wire::tcp_flag::syn | wire::tcp_flag::fin};
  auto answers = exchange(syn_fin, 10);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].ack, 0xffffffffu + 10u + 2u);  // mod 2^32
}

TEST_F(ClosedPort, AckIsAnsweredWithRstAtTheAcknowledgedSequence) {
  wire::TcpRepr ack{.src_port = 40000, .dst_port = 22, .seq = 5, .ack = 777777,
                    .flags = wire::tcp_flag::ack};
  auto answers = exchange(ack, 20);
  ASSERT_EQ(answers.size(), 1u);
  // "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>"
  EXPECT_EQ(answers[0].flags, wire::tcp_flag::rst);
  EXPECT_EQ(answers[0].seq, 777777u);
}

TEST_F(ClosedPort, RstIsNeverAnswered) {
  // "An incoming segment containing a RST is discarded."
  wire::TcpRepr rst{.src_port = 40000, .dst_port = 80, .seq = 9, .flags = wire::tcp_flag::rst};
  EXPECT_TRUE(exchange(rst).empty());
  EXPECT_EQ(s.counters().TcpOutRsts, 0u);
}

TEST_F(ClosedPort, SynToBroadcastIsNotAnswered) {
  wire::TcpRepr syn{.src_port = 40000, .dst_port = 80, .seq = 1, .flags = wire::tcp_flag::syn};
  EXPECT_TRUE(exchange(syn, 0, Ipv4Addr(10, 0, 0, 255)).empty());
}

}  // namespace
}  // namespace ustack::stack
