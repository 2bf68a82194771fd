// Goodput of one TCP flow on the simulated network (bench/README.md): a sender
// and a receiver joined by a bottleneck link with a bounded queue, random loss
// on the data path, one flow for a bounded virtual time. Used by the sweep tool
// (bench/sweep.cc) and by the sweep assertions in tests/sim/goodput_test.cc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/time.h"

namespace ustack::bench {

struct Cell {
  double loss = 0;                  // probability that a frame from the sender is lost (data path only)
  base::Duration rtt{};             // propagation round trip (half each way)
  std::uint64_t rate_bps = 0;       // bottleneck rate, both directions
  std::string cc = "reno";          // tcp::Config::congestion_control
  base::Duration duration{};        // virtual time the flow runs, after the handshake
  std::uint64_t seed = 1;
  /// The bottleneck queue in frames; 0: one bandwidth-delay product of full
  /// frames, at least kMinQueueFrames.
  std::size_t queue_frames = 0;
  /// Socket buffers (both ends) when hand_set_buffers; 0: twice the BDP plus
  /// 1 MiB, within [Linux's defaults, kMaxBuffer].
  std::size_t buffer_bytes = 0;
  /// false (the default): the stack's defaults, grown by auto-tuning up to
  /// tcp::Config's rcvbuf_max and sndbuf_max (docs/buffers.md), as a Linux
  /// application that sets no buffer sizes. true: buffer_bytes on both ends,
  /// the window scale to match.
  bool hand_set_buffers = false;
  /// Non-zero: the receiving application sets SO_RCVBUF to this on its listening
  /// socket (which turns receive auto-tuning off, as on Linux).
  int receiver_so_rcvbuf = 0;
  /// When set, the sender's TCP trace is written here (docs/trace.md).
  std::string trace_csv;
};

inline constexpr std::size_t kMinQueueFrames = 16;
inline constexpr std::size_t kMaxBuffer = 64u << 20;
inline constexpr std::uint32_t kMss = 1448;  // 1500-byte MTU, timestamps on

struct CellResult {
  bool cc_available = true;         // false: the stack does not know `cc` (nothing ran)
  double goodput_bps = 0;           // bytes the receiving application read, after warm-up, per second
  double mathis_bps = 0;            // MSS/RTT * 1.22/sqrt(p); infinite when p = 0
  double window_bps = 0;            // what the socket buffer allows: buffer / RTT
  std::uint64_t delivered = 0;      // bytes read over the whole run
  std::uint64_t retrans_segs = 0, timeouts = 0, fast_retrans = 0;
  std::uint64_t queue_drops = 0, random_drops = 0;
  std::size_t queue_frames = 0, buffer_bytes = 0;
  /// SO_RCVBUF of the receiving socket and SO_SNDBUF of the sending one at the end
  /// of the run (what auto-tuning grew them to).
  std::size_t rcvbuf_end = 0, sndbuf_end = 0;
  double wall_seconds = 0;          // what the run cost
  /// The ceiling: min(bottleneck, Mathis bound, window limit).
  double ceiling_bps() const;
};

/// Goodput is measured over the last (1 - kWarmupFraction) of the duration, so
/// that slow start does not count against a steady-state model.
inline constexpr double kWarmupFraction = 0.2;

/// The Mathis et al. bound (CCR 1997): MSS/RTT * C/sqrt(p), C = sqrt(3/2) ~ 1.22.
double mathis_bps(std::uint32_t mss, base::Duration rtt, double loss);

CellResult run_cell(const Cell& cell);

}  // namespace ustack::bench
