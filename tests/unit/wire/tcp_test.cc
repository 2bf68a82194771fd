// TCP header: a Linux SYN field by field, emit reproducing it, round trips,
// truncation and data offset, checksum.
#include "wire/tcp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "base/random.h"
#include "packets.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

namespace ustack::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;
using testdata::copy;
using testdata::kHostA;
using testdata::kHostB;
using testdata::span;

base::ByteSpan syn_segment() { return span(testdata::kTcpSynPacket).subspan(20); }

TcpOptions linux_syn_options() {
  TcpOptions o;
  o.mss = 1460;
  o.sack_permitted = true;
  o.timestamps = TcpTimestamps{0x9c2e07d1, 0};
  o.window_scale = 7;
  return o;
}

TEST(Tcp, ParsesLinuxSynFieldByField) {
  auto ip = Ipv4Repr::parse(span(testdata::kTcpSynPacket));
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->protocol, ip_proto::tcp);
  EXPECT_EQ(ip->payload_len, 40);
  auto v = TcpView::parse(syn_segment());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->src_port(), 40522);
  EXPECT_EQ(v->dst_port(), 80);
  EXPECT_EQ(v->seq(), 0x6b8b4567u);
  EXPECT_EQ(v->ack(), 0u);
  EXPECT_EQ(v->header_len(), 40u);
  EXPECT_EQ(v->flags(), tcp_flag::syn);
  EXPECT_EQ(v->window(), 64240);
  EXPECT_EQ(v->checksum(), 0xd769);
  EXPECT_EQ(v->urgent(), 0);
  EXPECT_TRUE(v->checksum_ok(kHostA, kHostB));
  EXPECT_FALSE(v->checksum_ok(kHostA, testdata::kDns));
  EXPECT_EQ(v->options().size(), 20u);
  EXPECT_TRUE(v->payload().empty());

  auto r = TcpRepr::parse(syn_segment(), kHostA, kHostB);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->src_port, 40522);
  EXPECT_EQ(r->dst_port, 80);
  EXPECT_EQ(r->seq, 0x6b8b4567u);
  EXPECT_EQ(r->flags, tcp_flag::syn);
  EXPECT_EQ(r->window, 64240);
  EXPECT_EQ(r->options.mss, 1460);
  EXPECT_TRUE(r->options.sack_permitted);
  ASSERT_TRUE(r->options.timestamps.has_value());
  EXPECT_EQ(r->options.timestamps->value, 0x9c2e07d1u);
  EXPECT_EQ(r->options.timestamps->echo_reply, 0u);
  EXPECT_EQ(r->options.window_scale, 7);
  EXPECT_EQ(r->options.sack_count, 0);
  EXPECT_EQ(r->options, linux_syn_options());
}

TEST(Tcp, EmitReproducesLinuxSyn) {
  TcpRepr r;
  r.src_port = 40522;
  r.dst_port = 80;
  r.seq = 0x6b8b4567;
  r.flags = tcp_flag::syn;
  r.window = 64240;
  r.options = linux_syn_options();
  ASSERT_EQ(r.header_len(), 40u);
  Bytes out(40, 0xee);
  r.emit(out, kHostA, kHostB);
  EXPECT_TRUE(std::ranges::equal(out, syn_segment()));
}

TEST(Tcp, PartialChecksumHoldsThePseudoHeaderSumAndFinishesToTheFullOne) {
  // CHECKSUM_PARTIAL as Linux leaves it for a device: the field holds the folded
  // pseudo-header sum; finishing it (the sum over the segment, that field
  // included, inverted) gives what a full emit writes, payload included.
  TcpRepr r;
  r.src_port = 40522;
  r.dst_port = 80;
  r.seq = 7;
  r.ack = 9;
  r.flags = tcp_flag::ack | tcp_flag::psh;
  r.window = 501;
  for (std::size_t payload : {0u, 1u, 1447u, 1448u}) {
    Bytes full(r.header_len() + payload), partial;
    for (std::size_t i = 0; i < payload; ++i) full[r.header_len() + i] = static_cast<std::uint8_t>(i * 31 + 5);
    partial = full;
    r.emit(full, kHostA, kHostB);
    r.emit(partial, kHostA, kHostB, /*partial=*/true);
    Checksum pseudo;
    pseudo.add_pseudo_header(kHostA, kHostB, ip_proto::tcp, static_cast<std::uint16_t>(partial.size()));
    EXPECT_EQ(base::load_be16(partial, 16), pseudo.folded()) << payload;
    EXPECT_EQ(TcpRepr::parse(partial, kHostA, kHostB).error(), ParseError::bad_checksum) << payload;
    finish_partial_checksum(partial, 16);
    EXPECT_EQ(partial, full) << payload;
    EXPECT_TRUE(TcpRepr::parse(partial, kHostA, kHostB).ok()) << payload;
  }
}

