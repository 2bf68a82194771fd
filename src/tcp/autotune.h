// Buffer auto-tuning, as Linux does it (net.ipv4.tcp_moderate_rcvbuf, tcp_rmem,
// tcp_wmem; docs/buffers.md):
// - the receiver's RTT estimate (Linux tcp_rcv_rtt_est): from timestamps echoed in
//   arriving data, or from the time a window's worth of data takes to arrive;
// - receive-buffer moderation (Linux tcp_rcv_space_adjust, "dynamic right-sizing"):
//   once per receiver RTT, the bytes the application read in that RTT; when they
//   grew, the buffer grows to about twice that, so the advertised window can open
//   ahead of the sender's congestion window;
// - send-buffer sizing (Linux tcp_sndbuf_expand): about two congestion windows.
// All pure: the caller tells the time and owns the buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/compact_optional.h"
#include "base/time.h"
#include "tcp/seq.h"

namespace ustack::tcp {

/// The receiver's RTT (Linux tcp_rcv_rtt_update). Zero until a sample.
class RcvRtt {
 public:
  /// An arriving full-sized data segment echoed our timestamp `tsecr` (ms, our
  /// clock) and it is now `ts_now`: a sample, smoothed with 1/8 weight (Linux
  /// tcp_rcv_rtt_measure_ts, win_dep = 0). A sample of 0 ms counts as 1 ms (as
  /// Linux); an echo already measured is not measured again.
  void on_timestamp(std::uint32_t tsecr, std::uint32_t ts_now);
  /// Window-based measurement (Linux tcp_rcv_rtt_measure), for connections
  /// without timestamps: call when in-order data arrives. The time from
  /// advertising a window until RCV.NXT passes its right edge is one sample; the
  /// estimate keeps the smallest (Linux win_dep = 1).
  void on_data(Seq rcv_nxt, std::uint32_t rcv_wnd, base::Instant now);
  base::Duration rtt() const { return rtt_; }

 private:
  void update(base::Duration sample, bool window_based);
  base::Duration rtt_{0};
  std::optional<std::uint32_t> last_tsecr_;
  base::OptInstant window_start_;
  Seq window_end_;
};

/// Linux tcp_rcv_space_adjust's state (tp->rcvq_space).
class RcvSpace {
 public:
  /// At establishment: the first measurement expects min(buffer, 10 * MSS) per RTT
  /// (Linux tcp_init_buffer_space: TCP_INIT_CWND * advmss).
  void start(std::size_t rcvbuf, std::uint32_t mss, std::uint64_t copied, base::Instant now);
  /// After the application read: `copied` is the total it has read. Returns the
  /// buffer size wanted when the buffer should grow (above `current`, at most
  /// `max`), nothing otherwise. `locked`: SO_RCVBUF was set, measure but never grow.
  std::optional<std::size_t> adjust(std::uint64_t copied, base::Instant now, base::Duration rcv_rtt,
                                    std::uint32_t mss, std::size_t current, std::size_t max, bool locked);
  std::size_t space() const { return space_; }

 private:
  std::size_t space_ = 0;         // bytes read in the last measured RTT
  std::uint64_t copied_at_ = 0;   // the total read when this measurement began
  base::Instant time_{};
  bool started_ = false;
};

/// Linux tcp_sndbuf_expand: room for two windows of max(cwnd, 10, reordering + 1)
/// segments, at most `max`. (Linux counts each segment's memory overhead as well;
/// our buffer holds only payload, so one MSS per segment.)
std::size_t sndbuf_target(std::uint32_t cwnd_bytes, std::uint32_t mss, std::uint32_t reordering, std::size_t max);

/// The send ring's next capacity when sndbuf_target() asks for `want` bytes:
/// unchanged if it holds them, else at least double (up to `max`). Growing the
/// ring copies it; in slow start the target grows with every ACK, and growing
/// to the exact target each time copied megabytes per ACK (a 32 MiB upload over
/// a 1 ms path ran at 20 Mbit/s for 1.7 s, page faults first in its profile).
/// Doubling makes the copies a constant share of what is sent. Linux's sk_sndbuf
/// is a limit on skbs, not one buffer, so it has no such cost.
std::size_t sndbuf_grow(std::size_t capacity, std::size_t want, std::size_t max);

/// The largest window a shift can advertise (RFC 7323 2.3).
inline std::size_t max_window(std::uint8_t shift) { return std::size_t{65535} << shift; }

}  // namespace ustack::tcp
