// UDP header parsing and emission with the pseudo-header checksum (RFC 768; RFC 1122 4.1.3).
#include "wire/udp.h"

#include <cassert>

#include "wire/checksum.h"
#include "wire/ipv4.h"

namespace ustack::wire {

Parsed<UdpView> UdpView::parse(base::ByteSpan bytes) {
  if (bytes.size() < kHeaderLen) return ParseError::truncated;
  // RFC 768: "Length is the length in octets of this user datagram including this
  // header and the data. (This means the minimum value of the length is eight.)"
  const std::size_t length = base::load_be16(bytes, 4);
  if (length < kHeaderLen) return ParseError::bad_length;
  if (length > bytes.size()) return ParseError::truncated;
  return UdpView(bytes);
}

bool UdpView::checksum_ok(base::Ipv4Addr src, base::Ipv4Addr dst) const {
  // RFC 768: "An all zero transmitted checksum value means that the transmitter
  // generated no checksum".
  if (checksum() == 0) return true;
  Checksum c;
  c.add_pseudo_header(src, dst, ip_proto::udp, length());
  c.add(bytes_.first(length()));
  return c.finish() == 0;
}

Parsed<UdpRepr> UdpRepr::parse(base::ByteSpan bytes, base::Ipv4Addr src, base::Ipv4Addr dst) {
  auto v = UdpView::parse(bytes);
  if (!v) return v.error();
  // RFC 1122 4.1.3.4: "If a UDP datagram is received with a checksum that is non-
  // zero and invalid, UDP MUST silently discard the datagram."
  if (!v->checksum_ok(src, dst)) return ParseError::bad_checksum;
  return UdpRepr{v->src_port(), v->dst_port()};
}

void UdpRepr::emit(base::MutByteSpan datagram, base::Ipv4Addr src, base::Ipv4Addr dst) const {
  assert(datagram.size() >= UdpView::kHeaderLen && datagram.size() <= 0xffff);
  const auto length = static_cast<std::uint16_t>(datagram.size());
  base::store_be16(datagram, 0, src_port);
  base::store_be16(datagram, 2, dst_port);
  base::store_be16(datagram, 4, length);
  base::store_be16(datagram, 6, 0);
  Checksum c;
  c.add_pseudo_header(src, dst, ip_proto::udp, length);
  c.add(datagram);
  std::uint16_t sum = c.finish();
  // RFC 768: "If the computed checksum is zero, it is transmitted as all ones (the
  // equivalent in one's complement arithmetic)."
  if (sum == 0) sum = 0xffff;
  base::store_be16(datagram, 6, sum);
}

}  // namespace ustack::wire
