// IPv4: literal datagrams field by field, round trips, and every malformed length.
#include "wire/ipv4.h"

#include <gtest/gtest.h>

#include <vector>

#include "base/random.h"
#include "packets.h"
#include "wire/checksum.h"

namespace ustack::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;
using testdata::copy;
using testdata::span;

base::ByteSpan icmp_ip() { return span(testdata::kIcmpEchoFrame).subspan(14); }

void fix_checksum(Bytes& b) {
  const std::size_t hl = std::size_t{b[0] & 0x0fu} * 4;
  b[10] = b[11] = 0;
  base::store_be16(b, 10, internet_checksum(std::span(b).first(hl)));
}

TEST(Ipv4, ParsesPingFieldByField) {
  auto v = Ipv4View::parse(icmp_ip());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->version(), 4);
  EXPECT_EQ(v->header_len(), 20u);
  EXPECT_EQ(v->tos(), 0);
  EXPECT_EQ(v->total_len(), 76);
  EXPECT_EQ(v->ident(), 0x1c46);
  EXPECT_TRUE(v->dont_fragment());
  EXPECT_FALSE(v->more_fragments());
  EXPECT_EQ(v->frag_offset(), 0u);
  EXPECT_FALSE(v->is_fragment());
  EXPECT_EQ(v->ttl(), 64);
  EXPECT_EQ(v->protocol(), ip_proto::icmp);
  EXPECT_EQ(v->checksum(), 0x9c52);
  EXPECT_TRUE(v->checksum_ok());
  EXPECT_EQ(v->src(), testdata::kHostA);
  EXPECT_EQ(v->dst(), testdata::kHostB);
  EXPECT_TRUE(v->options().empty());
  EXPECT_EQ(v->payload().size(), 56u);
  EXPECT_EQ(v->payload()[0], 8);  // ICMP echo request
  EXPECT_EQ(v->datagram().size(), 76u);

  auto r = Ipv4Repr::parse(icmp_ip());
  ASSERT_TRUE(r.ok());
  Ipv4Repr want;
  want.src = testdata::kHostA;
  want.dst = testdata::kHostB;
  want.protocol = ip_proto::icmp;
  want.ttl = 64;
  want.ident = 0x1c46;
  want.dont_fragment = true;
  want.payload_len = 56;
  EXPECT_EQ(*r, want);
}

TEST(Ipv4, EmitReproducesCapturedHeader) {
  auto r = Ipv4Repr::parse(span(testdata::kUdpDnsPacket));
  ASSERT_TRUE(r.ok());
  Bytes out(20);
  r->emit(out);
  EXPECT_EQ(out, Bytes(testdata::kUdpDnsPacket, testdata::kUdpDnsPacket + 20));
}

TEST(Ipv4, RoundTripRandomHeaders) {
  base::Random rng(10);
  for (int i = 0; i < 2000; ++i) {
    Ipv4Repr r;
    r.src = base::Ipv4Addr(rng.next_u32());
    r.dst = base::Ipv4Addr(rng.next_u32());
    r.protocol = static_cast<std::uint8_t>(rng.next_u32());
    r.ttl = static_cast<std::uint8_t>(rng.next_u32());
    r.tos = static_cast<std::uint8_t>(rng.next_u32());
    r.ident = static_cast<std::uint16_t>(rng.next_u32());
    r.dont_fragment = rng.chance(0.5);
    r.more_fragments = rng.chance(0.5);
    r.frag_offset = static_cast<std::uint16_t>(rng.below(0x2000) * 8);
    r.payload_len = static_cast<std::uint16_t>(rng.below(200));
    Bytes buf(20 + r.payload_len);
    r.emit(buf);
    auto v = Ipv4View::parse(buf);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->total_len(), 20 + r.payload_len);
    EXPECT_EQ(v->frag_offset(), r.frag_offset);
    auto p = Ipv4Repr::parse(buf);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, r);
  }
}

TEST(Ipv4, EveryTruncationFailsWithTheRightError) {
  const auto full = icmp_ip();
  for (std::size_t n = 0; n < full.size(); ++n) {
    auto v = Ipv4View::parse(full.first(n));
    ASSERT_FALSE(v.ok()) << n;
    // Below 20 bytes the header is cut; from 20 on the total length (76) is.
    EXPECT_EQ(v.error(), ParseError::truncated) << n;
    EXPECT_EQ(Ipv4Repr::parse(full.first(n)).error(), ParseError::truncated) << n;
  }
}

