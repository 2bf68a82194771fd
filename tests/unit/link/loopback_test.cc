// The loopback device: a bounded FIFO of IP datagrams.
#include "link/loopback.h"

#include <gtest/gtest.h>

#include "unit/link/frames.h"

namespace ustack::link {
namespace {

using testing::Bytes;

TEST(LoopbackDevice, ReturnsWhatWasSentInOrder) {
  LoopbackDevice lo;
  EXPECT_EQ(lo.medium(), Medium::ip);
  EXPECT_EQ(lo.mtu(), 65536u);
  EXPECT_EQ(lo.next_deadline(), std::nullopt);
  ASSERT_TRUE(lo.transmit(base::kEpoch, Bytes{1, 2, 3}));
  ASSERT_TRUE(lo.transmit(base::kEpoch, Bytes{4, 5}));
  EXPECT_EQ(lo.next_deadline(), base::kEpoch);  // due at once
  Bytes buf(10);
  ASSERT_EQ(lo.receive(base::kEpoch, buf), 3u);
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + 3), (Bytes{1, 2, 3}));
  ASSERT_EQ(lo.receive(base::kEpoch, buf), 2u);
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + 2), (Bytes{4, 5}));
  EXPECT_EQ(lo.receive(base::kEpoch, buf), std::nullopt);
  EXPECT_EQ(lo.stats().tx_frames, 2u);
  EXPECT_EQ(lo.stats().rx_bytes, 5u);
}

TEST(LoopbackDevice, BoundedQueueAndOversizeDropsAreCounted) {
  LoopbackDevice lo(3);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(lo.transmit(base::kEpoch, Bytes(10, static_cast<base::Byte>(i))), i < 3);
  EXPECT_EQ(lo.stats().tx_dropped, 2u);
  EXPECT_FALSE(lo.transmit(base::kEpoch, Bytes(LoopbackDevice::kMtu + 1)));
  EXPECT_EQ(lo.stats().tx_dropped, 3u);
  Bytes small(5), big(100);
  EXPECT_EQ(lo.receive(base::kEpoch, small), std::nullopt);  // all three too big for 5 bytes
  EXPECT_EQ(lo.stats().rx_dropped, 3u);
  EXPECT_EQ(lo.queued(), 0u);
  ASSERT_TRUE(lo.transmit(base::kEpoch, Bytes(10, 9)));
  EXPECT_EQ(lo.receive(base::kEpoch, big), 10u);
}

}  // namespace
}  // namespace ustack::link
