// RttEstimator: RFC 6298 SRTT/RTTVAR arithmetic with hand-computed values, the RTO
// formula, the [min, max] bounds, backoff doubling and its cap, and its reset.
#include "tcp/rtt.h"

#include <gtest/gtest.h>

#include <chrono>

namespace ustack::tcp {
namespace {

using namespace std::chrono_literals;
using base::Duration;

TEST(Rtt, InitialRtoBeforeAnySample) {
  RttEstimator e;
  EXPECT_EQ(e.rto(), 1s);  // RFC 6298 2.1
  EXPECT_FALSE(e.srtt());
  EXPECT_FALSE(e.rttvar());
  EXPECT_EQ(e.backoffs(), 0u);
}

TEST(Rtt, FirstSample) {
  // RFC 6298 2.2: SRTT <- R, RTTVAR <- R/2, RTO <- SRTT + max(G, 4 * RTTVAR).
  RttEstimator e;
  e.sample(100ms);
  EXPECT_EQ(e.srtt(), Duration(100ms));
  EXPECT_EQ(e.rttvar(), Duration(50ms));
  EXPECT_EQ(e.rto(), 300ms);  // 100 + 4 * 50
}

TEST(Rtt, SecondSampleUpdatesRttvarWithTheOldSrtt) {
  // RFC 6298 2.3: RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5 ms (with the old
  // SRTT; updating SRTT first would give 59.375 ms), SRTT = 7/8 * 100 + 1/8 * 200
  // = 112.5 ms.
  RttEstimator e;
  e.sample(100ms);
  e.sample(200ms);
  EXPECT_EQ(e.rttvar(), Duration(62500us));
  EXPECT_EQ(e.srtt(), Duration(112500us));
  EXPECT_EQ(e.rto(), 362500us);  // 112.5 + 4 * 62.5
}

TEST(Rtt, SmallerSampleAfterwards) {
  // 400 ms then 200 ms: RTTVAR = 3/4 * 200 + 1/4 * 200 = 200 ms,
  // SRTT = 7/8 * 400 + 1/8 * 200 = 375 ms, RTO = 375 + 800 = 1175 ms.
  RttEstimator e;
  e.sample(400ms);
  e.sample(200ms);
  EXPECT_EQ(e.rttvar(), Duration(200ms));
  EXPECT_EQ(e.srtt(), Duration(375ms));
  EXPECT_EQ(e.rto(), 1175ms);
  // A third, 375 ms: |SRTT - R| = 0, so RTTVAR = 150 ms; SRTT stays 375 ms.
  e.sample(375ms);
  EXPECT_EQ(e.rttvar(), Duration(150ms));
  EXPECT_EQ(e.srtt(), Duration(375ms));
  EXPECT_EQ(e.rto(), 975ms);
}

TEST(Rtt, GranularityFloorsTheVarianceTerm) {
  // Steady samples drive RTTVAR toward 0; then RTO = SRTT + G.
  RttEstimator e(RtoConfig{.min = 0ms, .granularity = 100ms});
  e.sample(0ms);
  EXPECT_EQ(e.rto(), 100ms);  // 0 + max(100, 0)
  RttEstimator f(RtoConfig{.min = 0ms, .granularity = 100ms});
  f.sample(40ms);  // RTTVAR 20 ms: 4 * 20 = 80 < G
  EXPECT_EQ(f.rto(), 140ms);
  f.sample(40ms);  // RTTVAR 15 ms
  EXPECT_EQ(f.rttvar(), Duration(15ms));
  EXPECT_EQ(f.rto(), 140ms);
}

TEST(Rtt, MinimumBound) {
  RttEstimator e;  // min 200 ms
  e.sample(10ms);  // 10 + 4 * 5 = 30 ms
  EXPECT_EQ(e.rto(), 200ms);
  RttEstimator unbounded(RtoConfig{.min = 0ms});
  unbounded.sample(10ms);
  EXPECT_EQ(unbounded.rto(), 30ms);
}

TEST(Rtt, MaximumBound) {
  RttEstimator e;  // max 120 s
  e.sample(50s);   // 50 + 4 * 25 = 150 s
  EXPECT_EQ(e.rto(), 120s);
  RttEstimator tight(RtoConfig{.max = 60s});
  EXPECT_EQ(tight.rto(), 1s);
  tight.sample(20s);  // 20 + 40 = 60 s, exactly the bound
  EXPECT_EQ(tight.rto(), 60s);
}

TEST(Rtt, BackoffDoublesUpToTheCap) {
  // RFC 6298 5.5: RTO <- RTO * 2 per expiry; 2.5: a maximum may be placed on it.
  RttEstimator e;
  const Duration expected[] = {1s, 2s, 4s, 8s, 16s, 32s, 64s, 120s, 120s};
  for (const Duration want : expected) {
    EXPECT_EQ(e.rto(), want) << "after " << e.backoffs() << " backoffs";
    e.backoff();
  }
  EXPECT_EQ(e.backoffs(), 9u);
}

TEST(Rtt, BackoffStartsFromTheClampedRto) {
  // The minimum applies to the computed RTO, and the backoff doubles that.
  RttEstimator e;
  e.sample(10ms);  // 30 ms, rounded up to 200 ms
  e.backoff();
  EXPECT_EQ(e.rto(), 400ms);
  e.backoff();
  EXPECT_EQ(e.rto(), 800ms);
}

TEST(Rtt, BackoffFromAMeasuredRto) {
  RttEstimator e;
  e.sample(100ms);
  e.sample(200ms);  // RTO 362.5 ms
  e.backoff();
  e.backoff();
  e.backoff();
  EXPECT_EQ(e.rto(), 2900ms);  // 362.5 * 8
}

TEST(Rtt, ManyBackoffsNeitherOverflowNorExceedTheCap) {
  RttEstimator e;
  for (int i = 0; i < 10000; ++i) e.backoff();
  EXPECT_EQ(e.rto(), 120s);
  // With no effective cap, the doubling saturates instead of wrapping.
  RttEstimator huge(RtoConfig{.max = Duration::max()});
  for (int i = 0; i < 200; ++i) huge.backoff();
  EXPECT_EQ(huge.rto(), Duration::max());
  EXPECT_GT(huge.rto(), Duration::zero());
}

TEST(Rtt, SampleEndsTheBackoff) {
  RttEstimator e;
  e.backoff();
  e.backoff();
  EXPECT_EQ(e.backoffs(), 2u);
  EXPECT_EQ(e.rto(), 4s);
  e.sample(100ms);
  EXPECT_EQ(e.backoffs(), 0u);
  EXPECT_EQ(e.rto(), 300ms);
}

TEST(Rtt, ResetBackoffKeepsTheEstimate) {
  RttEstimator e;
  e.sample(100ms);
  e.backoff();
  EXPECT_EQ(e.rto(), 600ms);
  e.reset_backoff();
  EXPECT_EQ(e.backoffs(), 0u);
  EXPECT_EQ(e.rto(), 300ms);
  EXPECT_EQ(e.srtt(), Duration(100ms));
}

TEST(Rtt, ConvergesOnASteadyPath) {
  RttEstimator e(RtoConfig{.min = 0ms});
  for (int i = 0; i < 200; ++i) e.sample(80ms);
  EXPECT_EQ(e.srtt(), Duration(80ms));
  EXPECT_LT(*e.rttvar(), Duration(1us));
  EXPECT_EQ(e.rto(), 81ms);  // 80 + G (1 ms)
}

}  // namespace
}  // namespace ustack::tcp
