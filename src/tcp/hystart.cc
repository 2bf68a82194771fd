// HyStart++ (RFC 9406 4.2), step by step.
#include "tcp/hystart.h"

#include <algorithm>

namespace ustack::tcp {

void HystartPlusPlus::start_round(std::uint32_t in_flight) {
  // "lastRoundMinRTT = currentRoundMinRTT; currentRoundMinRTT = infinity;
  // rttSampleCount = 0" at the start of each round, whose end is SND.NXT now.
  last_round_min_rtt_ = current_round_min_rtt_;
  current_round_min_rtt_.reset();
  rtt_sample_count_ = 0;
  window_end_ = delivered_ + in_flight;
}

HystartPlusPlus::Step HystartPlusPlus::on_ack(std::uint32_t acked, std::optional<base::Duration> rtt,
                                              std::uint32_t in_flight, std::uint32_t smss) {
  Step step;
  if (phase_ == Phase::done) return step;
  delivered_ += acked;
  bool round_ended = false;
  if (!window_end_) {
    start_round(in_flight);
  } else if (delivered_ >= *window_end_) {
    round_ended = true;
    start_round(in_flight);
  }
  if (rtt) {
    current_round_min_rtt_ = current_round_min_rtt_ ? std::min(*current_round_min_rtt_, *rtt) : *rtt;
    ++rtt_sample_count_;
  }
  // "cwnd = cwnd + min(N, L * SMSS)", L = infinity when paced, else 8.
  const std::uint32_t limit = paced_ ? acked : 8u * smss;
  const std::uint32_t grow = std::min(acked, limit);
  const bool enough = rtt_sample_count_ >= kNRttSample && current_round_min_rtt_ && last_round_min_rtt_;
  if (phase_ == Phase::slow_start) {
    step.increase = grow;
    // "If (rttSampleCount >= N_RTT_SAMPLE) AND (currentRoundMinRTT != infinity) AND
    // (lastRoundMinRTT != infinity): RttThresh = max(MIN_RTT_THRESH,
    // min(lastRoundMinRTT / MIN_RTT_DIVISOR, MAX_RTT_THRESH)); if
    // (currentRoundMinRTT >= (lastRoundMinRTT + RttThresh)): cssBaselineMinRtt =
    // currentRoundMinRTT; exit slow start and enter CSS".
    if (enough) {
      const base::Duration thresh =
          std::max(kMinRttThresh, std::min<base::Duration>(*last_round_min_rtt_ / kMinRttDivisor, kMaxRttThresh));
      if (*current_round_min_rtt_ >= *last_round_min_rtt_ + thresh) {
        css_baseline_min_rtt_ = current_round_min_rtt_;
        phase_ = Phase::css;
        css_rounds_ = 0;
      }
    }
    return step;
  }
  // CSS: "cwnd = cwnd + (min(N, L * SMSS) / CSS_GROWTH_DIVISOR)".
  step.increase = grow / kCssGrowthDivisor;
  if (round_ended) ++css_rounds_;
  // "If (rttSampleCount >= N_RTT_SAMPLE) AND (currentRoundMinRTT < cssBaselineMinRtt):
  // cssBaselineMinRtt = infinity; resume slow start", the RTT increase was spurious.
  if (rtt_sample_count_ >= kNRttSample && current_round_min_rtt_ && *current_round_min_rtt_ < *css_baseline_min_rtt_) {
    css_baseline_min_rtt_.reset();
    phase_ = Phase::slow_start;
    return step;
  }
  // "If CSS_ROUNDS rounds are complete, enter congestion avoidance by setting the
  // ssthresh to the current cwnd."
  if (css_rounds_ >= kCssRounds) {
    phase_ = Phase::done;
    step.enter_ca = true;
  }
  return step;
}

}  // namespace ustack::tcp
