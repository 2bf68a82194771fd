// Reassembler: RFC 791 3.2 reassembly in any order, the 30 s timeout and its
// ICMP quote (RFC 1122 3.3.2), exact duplicates, overlaps (whole datagram dropped,
// as Linux since CVE-2018-5391), invalid fragments and the memory limits.
#include "ip/reassembly.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "wire/checksum.h"

using namespace std::chrono_literals;
using ustack::base::Byte;
using ustack::base::ByteSpan;
using ustack::base::Instant;
using ustack::base::Ipv4Addr;
using ustack::ip::ExpiredDatagram;
using ustack::ip::kFragmentOverhead;
namespace base = ustack::base;
using ustack::ip::Reassembled;
using ustack::ip::ReassemblyConfig;
using ustack::ip::ReassemblyOutcome;
using ustack::ip::Reassembler;
using ustack::wire::Ipv4Repr;
using ustack::wire::Ipv4View;
using Outcome = ReassemblyOutcome;
using Bytes = std::vector<Byte>;

namespace {

const Instant t0 = ustack::base::kEpoch + 100s;
const Ipv4Addr kSrc(198, 18, 0, 1);
const Ipv4Addr kSrc2(198, 18, 0, 9);
const Ipv4Addr kDst(198, 18, 0, 2);
constexpr std::uint8_t kProto = ustack::wire::ip_proto::udp;

Bytes pattern(std::size_t n, unsigned seed = 1) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<Byte>(i * 7 + seed * 13 + (i >> 8));
  return b;
}

struct FragSpec {
  std::uint16_t ident = 0x1234;
  Ipv4Addr src = kSrc;
  std::uint8_t protocol = kProto;
  std::uint8_t ttl = 64;
};

/// One fragment: a 20-byte header written by Ipv4Repr::emit, then `payload`.
Bytes frag(std::uint32_t offset, bool more, ByteSpan payload, FragSpec s = {}) {
  Ipv4Repr r;
  r.src = s.src;
  r.dst = kDst;
  r.protocol = s.protocol;
  r.ttl = s.ttl;
  r.ident = s.ident;
  r.more_fragments = more;
  r.frag_offset = static_cast<std::uint16_t>(offset);
  r.payload_len = static_cast<std::uint16_t>(payload.size());
  Bytes b(Ipv4Repr::header_len() + payload.size());
  r.emit(b);
  std::copy(payload.begin(), payload.end(), b.begin() + Ipv4Repr::header_len());
  return b;
}
/// The piece [offset, offset+len) of `whole`, with MF set unless it ends the datagram.
Bytes piece(const Bytes& whole, std::uint32_t offset, std::uint32_t len, FragSpec s = {}) {
  const bool more = offset + len < whole.size();
  return frag(offset, more, ByteSpan(whole).subspan(offset, len), s);
}
/// `whole` cut into pieces of `size` bytes (a multiple of 8).
std::vector<Bytes> split(const Bytes& whole, std::uint32_t size, FragSpec s = {}) {
  std::vector<Bytes> out;
  for (std::uint32_t off = 0; off < whole.size(); off += size) {
    out.push_back(piece(whole, off, std::min<std::uint32_t>(size, static_cast<std::uint32_t>(whole.size()) - off), s));
  }
  return out;
}

Reassembled add(Reassembler& r, const Bytes& b, Instant now = t0) {
  auto v = Ipv4View::parse(b);
  EXPECT_TRUE(v.ok());
  return r.add(v.value(), now);
}

/// Checks a reassembled datagram: a valid 20-byte header and the expected payload.
void expect_datagram(const Reassembled& got, const Bytes& payload, FragSpec s = {}) {
  ASSERT_EQ(got.outcome, Outcome::complete);
  ASSERT_TRUE(got.datagram);
  const ByteSpan bytes = got.datagram->data();
  ASSERT_EQ(bytes.size(), 20 + payload.size());
  auto v = Ipv4View::parse(bytes);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->checksum_ok());
  EXPECT_EQ(v->header_len(), 20u);
  EXPECT_EQ(v->total_len(), 20 + payload.size());
  EXPECT_FALSE(v->more_fragments());
  EXPECT_EQ(v->frag_offset(), 0u);
  EXPECT_FALSE(v->is_fragment());
  EXPECT_EQ(v->ident(), s.ident);
  EXPECT_EQ(v->src(), s.src);
  EXPECT_EQ(v->dst(), kDst);
  EXPECT_EQ(v->protocol(), s.protocol);
  EXPECT_EQ(v->ttl(), s.ttl);
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), v->payload().begin(), v->payload().end()));
}

