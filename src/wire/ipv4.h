// IPv4 header (RFC 791), options skipped (RFC 1122 3.2.1.8: a host must pass
// options it does not implement by, never reject the datagram for them).
#pragma once

#include <cstdint>
#include <optional>

#include "base/addr.h"
#include "base/bytes.h"
#include "wire/parse_error.h"

namespace ustack::wire {

namespace ip_proto {
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
}  // namespace ip_proto

/// The ECN field, the two low bits of the TOS byte (RFC 3168 5): Not-ECT, ECT(1),
/// ECT(0) and CE (Congestion Experienced).
namespace ip_ecn {
inline constexpr std::uint8_t not_ect = 0;
inline constexpr std::uint8_t ect1 = 1;
inline constexpr std::uint8_t ect0 = 2;
inline constexpr std::uint8_t ce = 3;
inline constexpr std::uint8_t mask = 3;
}  // namespace ip_ecn

class Ipv4View {
 public:
  static constexpr std::size_t kMinHeaderLen = 20;
  /// Succeeds only if version is 4, 20 <= IHL*4 <= total length <= bytes.size().
  /// Bytes past the total length (Ethernet padding) are ignored. The checksum is
  /// not checked here: see checksum_ok().
  static Parsed<Ipv4View> parse(base::ByteSpan bytes);

  std::uint8_t version() const { return bytes_[0] >> 4; }
  std::size_t header_len() const { return std::size_t{bytes_[0] & 0x0fu} * 4; }
  std::uint8_t tos() const { return bytes_[1]; }
  /// The ECN codepoint (RFC 3168 5): ip_ecn::not_ect, ect1, ect0 or ce.
  std::uint8_t ecn() const { return bytes_[1] & ip_ecn::mask; }
  std::uint16_t total_len() const { return base::load_be16(bytes_, 2); }
  std::uint16_t ident() const { return base::load_be16(bytes_, 4); }
  bool dont_fragment() const { return (bytes_[6] & 0x40) != 0; }
  bool more_fragments() const { return (bytes_[6] & 0x20) != 0; }
  /// Fragment offset in bytes (the field counts 8-byte units).
  std::uint32_t frag_offset() const { return std::uint32_t{base::load_be16(bytes_, 6) & 0x1fffu} * 8; }
  bool is_fragment() const { return more_fragments() || frag_offset() != 0; }
  std::uint8_t ttl() const { return bytes_[8]; }
  std::uint8_t protocol() const { return bytes_[9]; }
  std::uint16_t checksum() const { return base::load_be16(bytes_, 10); }
  base::Ipv4Addr src() const { return base::Ipv4Addr(base::load_be32(bytes_, 12)); }
  base::Ipv4Addr dst() const { return base::Ipv4Addr(base::load_be32(bytes_, 16)); }
  bool checksum_ok() const;
  base::ByteSpan header() const { return bytes_.first(header_len()); }
  base::ByteSpan options() const { return bytes_.subspan(kMinHeaderLen, header_len() - kMinHeaderLen); }
  /// The payload up to the total length.
  base::ByteSpan payload() const { return bytes_.subspan(header_len(), total_len() - header_len()); }
  /// Header and payload, up to the total length.
  base::ByteSpan datagram() const { return bytes_.first(total_len()); }

 private:
  explicit Ipv4View(base::ByteSpan b) : bytes_(b) {}
  base::ByteSpan bytes_;
};

/// RFC 791 3.1: an option is a single octet (0 end of list, 1 no-operation) or a
/// type, a length counting type and length (at least 2) and data, all inside the
/// header. Returns the offset (within `options`) of the first option that breaks
/// that layout, or nullopt when the list is well formed.
std::optional<std::size_t> first_malformed_ipv4_option(base::ByteSpan options);

struct Ipv4Repr {
  base::Ipv4Addr src;
  base::Ipv4Addr dst;
  std::uint8_t protocol = 0;
  std::uint8_t ttl = 64;
  std::uint8_t tos = 0;
  std::uint16_t ident = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint16_t frag_offset = 0;  // bytes, a multiple of 8
  std::uint16_t payload_len = 0;

  /// Parses and verifies the checksum; options are skipped.
  static Parsed<Ipv4Repr> parse(base::ByteSpan bytes);
  /// Emitted headers carry no options.
  static constexpr std::size_t header_len() { return Ipv4View::kMinHeaderLen; }
  /// Writes a 20-byte header (total length = 20 + payload_len, checksum filled).
  void emit(base::MutByteSpan out) const;
  bool operator==(const Ipv4Repr&) const = default;
};

}  // namespace ustack::wire
