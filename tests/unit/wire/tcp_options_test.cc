// TCP options: the layouts emit() writes, and every malformed option list.
#include <gtest/gtest.h>

#include <vector>

#include "wire/tcp.h"

namespace ustack::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes emit(const TcpOptions& o) {
  Bytes b(o.encoded_len(), 0xee);
  o.emit(b);
  return b;
}

ParseError parse_error(const Bytes& b) {
  auto r = TcpOptions::parse(b);
  EXPECT_FALSE(r.ok());
  return r.ok() ? ParseError::unsupported : r.error();
}

TEST(TcpOptions, TheUsualNopNopTimestampsLayoutParsesAsAnyOtherLayoutOfIt) {
  // NOP, NOP, Timestamps is taken by a shortcut; the same option elsewhere in the
  // list goes the general way. Both give the same value.
  const Bytes usual{1, 1, 8, 10, 0, 0, 0, 7, 0x80, 0, 0, 9};
  const Bytes other{8, 10, 0, 0, 0, 7, 0x80, 0, 0, 9, 1, 0};
  auto a = TcpOptions::parse(usual);
  auto b = TcpOptions::parse(other);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(a->timestamps);
  EXPECT_EQ(a->timestamps->value, 7u);
  EXPECT_EQ(a->timestamps->echo_reply, 0x80000009u);
  EXPECT_EQ(*a, *b);
  // A wrong length in the same place is still refused.
  EXPECT_EQ(parse_error(Bytes{1, 1, 8, 11, 0, 0, 0, 7, 0x80, 0, 0, 9}), ParseError::bad_option);
}

TEST(TcpOptions, EmptyEncodesToNothing) {
  EXPECT_EQ(TcpOptions{}.encoded_len(), 0u);
  auto p = TcpOptions::parse({});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, TcpOptions{});
}

TEST(TcpOptions, LinuxLayouts) {
  TcpOptions o;
  o.mss = 1460;
  EXPECT_EQ(emit(o), (Bytes{2, 4, 0x05, 0xb4}));
  o.sack_permitted = true;  // without timestamps: NOP NOP SACKOK
  EXPECT_EQ(emit(o), (Bytes{2, 4, 0x05, 0xb4, 1, 1, 4, 2}));
  o.window_scale = 7;
  EXPECT_EQ(emit(o), (Bytes{2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7}));
  o.timestamps = TcpTimestamps{0x01020304, 0x0a0b0c0d};  // SACKOK folds into TS's padding
  EXPECT_EQ(emit(o), (Bytes{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 10, 11, 12, 13, 1, 3, 3, 7}));
  o.sack_permitted = false;
  EXPECT_EQ(emit(o), (Bytes{2, 4, 0x05, 0xb4, 1, 1, 8, 10, 1, 2, 3, 4, 10, 11, 12, 13, 1, 3, 3, 7}));
}

TEST(TcpOptions, AckWithTimestampsAndSack) {
  TcpOptions o;
  o.timestamps = TcpTimestamps{7, 9};
  o.sack_count = 1;
  o.sack_blocks[0] = SackBlock{0x1000, 0x2000};
  EXPECT_EQ(emit(o), (Bytes{1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9, 1, 1, 5, 10, 0, 0, 0x10, 0, 0, 0, 0x20, 0}));
  auto p = TcpOptions::parse(emit(o));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, o);
}

TEST(TcpOptions, SackBlocksThatDoNotFitAreLeftOut) {
  TcpOptions o;
  o.sack_count = 4;
  for (std::uint32_t k = 0; k < 4; ++k) o.sack_blocks[k] = SackBlock{k * 100, k * 100 + 50};
  EXPECT_EQ(o.encoded_len(), 36u);  // 4 blocks fit alone
  auto p = TcpOptions::parse(emit(o));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, o);
  o.timestamps = TcpTimestamps{1, 2};  // 12 bytes: 28 left, 3 blocks
  EXPECT_EQ(o.encoded_len(), 40u);
  p = TcpOptions::parse(emit(o));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->sack_count, 3);
  EXPECT_EQ(p->sack_blocks[2], o.sack_blocks[2]);
  o.mss = 1;
  o.window_scale = 1;  // 20 bytes: 20 left, 2 blocks
  EXPECT_EQ(o.encoded_len(), 40u);
  EXPECT_EQ(TcpOptions::parse(emit(o))->sack_count, 2);
  o.sack_count = 200;  // nonsense counts are clamped, never read past the array
  EXPECT_EQ(TcpOptions::parse(emit(o))->sack_count, 2);
}

