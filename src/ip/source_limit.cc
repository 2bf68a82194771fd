// Per-address token buckets in a fixed set-associative table (docs/hardening.md).
#include "ip/source_limit.h"

#include <algorithm>
#include <array>

#include "base/siphash.h"

namespace ustack::ip {

SourceRateLimiter::SourceRateLimiter(double per_second, double burst, std::size_t slots, std::uint64_t key_seed)
    : per_second_(per_second),
      burst_(std::max(burst, 1.0)),
      sets_(std::max<std::size_t>((slots + kWays - 1) / kWays, 1)),
      slots_(sets_ * kWays) {
  base::Random rng(key_seed);
  key_[0] = rng.next_u64();
  key_[1] = rng.next_u64();
}

std::size_t SourceRateLimiter::tracked() const {
  return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.used; }));
}

bool SourceRateLimiter::allow(base::Ipv4Addr addr, base::Instant now) {
  if (!enabled()) return true;
  const auto octets = addr.octets();
  const std::array<base::Byte, 4> bytes{octets[0], octets[1], octets[2], octets[3]};
  const std::uint64_t h = base::siphash24(key_[0], key_[1], base::ByteSpan(bytes.data(), bytes.size()));
  Slot* set = &slots_[(h % sets_) * kWays];
  Slot* slot = nullptr;
  for (std::size_t i = 0; i < kWays; ++i)
    if (set[i].used && set[i].addr == addr.value()) slot = &set[i];
  if (!slot) {
    // A free way, else the least recently used one.
    slot = std::min_element(set, set + kWays, [](const Slot& a, const Slot& b) {
      if (a.used != b.used) return !a.used;
      return a.last < b.last;
    });
    if (slot->used) ++evictions_;
    *slot = Slot{addr.value(), true, burst_, now};
  } else if (now > slot->last) {
    slot->tokens = std::min(burst_, slot->tokens + base::to_seconds(now - slot->last) * per_second_);
    slot->last = now;
  }
  constexpr double kEpsilon = 1e-9;  // as TokenBucket: 0.1 s at 10/s is one token
  if (slot->tokens + kEpsilon < 1.0) return false;
  slot->tokens = std::max(slot->tokens - 1.0, 0.0);
  return true;
}

}  // namespace ustack::ip
