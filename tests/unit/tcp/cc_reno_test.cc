// The congestion-control interface with NewReno's window (RFC 5681 3.1, RFC 6582
// 3.2, RFC 3168 6.1.2): slow start, congestion avoidance by byte counting, the
// decrease on loss, RTO and ECN, NewReno's recovery arithmetic, undo, the pacing
// rate as Linux computes it, and the table of names.
#include "tcp/cc_reno.h"

#include <gtest/gtest.h>

#include <chrono>

namespace ustack::tcp {
namespace {

using namespace std::chrono_literals;
constexpr std::uint32_t kMss = 1000;
const base::Instant t0{};

AckEvent acked(std::uint32_t bytes) {
  AckEvent a;
  a.bytes_acked = bytes;
  return a;
}

TEST(Reno, InitialWindow) {
  Reno r;
  r.init(10, kMss, t0);
  EXPECT_EQ(r.cwnd(), 10 * kMss);  // RFC 6928
  EXPECT_EQ(r.ssthresh(), kInfiniteSsthresh);
  EXPECT_TRUE(r.in_slow_start());
  EXPECT_STREQ(r.name(), "reno");
}

TEST(Reno, SlowStartAddsAtMostOneSmssPerAck) {
  // RFC 5681 3.1: "increments cwnd by at most SMSS bytes for each ACK".
  Reno r;
  r.init(10, kMss, t0);
  r.on_ack(acked(500));
  EXPECT_EQ(r.cwnd(), 10 * kMss + 500);
  r.on_ack(acked(3 * kMss));  // a stretch ACK still adds one SMSS
  EXPECT_EQ(r.cwnd(), 11 * kMss + 500);
}

TEST(Reno, CongestionAvoidanceOneSmssPerWindow) {
  Reno r;
  r.init(10, kMss, t0);
  r.on_loss(20 * kMss, t0);  // ssthresh = 10 SMSS = cwnd: congestion avoidance
  EXPECT_EQ(r.ssthresh(), 10 * kMss);
  EXPECT_FALSE(r.in_slow_start());
  for (int i = 0; i < 9; ++i) r.on_ack(acked(kMss));
  EXPECT_EQ(r.cwnd(), 10 * kMss);  // 9 of 10 segments acked: no growth yet
  r.on_ack(acked(kMss));
  EXPECT_EQ(r.cwnd(), 11 * kMss);  // a window's worth: one SMSS
}

TEST(Reno, LossHalvesFlightButKeepsTwoSegments) {
  // RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS).
  Reno r;
  r.init(10, kMss, t0);
  r.on_loss(8 * kMss, t0);
  EXPECT_EQ(r.ssthresh(), 4 * kMss);
  EXPECT_EQ(r.cwnd(), 10 * kMss);  // the window during recovery is loss recovery's
  r.on_loss(3 * kMss, t0);
  EXPECT_EQ(r.ssthresh(), 2 * kMss);
}

TEST(Reno, NewRenoRecoveryArithmetic) {
  // RFC 6582 3.2: cwnd = ssthresh + 3*SMSS, +SMSS per duplicate, a partial ACK
  // deflates by what it acked and adds SMSS back, a full ACK sets
  // min(ssthresh, max(FlightSize, SMSS) + SMSS).
  Reno r;
  r.init(10, kMss, t0);
  r.on_loss(10 * kMss, t0);
  r.reno_recovery_start();
  EXPECT_EQ(r.cwnd(), 8 * kMss);
  r.reno_recovery_dup_ack();
  EXPECT_EQ(r.cwnd(), 9 * kMss);
  r.reno_recovery_partial_ack(3 * kMss);
  EXPECT_EQ(r.cwnd(), 7 * kMss);
  r.on_recovery_end(kMss / 2, t0);
  EXPECT_EQ(r.cwnd(), 2 * kMss);  // max(FlightSize, SMSS) + SMSS
  r.on_recovery_end(9 * kMss, t0);
  EXPECT_EQ(r.cwnd(), 5 * kMss);  // ssthresh
}

TEST(Reno, RtoGivesTheLossWindow) {
  Reno r;
  r.init(10, kMss, t0);
  r.on_rto(10 * kMss, t0);
  EXPECT_EQ(r.cwnd(), kMss);  // RFC 5681: LW = 1 SMSS
  EXPECT_EQ(r.ssthresh(), 5 * kMss);
  r.on_ack(acked(kMss));
  EXPECT_EQ(r.cwnd(), 2 * kMss);  // slow start again
}

TEST(Reno, EcnHalvesTheWindow) {
  // RFC 3168 6.1.2: "halve the congestion window and reduce the slow-start threshold".
  Reno r;
  r.init(10, kMss, t0);
  r.on_ecn(10 * kMss, t0);
  EXPECT_EQ(r.cwnd(), 5 * kMss);
  EXPECT_EQ(r.ssthresh(), 5 * kMss);
}

TEST(Reno, UndoRestoresTheStateBeforeTheEvent) {
  Reno r;
  r.init(10, kMss, t0);
  r.on_rto(10 * kMss, t0);
  r.on_ack(acked(kMss));
  r.undo(t0);
  EXPECT_EQ(r.cwnd(), 10 * kMss);
  EXPECT_EQ(r.ssthresh(), kInfiniteSsthresh);
  r.on_ack(acked(kMss));
  r.undo(t0);  // nothing left to undo
  EXPECT_EQ(r.cwnd(), 11 * kMss);
}

TEST(Reno, PacingRateAsLinux) {
  Reno r;
  r.init(10, kMss, t0);
  EXPECT_EQ(r.pacing_rate(std::nullopt, 0), 0u);  // no RTT yet: no pacing
  // Slow start: 200% of cwnd/srtt = 2 * 10000 B / 10 ms = 2 MB/s.
  EXPECT_EQ(r.pacing_rate(10ms, 0), 2'000'000u);
  // Bytes in flight above cwnd count.
  EXPECT_EQ(r.pacing_rate(10ms, 20 * kMss), 4'000'000u);
  r.on_loss(10 * kMss, t0);  // ssthresh 5000, cwnd 10000: not below ssthresh/2
  EXPECT_EQ(r.pacing_rate(10ms, 0), 1'200'000u);  // 120%
}

TEST(CongestionControlTable, KnowsLinuxNames) {
  EXPECT_STREQ(make_congestion_control("reno")->name(), "reno");
  EXPECT_EQ(make_congestion_control("vegas"), nullptr);
  EXPECT_EQ(make_congestion_control(""), nullptr);
}

}  // namespace
}  // namespace ustack::tcp