TEST(TcpOptions, NopsEolAndUnknownKinds) {
  // NOP, unknown kind 30 (len 4), unknown kind 254 (len 2), MSS, EOL, then junk.
  const Bytes b = {1, 30, 4, 0xaa, 0xbb, 254, 2, 2, 4, 0x02, 0x18, 0, 2, 0, 0xff};
  auto p = TcpOptions::parse(b);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->mss, 536);
  EXPECT_FALSE(p->window_scale);
  // Only NOPs, or only EOL padding.
  EXPECT_TRUE(TcpOptions::parse(Bytes{1, 1, 1, 1}).ok());
  EXPECT_TRUE(TcpOptions::parse(Bytes{0, 0, 0, 0}).ok());
  // After EOL nothing is read, not even an impossible option.
  EXPECT_TRUE(TcpOptions::parse(Bytes{3, 3, 9, 0, 5, 1, 2}).ok());
  EXPECT_EQ(TcpOptions::parse(Bytes{3, 3, 9, 0, 5, 1, 2})->window_scale, 9);
}

TEST(TcpOptions, ImpossibleLengths) {
  EXPECT_EQ(parse_error({2, 0, 0, 0}), ParseError::bad_option);          // length 0
  EXPECT_EQ(parse_error({30, 1, 0, 0}), ParseError::bad_option);         // length 1
  EXPECT_EQ(parse_error({1, 1, 30, 6, 0, 0}), ParseError::bad_option);   // overrun
  EXPECT_EQ(parse_error({1, 1, 1, 2}), ParseError::bad_option);          // no length byte
  EXPECT_EQ(parse_error({2, 4, 0x05}), ParseError::bad_option);          // MSS truncated
  EXPECT_EQ(parse_error({8, 10, 0, 0, 0, 1}), ParseError::bad_option);   // TS truncated
}

TEST(TcpOptions, KnownKindsWithWrongLength) {
  EXPECT_EQ(parse_error({2, 3, 5, 1}), ParseError::bad_option);                    // MSS len 3
  EXPECT_EQ(parse_error({2, 5, 5, 0xb4, 0}), ParseError::bad_option);              // MSS len 5
  EXPECT_EQ(parse_error({3, 4, 7, 0}), ParseError::bad_option);                    // WS len 4
  EXPECT_EQ(parse_error({3, 2, 1, 1}), ParseError::bad_option);                    // WS len 2
  EXPECT_EQ(parse_error({4, 3, 0, 1}), ParseError::bad_option);                    // SACKOK len 3
  EXPECT_EQ(parse_error({8, 9, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1}), ParseError::bad_option);  // TS len 9
  EXPECT_EQ(parse_error({8, 11, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1}), ParseError::bad_option);  // TS len 11
}

TEST(TcpOptions, SackLengthMustBeTwoPlusEightN) {
  for (std::uint8_t len = 2; len < 40; ++len) {
    Bytes b(40, 0);
    b[0] = 5;
    b[1] = len;
    const bool good = len >= 10 && (len - 2) % 8 == 0;
    auto p = TcpOptions::parse(b);
    EXPECT_EQ(p.ok(), good) << int{len};
    if (good) {
      EXPECT_EQ(p->sack_count, (len - 2) / 8) << int{len};
    } else {
      EXPECT_EQ(p.error(), ParseError::bad_option) << int{len};
    }
  }
  // Five blocks (42 bytes) cannot be in a TCP header even if a caller passes them.
  Bytes five(42, 0);
  five[0] = 5;
  five[1] = 42;
  EXPECT_EQ(parse_error(five), ParseError::bad_option);
}

TEST(TcpOptions, RepeatedOptionLastWins) {
  auto p = TcpOptions::parse(Bytes{2, 4, 0, 1, 2, 4, 0, 2});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->mss, 2);
}

}  // namespace
}  // namespace ustack::wire
