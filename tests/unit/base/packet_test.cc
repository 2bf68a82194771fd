// PacketBuf: headers pushed into headroom and popped off, growth when it runs out.
#include "base/packet.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace ustack::base {
namespace {

std::vector<Byte> bytes_of(const PacketBuf& p) { return {p.data().begin(), p.data().end()}; }

TEST(PacketBuf, PushFrontUsesHeadroomWithoutMovingPayload) {
  const std::vector<Byte> payload = {1, 2, 3, 4};
  auto p = PacketBuf::copy_of(payload);
  EXPECT_EQ(p.size(), 4u);
  EXPECT_EQ(p.headroom(), PacketBuf::kDefaultHeadroom);
  const Byte* payload_at = p.data().data();
  auto h = p.push_front(2);
  h[0] = 0xaa;
  h[1] = 0xbb;
  EXPECT_EQ(p.size(), 6u);
  EXPECT_EQ(p.headroom(), PacketBuf::kDefaultHeadroom - 2);
  EXPECT_EQ(p.data().data() + 2, payload_at);  // payload did not move
  EXPECT_EQ(bytes_of(p), (std::vector<Byte>{0xaa, 0xbb, 1, 2, 3, 4}));
  p.pop_front(2);
  EXPECT_EQ(bytes_of(p), payload);
  EXPECT_EQ(p.headroom(), PacketBuf::kDefaultHeadroom);
}

TEST(PacketBuf, HeadroomExhaustionGrowsAndKeepsData) {
  const std::vector<Byte> payload = {9, 8, 7};
  auto p = PacketBuf::copy_of(payload, 4);
  auto h1 = p.push_front(4);  // exactly the headroom
  std::fill(h1.begin(), h1.end(), 0x11);
  EXPECT_EQ(p.headroom(), 0u);
  auto h2 = p.push_front(3);  // none left: storage grows
  std::fill(h2.begin(), h2.end(), 0x22);
  EXPECT_EQ(p.size(), 10u);
  EXPECT_EQ(p.headroom(), PacketBuf::kDefaultHeadroom);  // fresh headroom for more headers
  EXPECT_EQ(bytes_of(p), (std::vector<Byte>{0x22, 0x22, 0x22, 0x11, 0x11, 0x11, 0x11, 9, 8, 7}));
  auto big = p.push_front(1000);  // more than a whole default headroom at once
  EXPECT_EQ(big.size(), 1000u);
  EXPECT_EQ(p.size(), 1010u);
  EXPECT_EQ(p.data()[1000], 0x22);
  EXPECT_EQ(p.data()[1009], 7);
}

TEST(PacketBuf, ZeroHeadroomAndEmpty) {
  PacketBuf e;
  EXPECT_EQ(e.size(), 0u);
  EXPECT_TRUE(e.data().empty());
  auto p = PacketBuf::copy_of({}, 0);
  EXPECT_EQ(p.size(), 0u);
  p.push_front(14)[0] = 1;
  EXPECT_EQ(p.size(), 14u);
  p.pop_front(14);
  EXPECT_EQ(p.size(), 0u);
}

TEST(PacketBuf, TruncateAndAppend) {
  const std::vector<Byte> payload = {1, 2, 3, 4, 5};
  auto p = PacketBuf::copy_of(payload);
  p.pop_front(1);
  p.truncate(2);
  EXPECT_EQ(bytes_of(p), (std::vector<Byte>{2, 3}));
  p.truncate(10);  // longer than the packet: nothing happens
  EXPECT_EQ(p.size(), 2u);
  const std::vector<Byte> more = {6, 7};
  p.append(more);
  EXPECT_EQ(bytes_of(p), (std::vector<Byte>{2, 3, 6, 7}));
}

TEST(Bytes, BigEndianLoadsAndStores) {
  std::vector<Byte> b(6, 0);
  store_be16(b, 0, 0x1234);
  store_be32(b, 2, 0xdeadbeef);
  EXPECT_EQ(b, (std::vector<Byte>{0x12, 0x34, 0xde, 0xad, 0xbe, 0xef}));
  EXPECT_EQ(load_be16(b, 0), 0x1234);
  EXPECT_EQ(load_be32(b, 2), 0xdeadbeefu);
  EXPECT_EQ(load_be16(b, 4), 0xbeef);
}

}  // namespace
}  // namespace ustack::base
