// Goodput on the simulated network against what the path allows (issue 4,
// item 7): a small grid of the sweep of bench/README.md, one flow per cell.
//
// Grid: bottleneck 10 and 100 Mbit/s x RTT 2, 20 and 60 ms x data loss 0, 0.5
// and 2%; queue one BDP (at least 16 frames); socket buffers as the stack sets
// them (auto-tuned: no application sets a size), so the cells also pin item 3,
// one flow filling the path without hand-set buffers.
//
// 1. Each cell reaches at least kShareOfCeiling (three quarters) of its ceiling,
//    min(bottleneck, Mathis bound MSS/RTT * 1.22/sqrt(p), buffer/RTT), with the
//    default congestion control. Cells listed in kNeedsLossRecovery do not yet:
//    they wait for SACK-based loss recovery, RACK-TLP and HyStart++ (issue 4,
//    items 1 and 2). They are checked strictly the other way round (an expected
//    failure): once such a cell reaches its share the test fails and asks for
//    the cell to come off the list, so the list can only shrink.
// 2. CUBIC is never worse than NewReno beyond kNoiseMargin in the same cell (same
//    seed, same loss draws); skipped while the build has no "cubic".
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "bench/goodput.h"
#include "tcp/cc.h"
#include "tcp/connection.h"

