// The block cache: a block given back is the next one of its class taken; the
// cache stays within its bounds; sizes round as documented.
#include "base/block_cache.h"

#include <gtest/gtest.h>

#include <vector>

namespace ustack::base {
namespace {

TEST(BlockCache, GivenBackBlockIsTakenAgain) {
  trim_block_cache();
  std::size_t cap = 0;
  Byte* a = take_block(1628, &cap);
  EXPECT_GE(cap, 1628u);
  EXPECT_EQ(cap, block_capacity(1628));
  give_block(a, cap);
  const auto before = block_cache_stats();
  EXPECT_EQ(before.cached_blocks, 1u);
  std::size_t cap2 = 0;
  Byte* b = take_block(1700, &cap2);  // the same class
  EXPECT_EQ(b, a);
  EXPECT_EQ(cap2, cap);
  EXPECT_EQ(block_cache_stats().hits, before.hits + 1);
  give_block(b, cap2);
  trim_block_cache();
  EXPECT_EQ(block_cache_stats().cached_blocks, 0u);
}

TEST(BlockCache, ClassesRoundSmallSizesAndKeepLargeOnesExact) {
  EXPECT_EQ(block_capacity(0), 0u);
  EXPECT_EQ(block_capacity(1), 64u);
  EXPECT_EQ(block_capacity(64), 64u);
  EXPECT_EQ(block_capacity(65), 80u);  // a quarter of 64 above it
  EXPECT_EQ(block_capacity(1514), 1536u);
  EXPECT_EQ(block_capacity(1628), 1792u);
  EXPECT_EQ(block_capacity(4096), 4096u);
  EXPECT_EQ(block_capacity(65536), 65536u);   // a class size: cached
  EXPECT_EQ(block_capacity(100000), 100000u); // larger and odd: exact, not cached
  EXPECT_EQ(block_capacity(1u << 20), 1u << 20);
  for (std::size_t n = 1; n < 70000; n += 37) {
    const std::size_t c = block_capacity(n);
    EXPECT_GE(c, n);
    EXPECT_EQ(block_capacity(c), c) << n;  // a capacity is its own class
    if (n > 64) {
      EXPECT_LE(c, n + n / 4 + 1) << n;
    }
  }
}

TEST(BlockCache, StaysWithinItsBounds) {
  trim_block_cache();
  std::vector<std::pair<Byte*, std::size_t>> held;
  for (std::size_t i = 0; i < 2 * kMaxCachedPerClass; ++i) {
    std::size_t cap = 0;
    held.emplace_back(take_block(2048, &cap), cap);
  }
  for (auto [p, cap] : held) give_block(p, cap);
  EXPECT_EQ(block_cache_stats().cached_blocks, kMaxCachedPerClass);
  held.clear();
  for (std::size_t i = 0; i < 40; ++i) {
    std::size_t cap = 0;
    held.emplace_back(take_block(65536, &cap), cap);
  }
  for (auto [p, cap] : held) give_block(p, cap);
  EXPECT_LE(block_cache_stats().cached_bytes, kMaxCachedBytes);
  // An odd large size is never cached.
  trim_block_cache();
  std::size_t cap = 0;
  Byte* odd = take_block(100000, &cap);
  give_block(odd, cap);
  EXPECT_EQ(block_cache_stats().cached_blocks, 0u);
  trim_block_cache();
}

TEST(BlockCache, BlockOwnsAndReturns) {
  trim_block_cache();
  {
    Block b(300);
    ASSERT_TRUE(b);
    EXPECT_EQ(b.capacity(), block_capacity(300));  // kept, to give the block back to its class
    b.data()[299] = 7;
    Block moved = std::move(b);
    EXPECT_FALSE(b);
    EXPECT_EQ(moved.data()[299], 7);
  }
  EXPECT_EQ(block_cache_stats().cached_blocks, 1u);
  trim_block_cache();
}

}  // namespace
}  // namespace ustack::base
