// Per-address rate limits in bounded memory (ip/source_limit.h).
#include "ip/source_limit.h"

#include <gtest/gtest.h>

namespace ustack::ip {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;

const base::Instant kT0 = base::kEpoch + 100s;

TEST(SourceRateLimiter, BurstThenRatePerAddress) {
  // Linux icmp_ratelimit = 1000 ms with XRLIM_BURST_FACTOR 6: one a second, six at once.
  SourceRateLimiter l(1.0, 6.0, 64, 42);
  const Ipv4Addr a(198, 18, 0, 1), b(198, 18, 0, 2);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(l.allow(a, kT0)) << i;
  EXPECT_FALSE(l.allow(a, kT0));
  EXPECT_FALSE(l.allow(a, kT0 + 900ms));
  EXPECT_TRUE(l.allow(b, kT0));  // another address has its own bucket
  EXPECT_TRUE(l.allow(a, kT0 + 1s));
  EXPECT_FALSE(l.allow(a, kT0 + 1s));
  // A long pause refills only up to the burst.
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(l.allow(a, kT0 + 1h)) << i;
  EXPECT_FALSE(l.allow(a, kT0 + 1h));
}

TEST(SourceRateLimiter, MemoryIsBoundedWhateverTheNumberOfSources) {
  SourceRateLimiter l(10.0, 10.0, 256, 42);
  for (std::uint32_t i = 0; i < 100000; ++i) (void)l.allow(Ipv4Addr(0x0a000000u + i), kT0 + std::chrono::microseconds(i));
  EXPECT_EQ(l.tracked(), 256u);
  EXPECT_EQ(l.evictions(), 100000u - 256u);
}

TEST(SourceRateLimiter, TheLeastRecentlyUsedAddressOfASetMakesRoom) {
  SourceRateLimiter l(1.0, 1.0, SourceRateLimiter::kWays, 42);  // one set of four
  const Ipv4Addr x(10, 0, 0, 1);
  EXPECT_TRUE(l.allow(x, kT0));
  EXPECT_FALSE(l.allow(x, kT0 + 10ms));  // empty
  for (std::uint8_t i = 2; i <= 4; ++i) EXPECT_TRUE(l.allow(Ipv4Addr(10, 0, 0, i), kT0 + 20ms));
  EXPECT_FALSE(l.allow(x, kT0 + 30ms));  // still tracked: still empty
  for (std::uint8_t i = 5; i <= 8; ++i) EXPECT_TRUE(l.allow(Ipv4Addr(10, 0, 0, i), kT0 + 40ms + std::chrono::milliseconds(i)));
  // x was the least recently used: evicted, it starts again with a full bucket.
  EXPECT_TRUE(l.allow(x, kT0 + 100ms));
}

TEST(SourceRateLimiter, ZeroRateTurnsItOff) {
  SourceRateLimiter l(0, 0, 16, 42);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(l.allow(Ipv4Addr(10, 0, 0, 1), kT0));
  EXPECT_EQ(l.tracked(), 0u);
}

}  // namespace
}  // namespace ustack::ip
