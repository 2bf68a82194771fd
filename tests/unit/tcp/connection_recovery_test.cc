// Loss recovery seen through a Connection's counters (TCP_INFO, ss -i): SACKed
// and lost segments, retransmissions out, D-SACKs and the undo they cause,
// reordering, ignored SACK blocks, tail loss probes. The wire behaviour itself
// is pinned by tests/script/tcp/recovery/.
#include <gtest/gtest.h>

#include <vector>

#include "tcp/connection.h"

namespace ustack::tcp {
namespace {

using namespace std::chrono_literals;
namespace flag = wire::tcp_flag;

const base::Ipv4Addr kLocal(198, 18, 0, 1), kRemote(198, 18, 0, 2);
constexpr std::uint32_t kIss = 1000;   // ours: data starts at 1001
constexpr std::uint32_t kIrs = 50000;  // the peer's

struct Sent {
  std::uint32_t seq;
  std::size_t len;
};

/// Unpaced (as Linux without fq): a window leaves at once, as the tests count it.
Config unpaced() {
  Config c;
  c.pacing = false;
  return c;
}

class Harness {
 public:
  Harness() : conn_(unpaced(), {kLocal, 40000}, {kRemote, 80}, Seq(kIss), 1460, 0) {
    conn_.connect(now_);
    take();
    wire::TcpRepr synack = seg(kIss + 1);
    synack.flags = flag::syn | flag::ack;
    synack.seq = kIrs;
    synack.options.mss = 1000;
    synack.options.sack_permitted = true;
    now_ += 100ms;
    conn_.on_segment(synack, {}, now_);
    take();
  }
  /// An ACK from the peer, with SACK blocks (absolute sequence numbers).
  wire::TcpRepr seg(std::uint32_t ack, std::vector<wire::SackBlock> sacks = {}) const {
    wire::TcpRepr r;
    r.src_port = 80;
    r.dst_port = 40000;
    r.seq = kIrs + 1;
    r.ack = ack;
    r.flags = flag::ack;
    r.window = 65535;
    for (std::size_t i = 0; i < sacks.size(); ++i) r.options.sack_blocks[i] = sacks[i];
    r.options.sack_count = static_cast<std::uint8_t>(sacks.size());
    return r;
  }
  void ack(std::uint32_t a, std::vector<wire::SackBlock> sacks = {}) { conn_.on_segment(seg(a, sacks), {}, now_); }
  /// The data segments sent since the last call.
  std::vector<Sent> take() {
    std::vector<Sent> out;
    for (const auto& p : conn_.outbox()) {
      auto v = wire::TcpView::parse(p.packet.data());
      if (v && !v->payload().empty()) out.push_back({v->seq(), v->payload().size()});
    }
    conn_.outbox().clear();
    return out;
  }
  void write(std::size_t n) {
    std::vector<base::Byte> data(n);
    EXPECT_EQ(conn_.send(data, now_), n);
  }
  void advance(base::Duration d) {
    const base::Instant until = now_ + d;
    while (auto next = conn_.next_deadline()) {
      if (*next > until) break;
      now_ = std::max(now_, *next);
      conn_.on_timer(now_);
    }
    now_ = until;
  }
  Snapshot snap() const { return conn_.snapshot(now_); }
  Connection conn_;
  base::Instant now_ = base::kEpoch;
};

TEST(ConnectionRecovery, SackedLostAndRetransmittedSegmentsAreCounted) {
  Harness h;
  h.write(10000);
  ASSERT_EQ(h.take().size(), 10u);
  h.now_ += 100ms;
  // 1001:2001 missing, the next three SACKed: RACK deems it lost, recovery
  // resends it (tcpi_ca_state Recovery).
  h.ack(1001);
  h.ack(1001, {{2001, 5001}});
  const auto resent = h.take();
  ASSERT_EQ(resent.size(), 1u);
  EXPECT_EQ(resent[0].seq, 1001u);
  const Snapshot s = h.snap();
  EXPECT_TRUE(s.in_recovery);
  EXPECT_EQ(s.sacked, 3u);
  EXPECT_EQ(s.lost, 1u);
  EXPECT_EQ(s.retrans, 1u);
  EXPECT_EQ(s.info.sack_recoveries, 1u);
  EXPECT_EQ(s.info.rack_marked_lost, 1u);
  EXPECT_EQ(s.info.retransmits_total, 1u);
}

TEST(ConnectionRecovery, DsackOfTheOnlyRetransmissionUndoesTheReduction) {
  Harness h;
  h.write(5000);
  ASSERT_EQ(h.take().size(), 5u);
  h.now_ += 100ms;
  h.ack(1001);
  const std::uint32_t cwnd_before = h.conn_.cwnd();
  h.ack(1001, {{2001, 5001}});
  ASSERT_EQ(h.take().size(), 1u);
  EXPECT_LT(h.conn_.ssthresh(), cwnd_before);
  // The original was only late; then the retransmission is reported twice-received.
  h.now_ += 10ms;
  h.ack(6001);
  EXPECT_FALSE(h.snap().in_recovery);
  // RACK cannot call that reordering: the segment had been sent again (6.2 step 3).
  EXPECT_EQ(h.snap().info.reord_seen, 0u);
  EXPECT_EQ(h.snap().info.dsack_undos, 0u);
  h.now_ += 90ms;
  // RFC 2883 4: a first block below the cumulative ACK is a D-SACK.
  h.ack(6001, {{1001, 2001}});
  EXPECT_EQ(h.snap().info.dsack_dups, 1u);
  EXPECT_EQ(h.snap().info.dsack_undos, 1u);
  EXPECT_GE(h.conn_.cwnd(), cwnd_before);
}

TEST(ConnectionRecovery, ReorderingWithinTheWindowIsSeenAndNothingResent) {
  Harness h;
  h.write(3000);
  ASSERT_EQ(h.take().size(), 3u);
  h.now_ += 100ms;
  h.ack(1001);
  h.ack(1001, {{2001, 3001}});
  h.advance(10ms);  // within min_RTT / 4
  h.ack(4001);
  EXPECT_TRUE(h.take().empty());
  EXPECT_EQ(h.snap().info.reord_seen, 1u);
  EXPECT_EQ(h.snap().info.retransmits_total, 0u);
}

TEST(ConnectionRecovery, SackBlocksOutsideTheWindowAreCountedAndIgnored) {
  Harness h;
  h.write(3000);
  ASSERT_EQ(h.take().size(), 3u);
  h.now_ += 100ms;
  h.ack(1001, {{5001, 6001}, {9001, 9501}, {2001, 3001}});
  const Snapshot s = h.snap();
  EXPECT_EQ(s.info.sack_blocks_invalid, 2u);
  EXPECT_EQ(s.sacked, 1u);
  EXPECT_FALSE(s.in_recovery);
}

TEST(ConnectionRecovery, TailLossProbeIsCounted) {
  Harness h;
  h.write(4000);
  ASSERT_EQ(h.take().size(), 4u);
  h.now_ += 100ms;
  h.ack(2001);
  // PTO = 2 * SRTT + 2 ms = 202 ms, before the RTO.
  h.advance(201ms);
  EXPECT_TRUE(h.take().empty());
  h.advance(2ms);
  const auto probe = h.take();
  ASSERT_EQ(probe.size(), 1u);
  EXPECT_EQ(probe[0].seq, 4001u);  // the last segment sent
  EXPECT_EQ(h.snap().info.tlp_probes, 1u);
  EXPECT_EQ(h.snap().info.timeouts, 0u);
}

}  // namespace
}  // namespace ustack::tcp
