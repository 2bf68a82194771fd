// ICMP for IPv4 (RFC 792; RFC 1122 3.2.2 for what a host must do with it).
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "wire/parse_error.h"

namespace ustack::wire {

namespace icmp_type {
inline constexpr std::uint8_t echo_reply = 0;
inline constexpr std::uint8_t dest_unreachable = 3;
inline constexpr std::uint8_t source_quench = 4;
inline constexpr std::uint8_t redirect = 5;
inline constexpr std::uint8_t echo_request = 8;
inline constexpr std::uint8_t time_exceeded = 11;
inline constexpr std::uint8_t param_problem = 12;
inline constexpr std::uint8_t timestamp = 13;
inline constexpr std::uint8_t timestamp_reply = 14;
}  // namespace icmp_type

namespace icmp_unreach {  // codes of destination unreachable
inline constexpr std::uint8_t net = 0;
inline constexpr std::uint8_t host = 1;
inline constexpr std::uint8_t protocol = 2;
inline constexpr std::uint8_t port = 3;
inline constexpr std::uint8_t frag_needed = 4;
inline constexpr std::uint8_t source_route_failed = 5;
}  // namespace icmp_unreach

namespace icmp_time_exceeded {
inline constexpr std::uint8_t ttl = 0;
inline constexpr std::uint8_t reassembly = 1;
}  // namespace icmp_time_exceeded

/// True for the types that report an error about another datagram.
constexpr bool icmp_is_error(std::uint8_t type) {
  return type == icmp_type::dest_unreachable || type == icmp_type::source_quench ||
         type == icmp_type::redirect || type == icmp_type::time_exceeded ||
         type == icmp_type::param_problem;
}

class IcmpView {
 public:
  static constexpr std::size_t kHeaderLen = 8;
  /// Succeeds if `bytes` holds the 8-byte header. The checksum covers all of bytes.
  static Parsed<IcmpView> parse(base::ByteSpan bytes);
  std::uint8_t type() const { return bytes_[0]; }
  std::uint8_t code() const { return bytes_[1]; }
  std::uint16_t checksum() const { return base::load_be16(bytes_, 2); }
  bool checksum_ok() const;
  /// The four bytes after the checksum (identifier and sequence for echo).
  std::uint32_t rest() const { return base::load_be32(bytes_, 4); }
  std::uint16_t ident() const { return base::load_be16(bytes_, 4); }
  std::uint16_t seq() const { return base::load_be16(bytes_, 6); }
  base::ByteSpan payload() const { return bytes_.subspan(kHeaderLen); }

 private:
  explicit IcmpView(base::ByteSpan b) : bytes_(b) {}
  base::ByteSpan bytes_;
};

struct IcmpRepr {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint32_t rest = 0;    // identifier<<16|sequence for echo; next-hop MTU for frag-needed
  base::ByteSpan data;       // echo data, or the offending datagram's header + 8 bytes

  static IcmpRepr echo_request(std::uint16_t ident, std::uint16_t seq, base::ByteSpan data) {
    return {icmp_type::echo_request, 0, (std::uint32_t{ident} << 16) | seq, data};
  }
  static IcmpRepr echo_reply(std::uint16_t ident, std::uint16_t seq, base::ByteSpan data) {
    return {icmp_type::echo_reply, 0, (std::uint32_t{ident} << 16) | seq, data};
  }
  std::uint16_t ident() const { return static_cast<std::uint16_t>(rest >> 16); }
  std::uint16_t seq() const { return static_cast<std::uint16_t>(rest); }

  /// Parses and verifies the checksum; `data` points into `bytes`.
  static Parsed<IcmpRepr> parse(base::ByteSpan bytes);
  std::size_t buffer_len() const { return IcmpView::kHeaderLen + data.size(); }
  /// Writes header and data into out (out.size() >= buffer_len()), checksum filled.
  void emit(base::MutByteSpan out) const;
};

}  // namespace ustack::wire
