// ICMP and UDP: literal packets field by field, round trips, truncation, lengths
// and checksums (including UDP's zero and all-ones cases).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "base/random.h"
#include "packets.h"
#include "wire/checksum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

namespace ustack::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;
using testdata::copy;
using testdata::span;

base::ByteSpan icmp_msg() { return span(testdata::kIcmpEchoFrame).subspan(34); }
base::ByteSpan udp_dgram() { return span(testdata::kUdpDnsPacket).subspan(20); }

bool same(base::ByteSpan a, base::ByteSpan b) { return std::ranges::equal(a, b); }

TEST(Icmp, ParsesEchoRequestFieldByField) {
  auto v = IcmpView::parse(icmp_msg());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->type(), icmp_type::echo_request);
  EXPECT_EQ(v->code(), 0);
  EXPECT_EQ(v->checksum(), 0xcb6d);
  EXPECT_TRUE(v->checksum_ok());
  EXPECT_EQ(v->ident(), 0x0d2a);
  EXPECT_EQ(v->seq(), 1);
  EXPECT_EQ(v->rest(), 0x0d2a0001u);
  ASSERT_EQ(v->payload().size(), 48u);
  EXPECT_EQ(v->payload()[8], 0x10);
  auto r = IcmpRepr::parse(icmp_msg());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, icmp_type::echo_request);
  EXPECT_EQ(r->ident(), 0x0d2a);
  EXPECT_EQ(r->seq(), 1);
  EXPECT_EQ(r->data.data(), icmp_msg().data() + 8);  // points into the input
  EXPECT_EQ(r->data.size(), 48u);
  EXPECT_FALSE(icmp_is_error(r->type));
  EXPECT_TRUE(icmp_is_error(icmp_type::dest_unreachable));
}

TEST(Icmp, EmitReproducesCapture) {
  auto r = IcmpRepr::parse(icmp_msg());
  ASSERT_TRUE(r.ok());
  Bytes out(r->buffer_len());
  r->emit(out);
  EXPECT_TRUE(same(out, icmp_msg()));
}

TEST(Icmp, EchoReplyBuiltInPlace) {
  // The reply's data is the request's, already in the buffer the reply is written to.
  auto b = copy(testdata::kIcmpEchoFrame);
  const auto msg = std::span(b).subspan(34);
  auto req = IcmpRepr::parse(msg);
  ASSERT_TRUE(req.ok());
  const Bytes data_before(req->data.begin(), req->data.end());
  IcmpRepr::echo_reply(req->ident(), req->seq(), req->data).emit(msg);
  auto rep = IcmpRepr::parse(msg);
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->type, icmp_type::echo_reply);
  EXPECT_EQ(rep->rest, 0x0d2a0001u);
  EXPECT_TRUE(same(rep->data, data_before));
  // Only the type changed: RFC 1624 predicts the new checksum.
  EXPECT_EQ(IcmpView::parse(msg)->checksum(), checksum_update(0xcb6d, 0x0800, 0x0000));
}

TEST(Icmp, RoundTripRandom) {
  base::Random rng(20);
  for (int i = 0; i < 1000; ++i) {
    Bytes data(rng.below(100));
    for (auto& x : data) x = static_cast<std::uint8_t>(rng.next_u32());
    const IcmpRepr r{static_cast<std::uint8_t>(rng.next_u32()), static_cast<std::uint8_t>(rng.next_u32()),
                     rng.next_u32(), data};
    Bytes out(r.buffer_len());
    r.emit(out);
    auto p = IcmpRepr::parse(out);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->type, r.type);
    EXPECT_EQ(p->code, r.code);
    EXPECT_EQ(p->rest, r.rest);
    EXPECT_TRUE(same(p->data, data));
  }
}

TEST(Icmp, TruncationAndBadChecksum) {
  for (std::size_t n = 0; n < 8; ++n) {
    EXPECT_EQ(IcmpView::parse(icmp_msg().first(n)).error(), ParseError::truncated) << n;
    EXPECT_EQ(IcmpRepr::parse(icmp_msg().first(n)).error(), ParseError::truncated) << n;
  }
  // The checksum covers the data: cutting it short breaks the checksum.
  for (std::size_t n = 8; n < icmp_msg().size(); ++n)
    EXPECT_EQ(IcmpRepr::parse(icmp_msg().first(n)).error(), ParseError::bad_checksum) << n;
  auto b = copy(testdata::kIcmpEchoFrame);
  b.back() ^= 1;
  EXPECT_EQ(IcmpRepr::parse(std::span(b).subspan(34)).error(), ParseError::bad_checksum);
}

