// Assembler: ranges merge on overlap and on contact, the range count is bounded,
// and remove_front() advances the front; plus a randomized check against a bitmap.
#include "base/assembler.h"

#include <gtest/gtest.h>

#include <vector>

#include "base/random.h"

namespace ustack::base {
namespace {

using Ranges = std::vector<std::pair<std::size_t, std::size_t>>;

TEST(Assembler, StartsEmpty) {
  Assembler a;
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.remove_front(), 0u);
}

// An idle TCP receiver's assembler holds no memory: the ranges' storage goes
// once the last range does, whichever way it goes.
TEST(Assembler, HoldsMemoryOnlyWhileItHoldsRanges) {
  Assembler a;
  EXPECT_FALSE(a.allocated());
  ASSERT_TRUE(a.add(10, 5));
  ASSERT_TRUE(a.add(30, 5));
  EXPECT_TRUE(a.allocated());
  EXPECT_EQ(a.remove_back(), 5u);
  EXPECT_TRUE(a.allocated());
  EXPECT_EQ(a.remove_back(), 5u);
  EXPECT_FALSE(a.allocated());
  ASSERT_TRUE(a.add(0, 7));
  EXPECT_EQ(a.remove_front(), 7u);
  EXPECT_FALSE(a.allocated());
  ASSERT_TRUE(a.add(3, 7));
  a.clear();
  EXPECT_FALSE(a.allocated());
  EXPECT_EQ(a.bytes(), 0u);
}

TEST(Assembler, ZeroLengthIsANoOp) {
  Assembler a(1);
  EXPECT_TRUE(a.add(5, 0));
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(a.add(10, 2));
  EXPECT_TRUE(a.add(0, 0));  // even when a new range would not fit
  EXPECT_EQ(a.ranges(), (Ranges{{10, 12}}));
}

TEST(Assembler, DisjointRangesStaySortedAndApart) {
  Assembler a;
  EXPECT_TRUE(a.add(20, 5));
  EXPECT_TRUE(a.add(4, 2));
  EXPECT_TRUE(a.add(10, 3));
  EXPECT_EQ(a.ranges(), (Ranges{{4, 6}, {10, 13}, {20, 25}}));
}

TEST(Assembler, TouchingRangesMerge) {
  Assembler a;
  EXPECT_TRUE(a.add(10, 5));  // [10, 15)
  EXPECT_TRUE(a.add(15, 5));  // touches on the right
  EXPECT_EQ(a.ranges(), (Ranges{{10, 20}}));
  EXPECT_TRUE(a.add(7, 3));   // touches on the left
  EXPECT_EQ(a.ranges(), (Ranges{{7, 20}}));
}

TEST(Assembler, OverlapsMergeAndBridgeGaps) {
  Assembler a;
  a.add(2, 2);    // [2, 4)
  a.add(6, 2);    // [6, 8)
  a.add(10, 2);   // [10, 12)
  a.add(20, 1);   // [20, 21)
  EXPECT_TRUE(a.add(3, 8));  // [3, 11) joins the first three
  EXPECT_EQ(a.ranges(), (Ranges{{2, 12}, {20, 21}}));
  EXPECT_TRUE(a.add(5, 2));  // inside: nothing changes
  EXPECT_EQ(a.ranges(), (Ranges{{2, 12}, {20, 21}}));
  EXPECT_TRUE(a.add(0, 30));  // covers all
  EXPECT_EQ(a.ranges(), (Ranges{{0, 30}}));
}

TEST(Assembler, RefusesANewRangeBeyondTheBound) {
  Assembler a(2);
  EXPECT_TRUE(a.add(10, 1));
  EXPECT_TRUE(a.add(20, 1));
  EXPECT_FALSE(a.add(30, 1));
  EXPECT_FALSE(a.add(15, 2));
  EXPECT_EQ(a.ranges(), (Ranges{{10, 11}, {20, 21}}));  // unchanged
  EXPECT_EQ(a.bytes(), 2u);
  // Extending or joining existing ranges needs no new one.
  EXPECT_TRUE(a.add(11, 2));
  EXPECT_TRUE(a.add(13, 7));
  EXPECT_EQ(a.ranges(), (Ranges{{10, 21}}));
  EXPECT_EQ(a.bytes(), 11u);
  EXPECT_TRUE(a.add(0, 1));
  EXPECT_EQ(a.ranges(), (Ranges{{0, 1}, {10, 21}}));
}

// The data at the front (a TCP receiver's RCV.NXT) is never refused, however many
// islands are held: otherwise a peer that filled the slots with islands, or an
// unlucky loss pattern, would leave a retransmission of the next expected bytes
// refused forever. Found by review: the bound used to refuse it.
TEST(Assembler, TheFrontIsAcceptedWhenEverySlotIsTaken) {
  Assembler a(2);
  EXPECT_TRUE(a.add(10, 1));
  EXPECT_TRUE(a.add(20, 1));
  EXPECT_TRUE(a.add(0, 3));  // touches nothing, needs a third range
  EXPECT_EQ(a.ranges(), (Ranges{{0, 3}, {10, 11}, {20, 21}}));
  EXPECT_EQ(a.remove_front(), 3u);
  EXPECT_EQ(a.ranges(), (Ranges{{7, 8}, {17, 18}}));  // back within the bound
  EXPECT_FALSE(a.add(2, 1));                           // but only the front passes it
}

TEST(Assembler, ZeroBoundHoldsOnlyTheFront) {
  Assembler a(0);
  EXPECT_FALSE(a.add(1, 1));
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(a.add(0, 1));
  EXPECT_EQ(a.remove_front(), 1u);
  EXPECT_TRUE(a.empty());
}

TEST(Assembler, RemoveBackDropsTheFurthestRange) {
  Assembler a;
  a.add(2, 2);
  a.add(10, 5);
  EXPECT_EQ(a.bytes(), 7u);
  EXPECT_EQ(a.remove_back(), 5u);
  EXPECT_EQ(a.ranges(), (Ranges{{2, 4}}));
  EXPECT_EQ(a.bytes(), 2u);
  EXPECT_EQ(a.remove_back(), 2u);
  EXPECT_EQ(a.remove_back(), 0u);
  EXPECT_EQ(a.bytes(), 0u);
}

TEST(Assembler, RemoveFrontShiftsTheRest) {
  Assembler a;
  a.add(5, 3);
  EXPECT_EQ(a.remove_front(), 0u);  // a hole at the front
  a.add(0, 2);
  a.add(12, 4);
  EXPECT_EQ(a.ranges(), (Ranges{{0, 2}, {5, 8}, {12, 16}}));
  EXPECT_EQ(a.remove_front(), 2u);
  EXPECT_EQ(a.ranges(), (Ranges{{3, 6}, {10, 14}}));
  EXPECT_EQ(a.remove_front(), 0u);
  a.add(0, 3);  // fills the hole, merging
  EXPECT_EQ(a.remove_front(), 6u);
  EXPECT_EQ(a.ranges(), (Ranges{{4, 8}}));
  a.clear();
  EXPECT_TRUE(a.empty());
}

// The reference: one bool per byte offset; ranges are its runs of true.
Ranges runs(const std::vector<bool>& bits) {
  Ranges out;
  for (std::size_t i = 0; i < bits.size();) {
    if (!bits[i]) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < bits.size() && bits[j]) ++j;
    out.emplace_back(i, j);
    i = j;
  }
  return out;
}