void expect_empty(const Reassembler& r) {
  EXPECT_EQ(r.datagrams_in_progress(), 0u);
  EXPECT_EQ(r.bytes_in_use(), 0u);
  EXPECT_FALSE(r.next_deadline());
}

}  // namespace

TEST(Reassembly, InOrder) {
  Reassembler r;
  const Bytes whole = pattern(1000);
  const auto frags = split(whole, 296);  // 296, 296, 296, 112
  ASSERT_EQ(frags.size(), 4u);
  for (std::size_t i = 0; i + 1 < frags.size(); ++i) {
    auto got = add(r, frags[i]);
    EXPECT_EQ(got.outcome, Outcome::incomplete);
    EXPECT_FALSE(got.datagram);
    EXPECT_EQ(r.bytes_in_use(), 296 * (i + 1));
    EXPECT_EQ(r.datagrams_in_progress(), 1u);
  }
  expect_datagram(add(r, frags.back()), whole);
  expect_empty(r);
}

TEST(Reassembly, Reversed) {
  Reassembler r;
  const Bytes whole = pattern(1001);  // the last piece need not be a multiple of 8
  auto frags = split(whole, 96);
  std::reverse(frags.begin(), frags.end());
  for (std::size_t i = 0; i + 1 < frags.size(); ++i) EXPECT_EQ(add(r, frags[i]).outcome, Outcome::incomplete);
  expect_datagram(add(r, frags.back()), whole);
  expect_empty(r);
}

TEST(Reassembly, EveryPermutationOfFiveFragments) {
  const Bytes whole = pattern(77);
  const auto frags = split(whole, 16);  // 16 x4 + 13
  ASSERT_EQ(frags.size(), 5u);
  std::vector<int> order(frags.size());
  std::iota(order.begin(), order.end(), 0);
  int permutations = 0;
  do {
    Reassembler r;
    for (std::size_t i = 0; i + 1 < order.size(); ++i) {
      ASSERT_EQ(add(r, frags[order[i]]).outcome, Outcome::incomplete);
    }
    expect_datagram(add(r, frags[order.back()]), whole);
    expect_empty(r);
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 120);
}

TEST(Reassembly, ManyRandomShufflesOfALargeDatagram) {
  std::mt19937 gen(2024);
  const Bytes whole = pattern(65515, 3);  // the largest datagram there is
  auto frags = split(whole, 1480);
  ASSERT_EQ(frags.size(), 45u);
  Reassembler r;  // one reassembler, reused: each round leaves it empty
  for (int round = 0; round < 30; ++round) {
    std::shuffle(frags.begin(), frags.end(), gen);
    for (std::size_t i = 0; i + 1 < frags.size(); ++i) {
      ASSERT_EQ(add(r, frags[i]).outcome, Outcome::incomplete) << "round " << round;
    }
    expect_datagram(add(r, frags.back()), whole);
    expect_empty(r);
  }
}

TEST(Reassembly, HeaderComesFromFragmentZeroWhicheverArrivesLast) {
  Reassembler r;
  const Bytes whole = pattern(48);
  FragSpec other;
  other.ttl = 9;  // later fragments crossed other routers
  FragSpec first;
  first.ttl = 33;
  EXPECT_EQ(add(r, piece(whole, 16, 32, other)).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, piece(whole, 8, 8, other)).outcome, Outcome::incomplete);
  expect_datagram(add(r, piece(whole, 0, 8, first)), whole, first);
}

