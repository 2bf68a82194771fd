// Scoreboard (RFC 6675): SACK block validation and D-SACK recognition (RFC 2883
// 4), splitting at block edges, IsLost's two rules, SetPipe with lost and
// retransmitted segments, NextSeg rule 1 in sequence order.
#include "tcp/scoreboard.h"

#include <gtest/gtest.h>

#include <vector>

namespace ustack::tcp {
namespace {

using namespace std::chrono_literals;
constexpr std::uint32_t kMss = 1000;
const base::Instant t0{};

/// Ten 1000-byte segments from sequence 1000.
Scoreboard ten() {
  Scoreboard b;
  for (std::uint32_t i = 0; i < 10; ++i) b.on_send_new(Seq(1000 + i * kMss), Seq(2000 + i * kMss), t0 + i * 1ms);
  return b;
}

SackResult sack(Scoreboard& b, std::vector<wire::SackBlock> blocks, std::uint32_t una = 1000,
                std::uint32_t max = 11000) {
  return b.on_sack(blocks, Seq(una), Seq(max), [](const SentSegment&) {});
}

TEST(Scoreboard, BlocksOutsideUnaToMaxAreIgnoredAndCounted) {
  Scoreboard b = ten();
  // Above SND.MAX, straddling SND.UNA, and empty: all invalid (RFC 6675 5.1).
  const auto r = sack(b, {{5000, 12000}, {500, 1500}, {3000, 3000}}, 1000, 11000);
  EXPECT_EQ(r.valid, 0u);
  EXPECT_EQ(r.invalid, 3u);
  EXPECT_EQ(b.sacked_bytes(), 0u);
}

TEST(Scoreboard, SackMarksAndSplitsAtBlockEdges) {
  Scoreboard b = ten();
  unsigned called = 0;
  const std::vector<wire::SackBlock> blocks{{3500, 5000}};
  const auto r = b.on_sack(blocks, Seq(1000), Seq(11000), [&](const SentSegment&) { ++called; });
  EXPECT_EQ(r.valid, 1u);
  EXPECT_EQ(r.newly_sacked, 1500u);
  EXPECT_EQ(b.sacked_bytes(), 1500u);
  EXPECT_EQ(called, 2u);  // [3500,4000) and [4000,5000)
  EXPECT_EQ(b.segments().size(), 11u);
  // The same block again changes nothing.
  EXPECT_EQ(sack(b, {{3500, 5000}}).newly_sacked, 0u);
}

TEST(Scoreboard, DsackBelowCumulativeAck) {
  Scoreboard b = ten();
  b.on_cumulative_ack(Seq(3000), [](const SentSegment&) {});
  // RFC 2883 4: the first block below the cumulative ACK is a D-SACK, not an error.
  const auto r = sack(b, {{1000, 2000}}, 3000);
  EXPECT_TRUE(r.dsack);
  EXPECT_EQ(r.dsack_start, Seq(1000));
  EXPECT_EQ(r.invalid, 0u);
  EXPECT_EQ(r.valid, 0u);
}

TEST(Scoreboard, DsackInsideSecondBlock) {
  Scoreboard b = ten();
  const auto r = sack(b, {{5000, 6000}, {4000, 7000}});
  EXPECT_TRUE(r.dsack);
  EXPECT_EQ(r.valid, 1u);
  EXPECT_EQ(b.sacked_bytes(), 3000u);
  // A first block that is neither is no D-SACK.
  EXPECT_FALSE(sack(b, {{8000, 9000}, {4000, 7000}}).dsack);
}

TEST(Scoreboard, IsLostByDiscontiguousRuns) {
  Scoreboard b = ten();
  // Three separate SACKed segments above 1000: DupThresh runs.
  sack(b, {{3000, 4000}, {5000, 6000}, {7000, 8000}});
  EXPECT_TRUE(b.is_lost(Seq(1000), kMss));
  EXPECT_TRUE(b.is_lost(Seq(2000), kMss));
  // Above 4000 only two runs (2000 bytes, not more than 2*SMSS): not lost.
  EXPECT_FALSE(b.is_lost(Seq(4000), kMss));
}

TEST(Scoreboard, IsLostByBytes) {
  Scoreboard b = ten();
  sack(b, {{2000, 4000}});
  EXPECT_FALSE(b.is_lost(Seq(1000), kMss));  // 2000 bytes: not more than (3-1)*SMSS
  sack(b, {{2000, 4500}});
  EXPECT_TRUE(b.is_lost(Seq(1000), kMss));   // 2500 bytes
}

TEST(Scoreboard, MarkLostPipeAndNextSegInOrder) {
  Scoreboard b = ten();
  // Holes at 1000 and 3000; SACKed 2000-3000 and 4000-7000.
  sack(b, {{4000, 7000}, {2000, 3000}});
  EXPECT_EQ(b.mark_lost_by_sack(kMss), 2u);
  EXPECT_EQ(b.lost_bytes(), 2000u);
  // In flight: 10 segments, 4 SACKed, 2 lost: 4 (7000-11000).
  EXPECT_EQ(b.pipe(), 4000u);
  EXPECT_EQ(b.pipe_recounted(), b.pipe());
  ASSERT_NE(b.next_lost(), nullptr);
  EXPECT_EQ(b.next_lost()->start, Seq(1000));
  b.on_retransmit(Seq(1000), Seq(2000), t0 + 50ms);
  EXPECT_EQ(b.pipe(), 5000u);
  EXPECT_EQ(b.pipe_recounted(), b.pipe());  // the retransmission is in flight
  ASSERT_NE(b.next_lost(), nullptr);
  EXPECT_EQ(b.next_lost()->start, Seq(3000));
  b.on_retransmit(Seq(3000), Seq(4000), t0 + 51ms);
  EXPECT_EQ(b.next_lost(), nullptr);
  EXPECT_EQ(b.retransmitted_segments(), 2u);
  // The cumulative ACK forgets what it covers.
  unsigned acked = 0;
  b.on_cumulative_ack(Seq(7000), [&](const SentSegment&) { ++acked; });
  EXPECT_EQ(acked, 2u);  // 1000 and 3000; the SACKed ones were counted when SACKed
  EXPECT_EQ(b.segments().front().start, Seq(7000));
  EXPECT_EQ(b.pipe(), 4000u);
  EXPECT_EQ(b.pipe_recounted(), b.pipe());
}

TEST(Scoreboard, RetransmitSplitsASegment) {
  Scoreboard b = ten();
  b.mark_all_lost();
  EXPECT_EQ(b.pipe(), 0u);
  EXPECT_EQ(b.pipe_recounted(), b.pipe());
  b.on_retransmit(Seq(1000), Seq(1500), t0 + 10ms);  // a smaller MSS now
  EXPECT_EQ(b.segments().size(), 11u);
  ASSERT_NE(b.next_lost(), nullptr);
  EXPECT_EQ(b.next_lost()->start, Seq(1500));
  EXPECT_EQ(b.pipe(), 500u);
  EXPECT_EQ(b.pipe_recounted(), b.pipe());
}

TEST(Scoreboard, PartialCumulativeAckSplits) {
  Scoreboard b = ten();
  b.on_cumulative_ack(Seq(1500), [](const SentSegment&) {});
  EXPECT_EQ(b.segments().front().start, Seq(1500));
  EXPECT_EQ(b.pipe(), 9500u);
  EXPECT_EQ(b.pipe_recounted(), b.pipe());
}

TEST(Scoreboard, PipeKeptUpToDateThroughRandomOperations) {
  // pipe() is maintained as segments change; it must always equal SetPipe
  // counted afresh.
  std::uint64_t x = 88172645463325252ull;
  auto rnd = [&](std::uint32_t n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<std::uint32_t>(x % n);
  };
  Scoreboard b;
  std::uint32_t una = 1000, max = 1000;
  for (int step = 0; step < 20000; ++step) {
    switch (rnd(6)) {
      case 0: case 1: {
        const std::uint32_t len = 1 + rnd(1500);
        b.on_send_new(Seq(max), Seq(max + len), t0);
        max += len;
        break;
      }
      case 2:
        if (max > una) {
          const std::uint32_t left = una + rnd(max - una);
          const std::uint32_t right = left + 1 + rnd(max - left);
          const std::vector<wire::SackBlock> blocks{{left, right}};
          b.on_sack(blocks, Seq(una), Seq(max), [](const SentSegment&) {});
        }
        break;
      case 3:
        if (max > una) {
          una += rnd(std::min<std::uint32_t>(max - una, 3000) + 1);
          b.on_cumulative_ack(Seq(una), [](const SentSegment&) {});
        }
        break;
      case 4:
        if (rnd(4) == 0) b.mark_lost_by_sack(kMss);
        else if (const SentSegment* s = b.next_lost()) b.on_retransmit(s->start, s->start + 1 + rnd(s->len()), t0);
        break;
      case 5:
        if (rnd(50) == 0) b.mark_all_lost();
        else if (rnd(100) == 0) b.clear_lost();
        else if (rnd(200) == 0) b.forget_sacks();
        break;
    }
    ASSERT_EQ(b.pipe(), b.pipe_recounted()) << "step " << step;
  }
}

}  // namespace
}  // namespace ustack::tcp
