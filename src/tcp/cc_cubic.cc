// CUBIC (RFC 9438) with HyStart++ (RFC 9406).
#include "tcp/cc_cubic.h"

#include <algorithm>
#include <cmath>

namespace ustack::tcp {

double Cubic::k(double w_max, double cwnd_epoch) { return std::cbrt((w_max - cwnd_epoch) / kC); }

double Cubic::w_cubic(double t, double k_s, double w_max) {
  const double d = t - k_s;
  return kC * d * d * d + w_max;
}

void Cubic::adopt(std::uint32_t cwnd, std::uint32_t ssthresh, std::uint32_t smss, base::Instant now) {
  CongestionControl::adopt(cwnd, ssthresh, smss, now);
  if (ssthresh != kInfiniteSsthresh) hystart_.on_congestion();  // past the initial slow start
  state_ = State{};
}

std::uint32_t Cubic::ssthresh_after_loss(std::uint32_t in_flight) const {
  // RFC 9438 4.6: "ssthresh = flight_size * beta_cubic", and "ssthresh = max(ssthresh, 2)".
  return std::max<std::uint32_t>(static_cast<std::uint32_t>(in_flight * kBeta), 2u * smss_);
}

void Cubic::congestion_event(base::Instant) {
  saved_ = state_;
  save_for_undo();
  hystart_.on_congestion();
  const double cwnd = segments(cwnd_);
  // RFC 9438 4.7, fast convergence: "if cwnd < W_max and fast convergence enabled,
  // further reduce W_max: W_max = cwnd * (1 + beta_cubic) / 2; else W_max = cwnd".
  state_.w_max = cwnd < state_.w_max ? cwnd * (1.0 + kBeta) / 2.0 : cwnd;
  state_.cwnd_prior = cwnd;
  state_.epoch_start.reset();  // the next congestion-avoidance stage starts a new epoch
  state_.after_rto = false;
  cwnd_fraction_ = 0;
}

void Cubic::on_loss(std::uint32_t in_flight, base::Instant now) {
  congestion_event(now);
  ssthresh_ = ssthresh_after_loss(in_flight);
}

void Cubic::on_ecn(std::uint32_t in_flight, base::Instant now) {
  // RFC 9438 4.6: the same decrease "when ... an ECN-Echo ACK is received".
  congestion_event(now);
  ssthresh_ = ssthresh_after_loss(in_flight);
  cwnd_ = std::max(ssthresh_, smss_);
}

void Cubic::on_rto(std::uint32_t in_flight, base::Instant now) {
  // RFC 9438 4.8: "CUBIC follows Reno to reduce cwnd [RFC5681] but sets ssthresh
  // using beta_cubic ... During the first congestion avoidance stage after a
  // timeout, CUBIC increases its congestion window size using Figure 1, where t is
  // the elapsed time since the beginning of the current congestion avoidance stage,
  // K is set to 0, and W_max is set to the congestion window size at the beginning
  // of the current congestion avoidance stage."
  congestion_event(now);
  ssthresh_ = ssthresh_after_loss(in_flight);
  cwnd_ = smss_;
  state_.after_rto = true;
}

void Cubic::undo(base::Instant now) {
  // RFC 9438 4.9: on a spurious congestion event, restore cwnd, ssthresh,
  // cwnd_prior, W_max, K, the epoch and W_est as they were before it.
  if (prior_cwnd_ == 0) return;
  CongestionControl::undo(now);
  state_ = saved_;
}

void Cubic::on_send_after_idle(base::Duration idle, base::Instant) {
  // RFC 9438 5.8: "CUBIC does not raise its congestion window size if the flow is
  // currently limited by the application"; t must not count an idle period, so
  // the epoch moves forward by it (Linux bictcp_cwnd_event, CA_EVENT_TX_START).
  if (state_.epoch_start) *state_.epoch_start += idle;
}

void Cubic::on_ack(const AckEvent& ack) {
  if (!ack.cwnd_limited) return;  // RFC 9438 5.8: no growth while app-limited
  if (cwnd_ < ssthresh_) {
    if (ssthresh_ == kInfiniteSsthresh && hystart_.phase() != HystartPlusPlus::Phase::done) {
      // The initial slow start: HyStart++ (RFC 9406).
      const auto step = hystart_.on_ack(ack.bytes_acked, ack.rtt, ack.in_flight, smss_);
      cwnd_ += step.increase;
      if (step.enter_ca) ssthresh_ = cwnd_;
      return;
    }
    // RFC 5681 slow start (after an RTO), at most SMSS per ACK.
    cwnd_ += std::min(ack.bytes_acked, smss_);
    return;
  }
  congestion_avoidance(ack);
}

void Cubic::congestion_avoidance(const AckEvent& ack) {
  const double cwnd = segments(cwnd_);
  if (!state_.epoch_start) {
    // The start of a congestion-avoidance stage (RFC 9438 4.2): t = 0 here,
    // cwnd_epoch the window now, W_est starts from it (4.3).
    state_.epoch_start = ack.now;
    state_.cwnd_epoch = cwnd;
    state_.w_est = cwnd;
    if (state_.after_rto || state_.w_max < cwnd) {
      // After an RTO (4.8), or with no loss yet (HyStart++ ended slow start):
      // W_max is this window and K = 0, the convex region from the start.
      state_.w_max = cwnd;
      state_.k = 0;
      state_.after_rto = false;
    } else {
      state_.k = k(state_.w_max, state_.cwnd_epoch);
    }
  }
  const double acked_segments = segments(ack.bytes_acked);
  // RFC 9438 4.3, the Reno-friendly region: "W_est = W_est + alpha_cubic *
  // segments_acked / cwnd"; "Once W_est has grown to reach the cwnd at the time of
  // most recently setting ssthresh ... the sender SHOULD set alpha_cubic to 1".
  const double alpha = state_.w_est >= state_.cwnd_prior && state_.cwnd_prior > 0 ? 1.0 : kAlpha;
  state_.w_est += alpha * acked_segments / cwnd;
  const double t = std::chrono::duration<double>(ack.now - *state_.epoch_start).count();
  const double rtt = ack.srtt ? std::chrono::duration<double>(*ack.srtt).count() : 0.0;
  // "If W_cubic(t) is less than W_est, then the protocol is in the Reno-friendly
  // region and cwnd SHOULD be set to W_est at each reception of an ACK."
  if (w_cubic(t, state_.k, state_.w_max) < state_.w_est) {
    const auto est = static_cast<std::uint32_t>(state_.w_est * smss_);
    if (est > cwnd_) cwnd_ = est;
    return;
  }
  // RFC 9438 4.2: target = W_cubic(t + RTT), kept within [cwnd, 1.5 * cwnd]; "cwnd
  // MUST be incremented by (target - cwnd) / cwnd for each received ACK" (one per
  // SMSS acknowledged here: byte counting).
  const double target = std::clamp(w_cubic(t + rtt, state_.k, state_.w_max), cwnd, 1.5 * cwnd);
  cwnd_fraction_ += (target - cwnd) / cwnd * ack.bytes_acked;
  const auto whole = static_cast<std::uint32_t>(cwnd_fraction_);
  cwnd_ += whole;
  cwnd_fraction_ -= whole;
}

}  // namespace ustack::tcp
