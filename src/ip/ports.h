// Ephemeral port selection (RFC 6056). bind() to port 0 uses Algorithm 1 (a
// random start, then a linear search); connect() uses Algorithm 3 (an offset
// from a keyed hash of the endpoints, so that the ports one peer sees do not
// reveal those used with another).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "base/addr.h"
#include "base/random.h"

namespace ustack::ip {

class EphemeralPorts {
 public:
  /// Linux's default range (net.ipv4.ip_local_port_range).
  EphemeralPorts(base::Random& rng, std::uint16_t first = 32768, std::uint16_t last = 60999);

  /// Algorithm 1: random start, linear search; nullopt when every port is taken.
  std::optional<std::uint16_t> pick_random(const std::function<bool(std::uint16_t)>& is_free);
  /// Algorithm 3: F(local, remote, secret) + counter, linear search.
  std::optional<std::uint16_t> pick_for(base::IpAddr local, const base::Endpoint& remote,
                                        const std::function<bool(std::uint16_t)>& is_free);
  std::uint16_t first() const { return first_; }
  std::uint16_t last() const { return last_; }

 private:
  base::Random& rng_;
  std::uint16_t first_, last_;
  std::uint64_t secret_[2];
  std::uint32_t next_ = 0;
};

}  // namespace ustack::ip
