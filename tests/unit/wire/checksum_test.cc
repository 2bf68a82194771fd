// The Internet checksum against RFC 1071's worked example and a real header, split
// pieces against one-shot sums, and RFC 1624 incremental update against recompute.
#include "wire/checksum.h"

#include <gtest/gtest.h>

#include <vector>

#include "base/random.h"

namespace ustack::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A plain RFC 1071 reference: 16-bit big-endian words, one at a time.
std::uint16_t reference_folded(const Bytes& b) {
  std::uint32_t s = 0;
  for (std::size_t i = 0; i < b.size(); i += 2) {
    s += std::uint32_t{b[i]} << 8;
    if (i + 1 < b.size()) s += b[i + 1];
    s = (s & 0xffff) + (s >> 16);
  }
  return static_cast<std::uint16_t>(s);
}

Bytes random_bytes(base::Random& rng, std::size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng.next_u32());
  return b;
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (folded).
  const Bytes b = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  Checksum c;
  c.add(b);
  EXPECT_EQ(c.folded(), 0xddf2);
  EXPECT_EQ(c.finish(), 0x220d);
  EXPECT_EQ(internet_checksum(b), 0x220d);
}

TEST(Checksum, RealIpv4Header) {
  Bytes h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
             0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(internet_checksum(h), 0xb861);
  h[10] = 0xb8;
  h[11] = 0x61;
  EXPECT_EQ(internet_checksum(h), 0);  // a correct header verifies to zero
}

TEST(Checksum, EmptyAndOddLengths) {
  EXPECT_EQ(internet_checksum({}), 0xffff);
  const Bytes one = {0xab};
  EXPECT_EQ(internet_checksum(one), static_cast<std::uint16_t>(~0xab00));  // high byte
  const Bytes three = {0x01, 0x02, 0x03};
  EXPECT_EQ(internet_checksum(three), static_cast<std::uint16_t>(~(0x0102 + 0x0300)));
  base::Random rng(1);
  for (std::size_t n = 0; n < 300; ++n) {
    const Bytes b = random_bytes(rng, n);
    EXPECT_EQ(internet_checksum(b), static_cast<std::uint16_t>(~reference_folded(b))) << n;
  }
}

TEST(Checksum, EveryLengthAndAlignmentAgreesWithTheReference) {
  // The vector loop takes buffers of 64 bytes and more, 32 at a time, and leaves
  // the tail to the word loops: every length around those edges, at every
  // alignment, against the one-word-at-a-time reference.
  base::Random rng(11);
  const Bytes big = random_bytes(rng, 2100);
  for (std::size_t offset = 0; offset < 16; ++offset) {
    for (std::size_t n = 0; n <= 2048; n += (n < 200 ? 1 : 37)) {
      const Bytes b(big.begin() + static_cast<long>(offset), big.begin() + static_cast<long>(offset + n));
      Checksum c;
      c.add(std::span(big).subspan(offset, n));
      ASSERT_EQ(c.folded(), reference_folded(b)) << "offset " << offset << " length " << n;
    }
  }
}

TEST(Checksum, AllOnesDoesNotOverflow) {
  // 64 KiB of 0xff: every add carries; the folded sum stays 0xffff.
  const Bytes b(65536, 0xff);
  Checksum c;
  c.add(b);
  EXPECT_EQ(c.folded(), 0xffff);
  const Bytes odd(65535, 0xff);
  EXPECT_EQ(internet_checksum(odd), static_cast<std::uint16_t>(~reference_folded(odd)));
}

TEST(Checksum, SplitAtEveryPointEqualsOneShot) {
  base::Random rng(2);
  for (int round = 0; round < 40; ++round) {
    const Bytes b = random_bytes(rng, rng.below(80));
    const std::uint16_t whole = internet_checksum(b);
    for (std::size_t cut = 0; cut <= b.size(); ++cut) {
      Checksum c;
      c.add(std::span(b).first(cut));
      c.add(std::span(b).subspan(cut));
      EXPECT_EQ(c.finish(), whole) << "len " << b.size() << " cut " << cut;
    }
  }
}

