// Retransmission timeout (RFC 6298): SRTT and RTTVAR from samples, exponential
// backoff, bounds.
#include "tcp/rtt.h"

#include <algorithm>

namespace ustack::tcp {

using base::Duration;

void RttEstimator::sample(Duration rtt) {
  // A negative measurement can only be a caller's clock mistake; count it as zero.
  const Duration r = std::max(rtt, Duration::zero());
  if (!srtt_) {
    // RFC 6298 2.2: "When the first RTT measurement R is made, the host MUST set
    // SRTT <- R, RTTVAR <- R/2".
    srtt_ = r;
    rttvar_ = r / 2;
  } else {
    // RFC 6298 2.3: "RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|
    // SRTT <- (1 - alpha) * SRTT + alpha * R' ... The value of SRTT used in the
    // update to RTTVAR is its value before updating SRTT itself using the second
    // assignment." alpha = 1/8, beta = 1/4.
    const Duration diff = *srtt_ > r ? *srtt_ - r : r - *srtt_;
    rttvar_ = (*rttvar_ * 3 + diff) / 4;
    srtt_ = (*srtt_ * 7 + r) / 8;
  }
  // RFC 6298 5: "once a new RTT measurement is obtained ... the computations
  // outlined in Section 2 are performed, including the computation of RTO, which
  // may result in "collapsing" RTO back down after it has been subject to
  // exponential back off (rule 5.5)."
  backoffs_ = 0;
}

Duration RttEstimator::rto() const {
  // RFC 6298 2.1: "Until a round-trip time (RTT) measurement has been made ...
  // the sender SHOULD set RTO <- 1 second"; 2.3: "RTO <- SRTT + max (G, K*RTTVAR)".
  Duration rto = srtt_ ? *srtt_ + std::max(config_.granularity, *rttvar_ * 4) : config_.initial;
  // RFC 6298 2.4: "Whenever RTO is computed, if it is less than 1 second, then the
  // RTO SHOULD be rounded up to 1 second" (here to config_.min). The bound applies
  // before the backoff, so that each expiry really doubles the timer.
  rto = std::max(rto, config_.min);
  // RFC 6298 5.5: "RTO <- RTO * 2" per expiry; stop doubling once past the cap, so
  // that many backoffs neither loop long nor overflow.
  for (unsigned i = 0; i < backoffs_ && rto < config_.max && rto > Duration::zero(); ++i) {
    rto = rto > Duration::max() / 2 ? Duration::max() : rto * 2;
  }
  // RFC 6298 2.5: "A maximum value MAY be placed on RTO provided it is at least 60 seconds."
  return std::min(rto, config_.max);
}

void RttEstimator::backoff() {
  if (backoffs_ < ~0u) ++backoffs_;
}

}  // namespace ustack::tcp
