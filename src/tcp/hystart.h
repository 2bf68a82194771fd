// HyStart++ (RFC 9406): slow start that watches the round-trip time and, when
// the minimum RTT of a round grows by a threshold, leaves slow start for
// Conservative Slow Start (CSS), which grows a quarter as fast; CSS returns to
// slow start if the RTT falls back (the rise was spurious), and gives way to
// congestion avoidance after CSS_ROUNDS rounds. Used by CUBIC for the initial
// slow start. Pure: it is told each ACK.
#pragma once

#include <cstdint>
#include <optional>

#include "base/compact_optional.h"
#include "base/time.h"

namespace ustack::tcp {

class HystartPlusPlus {
 public:
  // RFC 9406 4.3, the constants.
  static constexpr base::Duration kMinRttThresh = std::chrono::milliseconds(4);
  static constexpr base::Duration kMaxRttThresh = std::chrono::milliseconds(16);
  static constexpr int kMinRttDivisor = 8;
  static constexpr unsigned kNRttSample = 8;
  static constexpr std::uint32_t kCssGrowthDivisor = 4;
  static constexpr unsigned kCssRounds = 5;

  enum class Phase { slow_start, css, done };

  /// What the caller should do with this ACK.
  struct Step {
    std::uint32_t increase = 0;   // bytes to add to cwnd
    bool enter_ca = false;        // CSS is over: set ssthresh = cwnd, congestion avoidance
  };

  /// `paced`: the sender paces (RFC 9406: L is infinite then, else 8).
  explicit HystartPlusPlus(bool paced = false) : paced_(paced) {}

  /// One ACK during slow start or CSS: `acked` newly acknowledged bytes, `rtt` this
  /// ACK's sample, `in_flight` the bytes in flight after it (the round ends once
  /// what was in flight when it began is acknowledged: SND.NXT at its start).
  Step on_ack(std::uint32_t acked, std::optional<base::Duration> rtt, std::uint32_t in_flight,
              std::uint32_t smss);
  /// A loss or ECN: slow start and CSS are over (RFC 9406 4.2: "If a loss or ECN-marking
  /// is observed anytime during the initial exponential growth phase ... exit").
  void on_congestion() { phase_ = Phase::done; }

  Phase phase() const { return phase_; }
  std::optional<base::Duration> current_round_min_rtt() const { return current_round_min_rtt_; }
  std::optional<base::Duration> last_round_min_rtt() const { return last_round_min_rtt_; }
  std::optional<base::Duration> css_baseline_min_rtt() const { return css_baseline_min_rtt_; }
  unsigned css_rounds() const { return css_rounds_; }

 private:
  void start_round(std::uint32_t in_flight);

  bool paced_;
  Phase phase_ = Phase::slow_start;
  std::uint64_t delivered_ = 0;           // bytes acknowledged so far
  std::optional<std::uint64_t> window_end_;  // the round ends when delivered_ reaches it
  base::OptDuration last_round_min_rtt_, current_round_min_rtt_, css_baseline_min_rtt_;
  unsigned rtt_sample_count_ = 0;
  unsigned css_rounds_ = 0;
};

}  // namespace ustack::tcp
