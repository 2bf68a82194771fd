// BBR (v1) congestion control, as Linux's net/ipv4/tcp_bbr.c and
// draft-cardwell-iccrg-bbr-congestion-control-00: a model of the path -- the
// bottleneck bandwidth (windowed maximum of the delivery rate over 10 round
// trips) and the round-trip propagation time (minimum RTT over 10 s) -- and a
// sender that paces at pacing_gain x bandwidth and keeps at most cwnd_gain x BDP
// in flight. Loss alone does not shrink the model, so random loss that is not
// congestion costs little goodput (docs/loss-recovery.md). States: STARTUP
// (gain 2/ln 2 until the bandwidth grew less than 25% for 3 rounds), DRAIN (until
// in flight <= BDP), PROBE_BW (an 8-phase gain cycle: 1.25, 0.75, then 1 for six
// phases, each one min_rtt long) and PROBE_RTT (cwnd 4 segments for 200 ms and a
// round once min_rtt is 10 s old). Windows and rates are in bytes here (Linux
// counts packets). Linux's long-term bandwidth estimate for token-bucket
// policers (lt_bw) and the ACK-aggregation allowance (extra_acked) are not
// built. Pure: told the time; its randomness is seeded by the connection.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "base/time.h"
#include "tcp/cc.h"

namespace ustack::tcp {

/// Kathleen Nichols' windowed running maximum as Linux's lib/minmax.c: the best,
/// second best and third best samples in the window, so that the maximum ages
/// out without storing every sample. The window is in rounds (BBR's rtt_cnt).
class WindowedMax {
 public:
  /// A sample `v` at time `t`; returns the maximum over the window ending at t.
  double update(std::uint64_t window, std::uint64_t t, double v);
  double get() const { return s_[0].v; }
  void reset(std::uint64_t t, double v) { s_.fill({t, v}); }

 private:
  struct Sample {
    std::uint64_t t = 0;
    double v = 0;
  };
  std::array<Sample, 3> s_{};
};

class Bbr : public CongestionControl {
 public:
  enum class Mode { startup, drain, probe_bw, probe_rtt };

  // Linux tcp_bbr.c's constants.
  /// "2/ln(2) ... the smallest pacing_gain and cwnd_gain that will allow a smoothly
  /// increasing pacing rate that will double each RTT" (bbr_high_gain = 2885/1000 + 1/256... units).
  static constexpr double kHighGain = 2.885;
  /// "The pacing gain of 1/high_gain in BBR_DRAIN is calculated to typically drain
  /// the queue created in BBR_STARTUP in a single round" (bbr_drain_gain).
  static constexpr double kDrainGain = 1.0 / 2.885;
  /// "The gain for deriving steady-state cwnd tolerates delayed/stretched ACKs" (bbr_cwnd_gain).
  static constexpr double kCwndGain = 2.0;
  static constexpr unsigned kCycleLen = 8;
  /// bbr_pacing_gain[]: "probe for more available bw", "drain queue and/or yield bw
  /// to other flows", then "cruise at 1.0*bw to utilize pipe, w/ small queue".
  static constexpr std::array<double, kCycleLen> kPacingGain = {1.25, 0.75, 1, 1, 1, 1, 1, 1};
  /// bbr_cycle_rand: "Randomize the starting gain cycling phase over N phases".
  static constexpr unsigned kCycleRand = 7;
  /// bbr_bw_rtts: "Window length of bw filter (in rounds)" = CYCLE_LEN + 2.
  static constexpr std::uint64_t kBwRounds = kCycleLen + 2;
  /// bbr_min_rtt_win_sec: "Window length of min_rtt filter (in sec)".
  static constexpr base::Duration kMinRttWindow = std::chrono::seconds(10);
  /// bbr_probe_rtt_mode_ms: "Minimum time (in ms) spent at bbr_cwnd_min_target in BBR_PROBE_RTT mode".
  static constexpr base::Duration kProbeRttTime = std::chrono::milliseconds(200);
  /// bbr_cwnd_min_target: "Try to keep at least this many packets in flight".
  static constexpr std::uint32_t kMinCwndSegments = 4;
  /// bbr_full_bw_thresh, bbr_full_bw_cnt: "If bw has increased significantly (1.25x),
  /// there may be more bw available"; "after 3 rounds w/o significant bw growth,
  /// estimate pipe is full".
  static constexpr double kFullBwThresh = 1.25;
  static constexpr unsigned kFullBwCount = 3;
  /// bbr_pacing_margin_percent: "Pace at ~1% below estimated bw, on average, to
  /// reduce queue at bottleneck".
  static constexpr double kPacingMargin = 0.99;