TEST(Reassembly, MissingMiddleNeverCompletesAndTimesOutAtThirtySeconds) {
  Reassembler r;
  const Bytes whole = pattern(64);
  const Bytes first = piece(whole, 0, 16);
  EXPECT_EQ(add(r, first, t0).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, piece(whole, 48, 16), t0 + 10s).outcome, Outcome::incomplete);
  // The timer is not refreshed by later fragments.
  EXPECT_EQ(add(r, piece(whole, 32, 16), t0 + 29s).outcome, Outcome::incomplete);
  EXPECT_EQ(r.next_deadline(), t0 + 30s);

  std::vector<ExpiredDatagram> expired;
  r.poll(t0 + 30s - 1ns, expired);
  EXPECT_TRUE(expired.empty());
  EXPECT_EQ(r.datagrams_in_progress(), 1u);
  r.poll(t0 + 30s, expired);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_TRUE(expired[0].had_first_fragment);
  // The quote: fragment 0's header and the first 8 bytes of its payload.
  const ByteSpan prefix = expired[0].first_fragment_prefix.data();
  ASSERT_EQ(prefix.size(), 28u);
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), first.begin()));
  expect_empty(r);
}

TEST(Reassembly, TimeoutWithoutFragmentZeroHasNoQuote) {
  Reassembler r;
  const Bytes whole = pattern(64);
  EXPECT_EQ(add(r, piece(whole, 16, 16), t0).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, piece(whole, 48, 16), t0 + 1s).outcome, Outcome::incomplete);
  std::vector<ExpiredDatagram> expired;
  r.poll(t0 + 30s, expired);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_FALSE(expired[0].had_first_fragment);
  EXPECT_EQ(expired[0].first_fragment_prefix.size(), 0u);
  expect_empty(r);
}

TEST(Reassembly, QuoteKeepsTheFirstFragmentsOptions) {
  Reassembler r;
  // A first fragment with 4 bytes of options (IHL 6): the quote keeps them.
  const Bytes whole = pattern(32);
  Bytes first = piece(whole, 0, 16);
  first.insert(first.begin() + 20, {1, 1, 1, 0});  // NOP NOP NOP EOL
  first[0] = 0x46;
  ustack::base::store_be16(first, 2, static_cast<std::uint16_t>(first.size()));
  ustack::base::store_be16(first, 10, 0);
  ustack::base::store_be16(first, 10, ustack::wire::internet_checksum(ByteSpan(first).first(24)));
  EXPECT_EQ(add(r, first, t0).outcome, Outcome::incomplete);
  std::vector<ExpiredDatagram> expired;
  r.poll(t0 + 30s, expired);
  ASSERT_EQ(expired.size(), 1u);
  const ByteSpan prefix = expired[0].first_fragment_prefix.data();
  ASSERT_EQ(prefix.size(), 24u + 8u);
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), first.begin()));

  // The same fragment with its end completes a datagram whose header has no options.
  EXPECT_EQ(add(r, first, t0 + 40s).outcome, Outcome::incomplete);
  expect_datagram(add(r, piece(whole, 16, 16), t0 + 40s), whole);
}

TEST(Reassembly, AddToATimedOutDatagramStartsAfreshAndReportsTheOldOne) {
  Reassembler r;
  const Bytes whole = pattern(32);
  EXPECT_EQ(add(r, piece(whole, 0, 16), t0).outcome, Outcome::incomplete);
  // The timeout has passed but poll() has not run yet: the stale piece must not join.
  EXPECT_EQ(add(r, piece(whole, 16, 16), t0 + 31s).outcome, Outcome::incomplete);
  EXPECT_EQ(r.bytes_in_use(), 16u);
  EXPECT_EQ(r.next_deadline(), t0 + 30s);  // the old one's report is overdue
  std::vector<ExpiredDatagram> expired;
  r.poll(t0 + 31s, expired);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_TRUE(expired[0].had_first_fragment);
  EXPECT_EQ(r.next_deadline(), t0 + 61s);
  expect_datagram(add(r, piece(whole, 0, 16), t0 + 32s), whole);
}

TEST(Reassembly, ExactDuplicatesAreIgnored) {
  Reassembler r;
  const Bytes whole = pattern(40);
  const Bytes a = piece(whole, 0, 16), b = piece(whole, 16, 16), c = piece(whole, 32, 8);
  EXPECT_EQ(add(r, a).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, a).outcome, Outcome::duplicate);
  EXPECT_EQ(r.bytes_in_use(), 16u);
  EXPECT_EQ(add(r, c).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, c).outcome, Outcome::duplicate);  // the last fragment, twice
  EXPECT_EQ(add(r, a).outcome, Outcome::duplicate);
  EXPECT_EQ(r.bytes_in_use(), 24u);
  expect_datagram(add(r, b), whole);
  expect_empty(r);
}

