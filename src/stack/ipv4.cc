// IPv4 input validation and dispatch, routing and output with fragmentation
// (RFC 791; RFC 1122 3.2.1 and 3.3).
#include <algorithm>

#include "stack/interface.h"
#include "stack/stack.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

namespace ustack::stack {

using base::ByteSpan;
using base::Ipv4Addr;

bool Stack::is_broadcast_for(const Interface& iface, Ipv4Addr a) const {
  return a.is_broadcast() || (iface.addr.prefix_len < 31 && a == iface.addr.broadcast());
}

void Stack::ipv4_input(Interface& iface, ByteSpan packet, bool link_broadcast) {
  ++counters_.IpInReceives;
  auto ip = wire::Ipv4View::parse(packet);
  if (!ip) {
    if (ip.error() == wire::ParseError::truncated || ip.error() == wire::ParseError::bad_length) {
      // RFC 1122 3.2.1.1 and 3.2.1.2: the datagram is silently discarded.
      ++counters_.IpInTruncatedPkts;
    }
    ++counters_.IpInHdrErrors;
    return;
  }
  // RFC 1122 3.2.1.2: "A host MUST verify the IP header checksum on every received
  // datagram and silently discard every datagram that has a bad checksum."
  if (!ip->checksum_ok()) {
    ++counters_.IpInHdrErrors;
    ++counters_.IpInCsumErrors;
    return;
  }
  const Ipv4Addr src = ip->src();
  const Ipv4Addr dst = ip->dst();
  // RFC 1122 3.2.1.3: a host MUST silently discard a datagram whose source is a
  // broadcast or multicast address, {0,0} apart from itself during start-up, a
  // loopback address arriving from outside, or class E. And, as Linux
  // (fib_validate_source with accept_local off: "martian source"), one of this
  // host's own addresses arriving from outside: the land attack (CVE-1999-0016),
  // which would otherwise make the stack answer itself.
  if (src.is_broadcast() || src.is_multicast() || src.is_reserved() ||
      (src.is_this_network() && !src.is_unspecified()) || is_broadcast_for(iface, src) ||
      (src.is_loopback() && !iface.loopback) || (!iface.loopback && is_local_address(src))) {
    ++counters_.DropIpMartianSource;
    ++counters_.IpInAddrErrors;
    return;
  }
  if (dst.is_this_network() || (dst.is_loopback() && !iface.loopback) || dst.is_reserved()) {
    ++counters_.DropIpMartianDest;
    ++counters_.IpInAddrErrors;
    return;
  }
  // A host does not forward (RFC 1122 3.3.1); it takes datagrams to any of its
  // addresses (the weak host model, as Linux), to its subnets' broadcast and the
  // limited broadcast, and to the all-hosts group 224.0.0.1.
  const bool broadcast = is_broadcast_for(iface, dst);
  const bool for_us = is_local_address(dst) || broadcast || dst == Ipv4Addr(224, 0, 0, 1);
  if (!for_us) {
    ++counters_.DropIpNotForHost;
    ++counters_.IpInAddrErrors;
    return;
  }
  // Options are otherwise passed by (RFC 1122 3.2.1.8), but a malformed one makes
  // the header unparsable: discard it as Linux does (ip_options_compile), with a
  // parameter problem pointing at the option (RFC 1122 3.2.2.5).
  if (const auto bad = wire::first_malformed_ipv4_option(ip->options())) {
    ++counters_.DropIpBadOptions;
    ++counters_.IpInHdrErrors;
    const auto pointer = static_cast<std::uint32_t>(wire::Ipv4View::kMinHeaderLen + *bad);
    send_icmp_error(*ip, wire::icmp_type::param_problem, 0, link_broadcast || broadcast, pointer << 24);
    return;
  }
  // RFC 1122 3.2.1.7: "A host MUST NOT discard a datagram just because it was
  // received with TTL less than 2." So no TTL check on local delivery.
  if (ip->is_fragment()) {
    rx_csum_trusted_ = false;  // only a whole datagram's checksum can be vouched for
    ++counters_.IpReasmReqds;
    auto r = reassembler_.add(*ip, now_);
    switch (r.outcome) {
      case ip::ReassemblyOutcome::incomplete:
      case ip::ReassemblyOutcome::duplicate:
        return;
      case ip::ReassemblyOutcome::complete: {
        ++counters_.IpReasmOKs;
        auto whole = wire::Ipv4View::parse(r.datagram->data());
        if (!whole) {  // cannot happen: the reassembler builds a valid header
          ++counters_.IpReasmFails;
          return;
        }
        ipv4_deliver(iface, *whole, link_broadcast || broadcast);
        return;
      }
      case ip::ReassemblyOutcome::dropped_overlap:  // RFC 5722's rule, as Linux (IpExtReasmOverlaps)
        ++counters_.IpExtReasmOverlaps;
        ++counters_.IpReasmFails;
        return;
      default:
        ++counters_.IpReasmFails;
        return;
    }
  }
  ipv4_deliver(iface, *ip, link_broadcast || broadcast);
}

void Stack::ipv4_deliver(Interface& iface, const wire::Ipv4View& ip, bool broadcast) {
  const bool raw_took = raw_input(ip);
  switch (ip.protocol()) {
    case wire::ip_proto::icmp:
      ++counters_.IpInDelivers;
      icmp_input(iface, ip, broadcast);
      return;
    case wire::ip_proto::udp:
      ++counters_.IpInDelivers;
      udp_input(iface, ip, broadcast);
      return;
    case wire::ip_proto::tcp:
      ++counters_.IpInDelivers;
      tcp_input(ip, broadcast);
      return;
    default:
      if (raw_took) {
        ++counters_.IpInDelivers;
        return;
      }
      // RFC 1122 3.2.2.1: a host SHOULD generate Destination Unreachable messages
      // with code 2 (Protocol) when the designated transport protocol is not supported.
      ++counters_.IpInUnknownProtos;
      send_icmp_error(ip, wire::icmp_type::dest_unreachable, wire::icmp_unreach::protocol, broadcast);
  }
}

base::Result<Stack::Route> Stack::route(Ipv4Addr dst, Ipv4Addr src_hint) const {
  // Datagrams to one of our own addresses go through the loopback interface (as on Linux).
  if (is_local_address(dst)) {
    const Ipv4Addr src = src_hint.is_unspecified() ? (dst.is_loopback() ? Ipv4Addr::loopback() : dst) : src_hint;
    return Route{loopback_, dst, src, false};
  }
  if (dst.is_broadcast()) {
    // The limited broadcast leaves by the interface of the source address, or the first.
    for (const auto& i : interfaces_) {
      if (i->loopback) continue;
      if (src_hint.is_unspecified() || src_hint == i->addr.addr)
        return Route{i.get(), dst, i->addr.addr, true};
    }
    return Errc::net_unreachable;
  }
  auto hop = routes_.lookup(dst);
  if (!hop || hop->iface >= interfaces_.size()) return Errc::net_unreachable;
  Interface* iface = interfaces_[hop->iface].get();
  const Ipv4Addr src = src_hint.is_unspecified() ? iface->addr.addr : src_hint;
  return Route{iface, hop->addr, src, is_broadcast_for(*iface, dst)};
}

Status Stack::ip_output(wire::Ipv4Repr hdr, base::PacketBuf payload, const Route& r) {
  ++counters_.IpOutRequests;
  Interface& iface = *r.iface;
  constexpr std::size_t kHdr = wire::Ipv4Repr::header_len();
  if (payload.size() + kHdr > 65535) {
    ++counters_.IpOutDiscards;
    return Errc::message_size;
  }
  hdr.ident = next_ip_id();
  if (payload.size() + kHdr <= iface.mtu) {
    hdr.payload_len = static_cast<std::uint16_t>(payload.size());
    hdr.more_fragments = false;
    hdr.frag_offset = 0;
    hdr.emit(payload.push_front(kHdr));
    link_output(iface, r.next_hop, r.broadcast, std::move(payload));
    return {};
  }
  // RFC 791 3.2, "An Example Fragmentation Procedure": each fragment but the last
  // carries a multiple of 8 payload bytes; all repeat the header.
  if (hdr.dont_fragment) {
    ++counters_.IpFragFails;
    return Errc::message_size;
  }
  const std::size_t chunk = (iface.mtu - kHdr) / 8 * 8;
  if (chunk == 0) {
    ++counters_.IpFragFails;
    return Errc::message_size;
  }
  const ByteSpan all = payload.data();
  for (std::size_t off = 0; off < all.size(); off += chunk) {
    const std::size_t n = std::min(chunk, all.size() - off);
    base::PacketBuf frag = base::PacketBuf::copy_of(all.subspan(off, n));
    wire::Ipv4Repr f = hdr;
    f.payload_len = static_cast<std::uint16_t>(n);
    f.frag_offset = static_cast<std::uint16_t>(off);
    f.more_fragments = off + n < all.size();
    f.emit(frag.push_front(kHdr));
    ++counters_.IpFragCreates;
    link_output(iface, r.next_hop, r.broadcast, std::move(frag));
  }
  ++counters_.IpFragOKs;
  return {};
}

}  // namespace ustack::stack