TEST(Checksum, ManyRandomPiecesEqualOneShot) {
  base::Random rng(3);
  for (int round = 0; round < 500; ++round) {
    const Bytes b = random_bytes(rng, rng.below(200));
    Checksum c;
    std::size_t at = 0;
    while (at < b.size()) {
      const std::size_t n = std::min<std::size_t>(b.size() - at, rng.below(7));
      c.add(std::span(b).subspan(at, n));  // includes empty pieces
      at += n;
    }
    EXPECT_EQ(c.finish(), internet_checksum(b));
  }
}

TEST(Checksum, PseudoHeaderAndWords) {
  // add_pseudo_header is the same as adding the 12 pseudo-header bytes.
  const base::Ipv4Addr src(192, 168, 0, 1), dst(8, 8, 8, 8);
  Checksum a;
  a.add_pseudo_header(src, dst, 17, 37);
  const Bytes ph = {192, 168, 0, 1, 8, 8, 8, 8, 0, 17, 0, 37};
  Checksum b;
  b.add(ph);
  EXPECT_EQ(a.folded(), b.folded());
  Checksum w;
  w.add_u32(0x12345678);
  w.add_u16(0xffff);
  const Bytes wb = {0x12, 0x34, 0x56, 0x78, 0xff, 0xff};
  EXPECT_EQ(w.folded(), reference_folded(wb));
}

TEST(ChecksumUpdate, EqualsRecomputeForRandomChanges) {
  base::Random rng(4);
  for (int round = 0; round < 20000; ++round) {
    Bytes b = random_bytes(rng, 2 * (2 + rng.below(30)));
    b[0] = 0x45;  // never all zero, as no real header is
    const std::size_t field = 2 * (1 + rng.below(b.size() / 2 - 1));
    // Checksum field at offset 0..1 of the words after the first; fill it in.
    b[2] = b[3] = 0;
    const std::uint16_t hc = internet_checksum(b);
    b[2] = static_cast<std::uint8_t>(hc >> 8);
    b[3] = static_cast<std::uint8_t>(hc);
    if (field == 2) continue;  // the changed field is not the checksum itself
    const std::uint16_t old_field = static_cast<std::uint16_t>((b[field] << 8) | b[field + 1]);
    const std::uint16_t new_field = rng.chance(0.1) ? 0 : static_cast<std::uint16_t>(rng.next_u32());
    b[field] = static_cast<std::uint8_t>(new_field >> 8);
    b[field + 1] = static_cast<std::uint8_t>(new_field);
    b[2] = b[3] = 0;
    EXPECT_EQ(checksum_update(hc, old_field, new_field), internet_checksum(b));
  }
}

TEST(ChecksumUpdate, Rfc1624Section3EdgeCase) {
  // RFC 1624 3: the other fields sum to 0xcd7a and m = 0x5555 becomes m' = 0x3285.
  // HC = ~(0xcd7a + 0x5555) = 0xdd2f; recomputed HC' = ~(0xcd7a + 0x3285) = 0x0000.
  // Eqn. 2 gives 0xffff here; eqn. 3 must give 0x0000.
  EXPECT_EQ(checksum_update(0xdd2f, 0x5555, 0x3285), 0x0000);
  // The same case through whole buffers: [0xcd7a, m, HC].
  Bytes b = {0xcd, 0x7a, 0x55, 0x55, 0x00, 0x00};
  EXPECT_EQ(internet_checksum(b), 0xdd2f);
  b[2] = 0x32;
  b[3] = 0x85;
  EXPECT_EQ(internet_checksum(b), 0x0000);
}

TEST(ChecksumUpdate, NoChangeKeepsChecksum) {
  EXPECT_EQ(checksum_update(0xb861, 0x4011, 0x4011), 0xb861);
}

}  // namespace
}  // namespace ustack::wire
