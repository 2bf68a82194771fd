// CUBIC (RFC 9438) against its formulas and behaviour: K and W_cubic(t) (eq. 1,
// 2), the multiplicative decrease with beta = 0.7 and fast convergence (4.6,
// 4.7), the concave and convex regions (4.4, 4.5), the Reno-friendly region and
// W_est (4.3), the RTO rule (4.8), undo (4.9), no growth while app-limited (5.8).
#include "tcp/cc_cubic.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

namespace ustack::tcp {
namespace {

using namespace std::chrono_literals;
constexpr std::uint32_t kMss = 1000;
const base::Instant t0{};

AckEvent ack_at(base::Instant now, std::uint32_t bytes, base::Duration srtt = 100ms) {
  AckEvent a;
  a.now = now;
  a.bytes_acked = bytes;
  a.srtt = srtt;
  a.rtt = srtt;
  return a;
}

TEST(CubicFormula, K) {
  // K = cubic_root((W_max - cwnd_epoch) / C): from 100 to 70 segments, cbrt(30 / 0.4).
  EXPECT_DOUBLE_EQ(Cubic::k(100, 70), std::cbrt(75.0));
  EXPECT_NEAR(Cubic::k(100, 70), 4.2172, 1e-4);
  EXPECT_DOUBLE_EQ(Cubic::k(50, 50), 0.0);
}

TEST(CubicFormula, WCubic) {
  // W_cubic(t) = C * (t - K)^3 + W_max: cwnd_epoch at t = 0, W_max at t = K.
  const double k = Cubic::k(100, 70);
  EXPECT_NEAR(Cubic::w_cubic(0, k, 100), 70.0, 1e-9);
  EXPECT_DOUBLE_EQ(Cubic::w_cubic(k, k, 100), 100.0);
  EXPECT_NEAR(Cubic::w_cubic(k + 2, k, 100), 100.0 + 0.4 * 8, 1e-9);
  EXPECT_NEAR(Cubic::w_cubic(k - 2, k, 100), 100.0 - 0.4 * 8, 1e-9);
}

TEST(CubicFormula, Constants) {
  EXPECT_DOUBLE_EQ(Cubic::kC, 0.4);
  EXPECT_DOUBLE_EQ(Cubic::kBeta, 0.7);
  EXPECT_NEAR(Cubic::kAlpha, 3 * 0.3 / 1.7, 1e-12);  // RFC 9438 4.3
}

/// A CUBIC sender with cwnd = w segments in congestion avoidance after a loss at w_max.
Cubic after_loss_at(std::uint32_t w_max_segments) {
  Cubic c;
  c.init(w_max_segments, kMss, t0);
  c.on_loss(w_max_segments * kMss, t0);
  c.on_recovery_end(w_max_segments * kMss, t0);  // cwnd = ssthresh
  return c;
}

TEST(Cubic, MultiplicativeDecreaseIsBeta) {
  Cubic c = after_loss_at(100);
  EXPECT_EQ(c.ssthresh(), 70 * kMss);  // flight_size * 0.7
  EXPECT_EQ(c.cwnd(), 70 * kMss);
  EXPECT_DOUBLE_EQ(c.w_max(), 100.0);
  EXPECT_DOUBLE_EQ(c.cwnd_prior(), 100.0);
}

TEST(Cubic, FastConvergenceLowersWmax) {
  // RFC 9438 4.7: a loss below the last W_max leaves W_max = cwnd * (1 + beta) / 2.
  Cubic c = after_loss_at(100);  // W_max 100, cwnd 70
  c.on_loss(70 * kMss, t0);
  EXPECT_NEAR(c.w_max(), 70 * 1.7 / 2, 1e-9);
  EXPECT_EQ(c.ssthresh(), 49 * kMss);
}

/// Feeds one window's worth of ACKs (one per segment) spread over `rtt`, from `start`.
base::Instant run_rounds(Cubic& c, base::Instant start, int rounds, base::Duration rtt) {
  base::Instant now = start;
  for (int r = 0; r < rounds; ++r) {
    const std::uint32_t segs = c.cwnd() / kMss;
    for (std::uint32_t i = 0; i < segs; ++i) c.on_ack(ack_at(now + rtt * i / segs, kMss, rtt));
    now += rtt;
  }
  return now;
}

TEST(Cubic, FollowsWCubicConcaveThenConvex) {
  // With a long RTT the cubic curve is above Reno's: cwnd tracks W_cubic(t + RTT).
  Cubic c = after_loss_at(100);
  const auto rtt = 100ms;
  base::Instant now = t0;
  c.on_ack(ack_at(now, kMss, rtt));  // the epoch starts here
  ASSERT_TRUE(c.epoch_start());
  EXPECT_NEAR(c.k(), std::cbrt(30 / 0.4), 1e-9);
  double previous_growth = 1e9;
  // Concave: growth per RTT shrinks as cwnd nears W_max, and stays below it until K.
  for (int r = 0; r < 50; ++r) {
    const double before = c.cwnd() / double(kMss);
    now = run_rounds(c, now, 1, rtt);
    const double after = c.cwnd() / double(kMss);
    const double t = std::chrono::duration<double>(now - *c.epoch_start()).count();
    if (t + 0.1 < c.k()) {
      EXPECT_LE(after - before, previous_growth + 0.5) << "round " << r;
      EXPECT_LT(after, 100.0);
      previous_growth = after - before;
    }
    // Close to W_cubic(t): each ACK moves cwnd towards W_cubic(t + RTT), which it
    // reaches about an RTT later.
    EXPECT_NEAR(after, Cubic::w_cubic(t, c.k(), 100), 1.5) << "round " << r;
  }
  // Convex beyond K: growth per RTT rises.
  const double a = c.cwnd() / double(kMss);
  now = run_rounds(c, now, 5, rtt);
  const double b = c.cwnd() / double(kMss);
  now = run_rounds(c, now, 5, rtt);
  const double d = c.cwnd() / double(kMss);
  EXPECT_GT(a, 100.0);
  EXPECT_GT(d - b, b - a);
}

TEST(Cubic, RenoFriendlyRegionOnShortRtts) {
  // RFC 9438 4.3: with a short RTT W_cubic grows slower than Reno would; cwnd
  // follows W_est = cwnd_epoch + alpha * (segments acked) / cwnd.
  Cubic c = after_loss_at(100);
  const auto rtt = 1ms;
  base::Instant now = t0;
  c.on_ack(ack_at(now, kMss, rtt));
  const double epoch_cwnd = 70;
  now = run_rounds(c, now, 20, rtt);  // 20 ms: W_cubic barely moves from 70
  const double t = std::chrono::duration<double>(now - *c.epoch_start()).count();
  EXPECT_LT(Cubic::w_cubic(t, c.k(), 100), c.w_est());
  // About alpha segments per RTT: 20 rounds * 0.529.
  EXPECT_NEAR(c.w_est(), epoch_cwnd + 20 * Cubic::kAlpha, 0.6);
  EXPECT_EQ(c.cwnd(), static_cast<std::uint32_t>(c.w_est() * kMss));
}

TEST(Cubic, RenoFriendlyAlphaBecomesOneAtCwndPrior) {
  // "Once W_est has grown to reach the cwnd at the time of most recently setting
  // ssthresh ... the sender SHOULD set alpha_cubic to 1."
  Cubic c = after_loss_at(20);  // cwnd 14, cwnd_prior 20
  const auto rtt = 1ms;
  base::Instant now = run_rounds(c, t0, 15, rtt);  // 6 segments at alpha ~0.53 needs ~12 rounds
  ASSERT_GE(c.w_est(), 20.0);
  const double before = c.w_est();
  run_rounds(c, now, 4, rtt);
  EXPECT_NEAR(c.w_est() - before, 4.0, 0.3);  // one segment per RTT now
}

TEST(Cubic, TimeoutUsesLossWindowThenKZero) {
  // RFC 9438 4.8.
  Cubic c;
  c.init(100, kMss, t0);
  c.on_rto(100 * kMss, t0);
  EXPECT_EQ(c.cwnd(), kMss);
  EXPECT_EQ(c.ssthresh(), 70 * kMss);
  // Slow start back to ssthresh (one SMSS per ACK), then the epoch begins with K = 0.
  base::Instant now = t0;
  while (c.cwnd() < c.ssthresh()) c.on_ack(ack_at(now += 1ms, kMss));
  c.on_ack(ack_at(now += 1ms, kMss));
  ASSERT_TRUE(c.epoch_start());
  EXPECT_DOUBLE_EQ(c.k(), 0.0);
  EXPECT_NEAR(c.w_max(), 70.0, 1.0);
}

TEST(Cubic, UndoRestoresEverything) {
  // RFC 9438 4.9.
  Cubic c = after_loss_at(100);
  base::Instant now = run_rounds(c, t0, 3, 100ms);
  const auto cwnd = c.cwnd();
  const auto ssthresh = c.ssthresh();
  const double w_max = c.w_max(), k = c.k();
  const auto epoch = c.epoch_start();
  c.on_loss(cwnd, now);
  EXPECT_LT(c.ssthresh(), ssthresh);
  c.undo(now);
  EXPECT_EQ(c.cwnd(), cwnd);
  EXPECT_EQ(c.ssthresh(), ssthresh);
  EXPECT_DOUBLE_EQ(c.w_max(), w_max);
  EXPECT_DOUBLE_EQ(c.k(), k);
  EXPECT_EQ(c.epoch_start(), epoch);
}

TEST(Cubic, NoGrowthWhileAppLimited) {
  // RFC 9438 5.8.
  Cubic c;
  c.init(10, kMss, t0);
  AckEvent a = ack_at(t0, kMss);
  a.cwnd_limited = false;
  c.on_ack(a);
  EXPECT_EQ(c.cwnd(), 10 * kMss);
  Cubic d = after_loss_at(100);
  a.cwnd_limited = false;
  for (int i = 0; i < 100; ++i) d.on_ack(a);
  EXPECT_EQ(d.cwnd(), 70 * kMss);
}

TEST(Cubic, IdleTimeIsNotCountedInT) {
  Cubic c = after_loss_at(100);
  c.on_ack(ack_at(t0, kMss));
  ASSERT_TRUE(c.epoch_start());
  c.on_send_after_idle(5s, t0 + 6s);
  EXPECT_EQ(*c.epoch_start(), t0 + 5s);
}

TEST(Cubic, EcnReducesLikeLoss) {
  Cubic c;
  c.init(100, kMss, t0);
  c.on_ecn(100 * kMss, t0);
  EXPECT_EQ(c.cwnd(), 70 * kMss);
  EXPECT_EQ(c.ssthresh(), 70 * kMss);
  EXPECT_EQ(c.hystart().phase(), HystartPlusPlus::Phase::done);
}

TEST(Cubic, IsTheDefaultNameInTheTable) {
  EXPECT_STREQ(make_congestion_control("cubic")->name(), "cubic");
}

// --- HyStart++ (RFC 9406) --------------------------------------------------------

/// One round of n ACKs of one SMSS each, with the given RTT samples; in flight
/// stays at the window so that each call is one round.
HystartPlusPlus::Step round(HystartPlusPlus& h, unsigned n, base::Duration rtt, std::uint32_t& cwnd) {
  HystartPlusPlus::Step last;
  for (unsigned i = 0; i < n; ++i) {
    last = h.on_ack(kMss, rtt, cwnd, kMss);
    cwnd += last.increase;
    if (last.enter_ca) break;
  }
  return last;
}

TEST(HystartPlusPlus, StaysInSlowStartWhileRttIsFlat) {
  HystartPlusPlus h;
  std::uint32_t cwnd = 10 * kMss;
  for (int r = 0; r < 5; ++r) round(h, cwnd / kMss, 50ms, cwnd);
  EXPECT_EQ(h.phase(), HystartPlusPlus::Phase::slow_start);
  EXPECT_EQ(cwnd, 320 * kMss);  // doubling each round
}

TEST(HystartPlusPlus, RttIncreaseEntersCssAndCssEndsInCongestionAvoidance) {
  HystartPlusPlus h;
  std::uint32_t cwnd = 16 * kMss;
  round(h, 16, 40ms, cwnd);  // first round: lastRoundMinRTT becomes 40 ms next round
  round(h, cwnd / kMss, 40ms, cwnd);
  ASSERT_EQ(h.phase(), HystartPlusPlus::Phase::slow_start);
  // RttThresh = max(4 ms, min(40 / 8, 16)) = 5 ms: 44 ms is not enough, 45 ms is.
  std::uint32_t c2 = cwnd;
  HystartPlusPlus h2 = h;
  round(h2, c2 / kMss, 44ms, c2);
  EXPECT_EQ(h2.phase(), HystartPlusPlus::Phase::slow_start);
  const std::uint32_t before = cwnd;
  round(h, 8, 45ms, cwnd);  // after N_RTT_SAMPLE = 8 samples
  EXPECT_EQ(h.phase(), HystartPlusPlus::Phase::css);
  EXPECT_EQ(h.css_baseline_min_rtt(), base::Duration(45ms));
  // CSS grows a quarter as fast: 8 ACKs in slow start gave 8 SMSS; now 4 ACKs give 1.
  const std::uint32_t at_css = cwnd;
  EXPECT_EQ(at_css - before, 8 * kMss);
  round(h, 4, 45ms, cwnd);
  EXPECT_EQ(cwnd - at_css, 1 * kMss);
  // CSS_ROUNDS = 5 rounds later: congestion avoidance.
  HystartPlusPlus::Step s;
  for (int r = 0; r < 6 && h.phase() == HystartPlusPlus::Phase::css; ++r) s = round(h, cwnd / kMss + 1, 45ms, cwnd);
  EXPECT_EQ(h.phase(), HystartPlusPlus::Phase::done);
  EXPECT_TRUE(s.enter_ca);
  EXPECT_EQ(h.css_rounds(), HystartPlusPlus::kCssRounds);
}

TEST(HystartPlusPlus, RttDecreaseInCssResumesSlowStart) {
  HystartPlusPlus h;
  std::uint32_t cwnd = 16 * kMss;
  round(h, 16, 40ms, cwnd);
  round(h, cwnd / kMss, 40ms, cwnd);
  round(h, cwnd / kMss, 50ms, cwnd);
  ASSERT_EQ(h.phase(), HystartPlusPlus::Phase::css);
  // The next round's minimum falls below the CSS baseline (50 ms): spurious.
  round(h, cwnd / kMss, 42ms, cwnd);
  EXPECT_EQ(h.phase(), HystartPlusPlus::Phase::slow_start);
  EXPECT_FALSE(h.css_baseline_min_rtt());
}

TEST(HystartPlusPlus, CubicSlowStartEndsWithSsthreshAtCwnd) {
  // Through Cubic: the initial slow start runs HyStart++ and ends with ssthresh = cwnd.
  Cubic c;
  c.init(10, kMss, t0);
  base::Instant now = t0;
  base::Duration rtt = 20ms;
  for (int r = 0; r < 30 && c.in_slow_start(); ++r) {
    if (r >= 3) rtt = 40ms;  // the queue builds
    const std::uint32_t segs = c.cwnd() / kMss;
    for (std::uint32_t i = 0; i < segs && c.in_slow_start(); ++i) {
      AckEvent a = ack_at(now, kMss, rtt);
      a.in_flight = c.cwnd();
      c.on_ack(a);
    }
    now += rtt;
  }
  EXPECT_FALSE(c.in_slow_start());
  EXPECT_EQ(c.ssthresh(), c.cwnd());
  EXPECT_EQ(c.hystart().phase(), HystartPlusPlus::Phase::done);
  // Slow start left in round 3 at about 88 segments; five CSS rounds at 1.25x each
  // give about 270 (flat RTTs would have doubled to thousands).
  EXPECT_GT(c.cwnd(), 200 * kMss);
  EXPECT_LT(c.cwnd(), 300 * kMss);
}

}  // namespace
}  // namespace ustack::tcp