namespace ustack {
namespace {

using namespace std::chrono_literals;

/// Calibrated on 21 Nov 2026 over this grid with five other seeds per cell
/// (90 runs per algorithm, auto-tuned buffers): CUBIC's lowest share of the
/// ceiling was 0.89, NewReno's about the same; the issue asks for "most of the
/// path's capacity".
constexpr double kShareOfCeiling = 0.75;
/// CUBIC may trail NewReno by at most this fraction of NewReno's goodput. The
/// same calibration: CUBIC / NewReno was 0.992 at worst (10M/2ms at 0.5% and 2%
/// loss, within one seed's noise), 1.0 on clean paths, and up to 24x where the
/// window is large (100M/60ms/2%). 5% is six times the worst noise seen.
constexpr double kNoiseMargin = 0.05;

struct GridCell {
  std::uint64_t rate_bps;
  int rtt_ms;
  double loss;
  std::string name() const {
    return std::to_string(rate_bps / 1'000'000) + "M/" + std::to_string(rtt_ms) + "ms/" +
           std::to_string(loss * 100).substr(0, 3) + "%";
  }
};

std::vector<GridCell> grid() {
  std::vector<GridCell> g;
  for (std::uint64_t rate : {10'000'000ull, 100'000'000ull})
    for (int rtt : {2, 20, 60})
      for (double loss : {0.0, 0.005, 0.02}) g.push_back({rate, rtt, loss});
  return g;
}

bench::Cell cell_for(const GridCell& g, const std::string& cc) {
  bench::Cell c;
  c.rate_bps = g.rate_bps;
  c.rtt = std::chrono::milliseconds(g.rtt_ms);
  c.loss = g.loss;
  c.cc = cc;
  c.duration = std::clamp<base::Duration>(c.rtt * 100, 2s, 6s);
  c.seed = 100 + static_cast<std::uint64_t>(g.rtt_ms) + static_cast<std::uint64_t>(g.loss * 1e4);
  return c;
}

/// Cells that stay under half their ceiling, expected to fail. Without SACK-based
/// recovery, slow start overshot a one-BDP queue and NewReno then repaired one
/// lost segment per RTT, or at 2% loss with a short RTT retransmission timeouts
/// (200 ms = 100 RTTs) dominated.
const std::set<std::string> kNeedsLossRecovery = {
    // Emptied by SACK recovery with PRR and RACK-TLP (docs/loss-recovery.md).
    // With NewReno's recovery alone (RFC 6582, no SACK), release build, they were:
    // 10M/60ms/0.0% 2.3 of 10 Mbit/s (84 segments repaired one per RTT),
    // 100M/20ms/0.0% 0.9 of 100, 100M/60ms/0.0% 0.3 of 100 (the same), and
    // 100M/2ms/2.0% 21 of a 50 Mbit/s Mathis ceiling (5 RTOs of 200 ms).
    // Now 9.6, 95.6, 95.3 and 45.3 Mbit/s, 0 RTOs.
};

TEST(GoodputSweep, EachCellReachesHalfItsCeilingWithTheDefaultCongestionControl) {
  const std::string cc = tcp::Config{}.congestion_control;
  for (const GridCell& g : grid()) {
    const bench::CellResult r = bench::run_cell(cell_for(g, cc));
    ASSERT_TRUE(r.cc_available) << cc;
    const double share = r.goodput_bps / r.ceiling_bps();
    const std::string what = g.name() + " " + cc + ": " + std::to_string(r.goodput_bps / 1e6) + " Mbit/s of a " +
                             std::to_string(r.ceiling_bps() / 1e6) + " Mbit/s ceiling (" +
                             std::to_string(static_cast<int>(share * 100)) + "%), " +
                             std::to_string(r.retrans_segs) + " retransmissions, " + std::to_string(r.timeouts) +
                             " RTOs";
    if (kNeedsLossRecovery.contains(g.name())) {
      EXPECT_LT(share, kShareOfCeiling) << what << ": reaches its share now; take it off kNeedsLossRecovery";
      std::printf("expected shortfall (needs loss recovery): %s\n", what.c_str());
    } else {
      EXPECT_GE(share, kShareOfCeiling) << what;
    }
  }
}

TEST(GoodputSweep, CubicIsNeverWorseThanNewRenoBeyondNoise) {
  if (!tcp::make_congestion_control("cubic")) GTEST_SKIP() << "no \"cubic\" in this build yet (issue 4, item 1)";
  for (const GridCell& g : grid()) {
    const bench::CellResult cubic = bench::run_cell(cell_for(g, "cubic"));
    const bench::CellResult reno = bench::run_cell(cell_for(g, "reno"));
    EXPECT_GE(cubic.goodput_bps, (1 - kNoiseMargin) * reno.goodput_bps)
        << g.name() << ": cubic " << cubic.goodput_bps / 1e6 << " Mbit/s, reno " << reno.goodput_bps / 1e6
        << " Mbit/s";
  }
}

TEST(GoodputSweep, BbrKeepsItsRateUnderRandomLossWhereCubicDoesNot) {
  // Issue 4: "goodput under 2% loss at least half the clean goodput". Random
  // loss is not congestion: a loss-based algorithm (CUBIC) cuts its window at
  // each loss and falls to the Mathis bound; BBR's model (bandwidth and min RTT)
  // does not shrink on loss (docs/loss-recovery.md). Same seed, same loss draws.
  const GridCell clean{100'000'000, 20, 0.0}, lossy{100'000'000, 20, 0.02};
  const bench::CellResult bbr_clean = bench::run_cell(cell_for(clean, "bbr"));
  const bench::CellResult bbr_lossy = bench::run_cell(cell_for(lossy, "bbr"));
  const bench::CellResult cubic_clean = bench::run_cell(cell_for(clean, "cubic"));
  const bench::CellResult cubic_lossy = bench::run_cell(cell_for(lossy, "cubic"));
  ASSERT_TRUE(bbr_clean.cc_available);
  const double bbr_ratio = bbr_lossy.goodput_bps / bbr_clean.goodput_bps;
  const double cubic_ratio = cubic_lossy.goodput_bps / cubic_clean.goodput_bps;
  std::printf("100M/20ms: bbr %.1f -> %.1f Mbit/s (%.2f), cubic %.1f -> %.1f Mbit/s (%.2f)\n",
              bbr_clean.goodput_bps / 1e6, bbr_lossy.goodput_bps / 1e6, bbr_ratio, cubic_clean.goodput_bps / 1e6,
              cubic_lossy.goodput_bps / 1e6, cubic_ratio);
  EXPECT_GE(bbr_clean.goodput_bps, 0.9 * clean.rate_bps) << "BBR fills a clean path";
  EXPECT_GE(bbr_ratio, 0.5) << "BBR keeps half its clean goodput under 2% loss";
  EXPECT_LT(cubic_ratio, 0.5) << "CUBIC halves (the contrast this test exists for)";
}

}  // namespace
}  // namespace ustack
