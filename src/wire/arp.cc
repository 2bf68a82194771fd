// ARP packets for IPv4 over Ethernet (RFC 826; RFC 5227 for probes and announcements).
#include "wire/arp.h"

#include <cassert>

#include "wire/mac_bytes.h"

namespace ustack::wire {

using detail::load_mac;
using detail::store_mac;

namespace {

constexpr std::size_t kFixedLen = 8;  // htype, ptype, hlen, plen, op
constexpr std::uint16_t kHardwareEthernet = 1;
constexpr std::uint16_t kProtocolIpv4 = 0x0800;

}  // namespace

Parsed<ArpView> ArpView::parse(base::ByteSpan bytes) {
  if (bytes.size() < kFixedLen) return ParseError::truncated;
  // RFC 826: "ar$sha: Hardware address of sender of this packet, n from the ar$hln
  // field", and so for the other three addresses: two of each size.
  const std::size_t need = kFixedLen + 2 * (std::size_t{bytes[4]} + bytes[5]);
  if (bytes.size() < need) return ParseError::truncated;
  return ArpView(bytes);
}

Parsed<ArpRepr> ArpRepr::parse(base::ByteSpan bytes) {
  if (bytes.size() < kFixedLen) return ParseError::truncated;
  // The kinds are decided before the length: an ARP for another hardware or
  // protocol is unsupported whatever its address sizes claim.
  if (base::load_be16(bytes, 0) != kHardwareEthernet || base::load_be16(bytes, 2) != kProtocolIpv4 ||
      bytes[4] != 6 || bytes[5] != 4)
    return ParseError::unsupported;
  auto v = ArpView::parse(bytes);
  if (!v) return v.error();
  const auto op = v->operation();
  if (op != static_cast<std::uint16_t>(ArpOp::request) && op != static_cast<std::uint16_t>(ArpOp::reply))
    return ParseError::unsupported;
  const base::ByteSpan b = v->bytes_;
  return ArpRepr{static_cast<ArpOp>(op), load_mac(b, 8), base::Ipv4Addr(base::load_be32(b, 14)),
                 load_mac(b, 18), base::Ipv4Addr(base::load_be32(b, 24))};
}

void ArpRepr::emit(base::MutByteSpan out) const {
  assert(out.size() >= ArpView::kLen);
  base::store_be16(out, 0, kHardwareEthernet);
  base::store_be16(out, 2, kProtocolIpv4);
  out[4] = 6;
  out[5] = 4;
  base::store_be16(out, 6, static_cast<std::uint16_t>(op));
  store_mac(out, 8, sender_mac);
  base::store_be32(out, 14, sender_ip.value());
  store_mac(out, 18, target_mac);
  base::store_be32(out, 24, target_ip.value());
}

}  // namespace ustack::wire