TEST(Udp, ParsesDnsQueryFieldByField) {
  auto ip = Ipv4View::parse(span(testdata::kUdpDnsPacket));
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->protocol(), ip_proto::udp);
  auto v = UdpView::parse(ip->payload());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->src_port(), 53124);
  EXPECT_EQ(v->dst_port(), 53);
  EXPECT_EQ(v->length(), 37);
  EXPECT_EQ(v->checksum(), 0x7d8f);
  EXPECT_TRUE(v->checksum_ok(testdata::kHostA, testdata::kDns));
  EXPECT_FALSE(v->checksum_ok(testdata::kHostB, testdata::kDns));  // wrong pseudo-header
  ASSERT_EQ(v->payload().size(), 29u);
  EXPECT_EQ(v->payload()[0], 0x12);
  EXPECT_EQ(v->payload()[28], 0x01);
  auto r = UdpRepr::parse(ip->payload(), testdata::kHostA, testdata::kDns);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (UdpRepr{53124, 53}));
}

TEST(Udp, EmitReproducesCapture) {
  auto b = copy(testdata::kUdpDnsPacket);
  auto dgram = std::span(b).subspan(20);
  std::fill_n(dgram.begin(), 8, 0xee);  // header bytes overwritten by emit
  UdpRepr{53124, 53}.emit(dgram, testdata::kHostA, testdata::kDns);
  EXPECT_TRUE(same(b, span(testdata::kUdpDnsPacket)));
}

TEST(Udp, RoundTripRandom) {
  base::Random rng(21);
  for (int i = 0; i < 1000; ++i) {
    Bytes d(8 + rng.below(100));
    for (auto& x : d) x = static_cast<std::uint8_t>(rng.next_u32());
    const base::Ipv4Addr src(rng.next_u32()), dst(rng.next_u32());
    const UdpRepr r{static_cast<std::uint16_t>(rng.next_u32()), static_cast<std::uint16_t>(rng.next_u32())};
    r.emit(d, src, dst);
    auto p = UdpRepr::parse(d, src, dst);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, r);
    EXPECT_EQ(UdpView::parse(d)->length(), d.size());
    EXPECT_NE(UdpView::parse(d)->checksum(), 0);  // always generated
  }
}

TEST(Udp, EveryTruncationIsTruncated) {
  for (std::size_t n = 0; n < udp_dgram().size(); ++n) {
    EXPECT_EQ(UdpView::parse(udp_dgram().first(n)).error(), ParseError::truncated) << n;
    EXPECT_EQ(UdpRepr::parse(udp_dgram().first(n), testdata::kHostA, testdata::kDns).error(),
              ParseError::truncated)
        << n;
  }
}

TEST(Udp, LengthFieldBelowEightOrPastBuffer) {
  auto b = copy(testdata::kUdpDnsPacket);
  auto d = std::span(b).subspan(20);
  for (std::uint16_t len : {0, 1, 7}) {
    base::store_be16(d, 4, len);
    EXPECT_EQ(UdpView::parse(d).error(), ParseError::bad_length) << len;
  }
  base::store_be16(d, 4, 38);
  EXPECT_EQ(UdpView::parse(d).error(), ParseError::truncated);
  base::store_be16(d, 4, 8);  // shorter than the buffer: the rest is ignored
  auto v = UdpView::parse(d);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->payload().empty());
}

TEST(Udp, BadChecksumAndZeroChecksum) {
  auto b = copy(testdata::kUdpDnsPacket);
  auto d = std::span(b).subspan(20);
  d[20] ^= 0x40;  // one payload bit
  EXPECT_EQ(UdpRepr::parse(d, testdata::kHostA, testdata::kDns).error(), ParseError::bad_checksum);
  // RFC 768: a zero checksum means none was computed; the datagram is accepted.
  base::store_be16(d, 6, 0);
  EXPECT_TRUE(UdpView::parse(d)->checksum_ok(testdata::kHostA, testdata::kDns));
  EXPECT_TRUE(UdpRepr::parse(d, testdata::kHostA, testdata::kDns).ok());
}

TEST(Udp, ComputedZeroIsSentAsAllOnes) {
  // Pick the last two payload bytes so that the one's-complement sum is 0xffff:
  // the computed checksum is then 0, which RFC 768 sends as 0xffff.
  Bytes d(8 + 6, 0);
  d[8] = 0x12;
  d[9] = 0x34;
  const base::Ipv4Addr src(10, 0, 0, 1), dst(10, 0, 0, 2);
  const UdpRepr r{1000, 2000};
  r.emit(d, src, dst);  // fills the header (length) with a provisional checksum
  Checksum c;
  c.add_pseudo_header(src, dst, ip_proto::udp, static_cast<std::uint16_t>(d.size()));
  base::store_be16(d, 6, 0);
  c.add(d);
  base::store_be16(d, d.size() - 2, static_cast<std::uint16_t>(~c.folded()));
  r.emit(d, src, dst);
  EXPECT_EQ(UdpView::parse(d)->checksum(), 0xffff);
  EXPECT_TRUE(UdpRepr::parse(d, src, dst).ok());  // and 0xffff verifies
}

}  // namespace
}  // namespace ustack::wire
