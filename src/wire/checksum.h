// The Internet checksum (RFC 1071) with a 64-bit accumulator, the IPv4 pseudo-header,
// and incremental update (RFC 1624).
#pragma once

#include <cstdint>

#include "base/addr.h"
#include "base/bytes.h"

namespace ustack::wire {

/// Accumulates 16-bit one's-complement words. add() may be called on pieces of any
/// length: an odd-length piece is continued correctly by the next one.
class Checksum {
 public:
  void add(base::ByteSpan bytes);
  void add_u16(std::uint16_t v) { sum_ += v; }
  void add_u32(std::uint32_t v) { sum_ += (v >> 16) + (v & 0xffff); }
  /// Adds the IPv4 pseudo-header (RFC 768, RFC 9293 3.1) for a transport segment.
  void add_pseudo_header(base::Ipv4Addr src, base::Ipv4Addr dst, std::uint8_t protocol,
                         std::uint16_t length);
  /// The folded one's-complement sum, not inverted.
  std::uint16_t folded() const;
  /// The value to store in a checksum field: ~folded().
  std::uint16_t finish() const { return static_cast<std::uint16_t>(~folded()); }

 private:
  std::uint64_t sum_ = 0;
  bool odd_ = false;  // the previous piece ended on the high byte of a word
};

/// The checksum of a buffer (for a header whose checksum field is zero, the value
/// to store; over a buffer with a correct checksum field, 0).
std::uint16_t internet_checksum(base::ByteSpan bytes);

/// Finishes a partial checksum (CHECKSUM_PARTIAL, Linux's skb_checksum_help):
/// the field at `field` inside `covered` holds the folded pseudo-header sum; the
/// sum of everything covered, that field included, inverted, replaces it.
void finish_partial_checksum(base::MutByteSpan covered, std::size_t field);

/// RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m'), the checksum after one 16-bit field of
/// the covered data changes from old_field to new_field.
std::uint16_t checksum_update(std::uint16_t old_checksum, std::uint16_t old_field,
                              std::uint16_t new_field);

}  // namespace ustack::wire
