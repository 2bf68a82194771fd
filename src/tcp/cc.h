// Congestion control (RFC 5681 and its successors): one interface that owns the
// congestion window and the slow-start threshold, and one class per algorithm
// (cc_reno.cc: NewReno, RFC 5681 / RFC 6582; cc_cubic.cc: CUBIC, RFC 9438, with
// HyStart++, RFC 9406, in hystart.cc; cc_bbr.cc: BBR v1, a model of the path
// that sets cwnd on every ACK, see controls_window()). Which segments are lost and how
// many may be sent during recovery (SACK, PRR, RACK) is the connection's loss
// recovery's to decide; an algorithm decides only how large the window is, when
// it grows and how far it falls. Pure: every hook is told the time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "base/time.h"

namespace ustack::tcp {

/// ssthresh before the first congestion event (Linux TCP_INFINITE_SSTHRESH in bytes).
inline constexpr std::uint32_t kInfiniteSsthresh = 0xffffffffu;

/// A delivery-rate sample (draft-cheng-iccrg-delivery-rate-estimation, measured
/// by tcp/rate.h): bytes delivered over an interval, for algorithms that model
/// the path (BBR).
struct RateSample {
  std::uint64_t delivered = 0;         // bytes delivered in the interval
  base::Duration interval{};           // over how long
  /// C.delivered when the newest segment this ACK delivered was sent ("P.delivered"):
  /// BBR counts round trips by it (Linux rs->prior_delivered).
  std::uint64_t prior_delivered = 0;
  bool app_limited = false;            // the sender had nothing to send for part of it
};

/// What an acknowledgment told the sender, given to CongestionControl::on_ack().
struct AckEvent {
  base::Instant now{};
  std::uint32_t bytes_acked = 0;       // newly acknowledged bytes (cumulatively or selectively)
  std::uint32_t prior_in_flight = 0;   // bytes in flight before this ACK
  std::uint32_t in_flight = 0;         // and after it
  std::optional<base::Duration> rtt;   // the RTT sample this ACK gave, if any
  std::optional<base::Duration> srtt;  // the smoothed RTT after it
  /// The window, not the application or the peer's receive window, limited what
  /// was sent (Linux tcp_is_cwnd_limited; RFC 9438 5.8, RFC 7661).
  bool cwnd_limited = true;
  std::optional<RateSample> rate;
  // For an algorithm that controls_window() (BBR), which is given every ACK
  // after loss detection, as Linux's cong_control():
  std::uint64_t delivered_total = 0;   // bytes delivered over the connection (C.delivered, tp->delivered)
  std::uint32_t lost = 0;              // bytes this ACK marked lost (Linux rs->losses)
  bool in_recovery = false;            // fast recovery (Linux TCP_CA_Recovery)
  bool in_loss = false;                // recovery after a timeout (TCP_CA_Loss)
};

class CongestionControl {
 public:
  virtual ~CongestionControl() = default;
  /// Linux's name for the algorithm ("reno", "cubic"): TCP_CONGESTION, ss -i.
  virtual const char* name() const = 0;

  /// The connection is established: cwnd becomes the initial window (RFC 5681 3.1).
  virtual void init(std::uint32_t initial_cwnd_segments, std::uint32_t smss, base::Instant now);
  /// The algorithm replaces another on an open connection (TCP_CONGESTION): it
  /// starts from the window and threshold the other left, as Linux does.
  virtual void adopt(std::uint32_t cwnd, std::uint32_t ssthresh, std::uint32_t smss, base::Instant now);
  /// SMSS changed (path MTU): cwnd keeps its bytes.
  void set_smss(std::uint32_t smss) { smss_ = smss; }

