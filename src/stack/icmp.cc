// ICMP (RFC 792; RFC 1122 3.2.2): echo, errors sent (rate-limited) and errors
// received and reported to the socket they concern.
#include <algorithm>

#include "stack/interface.h"
#include "stack/stack.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

namespace ustack::stack {

using base::ByteSpan;
using base::Ipv4Addr;

namespace {

/// Linux's mapping from ICMP errors to errno (net/ipv4/icmp.c icmp_err_convert);
/// 0 for errors that a socket is not told of.
int errno_for_icmp(std::uint8_t type, std::uint8_t code) {
  switch (type) {
    case wire::icmp_type::dest_unreachable:
      switch (code) {
        case wire::icmp_unreach::net: return ENETUNREACH;
        case wire::icmp_unreach::host: return EHOSTUNREACH;
        case wire::icmp_unreach::protocol: return ENOPROTOOPT;
        case wire::icmp_unreach::port: return ECONNREFUSED;
        case wire::icmp_unreach::frag_needed: return 0;  // path MTU, not an error for the socket
        case wire::icmp_unreach::source_route_failed: return EOPNOTSUPP;
        case 6: case 9: case 11: return ENETUNREACH;
        case 7: return EHOSTDOWN;
        case 8: return ENONET;
        default: return EHOSTUNREACH;
      }
    case wire::icmp_type::time_exceeded: return EHOSTUNREACH;
    case wire::icmp_type::param_problem: return EPROTO;
    default: return 0;  // source quench is ignored (RFC 6633)
  }
}

}  // namespace

void Stack::icmp_input(Interface& iface, const wire::Ipv4View& ip, bool broadcast) {
  auto icmp = wire::IcmpView::parse(ip.payload());
  if (!icmp) {
    ++counters_.IcmpInErrors;
    ++counters_.DropIcmpMalformed;
    return;
  }
  if (!icmp->checksum_ok()) {
    ++counters_.IcmpInErrors;
    ++counters_.IcmpInCsumErrors;
    return;
  }
  ++counters_.IcmpInMsgs;
  switch (icmp->type()) {
    case wire::icmp_type::echo_request: {
      ++counters_.IcmpInEchos;
      if (broadcast && config_.icmp_echo_ignore_broadcasts) {
        ++counters_.DropIcmpBroadcastEcho;
        return;
      }
      // RFC 1122 3.2.2.6: "Every host MUST implement an ICMP Echo server function
      // that receives Echo Requests and sends corresponding Echo Replies. ... The
      // data received in the ICMP Echo Request MUST be entirely included in the
      // resulting Echo Reply."
      auto r = route(ip.src(), is_local_address(ip.dst()) ? ip.dst() : iface.addr.addr);
      if (!r) {
        ++counters_.IpOutNoRoutes;
        return;
      }
      const auto reply = wire::IcmpRepr::echo_reply(icmp->ident(), icmp->seq(), icmp->payload());
      base::PacketBuf buf(reply.buffer_len());
      reply.emit(buf.data());
      wire::Ipv4Repr hdr{r->src, ip.src(), wire::ip_proto::icmp, config_.default_ttl, ip.tos()};
      if (ip_output(hdr, std::move(buf), *r)) {
        ++counters_.IcmpOutMsgs;
        ++counters_.IcmpOutEchoReps;
      }
      config_.logger.debug("{}: echo reply to {} seq {} ({} bytes)", iface.name, ip.src(),
                           icmp->seq(), icmp->payload().size());
      return;
    }
    case wire::icmp_type::echo_reply:
      ++counters_.IcmpInEchoReps;  // raw sockets (ping) have had their copy
      return;
    case wire::icmp_type::dest_unreachable:
      ++counters_.IcmpInDestUnreachs;
      break;
    case wire::icmp_type::time_exceeded:
      ++counters_.IcmpInTimeExcds;
      break;
    case wire::icmp_type::param_problem:
      ++counters_.IcmpInParmProbs;
      break;
    case wire::icmp_type::source_quench:
      return;  // RFC 6633: "hosts MUST silently discard" it... after counting
    default:
      ++counters_.DropIcmpUnhandledType;
      return;
  }
  icmp_error_input(ip, icmp->type(), icmp->code(), icmp->rest(), icmp->payload());
}

void Stack::icmp_error_input(const wire::Ipv4View&, std::uint8_t type, std::uint8_t code,
                             std::uint32_t rest, ByteSpan quoted) {
  // RFC 1191 4: "fragmentation needed and DF set" carries the next hop's MTU in
  // the low 16 bits of the word after the checksum.
  if (type == wire::icmp_type::dest_unreachable && code == wire::icmp_unreach::frag_needed) {
    tcp_path_mtu(quoted, rest & 0xffffu);
    return;
  }
  // RFC 1122 3.2.2: the error quotes the internet header and at least the first
  // 8 data octets of the datagram that triggered it; that names the socket.
  const int err = errno_for_icmp(type, code);
  if (err != 0) report_to_sender(quoted, err);
}

void Stack::report_to_sender(ByteSpan datagram, int err) {
  if (datagram.size() < wire::Ipv4View::kMinHeaderLen || (datagram[0] >> 4) != 4) return;
  const std::size_t ihl = std::size_t{datagram[0] & 0x0fu} * 4;
  if (ihl < wire::Ipv4View::kMinHeaderLen || datagram.size() < ihl + 8) return;
  const Ipv4Addr src(base::load_be32(datagram, 12));
  const Ipv4Addr dst(base::load_be32(datagram, 16));
  const std::uint16_t sport = base::load_be16(datagram, ihl);
  const std::uint16_t dport = base::load_be16(datagram, ihl + 2);
  if (datagram[9] == wire::ip_proto::tcp) {
    tcp_icmp_error(src, sport, dst, dport, base::load_be32(datagram, ihl + 4), err);
    return;
  }
  if (datagram[9] != wire::ip_proto::udp) return;
  udp::Socket* s = udp_table_.lookup(src, sport, base::Endpoint{dst, dport});
  // Linux (udp(7)): "All fatal errors will be passed to the user as an error
  // return even when the socket is not connected", but without IP_RECVERR only
  // connected sockets are told; we follow the default.
  if (!s || !s->peer) return;
  SocketEntry* e = entry(s->id);
  if (!e) return;
  s->pending_error = err;
  notify(*e, s->id);
  config_.logger.debug("udp {}: error {} from ICMP", s->local, err);
}

void Stack::send_icmp_error(const wire::Ipv4View& offending, std::uint8_t type, std::uint8_t code,
                            bool link_broadcast, std::uint32_t rest) {
  send_icmp_error(offending.datagram(), type, code, link_broadcast, rest);
}

void Stack::send_icmp_error(ByteSpan original, std::uint8_t type, std::uint8_t code,
                            bool link_broadcast, std::uint32_t rest) {
  // `original` may be only a prefix of the datagram (the header and first payload
  // bytes kept by reassembly), so fields are read from the header directly.
  if (original.size() < wire::Ipv4View::kMinHeaderLen) return;
  const std::size_t ihl = std::size_t{original[0] & 0x0fu} * 4;
  if (ihl < wire::Ipv4View::kMinHeaderLen || ihl > original.size()) return;
  const Ipv4Addr src(base::load_be32(original, 12));
  const Ipv4Addr dst(base::load_be32(original, 16));
  const std::uint8_t protocol = original[9];
  const bool non_initial_fragment = (base::load_be16(original, 6) & 0x1fffu) != 0;
  // RFC 1122 3.2.2: "An ICMP error message MUST NOT be sent as the result of
  // receiving: an ICMP error message, or a datagram destined to an IP broadcast or
  // IP multicast address, or a datagram sent as a link-layer broadcast, or a
  // non-initial fragment, or a datagram whose source address does not define a
  // single host".
  if (link_broadcast || dst.is_multicast() || dst.is_broadcast()) return;
  if (non_initial_fragment) return;
  if (src.is_unspecified() || src.is_broadcast() || src.is_multicast() || src.is_reserved() ||
      (src.is_loopback() && !is_local_address(src)))
    return;
  for (const auto& i : interfaces_)
    if (is_broadcast_for(*i, dst) || is_broadcast_for(*i, src)) return;
  if (protocol == wire::ip_proto::icmp) {
    const ByteSpan p = original.subspan(ihl);
    if (p.empty() || wire::icmp_is_error(p[0])) return;
  }
  auto r = route(src, is_local_address(dst) ? dst : Ipv4Addr::any());
  if (!r) {
    ++counters_.IpOutNoRoutes;
    return;
  }
  // RFC 1812 4.3.2.8 and RFC 1122 3.2.2: errors are rate-limited, per destination
  // first and then for the host, in Linux's order since "icmp: change the order of
  // rate limits" ("In order to avoid side-channels attacks, we need to apply the
  // per destination check first"). Linux icmpv4_xrlim_allow(): "No rate limit on
  // loopback". Every error ustack sends is of a type in Linux's default
  // icmp_ratemask (unreachable, source quench, time exceeded, parameter problem).
  if (!r->iface->loopback && !icmp_host_limiter_.allow(src, now_)) {
    ++counters_.IcmpOutRateLimitHost;
    return;
  }
  if (!icmp_limiter_.take(now_)) {
    ++counters_.IcmpOutRateLimited;
    return;
  }
  // As much of the offending datagram as keeps the error within 576 bytes (RFC 1812 4.3.2.3).
  const std::size_t quote = std::min<std::size_t>(original.size(), 576 - 20 - 8);
  wire::IcmpRepr err{type, code, rest, original.first(quote)};
  base::PacketBuf buf(err.buffer_len());
  err.emit(buf.data());
  // Linux sends ICMP errors with precedence "internetwork control" (0xc0).
  wire::Ipv4Repr hdr{r->src, src, wire::ip_proto::icmp, config_.default_ttl, 0xc0};
  if (!ip_output(hdr, std::move(buf), *r)) return;
  ++counters_.IcmpOutMsgs;
  if (type == wire::icmp_type::dest_unreachable) ++counters_.IcmpOutDestUnreachs;
  if (type == wire::icmp_type::time_exceeded) ++counters_.IcmpOutTimeExcds;
  config_.logger.debug("icmp: sent type {} code {} to {}", type, code, src);
}

}  // namespace ustack::stack
