// CUBIC (RFC 9438): the window follows W_cubic(t) = C * (t - K)^3 + W_max after a
// congestion event, concave up to the window where the loss happened and convex
// beyond it, never below what Reno would reach (the Reno-friendly region), with
// beta = 0.7 and fast convergence; slow start is HyStart++ (RFC 9406). Linux's
// "cubic" and default. Windows in the formulas are in segments, as in the RFC.
#pragma once

#include <optional>

#include "base/compact_optional.h"
#include "tcp/cc.h"
#include "tcp/hystart.h"

namespace ustack::tcp {

class Cubic : public CongestionControl {
 public:
  static constexpr double kC = 0.4;      // RFC 9438 5.1
  static constexpr double kBeta = 0.7;   // RFC 9438 4.6
  /// RFC 9438 4.3: alpha_cubic = 3 * (1 - beta) / (1 + beta).
  static constexpr double kAlpha = 3.0 * (1.0 - kBeta) / (1.0 + kBeta);

  /// RFC 9438 eq. 2: K = cubic_root((W_max - cwnd_epoch) / C), in seconds.
  static double k(double w_max, double cwnd_epoch);
  /// RFC 9438 eq. 1: W_cubic(t) = C * (t - K)^3 + W_max, in segments.
  static double w_cubic(double t, double k, double w_max);

  explicit Cubic(bool paced = false) : hystart_(paced) {}
  const char* name() const override { return "cubic"; }
  void adopt(std::uint32_t cwnd, std::uint32_t ssthresh, std::uint32_t smss, base::Instant now) override;
  void on_ack(const AckEvent& ack) override;
  void on_loss(std::uint32_t in_flight, base::Instant now) override;
  void on_rto(std::uint32_t in_flight, base::Instant now) override;
  void on_ecn(std::uint32_t in_flight, base::Instant now) override;
  void undo(base::Instant now) override;
  void on_send_after_idle(base::Duration idle, base::Instant now) override;

  // For tests and ss: the state of the current congestion-avoidance epoch.
  double w_max() const { return state_.w_max; }
  double k() const { return state_.k; }
  double w_est() const { return state_.w_est; }
  double cwnd_prior() const { return state_.cwnd_prior; }
  std::optional<base::Instant> epoch_start() const { return state_.epoch_start; }
  const HystartPlusPlus& hystart() const { return hystart_; }

 protected:
  std::uint32_t ssthresh_after_loss(std::uint32_t in_flight) const override;

 private:
  struct State {
    double w_max = 0;          // segments: the window before the last reduction
    double k = 0;              // seconds to reach w_max again
    double cwnd_epoch = 0;     // segments: cwnd when the epoch began
    double w_est = 0;          // segments: what Reno would have by now
    double cwnd_prior = 0;     // segments: cwnd before the last reduction
    base::OptInstant epoch_start;  // the current congestion-avoidance stage
    bool after_rto = false;    // RFC 9438 4.8: K = 0, W_max = cwnd at the next epoch
  };
  void congestion_event(base::Instant now);
  void congestion_avoidance(const AckEvent& ack);
  double segments(std::uint32_t bytes) const { return static_cast<double>(bytes) / smss_; }

  State state_;
  State saved_;              // before the last congestion event, for undo (RFC 9438 4.9)
  double cwnd_fraction_ = 0; // bytes of growth not yet added (cwnd is whole bytes)
  HystartPlusPlus hystart_;
};

}  // namespace ustack::tcp
