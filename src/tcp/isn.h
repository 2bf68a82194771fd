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
  /// A timestamp offset for the pair (RFC 7323 7.1: "a random offset ... per
  /// connection"), a keyed hash of the addresses as Linux's secure_tcp_ts_off, so
  /// that a stateless SYN-ACK (a SYN cookie's) and the connection rebuilt from its
  /// ACK agree on the clock.
  std::uint32_t ts_offset(const base::Endpoint& local, const base::Endpoint& remote) const;

 private:
  std::uint64_t key_[2];
};

}  // namespace ustack::tcp
