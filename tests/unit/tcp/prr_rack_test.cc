// PRR (RFC 6937) arithmetic against the RFC's own example, and RACK (RFC 8985)
// loss marking, its reordering window and its growth on D-SACK, and the TLP
// timeout.
#include <gtest/gtest.h>

#include "tcp/prr.h"
#include "tcp/rack.h"

namespace ustack::tcp {
namespace {

using namespace std::chrono_literals;
constexpr std::uint32_t kMss = 1000;
const base::Instant t0{};

TEST(Prr, SpreadsTheReductionOverTheAcks) {
  // RFC 6937 Appendix: 20 segments in flight, one lost, ssthresh 10: PRR sends
  // one segment for every two delivered while pipe > ssthresh.
  Prr p;
  p.start(20 * kMss, 10 * kMss);
  // The first ACK (a SACK of one segment): pipe 18 (19 not SACKed, 1 lost).
  std::uint32_t n = p.on_ack(kMss, 18 * kMss, kMss);
  EXPECT_EQ(n, kMss);  // ceil(1*10/20) - 0 = 1 segment: the fast retransmit
  p.on_sent(n);
  n = p.on_ack(kMss, 17 * kMss, kMss);
  EXPECT_EQ(n, 0u);  // ceil(2*10/20) - 1 = 0
  n = p.on_ack(kMss, 16 * kMss, kMss);
  EXPECT_EQ(n, kMss);  // ceil(3*10/20) - 1 = 1
  p.on_sent(n);
  EXPECT_EQ(p.out(), 2 * kMss);
  EXPECT_EQ(p.delivered(), 3 * kMss);
}

TEST(Prr, SlowStartReductionBoundBelowSsthresh) {
  // Pipe far below ssthresh (a burst of losses): PRR-SSRB grows by at most
  // DeliveredData + MSS per ACK, not straight to ssthresh.
  Prr p;
  p.start(20 * kMss, 10 * kMss);
  p.on_sent(kMss);
  EXPECT_EQ(p.on_ack(kMss, 2 * kMss, kMss), 2 * kMss);  // max(1-1, 1) + 1
}

TEST(Prr, FirstAckAlwaysSendsTheFastRetransmit) {
  Prr p;
  p.start(4 * kMss, 2 * kMss);
  EXPECT_EQ(p.on_ack(0, 3 * kMss, kMss), kMss);
}

/// Segments 1000.. of 1000 bytes sent 1 ms apart.
Scoreboard board(unsigned n) {
  Scoreboard b;
  for (std::uint32_t i = 0; i < n; ++i) b.on_send_new(Seq(1000 + i * kMss), Seq(2000 + i * kMss), t0 + i * 1ms);
  return b;
}

void deliver(Rack& rack, Scoreboard& b, std::uint32_t left, std::uint32_t right, base::Instant now) {
  const std::vector<wire::SackBlock> blocks{{left, right}};
  b.on_sack(blocks, b.segments().front().start, Seq(1000 + 100 * kMss),
            [&](const SentSegment& s) { rack.on_delivered(s, now); });
}

TEST(Rack, SegmentSentEarlierIsLostAfterRttPlusReorderingWindow) {
  Scoreboard b = board(5);
  Rack rack;
  // The first segment's ACK at 100 ms: min_RTT 100 ms.
  b.on_cumulative_ack(Seq(2000), [&](const SentSegment& s) { rack.on_delivered(s, t0 + 100ms); });
  // The third (sent at 2 ms) SACKed at 102 ms: the second (sent at 1 ms) is
  // outstanding. No reordering seen, fewer than 3 SACKed: reo_wnd = 25 ms.
  deliver(rack, b, 3000, 4000, t0 + 102ms);
  rack.update_reo_wnd(false, Seq(2000), Seq(6000), false, 1, 100ms);
  EXPECT_EQ(rack.reo_wnd(), 25ms);
  unsigned marked = 0;
  auto timer = rack.detect_loss(b, t0 + 102ms, marked);
  EXPECT_EQ(marked, 0u);
  ASSERT_TRUE(timer);
  EXPECT_EQ(*timer, t0 + 1ms + 100ms + 25ms);  // xmit_ts + RACK.rtt + reo_wnd
  timer = rack.detect_loss(b, *timer, marked);
  EXPECT_EQ(marked, 1u);
  EXPECT_FALSE(timer);
  EXPECT_EQ(b.next_lost()->start, Seq(2000));
}

TEST(Rack, InRecoveryWithoutReorderingTheWindowIsZero) {
  Rack rack;
  Scoreboard b = board(2);
  b.on_cumulative_ack(Seq(2000), [&](const SentSegment& s) { rack.on_delivered(s, t0 + 40ms); });
  rack.update_reo_wnd(false, Seq(2000), Seq(3000), true, 0, 40ms);
  EXPECT_EQ(rack.reo_wnd(), 0ms);
  rack.update_reo_wnd(false, Seq(2000), Seq(3000), false, 3, 40ms);
  EXPECT_EQ(rack.reo_wnd(), 0ms);  // segs_sacked >= DupThresh
}

TEST(Rack, ReorderingSeenAndDsackGrowTheWindow) {
  Scoreboard b = board(4);
  Rack rack;
  b.on_cumulative_ack(Seq(2000), [&](const SentSegment& s) { rack.on_delivered(s, t0 + 40ms); });
  deliver(rack, b, 3000, 4000, t0 + 42ms);
  EXPECT_FALSE(rack.reordering_seen());
  // The second segment delivered after the third, never retransmitted: reordering.
  b.on_cumulative_ack(Seq(4000), [&](const SentSegment& s) { rack.on_delivered(s, t0 + 43ms); });
  EXPECT_TRUE(rack.reordering_seen());
  rack.update_reo_wnd(false, Seq(4000), Seq(5000), true, 0, 40ms);
  EXPECT_EQ(rack.reo_wnd(), 10ms);  // min_RTT/4 even in recovery, once reordering is seen
  // A D-SACK: reo_wnd_mult 2, once per round trip.
  rack.update_reo_wnd(true, Seq(4000), Seq(5000), false, 0, 40ms);
  EXPECT_EQ(rack.reo_wnd(), 20ms);
  rack.update_reo_wnd(true, Seq(4500), Seq(5000), false, 0, 40ms);
  EXPECT_EQ(rack.reo_wnd(), 20ms);  // same round
  rack.update_reo_wnd(true, Seq(5000), Seq(6000), false, 0, 40ms);
  EXPECT_EQ(rack.reo_wnd(), 30ms);  // next round
  rack.update_reo_wnd(false, Seq(6000), Seq(6000), false, 0, 25ms);
  EXPECT_EQ(rack.reo_wnd(), 25ms);  // never above SRTT
  // 16 recoveries without D-SACK reset the multiplier.
  for (int i = 0; i < 16; ++i) rack.on_recovery_exit();
  rack.update_reo_wnd(false, Seq(7000), Seq(7000), false, 0, 40ms);
  EXPECT_EQ(rack.reo_wnd(), 10ms);
}

TEST(Rack, RetransmissionSentAfterNewDataAtTheSameInstantIsNotOlderThanIt) {
  // One poll of the stack, one timestamp: new data (2000..3000) goes out, then
  // the hole (1000..2000) is sent again, and the SACK of the new data is read in
  // the same poll (over a TAP the kernel answers within the write). RFC 8985
  // 6.2's RACK_sent_after orders transmissions; the retransmission came after
  // the SACKed one, so that SACK says nothing about it. Ordered by sequence
  // number instead, it was marked lost at once (interop test 20).
  Scoreboard b;
  b.on_send_new(Seq(1000), Seq(2000), t0);
  const base::Instant poll = t0 + 10ms;
  b.on_send_new(Seq(2000), Seq(3000), poll);
  b.on_retransmit(Seq(1000), Seq(2000), poll);
  Rack rack;
  deliver(rack, b, 2000, 3000, poll);
  unsigned marked = 0;
  EXPECT_FALSE(rack.detect_loss(b, poll, marked));
  EXPECT_EQ(marked, 0u);
  EXPECT_EQ(b.lost_segments(), 0u);
  // Sent in the other order at the same instant (the hole first, then new data
  // that is SACKed), the retransmission is older and is lost once RACK.rtt +
  // reo_wnd (both 0 here) has passed.
  Scoreboard c;
  c.on_send_new(Seq(1000), Seq(2000), t0);
  c.on_retransmit(Seq(1000), Seq(2000), poll);
  c.on_send_new(Seq(2000), Seq(3000), poll);
  Rack rack2;
  deliver(rack2, c, 2000, 3000, poll);
  EXPECT_FALSE(rack2.detect_loss(c, poll, marked));
  EXPECT_EQ(marked, 1u);
}

TEST(Rack, RtoMarksTheFirstAndTheExpired) {
  Scoreboard b = board(3);
  Rack rack;
  rack.mark_losses_on_rto(b, t0 + 1s);  // no RACK sample: all expired
  EXPECT_EQ(b.lost_segments(), 3u);
}

TEST(Tlp, ProbeTimeout) {
  EXPECT_EQ(tlp_pto(std::nullopt, false, std::nullopt), 1s);
  EXPECT_EQ(tlp_pto(base::Duration(50ms), false, std::nullopt), 102ms);
  EXPECT_EQ(tlp_pto(base::Duration(50ms), true, std::nullopt), 300ms);  // + WCDelAckT
  EXPECT_EQ(tlp_pto(base::Duration(50ms), true, base::Duration(250ms)), 250ms);  // not past the RTO
}

}  // namespace
}  // namespace ustack::tcp
