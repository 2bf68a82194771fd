// Buffer auto-tuning on the simulated network (issue 4, item 3; docs/buffers.md):
// one flow fills a high bandwidth-delay path with the stack's default buffers
// (nothing hand-set), the buffers stay within tcp::Config's maxima, and a
// receiver that sets SO_RCVBUF keeps that size (auto-tuning off, as on Linux).
#include <gtest/gtest.h>

#include <cstdio>

#include "bench/goodput.h"
#include "tcp/connection.h"

namespace ustack {
namespace {

using namespace std::chrono_literals;

bench::Cell high_bdp_cell() {
  bench::Cell c;
  c.rate_bps = 1'000'000'000;  // 1 Gbit/s x 20 ms: a BDP of 2.5 MB, 19x the default 128 KiB rcvbuf
  c.rtt = 20ms;
  c.loss = 0;
  c.duration = 3s;
  c.seed = 4;
  c.hand_set_buffers = false;
  return c;
}

TEST(Autotune, OneFlowFillsAHighBdpPathWithoutHandSetBuffers) {
  const bench::Cell cell = high_bdp_cell();
  const bench::CellResult r = bench::run_cell(cell);
  std::printf("1 Gbit/s x 20 ms, default buffers: %.1f Mbit/s, rcvbuf %zu, sndbuf %zu, retrans %llu\n",
              r.goodput_bps / 1e6, r.rcvbuf_end, r.sndbuf_end,
              static_cast<unsigned long long>(r.retrans_segs));
  const tcp::Config defaults;
  // Without auto-tuning the window would stay at 128 KiB: 52 Mbit/s at most.
  EXPECT_GE(r.goodput_bps, 0.8 * cell.rate_bps);
  const double bdp = cell.rate_bps / 8.0 * 0.020;
  EXPECT_GT(static_cast<double>(r.rcvbuf_end), bdp);  // the window had to open past the BDP
  EXPECT_LE(r.rcvbuf_end, defaults.rcvbuf_max);
  EXPECT_GT(static_cast<double>(r.sndbuf_end), bdp);
  EXPECT_LE(r.sndbuf_end, defaults.sndbuf_max);
}

TEST(Autotune, SoRcvbufSetByTheReceiverStopsGrowth) {
  bench::Cell cell = high_bdp_cell();
  cell.receiver_so_rcvbuf = 65536;  // doubled by the stack (socket(7)): 128 KiB, locked
  const bench::CellResult r = bench::run_cell(cell);
  std::printf("1 Gbit/s x 20 ms, SO_RCVBUF 64 KiB: %.1f Mbit/s, rcvbuf %zu\n", r.goodput_bps / 1e6, r.rcvbuf_end);
  EXPECT_EQ(r.rcvbuf_end, 131072u);
  // The window limit: 128 KiB per 20 ms (52 Mbit/s), with a little room for the
  // queueing delay's effect on the measured RTT.
  EXPECT_LE(r.goodput_bps, 131072 * 8 / 0.020 * 1.05);
  EXPECT_GT(r.goodput_bps, 0);
}

}  // namespace
}  // namespace ustack
