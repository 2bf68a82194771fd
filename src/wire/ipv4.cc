// IPv4 header parsing and emission (RFC 791; RFC 1122 3.2.1 for what a host checks).
#include "wire/ipv4.h"

#include <cassert>

#include "wire/checksum.h"

namespace ustack::wire {

Parsed<Ipv4View> Ipv4View::parse(base::ByteSpan bytes) {
  if (bytes.size() < kMinHeaderLen) return ParseError::truncated;
  // RFC 1122 3.2.1.1: "A datagram whose version number is not 4 MUST be silently
  // discarded."
  if ((bytes[0] >> 4) != 4) return ParseError::bad_version;
  const std::size_t header_len = std::size_t{bytes[0] & 0x0fu} * 4;
  // RFC 791 3.1: "the minimum value for a correct header is 5".
  if (header_len < kMinHeaderLen || header_len > bytes.size()) return ParseError::bad_header_len;
  const std::size_t total_len = base::load_be16(bytes, 2);
  if (total_len < header_len) return ParseError::bad_length;
  // Fewer bytes than the total length claims: the datagram was cut short. Bytes past
  // it (Ethernet padding to 60 bytes) are not part of the datagram.
  if (total_len > bytes.size()) return ParseError::truncated;
  return Ipv4View(bytes);
}

bool Ipv4View::checksum_ok() const {
  // RFC 791 3.1: "The checksum field is the 16 bit one's complement of the one's
  // complement sum of all 16 bit words in the header."
  return internet_checksum(header()) == 0;
}

Parsed<Ipv4Repr> Ipv4Repr::parse(base::ByteSpan bytes) {
  auto v = Ipv4View::parse(bytes);
  if (!v) return v.error();
  // RFC 1122 3.2.1.2: "A host MUST verify the IP header checksum on every received
  // datagram and silently discard every datagram that has a bad checksum."
  if (!v->checksum_ok()) return ParseError::bad_checksum;
  Ipv4Repr r;
  r.src = v->src();
  r.dst = v->dst();
  r.protocol = v->protocol();
  r.ttl = v->ttl();
  r.tos = v->tos();
  r.ident = v->ident();
  r.dont_fragment = v->dont_fragment();
  r.more_fragments = v->more_fragments();
  r.frag_offset = static_cast<std::uint16_t>(v->frag_offset());  // at most 0x1fff * 8
  r.payload_len = static_cast<std::uint16_t>(v->total_len() - v->header_len());
  return r;
}

void Ipv4Repr::emit(base::MutByteSpan out) const {
  assert(out.size() >= header_len());
  assert(payload_len <= 0xffff - header_len());
  assert(frag_offset % 8 == 0);
  out[0] = 0x45;  // version 4, IHL 5
  out[1] = tos;
  base::store_be16(out, 2, static_cast<std::uint16_t>(header_len() + payload_len));
  base::store_be16(out, 4, ident);
  std::uint16_t flags_offset = static_cast<std::uint16_t>(frag_offset / 8) & 0x1fffu;
  if (dont_fragment) flags_offset |= 0x4000;
  if (more_fragments) flags_offset |= 0x2000;
  base::store_be16(out, 6, flags_offset);
  out[8] = ttl;
  out[9] = protocol;
  base::store_be16(out, 10, 0);
  base::store_be32(out, 12, src.value());
  base::store_be32(out, 16, dst.value());
  base::store_be16(out, 10, internet_checksum(out.first(header_len())));
}

std::optional<std::size_t> first_malformed_ipv4_option(base::ByteSpan options) {
  std::size_t i = 0;
  while (i < options.size()) {
    const std::uint8_t type = options[i];
    if (type == 0) return std::nullopt;  // end of option list: the rest is padding
    if (type == 1) {                      // no-operation
      ++i;
      continue;
    }
    if (i + 1 >= options.size()) return i;  // no room for the length octet
    const std::size_t len = options[i + 1];
    if (len < 2 || len > options.size() - i) return i;
    i += len;
  }
  return std::nullopt;
}

}  // namespace ustack::wire