TEST(Reassembly, SameOffsetAndLengthButOtherBytesIsAnOverlap) {
  Reassembler r;
  const Bytes whole = pattern(32);
  EXPECT_EQ(add(r, piece(whole, 0, 16)).outcome, Outcome::incomplete);
  Bytes forged = pattern(32, 99);
  EXPECT_EQ(add(r, piece(forged, 0, 16)).outcome, Outcome::dropped_overlap);
  expect_empty(r);
}

namespace {
/// Adds `first` then `second` (both pieces of a 64-byte datagram given as
/// offset/length/more), expects an overlap drop, then checks that a complete,
/// clean set with the same id still reassembles.
void expect_overlap_then_recovery(std::uint32_t o1, std::uint32_t l1, bool m1, std::uint32_t o2,
                                  std::uint32_t l2, bool m2) {
  Reassembler r;
  const Bytes whole = pattern(64);
  EXPECT_EQ(add(r, frag(o1, m1, ByteSpan(whole).subspan(o1, l1))).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, frag(o2, m2, ByteSpan(whole).subspan(o2, l2))).outcome, Outcome::dropped_overlap);
  expect_empty(r);
  const auto frags = split(whole, 16);
  for (std::size_t i = 0; i + 1 < frags.size(); ++i) EXPECT_EQ(add(r, frags[i]).outcome, Outcome::incomplete);
  expect_datagram(add(r, frags.back()), whole);
}
}  // namespace

TEST(Reassembly, PartialOverlapDropsTheDatagram) {
  expect_overlap_then_recovery(0, 16, true, 8, 16, true);   // [0,16) then [8,24)
  expect_overlap_then_recovery(8, 16, true, 0, 16, true);   // [8,24) then [0,16)
}

TEST(Reassembly, ContainedOverlapDropsTheDatagram) {
  expect_overlap_then_recovery(0, 32, true, 8, 8, true);  // [8,16) inside [0,32)
  expect_overlap_then_recovery(0, 32, true, 0, 8, true);  // same start, shorter
}

TEST(Reassembly, ContainingOverlapDropsTheDatagram) {
  expect_overlap_then_recovery(8, 8, true, 0, 32, true);   // [0,32) around [8,16)
  expect_overlap_then_recovery(16, 16, true, 16, 32, true);  // same start, longer
}

TEST(Reassembly, OverlapWithTheLastFragmentDropsTheDatagram) {
  expect_overlap_then_recovery(48, 16, false, 40, 16, true);  // [40,56) into the last [48,64)
  expect_overlap_then_recovery(40, 16, true, 48, 16, false);  // the last [48,64) onto [40,56)
}

TEST(Reassembly, TeardropDropsTheDatagram) {
  // Teardrop (1997): a second fragment that starts inside the first and ends
  // before the first's end, so a naive "end - offset" goes negative.
  Reassembler r;
  const Bytes whole = pattern(64);
  EXPECT_EQ(add(r, frag(0, true, ByteSpan(whole).first(48))).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, frag(24, false, ByteSpan(whole).subspan(24, 4))).outcome, Outcome::dropped_invalid)
      << "data before a known fragment's end, as the last fragment";
  expect_empty(r);
  EXPECT_EQ(add(r, frag(0, true, ByteSpan(whole).first(48))).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, frag(24, true, ByteSpan(whole).subspan(24, 8))).outcome, Outcome::dropped_overlap);
  expect_empty(r);
  // And the honest datagram with the same id is still reassembled afterwards.
  EXPECT_EQ(add(r, piece(whole, 0, 32)).outcome, Outcome::incomplete);
  expect_datagram(add(r, piece(whole, 32, 32)), whole);
}

