// Buffer auto-tuning arithmetic (docs/buffers.md): the receiver's RTT estimate
// (Linux tcp_rcv_rtt_update), receive-buffer moderation once per RTT (Linux
// tcp_rcv_space_adjust) with its ceiling and SO_RCVBUF's lock, and the send
// buffer's target of two congestion windows (Linux tcp_sndbuf_expand).
#include "tcp/autotune.h"

#include <gtest/gtest.h>

#include <chrono>

namespace ustack::tcp {
namespace {

using namespace std::chrono_literals;
using base::Duration;
using base::Instant;

constexpr Instant t0 = base::kEpoch + 1s;

TEST(RcvRtt, TimestampSamplesAreSmoothedAnEighthAtATime) {
  RcvRtt r;
  EXPECT_EQ(r.rtt(), Duration{0});
  r.on_timestamp(1000, 1040);
  EXPECT_EQ(r.rtt(), 40ms);
  r.on_timestamp(1000, 1100);  // the same echo again: not a new sample
  EXPECT_EQ(r.rtt(), 40ms);
  r.on_timestamp(1050, 1130);  // 80 ms: 40 + (80 - 40) / 8
  EXPECT_EQ(r.rtt(), 45ms);
  r.on_timestamp(1200, 1200);  // 0 ms counts as 1 ms (as Linux)
  EXPECT_EQ(r.rtt(), 39500us);  // 45 + (1 - 45) / 8
  r.on_timestamp(1300, 1250);  // an echo from the future: ignored
  EXPECT_EQ(r.rtt(), 39500us);  // 45 + (1 - 45) / 8
}

TEST(RcvRtt, WindowSamplesKeepTheSmallest) {
  RcvRtt r;
  r.on_data(Seq(1000), 10000, t0);           // the window ends at 11000
  r.on_data(Seq(5000), 10000, t0 + 10ms);    // not yet past it
  EXPECT_EQ(r.rtt(), Duration{0});
  r.on_data(Seq(11000), 10000, t0 + 30ms);   // a window's worth in 30 ms
  EXPECT_EQ(r.rtt(), 30ms);
  r.on_data(Seq(21000), 10000, t0 + 80ms);   // 50 ms: larger, not taken
  EXPECT_EQ(r.rtt(), 30ms);
  r.on_data(Seq(31000), 10000, t0 + 100ms);  // 20 ms: smaller, taken
  EXPECT_EQ(r.rtt(), 20ms);
}

TEST(RcvSpace, GrowsToAboutTwiceWhatWasReadPerRtt) {
  RcvSpace s;
  const std::uint32_t mss = 1448;
  s.start(131072, mss, 0, t0);
  EXPECT_EQ(s.space(), 14480u);  // 10 * MSS
  // Less than an RTT later: no measurement.
  EXPECT_FALSE(s.adjust(50000, t0 + 10ms, 20ms, mss, 131072, 6u << 20, false));
  // One RTT, 100000 bytes read: rcvwin = 2 * 100000 + 16 * 1448 = 223168;
  // grow = 223168 * (100000 - 14480) / 14480 = 1318014; + 2 * grow = 2859196.
  const auto want = s.adjust(100000, t0 + 20ms, 20ms, mss, 131072, 6u << 20, false);
  ASSERT_TRUE(want);
  EXPECT_EQ(*want, 223168u + 2u * (223168ull * (100000 - 14480) / 14480));
  EXPECT_EQ(s.space(), 100000u);
  // The next RTT read no more than the last: no growth.
  EXPECT_FALSE(s.adjust(190000, t0 + 40ms, 20ms, mss, *want, 6u << 20, false));
  EXPECT_EQ(s.space(), 100000u);
  // Growth that would pass the ceiling stops at it; at the ceiling, nothing more.
  const auto capped = s.adjust(2'000'000, t0 + 60ms, 20ms, mss, *want, 6u << 20, false);
  ASSERT_TRUE(capped);
  EXPECT_EQ(*capped, 6u << 20);
  EXPECT_FALSE(s.adjust(8'000'000, t0 + 80ms, 20ms, mss, 6u << 20, 6u << 20, false));
}

TEST(RcvSpace, NoEstimateNoGrowth) {
  RcvSpace s;
  s.start(131072, 1448, 0, t0);
  EXPECT_FALSE(s.adjust(1'000'000, t0 + 1s, Duration{0}, 1448, 131072, 6u << 20, false));
}

TEST(RcvSpace, LockedMeasuresButNeverGrows) {
  // SO_RCVBUF set by the user (Linux SOCK_RCVBUF_LOCK).
  RcvSpace s;
  s.start(131072, 1448, 0, t0);
  EXPECT_FALSE(s.adjust(100000, t0 + 20ms, 20ms, 1448, 131072, 6u << 20, true));
  EXPECT_EQ(s.space(), 100000u);
}

TEST(SndbufGrow, AtLeastDoublesSoThatSlowStartCopiesTheRingFewTimes) {
  EXPECT_EQ(sndbuf_grow(100000, 90000, 4u << 20), 100000u);   // holds it: unchanged
  EXPECT_EQ(sndbuf_grow(100000, 101448, 4u << 20), 200000u);  // one MSS more: doubled
  EXPECT_EQ(sndbuf_grow(100000, 500000, 4u << 20), 500000u);  // more than double: the target
  EXPECT_EQ(sndbuf_grow(3u << 20, (3u << 20) + 1, 4u << 20), 4u << 20);  // never past the maximum
  // Slow start from 10 to 3,000 segments, one MSS per ACK: the ring is copied
  // about log2(300) times, not once per ACK.
  std::size_t cap = sndbuf_target(10 * 1448, 1448, 3, 16u << 20), resizes = 0;
  for (std::uint32_t cwnd = 10; cwnd <= 3000; ++cwnd) {
    const std::size_t want = sndbuf_target(cwnd * 1448, 1448, 3, 16u << 20);
    const std::size_t next = sndbuf_grow(cap, want, 16u << 20);
    if (next != cap) ++resizes;
    cap = next;
    EXPECT_GE(cap, want);
  }
  EXPECT_LE(resizes, 10u);
}

TEST(SndbufTarget, TwoWindowsOfAtLeastTenSegments) {
  EXPECT_EQ(sndbuf_target(4 * 1448, 1448, 3, 4u << 20), 2u * 10 * 1448);    // TCP_INIT_CWND floor
  EXPECT_EQ(sndbuf_target(100 * 1448, 1448, 3, 4u << 20), 2u * 100 * 1448);
  EXPECT_EQ(sndbuf_target(4 * 1448, 1448, 30, 4u << 20), 2u * 31 * 1448);    // reordering + 1
  EXPECT_EQ(sndbuf_target(10000 * 1448, 1448, 3, 4u << 20), 4u << 20);       // the ceiling
  EXPECT_EQ(max_window(7), 65535u << 7);
  EXPECT_GE(max_window(7), 6u << 20);  // Linux's shift 7 covers tcp_rmem[2]
}

}  // namespace
}  // namespace ustack::tcp
