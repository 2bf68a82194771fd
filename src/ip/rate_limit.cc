// A token bucket told the time (RFC 1812 4.3.2.8: ICMP error rate limiting).
#include "ip/rate_limit.h"

#include <algorithm>

namespace ustack::ip {

TokenBucket::TokenBucket(double per_second, double burst)
    : per_second_(std::max(per_second, 0.0)), burst_(std::max(burst, 0.0)), tokens_(burst_) {}

void TokenBucket::refill(base::Instant now) {
  if (!started_) {  // the bucket starts full, whatever the first instant is
    started_ = true;
    last_ = now;
    return;
  }
  if (now <= last_) return;  // time never runs backwards here
  tokens_ = std::min(burst_, tokens_ + base::to_seconds(now - last_) * per_second_);
  last_ = now;
}

bool TokenBucket::take(base::Instant now) {
  refill(now);
  // A tolerance for the rounding of elapsed * rate (0.1 s at 10/s must give one token).
  constexpr double kEpsilon = 1e-9;
  if (tokens_ + kEpsilon < 1.0) return false;
  tokens_ = std::max(tokens_ - 1.0, 0.0);
  return true;
}

}  // namespace ustack::ip
