// UDP header (RFC 768) with the checksum over the IPv4 pseudo-header.
#pragma once

#include <cstdint>

#include "base/addr.h"
#include "base/bytes.h"
#include "wire/parse_error.h"

namespace ustack::wire {

class UdpView {
 public:
  static constexpr std::size_t kHeaderLen = 8;
  /// Succeeds only if 8 <= length field <= bytes.size(); bytes past it are ignored.
  static Parsed<UdpView> parse(base::ByteSpan bytes);
  std::uint16_t src_port() const { return base::load_be16(bytes_, 0); }
  std::uint16_t dst_port() const { return base::load_be16(bytes_, 2); }
  std::uint16_t length() const { return base::load_be16(bytes_, 4); }
  std::uint16_t checksum() const { return base::load_be16(bytes_, 6); }
  /// RFC 768: a zero checksum means the sender computed none (allowed over IPv4).
  bool checksum_ok(base::Ipv4Addr src, base::Ipv4Addr dst) const;
  base::ByteSpan payload() const { return bytes_.subspan(kHeaderLen, length() - kHeaderLen); }

 private:
  explicit UdpView(base::ByteSpan b) : bytes_(b) {}
  base::ByteSpan bytes_;
};

struct UdpRepr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;

  /// Parses and verifies the checksum (a zero checksum is accepted).
  static Parsed<UdpRepr> parse(base::ByteSpan bytes, base::Ipv4Addr src, base::Ipv4Addr dst);
  /// `datagram` is the 8 header bytes followed by the payload, already in place.
  /// Writes the header with length = datagram.size() and the checksum, which is
  /// always generated (a computed 0 is sent as 0xffff, RFC 768).
  void emit(base::MutByteSpan datagram, base::Ipv4Addr src, base::Ipv4Addr dst) const;
  bool operator==(const UdpRepr&) const = default;
};

}  // namespace ustack::wire
