// RingDeque: no memory while empty, a deque's order and access otherwise, kept
// through wrap-around and growth; checked against std::deque at random.
#include "base/ring_deque.h"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include "base/random.h"

namespace ustack::base {
namespace {

struct Wide {  // larger than a word, as TCP's SentSegment is
  std::uint64_t a = 0, b = 0, c = 0;
  bool operator==(const Wide&) const = default;
};

TEST(RingDeque, HoldsNothingUntilTheFirstPushAndAfterTheLastPop) {
  RingDeque<int> q;
  EXPECT_FALSE(q.allocated());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.begin(), q.end());
  int visited = 0;
  for (int v : q) visited += v + 1;
  EXPECT_EQ(visited, 0);
  q.push_back(1);
  q.push_back(2);
  EXPECT_TRUE(q.allocated());
  q.pop_front();
  EXPECT_TRUE(q.allocated());
  q.pop_front();
  EXPECT_FALSE(q.allocated());  // emptied: the block goes back to the cache
  EXPECT_EQ(sizeof(q), sizeof(void*));
}

TEST(RingDeque, KeepsOrderThroughInsertWrapAndGrowth) {
  RingDeque<int> q;
  q.insert_at(0, 5);
  q.push_back(7);
  q.insert_at(1, 6);
  q.insert_at(0, 4);
  EXPECT_EQ(std::vector<int>(q.begin(), q.end()), (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(q.front(), 4);
  EXPECT_EQ(q.back(), 7);
  EXPECT_EQ(q[2], 6);
  for (int& v : q) v *= 10;
  const RingDeque<int>& c = q;
  EXPECT_EQ(std::vector<int>(c.begin(), c.end()), (std::vector<int>{40, 50, 60, 70}));
  RingDeque<int> copy = q;
  RingDeque<int> moved = std::move(q);
  EXPECT_FALSE(q.allocated());
  EXPECT_EQ(std::vector<int>(moved.begin(), moved.end()), (std::vector<int>{40, 50, 60, 70}));
  EXPECT_EQ(std::vector<int>(copy.begin(), copy.end()), (std::vector<int>{40, 50, 60, 70}));
}

TEST(RingDeque, MatchesStdDequeAtRandom) {
  Random rng(9);
  RingDeque<Wide> q;
  std::deque<Wide> ref;
  for (int step = 0; step < 200000; ++step) {
    const auto op = rng.below(10);
    if (op < 5) {
      const Wide w{rng.next_u32(), std::uint64_t(step), 1};
      q.push_back(w);
      ref.push_back(w);
    } else if (op < 8) {
      if (!ref.empty()) {
        q.pop_front();
        ref.pop_front();
      }
    } else if (op < 9) {
      const std::size_t at = rng.below(ref.size() + 1);
      const Wide w{7, std::uint64_t(step), 2};
      q.insert_at(at, w);
      ref.insert(ref.begin() + static_cast<std::ptrdiff_t>(at), w);
    } else if (!ref.empty()) {
      const std::size_t at = rng.below(ref.size());
      ASSERT_EQ(q[at], ref[at]) << step;
      q[at].c += 1;
      ref[at].c += 1;
    }
    ASSERT_EQ(q.size(), ref.size()) << step;
    if (step % 997 == 0) {
      ASSERT_TRUE(std::equal(q.begin(), q.end(), ref.begin(), ref.end())) << step;
    }
    if (step == 100000) {  // grow far past the first block, then drain
      for (int i = 0; i < 5000; ++i) {
        q.push_back(Wide{1, 2, 3});
        ref.push_back(Wide{1, 2, 3});
      }
    }
  }
  ASSERT_TRUE(std::equal(q.begin(), q.end(), ref.begin(), ref.end()));
  while (!ref.empty()) {
    ASSERT_EQ(q.front(), ref.front());
    q.pop_front();
    ref.pop_front();
  }
  EXPECT_FALSE(q.allocated());
}

}  // namespace
}  // namespace ustack::base
