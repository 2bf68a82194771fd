// Seq: comparison and distance modulo 2^32 (RFC 9293 3.4), including across the
// wrap from 2^32 - 1 to 0, and in_window.
#include "tcp/seq.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace ustack::tcp {
namespace {

constexpr std::uint32_t kTop = 0xffffffffu;

TEST(Seq, OrdinaryCompare) {
  EXPECT_LT(Seq(1), Seq(2));
  EXPECT_LE(Seq(2), Seq(2));
  EXPECT_GT(Seq(1000), Seq(999));
  EXPECT_GE(Seq(5), Seq(5));
  EXPECT_EQ(Seq(7), Seq(7));
  EXPECT_NE(Seq(7), Seq(8));
  EXPECT_FALSE(Seq(2) < Seq(2));
}

TEST(Seq, CompareAcrossTheWrap) {
  // 2^32 - 1 comes just before 0: "0 > 2^32 - 1" modulo 2^32.
  EXPECT_LT(Seq(kTop), Seq(0));
  EXPECT_GT(Seq(0), Seq(kTop));
  EXPECT_LT(Seq(kTop - 10), Seq(5));
  EXPECT_GT(Seq(5), Seq(kTop - 10));
  EXPECT_LE(Seq(kTop), Seq(0));
  EXPECT_GE(Seq(3), Seq(kTop));
}

TEST(Seq, ArithmeticWraps) {
  EXPECT_EQ(Seq(kTop) + 1, Seq(0));
  EXPECT_EQ(Seq(kTop - 1) + 5, Seq(3));
  EXPECT_EQ(Seq(2) - 3, Seq(kTop));
  Seq s(kTop);
  s += 2;
  EXPECT_EQ(s.value(), 1u);
}

TEST(Seq, SignedDistance) {
  EXPECT_EQ(Seq(10) - Seq(4), 6);
  EXPECT_EQ(Seq(4) - Seq(10), -6);
  EXPECT_EQ(Seq(5) - Seq(kTop - 10), 16);   // 11 to reach 0, then 5
  EXPECT_EQ(Seq(kTop - 10) - Seq(5), -16);
  EXPECT_EQ(Seq(0x7fffffffu) - Seq(0), 0x7fffffff);  // the largest forward distance
}

TEST(Seq, HalfTheSpaceApartIsBehind) {
  // At exactly 2^31 apart the signed distance is -2^31: each reads as before the other.
  EXPECT_LT(Seq(0x80000000u), Seq(0));
  EXPECT_LT(Seq(0), Seq(0x80000000u));
  // Just under 2^31 forward is after.
  EXPECT_GT(Seq(0x7fffffffu), Seq(0));
  EXPECT_LT(Seq(0x80000001u), Seq(0));
}

TEST(Seq, MinMax) {
  EXPECT_EQ(max(Seq(kTop), Seq(1)), Seq(1));
  EXPECT_EQ(min(Seq(kTop), Seq(1)), Seq(kTop));
  EXPECT_EQ(max(Seq(3), Seq(9)), Seq(9));
  EXPECT_EQ(min(Seq(3), Seq(9)), Seq(3));
}

TEST(Seq, InWindow) {
  EXPECT_TRUE(in_window(Seq(100), Seq(100), Seq(200)));   // lo is in
  EXPECT_TRUE(in_window(Seq(199), Seq(100), Seq(200)));
  EXPECT_FALSE(in_window(Seq(200), Seq(100), Seq(200)));  // hi is out
  EXPECT_FALSE(in_window(Seq(99), Seq(100), Seq(200)));
  EXPECT_FALSE(in_window(Seq(100), Seq(100), Seq(100)));  // an empty window holds nothing
}

TEST(Seq, InWindowAcrossTheWrap) {
  const Seq lo(kTop - 9), hi = lo + 20;  // [2^32 - 10, 10)
  EXPECT_EQ(hi, Seq(10));
  EXPECT_TRUE(in_window(Seq(kTop - 9), lo, hi));
  EXPECT_TRUE(in_window(Seq(kTop), lo, hi));
  EXPECT_TRUE(in_window(Seq(0), lo, hi));
  EXPECT_TRUE(in_window(Seq(9), lo, hi));
  EXPECT_FALSE(in_window(Seq(10), lo, hi));
  EXPECT_FALSE(in_window(Seq(kTop - 10), lo, hi));
  EXPECT_FALSE(in_window(Seq(1000), lo, hi));
}

TEST(Seq, IsConstexpr) {
  static_assert(Seq(kTop) + 1 == Seq(0));
  static_assert(Seq(kTop) < Seq(0));
  static_assert(in_window(Seq(0), Seq(kTop), Seq(1)));
  SUCCEED();
}

}  // namespace
}  // namespace ustack::tcp