TEST(Reassembly, OverlapOnlyDropsItsOwnDatagram) {
  Reassembler r;
  const Bytes whole = pattern(64);
  FragSpec other;
  other.ident = 7;
  EXPECT_EQ(add(r, piece(whole, 0, 32, other)).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, piece(whole, 0, 32)).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, piece(whole, 16, 32)).outcome, Outcome::dropped_overlap);
  EXPECT_EQ(r.datagrams_in_progress(), 1u);
  EXPECT_EQ(r.bytes_in_use(), 32u);
  expect_datagram(add(r, piece(whole, 32, 32, other)), whole, other);
}

TEST(Reassembly, BeyondTheLargestDatagramIsInvalidAndDiscardsTheDatagram) {
  Reassembler r;
  const Bytes data = pattern(16);
  EXPECT_EQ(add(r, frag(0, true, data)).outcome, Outcome::incomplete);
  // Ping of death: 65528 + 16 > 65535 - 20.
  EXPECT_EQ(add(r, frag(65528, false, data)).outcome, Outcome::dropped_invalid);
  expect_empty(r);
  EXPECT_EQ(add(r, frag(65512, false, ByteSpan(data).first(4))).outcome, Outcome::dropped_invalid);  // ends at 65516
  EXPECT_EQ(add(r, frag(65504, true, ByteSpan(data).first(16))).outcome, Outcome::dropped_invalid);  // 65520
  // Ending exactly at 65515 is allowed.
  EXPECT_EQ(add(r, frag(65504, false, ByteSpan(data).first(11))).outcome, Outcome::incomplete);
  EXPECT_EQ(r.bytes_in_use(), 11u);
}

TEST(Reassembly, MisalignedNonLastFragmentIsInvalid) {
  Reassembler r;
  const Bytes data = pattern(20);
  EXPECT_EQ(add(r, frag(0, true, ByteSpan(data).first(12))).outcome, Outcome::dropped_invalid);
  expect_empty(r);
  // The last fragment may have any length.
  EXPECT_EQ(add(r, frag(8, false, ByteSpan(data).first(12))).outcome, Outcome::incomplete);
}

TEST(Reassembly, ZeroLengthFragmentIsInvalid) {
  Reassembler r;
  EXPECT_EQ(add(r, frag(8, true, {})).outcome, Outcome::dropped_invalid);
  EXPECT_EQ(add(r, frag(8, false, {})).outcome, Outcome::dropped_invalid);
  expect_empty(r);
}

TEST(Reassembly, NotAFragmentIsInvalid) {
  Reassembler r;
  const Bytes data = pattern(16);
  EXPECT_EQ(add(r, frag(0, false, data)).outcome, Outcome::dropped_invalid);
  expect_empty(r);
}

TEST(Reassembly, ConflictingLastFragmentsDiscardTheDatagram) {
  Reassembler r;
  const Bytes whole = pattern(64);
  EXPECT_EQ(add(r, piece(whole, 0, 16)).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, frag(48, false, ByteSpan(whole).subspan(48, 16))).outcome, Outcome::incomplete);  // ends at 64
  EXPECT_EQ(add(r, frag(16, false, ByteSpan(whole).subspan(16, 16))).outcome, Outcome::dropped_invalid);  // ends at 32
  expect_empty(r);
}

TEST(Reassembly, DataPastAKnownEndDiscardsTheDatagram) {
  Reassembler r;
  const Bytes whole = pattern(64);
  EXPECT_EQ(add(r, frag(16, false, ByteSpan(whole).subspan(16, 16))).outcome, Outcome::incomplete);  // ends at 32
  EXPECT_EQ(add(r, frag(32, true, ByteSpan(whole).subspan(32, 16))).outcome, Outcome::dropped_invalid);
  expect_empty(r);
  // And the mirror: a last fragment arriving after data that reaches past it.
  EXPECT_EQ(add(r, frag(32, true, ByteSpan(whole).subspan(32, 16))).outcome, Outcome::incomplete);  // up to 48
  EXPECT_EQ(add(r, frag(16, false, ByteSpan(whole).subspan(16, 8))).outcome, Outcome::dropped_invalid);  // ends at 24
  expect_empty(r);
}

