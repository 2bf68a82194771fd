// A token bucket, told the time: used to rate-limit ICMP errors (RFC 1812 4.3.2.8,
// RFC 1122 3.2.2) and, later, challenge ACKs (RFC 5961 7).
#pragma once

#include <cstdint>

#include "base/time.h"

namespace ustack::ip {

class TokenBucket {
 public:
  /// `per_second` tokens are added each second, up to `burst`. The bucket starts full.
  TokenBucket(double per_second, double burst);
  /// Takes one token if there is one.
  bool take(base::Instant now);

 private:
  void refill(base::Instant now);
  double per_second_;
  double burst_;
  double tokens_;
  base::Instant last_{};
  bool started_ = false;
};

}  // namespace ustack::ip
