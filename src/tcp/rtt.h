// Retransmission timeout (RFC 6298): SRTT and RTTVAR from samples, exponential
// backoff, bounds. Karn's rule is the caller's: no samples from retransmitted
// segments (unless timestamps make them unambiguous).
#pragma once

#include <chrono>
#include <optional>

#include "base/compact_optional.h"
#include "base/time.h"

namespace ustack::tcp {

struct RtoConfig {
  base::Duration initial = std::chrono::seconds(1);        // RFC 6298 2.1
  base::Duration min = std::chrono::milliseconds(200);     // Linux TCP_RTO_MIN (RFC 6298 2.4 says 1 s)
  base::Duration max = std::chrono::seconds(120);          // Linux TCP_RTO_MAX
  base::Duration granularity = std::chrono::milliseconds(1);  // G
};

class RttEstimator {
 public:
  explicit RttEstimator(RtoConfig config = {}) : config_(config) {}

  /// A new measurement R (RFC 6298 2.2 and 2.3); also ends any backoff (5.7 note).
  void sample(base::Duration rtt);
  /// RTO = SRTT + max(G, 4*RTTVAR), before any sample the initial RTO; doubled per
  /// backoff (5.5); clamped to [min, max].
  base::Duration rto() const;
  /// RFC 6298 5.5: "The host MUST set RTO <- RTO * 2 ("back off the timer")".
  void backoff();
  void reset_backoff() { backoffs_ = 0; }
  unsigned backoffs() const { return backoffs_; }
  std::optional<base::Duration> srtt() const { return srtt_; }
  std::optional<base::Duration> rttvar() const { return rttvar_; }

 private:
  RtoConfig config_;
  base::OptDuration srtt_;
  base::OptDuration rttvar_;
  unsigned backoffs_ = 0;
};

}  // namespace ustack::tcp