TEST(Ipv4, TruncationWithOptionsCutsTheHeaderFirst) {
  // IHL 6 (a 4-byte option), total length 28.
  Bytes b = {0x46, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
             0x01, 0x01, 0x01, 0x00, 0xaa, 0xbb, 0xcc, 0xdd};
  fix_checksum(b);
  auto ok = Ipv4Repr::parse(b);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->payload_len, 4);
  EXPECT_EQ(Ipv4View::parse(b)->options().size(), 4u);
  EXPECT_EQ(Ipv4View::parse(b)->payload()[0], 0xaa);
  for (std::size_t n = 0; n < b.size(); ++n) {
    const auto want = n < 20 ? ParseError::truncated : n < 24 ? ParseError::bad_header_len : ParseError::truncated;
    EXPECT_EQ(Ipv4View::parse(std::span(b).first(n)).error(), want) << n;
  }
}

TEST(Ipv4, BadVersion) {
  for (std::uint8_t ver : {0, 6, 5, 15}) {
    auto b = copy(testdata::kUdpDnsPacket);
    b[0] = static_cast<std::uint8_t>((ver << 4) | 5);
    EXPECT_EQ(Ipv4View::parse(b).error(), ParseError::bad_version);
  }
}

TEST(Ipv4, IhlBelowFiveOrPastBuffer) {
  for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
    auto b = copy(testdata::kUdpDnsPacket);
    b[0] = static_cast<std::uint8_t>(0x40 | ihl);
    EXPECT_EQ(Ipv4View::parse(b).error(), ParseError::bad_header_len) << int{ihl};
  }
  // IHL 15 = 60 bytes; the buffer holds 57.
  auto b = copy(testdata::kUdpDnsPacket);
  b[0] = 0x4f;
  EXPECT_EQ(Ipv4View::parse(b).error(), ParseError::bad_header_len);
}

TEST(Ipv4, TotalLengthBelowHeaderOrPastBuffer) {
  auto b = copy(testdata::kUdpDnsPacket);
  for (std::uint16_t total : {0, 1, 19}) {
    base::store_be16(b, 2, total);
    EXPECT_EQ(Ipv4View::parse(b).error(), ParseError::bad_length) << total;
  }
  b[0] = 0x46;  // IHL 24 bytes, total 20
  base::store_be16(b, 2, 20);
  EXPECT_EQ(Ipv4View::parse(b).error(), ParseError::bad_length);
  b[0] = 0x45;
  base::store_be16(b, 2, 58);  // one past the 57 bytes
  EXPECT_EQ(Ipv4View::parse(b).error(), ParseError::truncated);
  base::store_be16(b, 2, 0xffff);
  EXPECT_EQ(Ipv4View::parse(b).error(), ParseError::truncated);
  base::store_be16(b, 2, 20);  // header only: empty payload is fine
  auto v = Ipv4View::parse(b);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->payload().empty());
}

TEST(Ipv4, EthernetPaddingIsIgnored) {
  auto b = copy(testdata::kUdpDnsPacket);
  b.resize(b.size() + 9, 0);
  auto v = Ipv4View::parse(b);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->payload().size(), 37u);
  EXPECT_EQ(v->datagram().size(), 57u);
  EXPECT_TRUE(Ipv4Repr::parse(b).ok());
}

TEST(Ipv4, BadChecksum) {
  auto b = copy(testdata::kUdpDnsPacket);
  b[8] = 63;  // TTL changed without fixing the checksum
  EXPECT_TRUE(Ipv4View::parse(b).ok());  // the view does not check it
  EXPECT_FALSE(Ipv4View::parse(b)->checksum_ok());
  EXPECT_EQ(Ipv4Repr::parse(b).error(), ParseError::bad_checksum);
  // Every single-bit error in the header is caught.
  for (std::size_t bit = 0; bit < 160; ++bit) {
    auto c = copy(testdata::kUdpDnsPacket);
    c[bit / 8] = static_cast<std::uint8_t>(c[bit / 8] ^ (0x80 >> (bit % 8)));
    auto r = Ipv4Repr::parse(c);
    EXPECT_FALSE(r.ok()) << bit;
  }
}

TEST(Ipv4, FragmentFields) {
  auto b = copy(testdata::kUdpDnsPacket);
  base::store_be16(b, 6, 0x2000 | 185);  // MF, offset 185*8 = 1480
  fix_checksum(b);
  auto r = Ipv4Repr::parse(b);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->more_fragments);
  EXPECT_FALSE(r->dont_fragment);
  EXPECT_EQ(r->frag_offset, 1480);
  EXPECT_TRUE(Ipv4View::parse(b)->is_fragment());
}

}  // namespace
}  // namespace ustack::wire
