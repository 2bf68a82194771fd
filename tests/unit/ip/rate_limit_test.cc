// TokenBucket: starts full, then refills at its rate up to the burst.
#include "ip/rate_limit.h"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using ustack::base::Instant;
using ustack::ip::TokenBucket;

namespace {
const Instant t0 = ustack::base::kEpoch + 50s;
}

TEST(TokenBucket, BurstThenRate) {
  TokenBucket b(10, 5);  // 10 per second, burst of 5
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.take(t0)) << i;
  EXPECT_FALSE(b.take(t0));
  EXPECT_FALSE(b.take(t0 + 99ms));
  EXPECT_TRUE(b.take(t0 + 100ms));  // one token per 100 ms
  EXPECT_FALSE(b.take(t0 + 100ms));
  EXPECT_FALSE(b.take(t0 + 150ms));
  EXPECT_TRUE(b.take(t0 + 200ms));
  // Over one second at most rate tokens (plus what was left) are granted.
  int granted = 0;
  for (auto t = t0 + 201ms; t <= t0 + 1200ms; t += 1ms) granted += b.take(t) ? 1 : 0;
  EXPECT_EQ(granted, 10);
}

TEST(TokenBucket, RefillIsCappedAtBurst) {
  TokenBucket b(100, 3);
  EXPECT_TRUE(b.take(t0));
  // A long idle period refills only up to the burst.
  int granted = 0;
  for (int i = 0; i < 10; ++i) granted += b.take(t0 + 1h) ? 1 : 0;
  EXPECT_EQ(granted, 3);
}

TEST(TokenBucket, StartsFullWhateverTheFirstInstant) {
  TokenBucket b(1, 2);
  EXPECT_TRUE(b.take(ustack::base::kEpoch + 1000h));
  EXPECT_TRUE(b.take(ustack::base::kEpoch + 1000h));
  EXPECT_FALSE(b.take(ustack::base::kEpoch + 1000h));
  EXPECT_FALSE(b.take(ustack::base::kEpoch + 1000h + 999ms));
  EXPECT_TRUE(b.take(ustack::base::kEpoch + 1000h + 1s));
}

TEST(TokenBucket, FractionalRate) {
  TokenBucket b(0.5, 1);  // one token every two seconds
  EXPECT_TRUE(b.take(t0));
  EXPECT_FALSE(b.take(t0 + 1s));
  EXPECT_FALSE(b.take(t0 + 1999ms));
  EXPECT_TRUE(b.take(t0 + 2s));
}

TEST(TokenBucket, TimeGoingBackwardsGrantsNothing) {
  TokenBucket b(1, 1);
  EXPECT_TRUE(b.take(t0));
  EXPECT_FALSE(b.take(t0 - 10s));
  EXPECT_FALSE(b.take(t0 + 500ms));
  EXPECT_TRUE(b.take(t0 + 1s));
}
