// TCP header and options (RFC 9293 3.1; MSS RFC 9293 3.7.1; window scale and
// timestamps RFC 7323; SACK RFC 2018).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "base/addr.h"
#include "base/bytes.h"
#include "wire/parse_error.h"

namespace ustack::wire {

namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
inline constexpr std::uint8_t ece = 0x40;
inline constexpr std::uint8_t cwr = 0x80;
}  // namespace tcp_flag

struct SackBlock {
  std::uint32_t left = 0;
  std::uint32_t right = 0;
  bool operator==(const SackBlock&) const = default;
};

struct TcpTimestamps {
  std::uint32_t value = 0;
  std::uint32_t echo_reply = 0;
  bool operator==(const TcpTimestamps&) const = default;
};

struct TcpOptions {
  static constexpr std::size_t kMaxLen = 40;
  static constexpr std::size_t kMaxSackBlocks = 4;

  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;
  bool sack_permitted = false;
  std::optional<TcpTimestamps> timestamps;
  std::array<SackBlock, kMaxSackBlocks> sack_blocks{};
  std::uint8_t sack_count = 0;

  /// Parses the option bytes between the fixed header and the data. Unknown kinds
  /// are skipped by their length; EOL ends the list. A length below 2, a length
  /// running past the end, or a known kind with the wrong length is bad_option.
  static Parsed<TcpOptions> parse(base::ByteSpan bytes);
  /// As parse(), into `o` (which starts empty): the error, or nullopt.
  static std::optional<ParseError> parse_into(base::ByteSpan bytes, TcpOptions& o);
  /// Bytes emit() writes: padded with NOPs to a multiple of 4, at most kMaxLen
  /// (SACK blocks that do not fit are left out).
  std::size_t encoded_len() const;
  void emit(base::MutByteSpan out) const;
  bool operator==(const TcpOptions&) const = default;
};

class TcpView {
 public:
  static constexpr std::size_t kMinHeaderLen = 20;
  /// Succeeds only if 20 <= data offset * 4 <= bytes.size().
  static Parsed<TcpView> parse(base::ByteSpan bytes);
  std::uint16_t src_port() const { return base::load_be16(bytes_, 0); }
  std::uint16_t dst_port() const { return base::load_be16(bytes_, 2); }
  std::uint32_t seq() const { return base::load_be32(bytes_, 4); }
  std::uint32_t ack() const { return base::load_be32(bytes_, 8); }
  std::size_t header_len() const { return static_cast<std::size_t>(bytes_[12] >> 4) * 4; }
  std::uint8_t flags() const { return bytes_[13]; }
  std::uint16_t window() const { return base::load_be16(bytes_, 14); }
  std::uint16_t checksum() const { return base::load_be16(bytes_, 16); }
  std::uint16_t urgent() const { return base::load_be16(bytes_, 18); }
  bool checksum_ok(base::Ipv4Addr src, base::Ipv4Addr dst) const;
  base::ByteSpan options() const { return bytes_.subspan(kMinHeaderLen, header_len() - kMinHeaderLen); }
  base::ByteSpan payload() const { return bytes_.subspan(header_len()); }

 private:
  explicit TcpView(base::ByteSpan b) : bytes_(b) {}
  base::ByteSpan bytes_;
};

struct TcpRepr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;
  std::uint16_t urgent = 0;
  TcpOptions options;

  /// Parses header and options and verifies the checksum over the pseudo-header
  /// (unless `verify_checksum` is false: a device offload vouched for it).
  static Parsed<TcpRepr> parse(base::ByteSpan segment, base::Ipv4Addr src, base::Ipv4Addr dst,
                               bool verify_checksum = true);
  std::size_t header_len() const { return TcpView::kMinHeaderLen + options.encoded_len(); }
  /// `segment` is header_len() bytes followed by the payload, already in place.
  /// Writes the header and options and the checksum. With `partial`, the checksum
  /// field holds only the folded pseudo-header sum, as Linux leaves it for a
  /// device that finishes checksums (CHECKSUM_PARTIAL): finish_partial_checksum()
  /// or the device completes it, and the payload is not read.
  void emit(base::MutByteSpan segment, base::Ipv4Addr src, base::Ipv4Addr dst, bool partial = false) const;
  bool operator==(const TcpRepr&) const = default;
};

}  // namespace ustack::wire