  const char* name() const override { return "bbr"; }
  void init(std::uint32_t initial_cwnd_segments, std::uint32_t smss, base::Instant now) override;
  void adopt(std::uint32_t cwnd, std::uint32_t ssthresh, std::uint32_t smss, base::Instant now) override;
  void seed(std::uint32_t seed) override { rng_ = seed != 0 ? seed : 0x9e3779b9u; }
  bool controls_window() const override { return true; }
  bool restrains_sending() const override { return mode_ == Mode::probe_rtt; }
  void on_ack(const AckEvent& ack) override;
  void on_loss(std::uint32_t in_flight, base::Instant now) override;
  void on_recovery_end(std::uint32_t in_flight, base::Instant now) override;
  void on_rto(std::uint32_t in_flight, base::Instant now) override;
  void on_ecn(std::uint32_t in_flight, base::Instant now) override;
  void undo(base::Instant now) override;
  void on_send_after_idle(base::Duration idle, base::Instant now) override;
  std::uint64_t pacing_rate(std::optional<base::Duration> srtt, std::uint32_t in_flight) const override;

  // The model, for tests and ss.
  Mode mode() const { return mode_; }
  /// The bottleneck bandwidth estimate, bytes per second (payload).
  double max_bw() const { return bw_.get(); }
  std::optional<base::Duration> min_rtt() const { return min_rtt_; }
  double pacing_gain() const { return pacing_gain_; }
  double cwnd_gain() const { return cwnd_gain_; }
  unsigned cycle_index() const { return cycle_idx_; }
  bool full_bw_reached() const { return full_bw_reached_; }
  std::uint64_t rounds() const { return round_count_; }
  std::uint32_t prior_cwnd() const { return prior_cwnd_; }
  bool packet_conservation() const { return packet_conservation_; }
  /// bbr_inflight without the quantization allowance: gain x bw x min_rtt, bytes
  /// (the initial window while there is no min_rtt).
  std::uint32_t bdp(double bw, double gain) const;

 private:
  enum class CaState { open, recovery, loss };
  void reset_model(base::Instant now);
  void update_bw(const AckEvent& ack);
  void update_cycle_phase(const AckEvent& ack);
  void check_full_bw_reached(const AckEvent& ack);
  void check_drain(const AckEvent& ack);
  void update_min_rtt(const AckEvent& ack);
  void update_gains();
  void set_pacing_rate(double bw, double gain, std::optional<base::Duration> srtt);
  void set_cwnd(const AckEvent& ack, double bw, double gain);
  bool set_cwnd_to_recover_or_restore(const AckEvent& ack, std::uint32_t& cwnd);
  std::uint32_t quantization_budget(std::uint32_t cwnd) const;
  std::uint32_t inflight(double bw, double gain) const { return quantization_budget(bdp(bw, gain)); }
  void reset_startup_mode();
  void reset_probe_bw_mode(base::Instant now);
  void advance_cycle_phase(base::Instant now);
  void check_probe_rtt_done(base::Instant now);
  void save_cwnd();
  std::uint32_t random_below(std::uint32_t n);
  std::uint64_t rate_for(double bw, double gain) const;

  Mode mode_ = Mode::startup;
  CaState prev_ca_state_ = CaState::open;
  WindowedMax bw_;                     // bytes per second, over kBwRounds rounds
  std::uint64_t round_count_ = 0;      // rtt_cnt
  std::uint64_t next_rtt_delivered_ = 0;
  bool round_start_ = false;
  std::optional<base::Duration> min_rtt_;
  base::Instant min_rtt_stamp_{};
  std::optional<base::Instant> probe_rtt_done_;
  bool probe_rtt_round_done_ = false;
  bool packet_conservation_ = false;
  bool idle_restart_ = false;
  bool full_bw_reached_ = false;
  double full_bw_ = 0;
  unsigned full_bw_count_ = 0;
  unsigned cycle_idx_ = 0;
  base::Instant cycle_stamp_{};
  double pacing_gain_ = kHighGain;
  double cwnd_gain_ = kHighGain;
  std::uint32_t prior_cwnd_ = 0;
  std::uint32_t initial_cwnd_ = 0;     // bytes: bbr_inflight's answer without min_rtt
  std::uint64_t pacing_rate_ = 0;      // bytes per second on the wire (headers counted)
  bool has_seen_rtt_ = false;
  std::uint32_t rng_ = 0x9e3779b9u;
};

}  // namespace ustack::tcp
