// Ethernet and ARP: a literal ARP request field by field, round trips, truncation
// at every length, and the kinds of ARP that are refused.
#include <gtest/gtest.h>

#include <vector>

#include "packets.h"
#include "wire/arp.h"
#include "wire/ethernet.h"

namespace ustack::wire {
namespace {

using testdata::copy;
using testdata::span;
const base::MacAddr kMacA({0x52, 0x54, 0x00, 0x12, 0x34, 0x56});

TEST(Ethernet, ParsesArpFrame) {
  auto v = EthernetView::parse(span(testdata::kArpRequestFrame));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->dst().is_broadcast());
  EXPECT_EQ(v->src(), kMacA);
  EXPECT_EQ(v->ethertype(), static_cast<std::uint16_t>(EtherType::arp));
  EXPECT_EQ(v->payload().size(), sizeof testdata::kArpRequestFrame - 14);
  auto r = EthernetRepr::parse(span(testdata::kArpRequestFrame));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (EthernetRepr{base::MacAddr::broadcast(), kMacA, 0x0806}));
}

TEST(Ethernet, RoundTripAndEmitBytes) {
  const EthernetRepr r{kMacA, base::MacAddr({2, 0, 0, 0, 0, 1}), 0x86dd};
  std::vector<std::uint8_t> buf(14);
  r.emit(buf);
  EXPECT_EQ(buf, (std::vector<std::uint8_t>{0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 2, 0, 0, 0, 0, 1,
                                            0x86, 0xdd}));
  auto p = EthernetRepr::parse(buf);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, r);
  EXPECT_TRUE(EthernetView::parse(buf)->payload().empty());
}

TEST(Ethernet, EveryShortLengthIsTruncated) {
  for (std::size_t n = 0; n < 14; ++n) {
    const std::vector<std::uint8_t> b(testdata::kArpRequestFrame, testdata::kArpRequestFrame + n);
    auto v = EthernetView::parse(b);
    ASSERT_FALSE(v.ok()) << n;
    EXPECT_EQ(v.error(), ParseError::truncated);
    EXPECT_EQ(EthernetRepr::parse(b).error(), ParseError::truncated);
  }
}

base::ByteSpan arp_payload() { return span(testdata::kArpRequestFrame).subspan(14); }

TEST(Arp, ParsesRequestFieldByField) {
  auto v = ArpView::parse(arp_payload());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->hardware_type(), 1);
  EXPECT_EQ(v->protocol_type(), 0x0800);
  EXPECT_EQ(v->hardware_len(), 6);
  EXPECT_EQ(v->protocol_len(), 4);
  EXPECT_EQ(v->operation(), 1);
  auto r = ArpRepr::parse(arp_payload());  // 46 bytes: the frame padding is ignored
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->op, ArpOp::request);
  EXPECT_EQ(r->sender_mac, kMacA);
  EXPECT_EQ(r->sender_ip, testdata::kHostA);
  EXPECT_TRUE(r->target_mac.is_zero());
  EXPECT_EQ(r->target_ip, testdata::kHostB);
}

TEST(Arp, EmitMatchesCaptureAndRoundTrips) {
  const ArpRepr req{ArpOp::request, kMacA, testdata::kHostA, base::MacAddr(), testdata::kHostB};
  std::vector<std::uint8_t> buf(ArpView::kLen);
  req.emit(buf);
  EXPECT_EQ(buf, std::vector<std::uint8_t>(arp_payload().begin(), arp_payload().begin() + 28));
  const ArpRepr reply{ArpOp::reply, base::MacAddr({2, 0x42, 0xac, 0x11, 0, 2}), testdata::kHostB, kMacA,
                      testdata::kHostA};
  reply.emit(buf);
  auto p = ArpRepr::parse(buf);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, reply);
}

TEST(Arp, EveryTruncationIsTruncated) {
  const auto full = arp_payload();
  for (std::size_t n = 0; n < ArpView::kLen; ++n) {
    const std::vector<std::uint8_t> b(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(ArpView::parse(b).error(), ParseError::truncated) << n;
    EXPECT_EQ(ArpRepr::parse(b).error(), ParseError::truncated) << n;
  }
  EXPECT_TRUE(ArpRepr::parse(full.first(ArpView::kLen)).ok());
}

TEST(Arp, ViewChecksClaimedAddressSizesAgainstBuffer) {
  auto b = copy(testdata::kArpRequestFrame);
  b[14 + 4] = 16;  // hlen 16: 8 + 2*(16+4) = 48 bytes needed, 46 present
  EXPECT_EQ(ArpView::parse(std::span(b).subspan(14)).error(), ParseError::truncated);
  b[14 + 4] = 15;  // 46 needed: fits
  EXPECT_TRUE(ArpView::parse(std::span(b).subspan(14)).ok());
}

TEST(Arp, OtherKindsAreUnsupported) {
  struct Case {
    std::size_t off;
    std::uint8_t value;
  };
  // hardware type, protocol type, hlen, plen, op: each changed alone.
  for (const Case c : {Case{1, 6}, Case{2, 0x86}, Case{4, 8}, Case{4, 4}, Case{5, 16}, Case{5, 2},
                       Case{7, 3}, Case{7, 0}, Case{6, 1}}) {
    auto b = copy(testdata::kArpRequestFrame);
    b[14 + c.off] = c.value;
    auto r = ArpRepr::parse(std::span(b).subspan(14));
    ASSERT_FALSE(r.ok()) << c.off << " " << int{c.value};
    EXPECT_EQ(r.error(), ParseError::unsupported) << c.off << " " << int{c.value};
  }
}

}  // namespace
}  // namespace ustack::wire
