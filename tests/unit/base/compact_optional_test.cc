// CompactOptional: std::optional's behaviour for times, in the space of the value.
#include "base/compact_optional.h"

#include <gtest/gtest.h>

#include <optional>

namespace ustack::base {
namespace {

using namespace std::chrono_literals;

static_assert(sizeof(OptInstant) == sizeof(Instant));
static_assert(sizeof(OptDuration) == sizeof(Duration));

TEST(CompactOptional, BehavesAsOptional) {
  OptInstant t;
  EXPECT_FALSE(t.has_value());
  EXPECT_FALSE(t);
  EXPECT_TRUE(t == std::nullopt);
  EXPECT_EQ(t.value_or(kEpoch + 5s), kEpoch + 5s);
  EXPECT_THROW((void)t.value(), std::bad_optional_access);
  t = kEpoch;  // the epoch itself is a value, not "none"
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, kEpoch);
  t = kEpoch + 3s;
  EXPECT_TRUE(t == kEpoch + 3s);
  EXPECT_FALSE(t == kEpoch + 4s);
  const std::optional<Instant> as_std = t;
  EXPECT_EQ(as_std, std::optional<Instant>(kEpoch + 3s));
  t.reset();
  EXPECT_FALSE(t);
  EXPECT_EQ(std::optional<Instant>(t), std::nullopt);
  t = std::optional<Instant>(kEpoch + 1s);
  EXPECT_EQ(*t, kEpoch + 1s);
  t = std::nullopt;
  EXPECT_FALSE(t);
  t = std::optional<Instant>();
  EXPECT_FALSE(t);
}

TEST(CompactOptional, DurationsIncludingZeroAndNegative) {
  OptDuration d;
  EXPECT_FALSE(d);
  d = Duration::zero();
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, Duration::zero());
  d = Duration(-5ms);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, -5ms);
  *d += 10ms;
  EXPECT_EQ(*d, 5ms);
  OptDuration e = d;
  EXPECT_TRUE(e == d);
  e.reset();
  EXPECT_FALSE(e == d);
  EXPECT_TRUE(e == OptDuration());
}

}  // namespace
}  // namespace ustack::base