TEST(Tcp, WrongPseudoHeaderOrFlippedBitIsBadChecksum) {
  // Swapped addresses sum the same; another address does not.
  EXPECT_TRUE(TcpRepr::parse(syn_segment(), kHostB, kHostA).ok());
  EXPECT_EQ(TcpRepr::parse(syn_segment(), kHostA, testdata::kDns).error(), ParseError::bad_checksum);
  for (std::size_t bit = 0; bit < syn_segment().size() * 8; ++bit) {
    auto b = copy(testdata::kTcpSynPacket);
    auto seg = std::span(b).subspan(20);
    seg[bit / 8] = static_cast<std::uint8_t>(seg[bit / 8] ^ (0x80 >> (bit % 8)));
    auto r = TcpRepr::parse(seg, kHostA, kHostB);
    ASSERT_FALSE(r.ok()) << bit;
    // A flipped data-offset bit is caught by the length check before the checksum.
    if (bit / 8 != 12) {
      EXPECT_EQ(r.error(), ParseError::bad_checksum) << bit;
    }
  }
}

TEST(Tcp, EveryTruncationFailsCleanly) {
  const auto seg = syn_segment();
  for (std::size_t n = 0; n < seg.size(); ++n) {
    auto v = TcpView::parse(seg.first(n));
    ASSERT_FALSE(v.ok()) << n;
    EXPECT_EQ(v.error(), n < 20 ? ParseError::truncated : ParseError::bad_header_len) << n;
    EXPECT_EQ(TcpRepr::parse(seg.first(n), kHostA, kHostB).error(), v.error()) << n;
  }
}

TEST(Tcp, DataOffsetBelowFiveOrPastBuffer) {
  for (std::uint8_t off = 0; off < 5; ++off) {
    auto b = copy(testdata::kTcpSynPacket);
    b[20 + 12] = static_cast<std::uint8_t>(off << 4);
    EXPECT_EQ(TcpView::parse(std::span(b).subspan(20)).error(), ParseError::bad_header_len) << int{off};
  }
  auto b = copy(testdata::kTcpSynPacket);
  b[20 + 12] = 0xb0;  // 44 bytes claimed, 40 present
  EXPECT_EQ(TcpView::parse(std::span(b).subspan(20)).error(), ParseError::bad_header_len);
  b[20 + 12] = 0x50;  // 20-byte header: the options become payload
  auto v = TcpView::parse(std::span(b).subspan(20));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->options().empty());
  EXPECT_EQ(v->payload().size(), 20u);
}

TEST(Tcp, BadOptionInsideValidSegment) {
  auto b = copy(testdata::kTcpSynPacket);
  auto seg = std::span(b).subspan(20);
  seg[20 + 1] = 3;  // MSS length 3
  // Fix the checksum so that only the option is wrong.
  base::store_be16(seg, 16, 0);
  Checksum c;
  c.add_pseudo_header(kHostA, kHostB, ip_proto::tcp, static_cast<std::uint16_t>(seg.size()));
  c.add(seg);
  base::store_be16(seg, 16, c.finish());
  EXPECT_TRUE(TcpView::parse(seg)->checksum_ok(kHostA, kHostB));
  EXPECT_EQ(TcpRepr::parse(seg, kHostA, kHostB).error(), ParseError::bad_option);
}

TcpOptions random_options(base::Random& rng) {
  TcpOptions o;
  if (rng.chance(0.5)) o.mss = static_cast<std::uint16_t>(rng.next_u32());
  if (rng.chance(0.5)) o.window_scale = static_cast<std::uint8_t>(rng.below(15));
  o.sack_permitted = rng.chance(0.5);
  if (rng.chance(0.5)) o.timestamps = TcpTimestamps{rng.next_u32(), rng.next_u32()};
  return o;
}

TEST(Tcp, RoundTripRandomSegments) {
  base::Random rng(30);
  for (int i = 0; i < 3000; ++i) {
    TcpRepr r;
    r.src_port = static_cast<std::uint16_t>(rng.next_u32());
    r.dst_port = static_cast<std::uint16_t>(rng.next_u32());
    r.seq = rng.next_u32();
    r.ack = rng.next_u32();
    r.flags = static_cast<std::uint8_t>(rng.next_u32());
    r.window = static_cast<std::uint16_t>(rng.next_u32());
    r.urgent = static_cast<std::uint16_t>(rng.next_u32());
    r.options = random_options(rng);
    // Only as many SACK blocks as fit beside the other options: emit drops the rest.
    const std::size_t room = TcpOptions::kMaxLen - r.options.encoded_len();
    const std::size_t fit = room >= 12 ? std::min<std::size_t>(4, (room - 4) / 8) : 0;
    r.options.sack_count = static_cast<std::uint8_t>(rng.below(fit + 1));
    for (std::size_t k = 0; k < r.options.sack_count; ++k)
      r.options.sack_blocks[k] = SackBlock{rng.next_u32(), rng.next_u32()};
    const std::size_t payload = rng.below(50);
    Bytes seg(r.header_len() + payload);
    for (std::size_t k = r.header_len(); k < seg.size(); ++k) seg[k] = static_cast<std::uint8_t>(rng.next_u32());
    const base::Ipv4Addr src(rng.next_u32()), dst(rng.next_u32());
    r.emit(seg, src, dst);
    EXPECT_EQ(r.header_len() % 4, 0u);
    EXPECT_LE(r.header_len(), 60u);
    auto p = TcpRepr::parse(seg, src, dst);
    ASSERT_TRUE(p.ok()) << i;
    EXPECT_EQ(*p, r) << i;
    EXPECT_EQ(TcpView::parse(seg)->payload().size(), payload);
  }
}

}  // namespace
}  // namespace ustack::wire
