// ARP for IPv4 over Ethernet (RFC 826).
#pragma once

#include <cstdint>

#include "base/addr.h"
#include "base/bytes.h"
#include "wire/parse_error.h"

namespace ustack::wire {

enum class ArpOp : std::uint16_t { request = 1, reply = 2 };

class ArpView {
 public:
  static constexpr std::size_t kLen = 28;  // Ethernet/IPv4 ARP
  /// Checks the length and that hardware and protocol sizes fit the buffer.
  static Parsed<ArpView> parse(base::ByteSpan bytes);
  std::uint16_t hardware_type() const { return base::load_be16(bytes_, 0); }
  std::uint16_t protocol_type() const { return base::load_be16(bytes_, 2); }
  std::uint8_t hardware_len() const { return bytes_[4]; }
  std::uint8_t protocol_len() const { return bytes_[5]; }
  std::uint16_t operation() const { return base::load_be16(bytes_, 6); }

 private:
  explicit ArpView(base::ByteSpan b) : bytes_(b) {}
  friend struct ArpRepr;
  base::ByteSpan bytes_;
};

struct ArpRepr {
  ArpOp op = ArpOp::request;
  base::MacAddr sender_mac;
  base::Ipv4Addr sender_ip;
  base::MacAddr target_mac;
  base::Ipv4Addr target_ip;

  /// Only hardware type 1 (Ethernet, hlen 6) and protocol 0x0800 (IPv4, plen 4)
  /// with op request or reply; anything else is ParseError::unsupported.
  static Parsed<ArpRepr> parse(base::ByteSpan bytes);
  /// Writes kLen bytes at the start of `out`.
  void emit(base::MutByteSpan out) const;
  bool operator==(const ArpRepr&) const = default;
};

}  // namespace ustack::wire