TEST(Reassembly, MemoryLimitHoldsUnderAFloodOfDistinctIds) {
  ReassemblyConfig cfg;
  cfg.max_bytes = 10000;
  Reassembler r(cfg);
  const Bytes data = pattern(1000);
  int kept = 0, limited = 0;
  for (std::uint16_t id = 0; id < 500; ++id) {
    FragSpec s;
    s.ident = id;
    const auto got = add(r, frag(0, true, ByteSpan(data).first(1000), s), t0 + std::chrono::milliseconds(id));
    if (got.outcome == Outcome::incomplete) ++kept;
    if (got.outcome == Outcome::dropped_limit) ++limited;
    ASSERT_LE(r.bytes_in_use(), cfg.max_bytes);
  }
  EXPECT_EQ(kept, 10);
  EXPECT_EQ(limited, 490);
  EXPECT_EQ(r.bytes_in_use(), 10000u);
  EXPECT_EQ(r.datagrams_in_progress(), 10u);

  // A fragment of a datagram already held is refused too, but the datagram stays.
  FragSpec s0;
  s0.ident = 0;
  EXPECT_EQ(add(r, frag(1000, false, ByteSpan(data).first(8), s0), t0 + 1s).outcome, Outcome::dropped_limit);
  EXPECT_EQ(r.datagrams_in_progress(), 10u);

  // Once they time out there is room again.
  std::vector<ExpiredDatagram> expired;
  r.poll(t0 + 31s, expired);
  EXPECT_EQ(expired.size(), 10u);
  expect_empty(r);
  const Bytes whole = pattern(64);
  EXPECT_EQ(add(r, piece(whole, 0, 32), t0 + 31s).outcome, Outcome::incomplete);
  expect_datagram(add(r, piece(whole, 32, 32), t0 + 31s), whole);
}

// The stack's memory account (docs/hardening.md "Memory limits"): each fragment is
// charged its length plus kFragmentOverhead, so a flood of tiny fragments is
// refused when the account is full, even far below max_bytes; completion, an
// overlap and the timeout each give the memory back.
TEST(Reassembly, TinyFragmentFloodIsBoundedByTheMemoryAccount) {
  base::MemoryAccount account(base::MemoryLimits::from_max(20000));
  {
    Reassembler r({}, &account);
    const Bytes data = pattern(8);
    int kept = 0, limited = 0;
    for (std::uint16_t id = 0; id < 100; ++id) {
      FragSpec s;
      s.ident = id;
      for (std::uint32_t off = 0; off < 64 * 8; off += 16) {  // every other 8-byte piece: never completes
        const auto got = add(r, frag(off, true, ByteSpan(data), s));
        if (got.outcome == Outcome::incomplete) ++kept;
        if (got.outcome == Outcome::dropped_limit) ++limited;
        ASSERT_LE(account.usage(), account.limits().max);
      }
    }
    // Fragments charge only up to the pressure threshold (the band above it is
    // kept for sockets' received data).
    EXPECT_EQ(static_cast<std::size_t>(kept), account.limits().pressure / (8 + kFragmentOverhead));
    EXPECT_GT(limited, 0);
    EXPECT_LT(r.bytes_in_use(), 2000u);  // the payload alone is small: the overhead is what counts
    EXPECT_EQ(r.bytes_charged(), account.usage(base::MemKind::frag));
    EXPECT_EQ(account.usage(), kept * (8 + kFragmentOverhead));
    std::vector<ExpiredDatagram> expired;
    r.poll(t0 + 31s, expired);
    EXPECT_EQ(account.usage(), 0u);

    // Completion gives back what the pieces held; so does an overlap.
    const Bytes whole = pattern(64);
    EXPECT_EQ(add(r, piece(whole, 0, 32), t0 + 31s).outcome, Outcome::incomplete);
    EXPECT_EQ(account.usage(), 32 + kFragmentOverhead);
    expect_datagram(add(r, piece(whole, 32, 32), t0 + 31s), whole);
    EXPECT_EQ(account.usage(), 0u);
    EXPECT_EQ(add(r, piece(whole, 0, 32), t0 + 31s).outcome, Outcome::incomplete);
    EXPECT_EQ(add(r, piece(whole, 24, 40), t0 + 31s).outcome, Outcome::dropped_overlap);
    EXPECT_EQ(account.usage(), 0u);
    EXPECT_EQ(add(r, piece(whole, 0, 32), t0 + 31s).outcome, Outcome::incomplete);
  }
  EXPECT_EQ(account.usage(), 0u);  // the reassembler's destruction gives back the rest
  EXPECT_LE(account.peak(), 20000u);
}

