// Initial sequence numbers (RFC 6528): ISN = M + F(localip, localport, remoteip,
// remoteport, secretkey), M a timer ticking every 4 microseconds and F a keyed
// hash (SipHash-2-4), so that ISNs are unpredictable off-path and monotonic per
// connection identifier.
#pragma once

#include <cstdint>

#include "base/addr.h"
#include "base/random.h"
#include "base/time.h"

namespace ustack::tcp {

class IsnGenerator {
 public:
  /// Draws the 128-bit secret key from rng.
  explicit IsnGenerator(base::Random& rng);
  std::uint32_t generate(const base::Endpoint& local, const base::Endpoint& remote, base::Instant now) const;

 private:
  std::uint64_t key_[2];
};

}  // namespace ustack::tcp
