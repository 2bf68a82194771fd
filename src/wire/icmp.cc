// ICMP messages for IPv4 (RFC 792; RFC 1122 3.2.2).
#include "wire/icmp.h"

#include <cassert>
#include <cstring>

#include "wire/checksum.h"

namespace ustack::wire {

Parsed<IcmpView> IcmpView::parse(base::ByteSpan bytes) {
  if (bytes.size() < kHeaderLen) return ParseError::truncated;
  return IcmpView(bytes);
}

bool IcmpView::checksum_ok() const {
  // RFC 792: "The checksum is the 16-bit ones's complement of the one's complement
  // sum of the ICMP message starting with the ICMP Type."
  return internet_checksum(bytes_) == 0;
}

Parsed<IcmpRepr> IcmpRepr::parse(base::ByteSpan bytes) {
  auto v = IcmpView::parse(bytes);
  if (!v) return v.error();
  if (!v->checksum_ok()) return ParseError::bad_checksum;
  return IcmpRepr{v->type(), v->code(), v->rest(), v->payload()};
}

void IcmpRepr::emit(base::MutByteSpan out) const {
  assert(out.size() >= buffer_len());
  // The data may already sit in `out` (an echo reply built over its request), so
  // it is moved before the header is written over anything.
  if (!data.empty()) std::memmove(out.data() + IcmpView::kHeaderLen, data.data(), data.size());
  out[0] = type;
  out[1] = code;
  base::store_be16(out, 2, 0);
  base::store_be32(out, 4, rest);
  base::store_be16(out, 2, internet_checksum(out.first(buffer_len())));
}

}  // namespace ustack::wire
