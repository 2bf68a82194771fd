// The congestion-control interface's common parts (RFC 5681 3.1, RFC 6582,
// RFC 3168 6.1.2) and the table of algorithms by name.
#include "tcp/cc.h"

#include <algorithm>

#include "tcp/cc_bbr.h"
#include "tcp/cc_cubic.h"
#include "tcp/cc_reno.h"

namespace ustack::tcp {

void CongestionControl::init(std::uint32_t initial_cwnd_segments, std::uint32_t smss, base::Instant) {
  smss_ = smss;
  cwnd_ = initial_cwnd_segments * smss;
}

void CongestionControl::adopt(std::uint32_t cwnd, std::uint32_t ssthresh, std::uint32_t smss, base::Instant) {
  smss_ = smss;
  cwnd_ = cwnd;
  ssthresh_ = ssthresh;
}

std::uint32_t CongestionControl::ssthresh_after_loss(std::uint32_t in_flight) const {
  // RFC 5681 3.1, eq. 4: "ssthresh = max (FlightSize / 2, 2*SMSS)".
  return std::max<std::uint32_t>(in_flight / 2, 2u * smss_);
}

void CongestionControl::save_for_undo() {
  prior_cwnd_ = cwnd_;
  prior_ssthresh_ = ssthresh_;
}

void CongestionControl::on_loss(std::uint32_t in_flight, base::Instant) {
  save_for_undo();
  ssthresh_ = ssthresh_after_loss(in_flight);
}

void CongestionControl::on_recovery_end(std::uint32_t in_flight, base::Instant) {
  cwnd_ = std::min(ssthresh_, std::max(in_flight, smss_) + smss_);
}

void CongestionControl::on_rto(std::uint32_t in_flight, base::Instant) {
  save_for_undo();
  ssthresh_ = ssthresh_after_loss(in_flight);
  cwnd_ = smss_;  // RFC 5681 3.1: "the loss window, LW, which equals 1 full-sized segment"
}

void CongestionControl::on_ecn(std::uint32_t in_flight, base::Instant) {
  save_for_undo();
  ssthresh_ = ssthresh_after_loss(in_flight);
  // RFC 3168 6.1.2: cwnd falls to the new threshold, never below one segment.
  cwnd_ = std::max(ssthresh_, smss_);
}

void CongestionControl::undo(base::Instant) {
  if (prior_cwnd_ == 0) return;  // no congestion event to undo
  cwnd_ = std::max(cwnd_, prior_cwnd_);
  ssthresh_ = std::max(ssthresh_, prior_ssthresh_);
  prior_cwnd_ = 0;
}

void CongestionControl::on_send_after_idle(base::Duration, base::Instant) {}

std::uint64_t CongestionControl::pacing_rate(std::optional<base::Duration> srtt, std::uint32_t in_flight) const {
  if (!srtt || srtt->count() <= 0) return 0;
  const std::uint64_t window = std::max(cwnd_, in_flight);
  // Linux: "In slow start, we want to double cwnd every RTT ... current rate is
  // (cwnd * mss) / srtt ... pace at 200% in slow start, 120% in CA".
  const std::uint64_t ratio = cwnd_ < ssthresh_ / 2 ? 200 : 120;
  const auto us = static_cast<std::uint64_t>(base::to_micros(*srtt));
  return window * ratio * 10000 / std::max<std::uint64_t>(us, 1);  // bytes/s: window * ratio/100 * 1e6/us
}

std::unique_ptr<CongestionControl> make_congestion_control(std::string_view name) {
  if (name == "reno") return std::make_unique<Reno>();
  if (name == "cubic") return std::make_unique<Cubic>();
  if (name == "bbr") return std::make_unique<Bbr>();
  return nullptr;
}

std::vector<std::string_view> congestion_control_names() { return {"reno", "cubic", "bbr"}; }

}  // namespace ustack::tcp
