// Ethernet II framing: destination, source, EtherType (IEEE 802.3 clause 3.2.6, RFC 894).
#include "wire/ethernet.h"

#include <cassert>

#include "wire/mac_bytes.h"

namespace ustack::wire {

using detail::load_mac;
using detail::store_mac;

Parsed<EthernetView> EthernetView::parse(base::ByteSpan bytes) {
  if (bytes.size() < kHeaderLen) return ParseError::truncated;
  return EthernetView(bytes);
}

base::MacAddr EthernetView::dst() const { return load_mac(bytes_, 0); }
base::MacAddr EthernetView::src() const { return load_mac(bytes_, 6); }

Parsed<EthernetRepr> EthernetRepr::parse(base::ByteSpan frame) {
  auto v = EthernetView::parse(frame);
  if (!v) return v.error();
  return EthernetRepr{v->dst(), v->src(), v->ethertype()};
}

void EthernetRepr::emit(base::MutByteSpan out) const {
  assert(out.size() >= EthernetView::kHeaderLen);
  store_mac(out, 0, dst);
  store_mac(out, 6, src);
  base::store_be16(out, 12, ethertype);
}

}  // namespace ustack::wire
