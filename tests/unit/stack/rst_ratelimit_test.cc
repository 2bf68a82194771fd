// Resets for segments of no connection are rate-limited per destination
// (StackConfig::tcp_rst_per_sec, docs/hardening.md): a flood from one source gets
// a burst and then the rate, another source is unaffected, and the limit can be
// turned off. Driven over an IP-medium device the test feeds by hand.
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

StackConfig rst_config(double per_sec) {
  StackConfig c;
  c.tcp_rst_per_sec = per_sec;
  return c;
}

struct RstLimit : ::testing::Test {
  explicit RstLimit(double per_sec = 100) : s(rst_config(per_sec)) {
    s.add_interface(dev, {"hand0", base::MacAddr(), {kUs, 24}, std::nullopt});
  }
  /// `n` SYNs to a closed port from `from` at this instant; the resets that answer.
  std::size_t syns(Ipv4Addr from, int n) {
    for (int i = 0; i < n; ++i) {
      wire::TcpRepr syn{.src_port = static_cast<std::uint16_t>(1000 + i), .dst_port = 81,
                        .seq = 7, .flags = wire::tcp_flag::syn, .window = 1000};
      Bytes tcp(syn.header_len());
      syn.emit(tcp, from, kUs);
      Bytes ip(20 + tcp.size());
      wire::Ipv4Repr h{from, kUs, wire::ip_proto::tcp, 64};
      h.payload_len = static_cast<std::uint16_t>(tcp.size());
      h.emit(ip);
      std::copy(tcp.begin(), tcp.end(), ip.begin() + 20);
      dev.in.push_back(ip);
    }
    while (!dev.in.empty()) s.poll(now);  // a poll reads rx_batch (64) frames
    const std::size_t out = dev.out.size();
    dev.out.clear();
    return out;
  }
  testing::HandFedDevice dev;
  Stack s;
  base::Instant now = base::kEpoch + 10s;
};

TEST_F(RstLimit, AFloodFromOneSourceGetsABurstThenTheRate) {
  EXPECT_EQ(syns(Ipv4Addr(10, 0, 0, 2), 150), 100u);
  EXPECT_EQ(s.counters().TcpOutRsts, 100u);
  EXPECT_EQ(s.counters().DropTcpRstRateLimit, 50u);
  EXPECT_EQ(syns(Ipv4Addr(10, 0, 0, 3), 10), 10u);  // another source: its own bucket
  now += 100ms;
  EXPECT_EQ(syns(Ipv4Addr(10, 0, 0, 2), 50), 10u);  // 100 a second
}

struct RstLimitOff : RstLimit {
  RstLimitOff() : RstLimit(0) {}
};

TEST_F(RstLimitOff, ZeroTurnsItOff) {
  EXPECT_EQ(syns(Ipv4Addr(10, 0, 0, 2), 500), 500u);
  EXPECT_EQ(s.counters().DropTcpRstRateLimit, 0u);
}

}  // namespace
}  // namespace ustack::stack