  /// An ACK that acknowledged new data while not in loss recovery: the window
  /// grows (slow start, congestion avoidance). For an algorithm that
  /// controls_window(): every ACK, in recovery too, after loss detection.
  virtual void on_ack(const AckEvent& ack) = 0;
  /// The algorithm sets cwnd itself on every ACK from its model, in loss recovery
  /// too (Linux: an algorithm with cong_control(), BBR): the connection calls
  /// on_ack() once per ACK after loss detection, with the rate sample, the bytes
  /// this ACK delivered (cumulatively and by SACK) as bytes_acked and pipe as
  /// in_flight; PRR does not set cwnd for it (Linux tcp_cong_control skips
  /// tcp_cwnd_reduction), and it ignores on_recovery_end().
  virtual bool controls_window() const { return false; }
  /// The algorithm keeps sending below what the path allows on purpose (BBR's
  /// PROBE_RTT): the connection marks its rate samples app-limited meanwhile, so
  /// that they do not lower the model (Linux bbr_update_min_rtt sets tp->app_limited).
  virtual bool restrains_sending() const { return false; }
  /// Randomness for the algorithm's choices (BBR's first PROBE_BW phase), from the
  /// connection (its ISN): deterministic in tests, different per connection.
  virtual void seed(std::uint32_t) {}
  /// A loss was detected (fast retransmit; RACK): the multiplicative decrease
  /// sets ssthresh, and the state before it is kept for undo(). cwnd is left as
  /// it is: during recovery the loss-recovery engine sets it (set_cwnd(), or the
  /// RFC 6582 helpers below), until on_recovery_end().
  virtual void on_loss(std::uint32_t in_flight, base::Instant now);
  /// Recovery ended with an ACK of everything outstanding when it began.
  /// RFC 6582 3.2 step 3: "Set cwnd to min(ssthresh, max(FlightSize, SMSS) + SMSS)".
  virtual void on_recovery_end(std::uint32_t in_flight, base::Instant now);
  /// The retransmission timer expired (RFC 5681 3.1, eq. 4): ssthresh as after a
  /// loss, cwnd = the loss window (1 SMSS).
  virtual void on_rto(std::uint32_t in_flight, base::Instant now);
  /// An ECN-Echo (RFC 3168 6.1.2), at most once per window (the connection's to
  /// enforce): "halve the congestion window and reduce the slow-start threshold",
  /// by the algorithm's own decrease.
  virtual void on_ecn(std::uint32_t in_flight, base::Instant now);
  /// The last congestion event was judged spurious (F-RTO, Eifel, D-SACK): the
  /// window and threshold return to what they were before it (Linux
  /// tcp_undo_cwnd_reduction: cwnd = max(cwnd, prior), ssthresh = max(ssthresh, prior)).
  virtual void undo(base::Instant now);
  /// Sending starts again after the connection had nothing in flight for `idle`
  /// (Linux CA_EVENT_TX_START).
  virtual void on_send_after_idle(base::Duration idle, base::Instant now);

  std::uint32_t cwnd() const { return cwnd_; }
  std::uint32_t ssthresh() const { return ssthresh_; }
  std::uint32_t smss() const { return smss_; }
  bool in_slow_start() const { return cwnd_ < ssthresh_; }
  /// For loss recovery (PRR, RFC 6937) to set the window while it is in charge.
  void set_cwnd(std::uint32_t cwnd) { cwnd_ = cwnd; }

  /// The rate to pace at, bytes per second, as Linux's tcp_update_pacing_rate:
  /// max(cwnd, in flight) / srtt, times 2 in slow start (cwnd < ssthresh / 2;
  /// tcp_pacing_ss_ratio = 200) and 1.2 otherwise (tcp_pacing_ca_ratio = 120).
  /// 0 (no pacing) before an RTT sample.
  virtual std::uint64_t pacing_rate(std::optional<base::Duration> srtt, std::uint32_t in_flight) const;

  // RFC 6582 (NewReno) fast recovery, the window's part: for loss recovery
  // without PRR.
  /// Step 2: "set cwnd to ssthresh plus 3*SMSS" (the three segments that left).
  void reno_recovery_start() { cwnd_ = ssthresh_ + 3u * smss_; }
  /// Step 3: "increment cwnd by SMSS" for each further duplicate ACK.
  void reno_recovery_dup_ack() { cwnd_ += smss_; }
  /// Step 5, a partial ACK: "deflate the congestion window by the amount of new
  /// data acknowledged by the cumulative acknowledgment field. If the partial ACK
  /// acknowledges at least one SMSS of new data, then add back SMSS bytes".
  void reno_recovery_partial_ack(std::uint32_t acked) { cwnd_ = (cwnd_ > acked ? cwnd_ - acked : 0) + smss_; }

 protected:
  /// The slow-start threshold after a congestion event, from the bytes in flight
  /// (RFC 5681 eq. 4 for Reno: max(FlightSize / 2, 2*SMSS)).
  virtual std::uint32_t ssthresh_after_loss(std::uint32_t in_flight) const;
  /// Remembers cwnd and ssthresh before a congestion event, for undo().
  void save_for_undo();

  std::uint32_t smss_ = 536;
  std::uint32_t cwnd_ = 0;
  std::uint32_t ssthresh_ = kInfiniteSsthresh;
  std::uint32_t prior_cwnd_ = 0;
  std::uint32_t prior_ssthresh_ = 0;
};

/// The algorithm of that name (Linux's names: "reno", "cubic"); null if unknown.
std::unique_ptr<CongestionControl> make_congestion_control(std::string_view name);
/// The names make_congestion_control() knows (tcp_available_congestion_control).
std::vector<std::string_view> congestion_control_names();

}  // namespace ustack::tcp
