// Rate limits kept per remote address in bounded memory: a token bucket for each
// address in a fixed table of slots (4-way set-associative, the set chosen by a
// keyed SipHash of the address so that an attacker cannot aim at one set, the
// least recently used way replaced). Linux keeps such state in its inetpeer
// cache (icmp_ratelimit's inet_peer_xrlim_allow). docs/hardening.md.
#pragma once

#include <cstdint>
#include <vector>

#include "base/addr.h"
#include "base/random.h"
#include "base/time.h"

namespace ustack::ip {

class SourceRateLimiter {
 public:
  static constexpr std::size_t kWays = 4;
  /// `per_second` tokens a second per address, up to `burst`; `slots` addresses
  /// tracked at once (rounded up to a multiple of kWays, at least kWays).
  /// per_second <= 0 turns the limit off (allow() is always true). The hash key
  /// is drawn from a generator seeded with `key_seed`.
  SourceRateLimiter(double per_second, double burst, std::size_t slots, std::uint64_t key_seed);

  /// Takes a token from `addr`'s bucket; false if it is empty. An address not in
  /// the table starts with a full bucket (as a new inetpeer entry), taking the slot
  /// least recently used in its set.
  bool allow(base::Ipv4Addr addr, base::Instant now);

  bool enabled() const { return per_second_ > 0; }
  /// Addresses tracked now, and addresses dropped from the table to make room.
  std::size_t tracked() const;
  std::uint64_t evictions() const { return evictions_; }

 private:
  struct Slot {
    std::uint32_t addr = 0;
    bool used = false;
    double tokens = 0;
    base::Instant last{};
  };
  double per_second_, burst_;
  std::size_t sets_;
  std::uint64_t key_[2];
  std::vector<Slot> slots_;
  std::uint64_t evictions_ = 0;
};

}  // namespace ustack::ip
