// LazyDeque: no memory while empty, a deque's order and access otherwise.
#include "base/lazy_deque.h"

#include <gtest/gtest.h>

#include <vector>

namespace ustack::base {
namespace {

TEST(LazyDeque, HoldsNothingUntilTheFirstPushAndAfterTheLastPop) {
  LazyDeque<int> q;
  EXPECT_FALSE(q.allocated());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
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
  EXPECT_FALSE(q.allocated());  // emptied: given back
  EXPECT_TRUE(q.empty());
  q.push_back(3);
  EXPECT_EQ(q.erase_value(3), 1u);
  EXPECT_FALSE(q.allocated());
}

TEST(LazyDeque, KeepsOrderThroughInsertAndPop) {
  LazyDeque<int> q;
  q.insert_at(0, 5);  // into an empty queue
  q.push_back(7);
  q.insert_at(1, 6);
  q.insert_at(0, 4);
  EXPECT_EQ(std::vector<int>(q.begin(), q.end()), (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(q.front(), 4);
  EXPECT_EQ(q.back(), 7);
  EXPECT_EQ(q[2], 6);
  for (int& v : q) v *= 10;
  const LazyDeque<int>& c = q;
  EXPECT_EQ(std::vector<int>(c.begin(), c.end()), (std::vector<int>{40, 50, 60, 70}));
  q.push_back(50);
  EXPECT_EQ(q.erase_value(50), 2u);
  EXPECT_EQ(std::vector<int>(q.begin(), q.end()), (std::vector<int>{40, 60, 70}));
  LazyDeque<int> copy = q;
  q.clear();
  EXPECT_FALSE(q.allocated());
  EXPECT_EQ(copy.size(), 3u);
  EXPECT_EQ(copy.front(), 40);
}

}  // namespace
}  // namespace ustack::base
