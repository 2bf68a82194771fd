// BBR v1's model (tcp/cc_bbr.h, as Linux's tcp_bbr.c), driven by synthetic ACKs:
// one ACK per round trip, each carrying the rate sample of the round.
#include "tcp/cc_bbr.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace ustack::tcp {
namespace {

using namespace std::chrono_literals;
constexpr std::uint32_t kMss = 1000;

struct Flow {
  Bbr bbr;
  base::Instant now = base::kEpoch;
  std::uint64_t delivered = 0;
  base::Duration rtt = 10ms;              // the RTT each ACK measures
  std::optional<base::Duration> step;     // how far apart ACKs are; rtt if unset
  explicit Flow(std::uint32_t seed = 1) {
    bbr.seed(seed);
    bbr.init(10, kMss, now);
  }
  /// One round trip: `bw` bytes per second delivered over `rtt`, one ACK.
  AckEvent ack_at(double bw, std::uint32_t in_flight, bool app_limited = false) {
    AckEvent a;
    const base::Duration dt = step.value_or(rtt);
    now += dt;
    const auto bytes = static_cast<std::uint64_t>(bw * std::chrono::duration<double>(dt).count());
    RateSample rs;
    rs.delivered = bytes;
    rs.interval = dt;
    rs.prior_delivered = delivered;
    rs.app_limited = app_limited;
    delivered += bytes;
    a.now = now;
    a.bytes_acked = static_cast<std::uint32_t>(bytes);
    a.prior_in_flight = in_flight;
    a.in_flight = in_flight;
    a.rtt = rtt;
    a.srtt = rtt;
    a.rate = rs;
    a.delivered_total = delivered;
    return a;
  }
  void round(double bw, std::uint32_t in_flight, bool app_limited = false) { bbr.on_ack(ack_at(bw, in_flight, app_limited)); }
  /// STARTUP with the bandwidth doubling, then flat at `bw` until the pipe is full.
  void fill_pipe(double bw) {
    for (double b = bw / 64; b < bw; b *= 2) round(b, 1'000'000);
    for (int i = 0; i < 4; ++i) round(bw, 1'000'000);  // growth, then 3 rounds without
  }
  /// Through DRAIN into PROBE_BW.
  void to_probe_bw(double bw) {
    fill_pipe(bw);
    round(bw, bbr.bdp(bw, 1.0));
  }
};

constexpr double kBw = 10e6;  // 10 MB/s, 10 ms: a BDP of 100 kB

TEST(Bbr, IsKnownByName) {
  auto cc = make_congestion_control("bbr");
  ASSERT_TRUE(cc);
  EXPECT_STREQ(cc->name(), "bbr");
  EXPECT_TRUE(cc->controls_window());
  bool listed = false;
  for (auto n : congestion_control_names()) listed = listed || n == "bbr";
  EXPECT_TRUE(listed);
  EXPECT_FALSE(make_congestion_control("cubic")->controls_window()) << "CUBIC keeps the PRR path";
}

TEST(Bbr, StartupGrowsAndPacesAtHighGain) {
  Flow f;
  EXPECT_EQ(f.bbr.mode(), Bbr::Mode::startup);
  EXPECT_EQ(f.bbr.ssthresh(), kInfiniteSsthresh);
  f.round(1e6, 20'000);
  f.round(2e6, 40'000);
  EXPECT_EQ(f.bbr.mode(), Bbr::Mode::startup);
  EXPECT_DOUBLE_EQ(f.bbr.max_bw(), 2e6);
  EXPECT_DOUBLE_EQ(f.bbr.pacing_gain(), Bbr::kHighGain);
  // bbr_rate_bytes_per_sec: gain x bw less 1%, scaled to what the wire carries.
  const double wire = (kMss + 40.0) / kMss;
  EXPECT_NEAR(static_cast<double>(f.bbr.pacing_rate(10ms, 0)), 2e6 * Bbr::kHighGain * 0.99 * wire, 2.0);
}

TEST(Bbr, StartupExitsToDrainAfterThreeRoundsWithoutGrowth) {
  Flow f;
  for (double b = kBw / 64; b < kBw; b *= 2) f.round(b, 1'000'000);
  f.round(kBw, 1'000'000);  // still +25%
  EXPECT_EQ(f.bbr.mode(), Bbr::Mode::startup);
  f.round(kBw * 1.2, 1'000'000);  // +20%: not significant
  EXPECT_EQ(f.bbr.mode(), Bbr::Mode::startup);
  EXPECT_FALSE(f.bbr.full_bw_reached());
  f.round(kBw, 1'000'000);
  EXPECT_EQ(f.bbr.mode(), Bbr::Mode::startup);
  f.round(kBw, 1'000'000);  // the third round without 25% growth
  EXPECT_TRUE(f.bbr.full_bw_reached());
  EXPECT_EQ(f.bbr.mode(), Bbr::Mode::drain);
  EXPECT_DOUBLE_EQ(f.bbr.pacing_gain(), Bbr::kDrainGain);
}

TEST(Bbr, AppLimitedRoundsDoNotCountTowardsAFullPipe) {
  Flow f;
  f.round(kBw, 1'000'000);
  for (int i = 0; i < 5; ++i) f.round(kBw, 1'000'000, /*app_limited=*/true);
  EXPECT_EQ(f.bbr.mode(), Bbr::Mode::startup);
}

TEST(Bbr, DrainExitsOnceInFlightIsAtMostTheBdp) {
  Flow f;
  f.fill_pipe(kBw);
  ASSERT_EQ(f.bbr.mode(), Bbr::Mode::drain);
  const std::uint32_t bdp = f.bbr.bdp(kBw, 1.0);
  EXPECT_EQ(bdp, 100'000u);
  f.round(kBw, 3 * bdp);
  EXPECT_EQ(f.bbr.mode(), Bbr::Mode::drain) << "the queue is still there";
  f.round(kBw, bdp);
  EXPECT_EQ(f.bbr.mode(), Bbr::Mode::probe_bw);
  EXPECT_DOUBLE_EQ(f.bbr.cwnd_gain(), Bbr::kCwndGain);
}

TEST(Bbr, ProbeBwCyclesItsGainsOncePerMinRtt) {
  Flow f;
  f.to_probe_bw(kBw);
  ASSERT_EQ(f.bbr.mode(), Bbr::Mode::probe_bw);
  // Each phase lasts a min_rtt: an ACK just over a min_rtt later moves on (in
  // flight high enough that 1.25 reached its target, 0.75 waits for its time).
  std::vector<unsigned> phases{f.bbr.cycle_index()};
  f.rtt = 10ms + 1us;
  for (int i = 0; i < 16; ++i) {
    f.round(kBw, 1'000'000);
    phases.push_back(f.bbr.cycle_index());
    EXPECT_DOUBLE_EQ(f.bbr.pacing_gain(), Bbr::kPacingGain[f.bbr.cycle_index()]);
  }
  for (std::size_t i = 1; i < phases.size(); ++i) EXPECT_EQ(phases[i], (phases[i - 1] + 1) % 8) << i;
  EXPECT_DOUBLE_EQ(f.bbr.max_bw(), kBw) << "cruising keeps the estimate";
}

TEST(Bbr, ProbeBwPhasesLastAtLeastAMinRtt) {
  Flow f;
  f.to_probe_bw(kBw);
  const unsigned idx = f.bbr.cycle_index();
  f.step = 5ms;
  f.round(kBw, 1'000'000);
  EXPECT_EQ(f.bbr.cycle_index(), idx) << "half a min_rtt in";
  f.round(kBw, 1'000'000);
  EXPECT_EQ(f.bbr.cycle_index(), idx) << "exactly a min_rtt: not more than it";
  f.round(kBw, 1'000'000);
  EXPECT_EQ(f.bbr.cycle_index(), (idx + 1) % 8);
}

TEST(Bbr, TheFirstProbeBwPhaseIsRandomButNeverTheDrainPhase) {
  std::set<unsigned> first;
  for (std::uint32_t seed = 1; seed <= 64; ++seed) {
    Flow f(seed);
    f.to_probe_bw(kBw);
    first.insert(f.bbr.cycle_index());
  }
  EXPECT_FALSE(first.contains(1)) << "0.75 never starts a cycle (Linux bbr_cycle_rand)";
  EXPECT_EQ(first.size(), 7u) << "the other seven phases all occur";
  Flow a(7), b(7);
  a.to_probe_bw(kBw);
  b.to_probe_bw(kBw);
  EXPECT_EQ(a.bbr.cycle_index(), b.bbr.cycle_index()) << "the same seed, the same choice";
}

TEST(Bbr, AppLimitedSamplesDoNotLowerTheBandwidthEstimate) {
  Flow f;
  f.to_probe_bw(kBw);
  for (int i = 0; i < 30; ++i) f.round(kBw / 10, 10'000, /*app_limited=*/true);
  EXPECT_DOUBLE_EQ(f.bbr.max_bw(), kBw);
  // The same low samples from a flow that is not app-limited age the estimate
  // out after the 10-round window.
  Flow g;
  g.to_probe_bw(kBw);
  for (int i = 0; i < 12; ++i) g.round(kBw / 10, 10'000);
  EXPECT_DOUBLE_EQ(g.bbr.max_bw(), kBw / 10);
}

TEST(Bbr, AnAppLimitedSampleAboveTheEstimateRaisesIt) {
  Flow f;
  f.to_probe_bw(kBw);
  f.round(2 * kBw, 10'000, /*app_limited=*/true);
  EXPECT_DOUBLE_EQ(f.bbr.max_bw(), 2 * kBw);
}

TEST(Bbr, CwndIsTwiceTheBdpPlusTheQuantizationAllowanceInProbeBw) {
  Flow f;
  f.to_probe_bw(kBw);
  for (int i = 0; i < 20; ++i) f.round(kBw, 200'000);
  while (f.bbr.cycle_index() < 2) f.round(kBw, 200'000);
  // In a 1.0 phase: 2 x 100 kB; the quantum at 10 MB/s is 10 segments (1 ms),
  // so + 30 segments, an even count.
  EXPECT_EQ(f.bbr.cwnd(), 200'000u + 30 * kMss);
  // The 1.25 phase: a larger quantum (12 segments) and 2 segments more.
  while (f.bbr.cycle_index() != 0) f.round(kBw, 200'000);
  // In flight below 1.25 x BDP: the phase persists (bbr_is_next_cycle_phase).
  f.round(kBw, 100'000);
  f.round(kBw, 100'000);
  ASSERT_EQ(f.bbr.cycle_index(), 0u);
  EXPECT_EQ(f.bbr.cwnd(), 200'000u + 38 * kMss);
}

TEST(Bbr, ProbeRttAfterTenSecondsWithoutALowerRtt) {
  Flow f;
  f.to_probe_bw(kBw);
  const std::uint32_t cwnd_before = f.bbr.cwnd();
  // min_rtt was measured at the start; 10 s of rounds at a higher RTT.
  f.rtt = 12ms;
  while (f.now < base::kEpoch + 10s) f.round(kBw, 200'000);
  EXPECT_EQ(f.bbr.mode(), Bbr::Mode::probe_bw);
  f.round(kBw, 200'000);
  ASSERT_EQ(f.bbr.mode(), Bbr::Mode::probe_rtt);
  EXPECT_TRUE(f.bbr.restrains_sending());
  EXPECT_EQ(f.bbr.cwnd(), 4 * kMss);
  EXPECT_EQ(f.bbr.min_rtt(), 12ms) << "an expired filter takes the next sample";
  // In flight drains to 4 segments; from then on at least 200 ms and a round.
  f.round(kBw, 4 * kMss);
  const base::Instant drained = f.now;
  while (f.now + f.rtt <= drained + 200ms) {
    f.round(kBw / 20, 4 * kMss, /*app_limited=*/true);
    EXPECT_EQ(f.bbr.mode(), Bbr::Mode::probe_rtt) << base::to_millis(f.now - drained) << " ms";
    EXPECT_EQ(f.bbr.cwnd(), 4 * kMss);
  }
  f.round(kBw / 20, 4 * kMss, /*app_limited=*/true);
  EXPECT_EQ(f.bbr.mode(), Bbr::Mode::probe_bw) << "the pipe was full before: back to PROBE_BW";
  EXPECT_GE(f.bbr.cwnd(), cwnd_before) << "cwnd restored";
  EXPECT_DOUBLE_EQ(f.bbr.max_bw(), kBw) << "the app-limited PROBE_RTT samples did not lower it";
}

TEST(Bbr, ALowerRttPostponesProbeRtt) {
  Flow f;
  f.to_probe_bw(kBw);
  f.rtt = 12ms;
  while (f.now < base::kEpoch + 9s) f.round(kBw, 200'000);
  f.rtt = 9ms;  // a new minimum at 9 s
  f.round(kBw, 200'000);
  f.rtt = 12ms;
  while (f.now < base::kEpoch + 15s) f.round(kBw, 200'000);
  EXPECT_EQ(f.bbr.mode(), Bbr::Mode::probe_bw);
  EXPECT_EQ(f.bbr.min_rtt(), 9ms);
}

TEST(Bbr, PacketConservationInTheFirstRoundOfRecoveryThenCwndRestored) {
  Flow f;
  f.to_probe_bw(kBw);
  for (int i = 0; i < 20; ++i) f.round(kBw, 200'000);
  const std::uint32_t before = f.bbr.cwnd();
  f.bbr.on_loss(200'000, f.now);
  EXPECT_EQ(f.bbr.cwnd(), before) << "no cut at the loss itself";
  EXPECT_EQ(f.bbr.ssthresh(), f.bbr.ssthresh()) << "ssthresh is not the algorithm's lever";
  // The first ACK in recovery: cwnd = in flight + delivered.
  AckEvent a = f.ack_at(kBw / 2, 150'000);
  a.bytes_acked = 3000;
  a.lost = 2000;
  a.in_recovery = true;
  a.rate->prior_delivered = 0;  // sent long ago: the same round
  f.bbr.on_ack(a);
  EXPECT_TRUE(f.bbr.packet_conservation());
  EXPECT_EQ(f.bbr.cwnd(), 153'000u);
  // Recovery ends: the cwnd from before it comes back.
  AckEvent b = f.ack_at(kBw, 150'000);
  f.bbr.on_ack(b);
  EXPECT_FALSE(f.bbr.packet_conservation());
  EXPECT_GE(f.bbr.cwnd(), before);
}

TEST(Bbr, CwndRestoredAfterATimeout) {
  Flow f;
  f.to_probe_bw(kBw);
  for (int i = 0; i < 20; ++i) f.round(kBw, 200'000);
  const std::uint32_t before = f.bbr.cwnd();
  f.bbr.on_rto(200'000, f.now);
  EXPECT_EQ(f.bbr.cwnd(), kMss) << "the loss window";
  EXPECT_EQ(f.bbr.prior_cwnd(), before);
  AckEvent a = f.ack_at(kBw, kMss);
  a.in_loss = true;
  a.bytes_acked = kMss;
  f.bbr.on_ack(a);
  EXPECT_LT(f.bbr.cwnd(), before) << "grows from the loss window while in loss recovery";
  f.bbr.on_ack(f.ack_at(kBw, 2 * kMss));  // recovery over
  EXPECT_GE(f.bbr.cwnd(), before);
  EXPECT_DOUBLE_EQ(f.bbr.max_bw(), kBw) << "losses do not shrink the model";
}

TEST(Bbr, WindowedMaxAgesOutAfterItsWindow) {
  WindowedMax m;
  m.update(10, 0, 100);
  for (std::uint64_t t = 1; t <= 10; ++t) EXPECT_EQ(m.update(10, t, 50), 100) << t;
  EXPECT_EQ(m.update(10, 11, 50), 50);
}

}  // namespace
}  // namespace ustack::tcp