TEST(Reassembly, DatagramCountLimit) {
  ReassemblyConfig cfg;
  cfg.max_datagrams = 3;
  Reassembler r(cfg);
  const Bytes whole = pattern(32);
  for (std::uint16_t id = 1; id <= 3; ++id) {
    FragSpec s;
    s.ident = id;
    EXPECT_EQ(add(r, piece(whole, 0, 16, s)).outcome, Outcome::incomplete);
  }
  FragSpec s4;
  s4.ident = 4;
  EXPECT_EQ(add(r, piece(whole, 0, 16, s4)).outcome, Outcome::dropped_limit);
  EXPECT_EQ(r.datagrams_in_progress(), 3u);
  // Datagrams already held still progress.
  FragSpec s2;
  s2.ident = 2;
  expect_datagram(add(r, piece(whole, 16, 16, s2)), whole, s2);
  EXPECT_EQ(add(r, piece(whole, 0, 16, s4)).outcome, Outcome::incomplete);
}

TEST(Reassembly, PerDatagramFragmentLimitDiscardsTheDatagram) {
  ReassemblyConfig cfg;
  cfg.max_fragments_per_datagram = 4;
  Reassembler r(cfg);
  const Bytes whole = pattern(48);
  const auto frags = split(whole, 8);  // 6 fragments
  for (int i = 0; i < 4; ++i) EXPECT_EQ(add(r, frags[i]).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, frags[4]).outcome, Outcome::dropped_limit);
  expect_empty(r);
  // A datagram within the limit is fine.
  const Bytes small = pattern(32);
  const auto four = split(small, 8);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(add(r, four[i]).outcome, Outcome::incomplete);
  expect_datagram(add(r, four[3]), small);
}

TEST(Reassembly, SameIdFromTwoSourcesInterleaved) {
  Reassembler r;
  const Bytes a = pattern(100, 1), b = pattern(100, 2);
  FragSpec sa, sb;
  sb.src = kSrc2;
  const auto fa = split(a, 24, sa), fb = split(b, 24, sb);
  ASSERT_EQ(fa.size(), 5u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(add(r, fa[i]).outcome, Outcome::incomplete);
    EXPECT_EQ(add(r, fb[4 - i]).outcome, Outcome::incomplete);
  }
  EXPECT_EQ(r.datagrams_in_progress(), 2u);
  expect_datagram(add(r, fb[0]), b, sb);
  expect_datagram(add(r, fa[4]), a, sa);
  expect_empty(r);
}

TEST(Reassembly, SameIdWithAnotherProtocolIsAnotherDatagram) {
  Reassembler r;
  const Bytes a = pattern(32, 1), b = pattern(32, 2);
  FragSpec sa, sb;
  sb.protocol = ustack::wire::ip_proto::tcp;
  EXPECT_EQ(add(r, piece(a, 0, 16, sa)).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, piece(b, 0, 16, sb)).outcome, Outcome::incomplete);  // no overlap: distinct
  expect_datagram(add(r, piece(b, 16, 16, sb)), b, sb);
  expect_datagram(add(r, piece(a, 16, 16, sa)), a, sa);
}

TEST(Reassembly, NextDeadlineIsTheEarliestDatagram) {
  Reassembler r;
  EXPECT_FALSE(r.next_deadline());
  const Bytes whole = pattern(32);
  FragSpec s1, s2;
  s1.ident = 1;
  s2.ident = 2;
  EXPECT_EQ(add(r, piece(whole, 0, 16, s2), t0 + 5s).outcome, Outcome::incomplete);
  EXPECT_EQ(add(r, piece(whole, 0, 16, s1), t0 + 7s).outcome, Outcome::incomplete);
  EXPECT_EQ(r.next_deadline(), t0 + 35s);
  std::vector<ExpiredDatagram> expired;
  r.poll(t0 + 35s, expired);
  EXPECT_EQ(expired.size(), 1u);
  EXPECT_EQ(r.next_deadline(), t0 + 37s);
}