/// How many runs `bits` would have with [offset, offset + len) set as well.
std::size_t runs_with(const std::vector<bool>& bits, std::size_t offset, std::size_t len) {
  std::size_t count = 0;
  bool prev = false;
  for (std::size_t i = 0; i < bits.size(); ++i) {
    const bool on = bits[i] || (i >= offset && i < offset + len);
    if (on && !prev) ++count;
    prev = on;
  }
  return count;
}

TEST(Assembler, RandomizedAgainstBitmap) {
  Random rng(99);
  constexpr std::size_t kSpan = 80;     // offsets drawn from [0, kSpan)
  constexpr std::size_t kMaxLen = 10;
  constexpr std::size_t kMaxRanges = 6;
  Assembler a(kMaxRanges);
  std::vector<bool> bits(kSpan + kMaxLen, false);
  int refused = 0, fronts = 0;
  for (int op = 0; op < 100000; ++op) {
    if (rng.below(6) == 0) {
      // remove_front: the run at offset 0 leaves, the rest shifts down.
      std::size_t run = 0;
      while (run < bits.size() && bits[run]) ++run;
      ASSERT_EQ(a.remove_front(), run);
      if (run > 0) ++fronts;
      bits.erase(bits.begin(), bits.begin() + static_cast<std::ptrdiff_t>(run));
      bits.resize(kSpan + kMaxLen, false);
    } else {
      const std::size_t offset = rng.below(kSpan);
      const std::size_t len = rng.below(kMaxLen + 1);
      const bool front = offset == 0 && len > 0;
      const bool fits = runs_with(bits, offset, len) <= kMaxRanges || front;
      ASSERT_EQ(a.add(offset, len), fits) << "op " << op;
      if (fits) {
        for (std::size_t i = offset; i < offset + len; ++i) bits[i] = true;
      } else {
        ++refused;
      }
      if (front) {
        // The front may pass the bound only until the caller takes it, at once.
        std::size_t run = 0;
        while (run < bits.size() && bits[run]) ++run;
        ASSERT_EQ(a.remove_front(), run);
        ++fronts;
        bits.erase(bits.begin(), bits.begin() + static_cast<std::ptrdiff_t>(run));
        bits.resize(kSpan + kMaxLen, false);
      }
      ASSERT_LE(a.ranges().size(), kMaxRanges);
    }
    const Ranges want = runs(bits);
    ASSERT_EQ(a.ranges(), want) << "op " << op;
    ASSERT_EQ(a.empty(), want.empty());
    std::size_t held = 0;
    for (const auto& [s, e] : want) held += e - s;
    ASSERT_EQ(a.bytes(), held) << "op " << op;
  }
  EXPECT_GT(refused, 100);  // the bound was hit
  EXPECT_GT(fronts, 100);   // and the front moved
}

}  // namespace
}  // namespace ustack::base
