// UDP input and output (RFC 768; RFC 1122 4.1.3): checksums always generated and
// verified, port unreachable for unicast datagrams nobody listens for.
#include <sys/socket.h>

#include <cstring>
#include <utility>

#include "stack/interface.h"
#include "stack/stack.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

namespace ustack::stack {

namespace {
constexpr std::size_t kMaxUdpPayload = 65535 - 20 - 8;
}

void Stack::udp_input(Interface&, const wire::Ipv4View& ip, bool broadcast) {
  auto udp = wire::UdpView::parse(ip.payload());
  if (!udp) {
    ++counters_.DropUdpMalformed;
    ++counters_.UdpInErrors;
    return;
  }
  // RFC 1122 4.1.3.4: "If a UDP datagram is received with a checksum that is non-
  // zero and invalid, UDP MUST silently discard the datagram."
  // (Unless a TAP with offloads vouches for it: Stack::rx_csum_trusted_.)
  if (!std::exchange(rx_csum_trusted_, false) && !udp->checksum_ok(ip.src(), ip.dst())) {
    ++counters_.UdpInCsumErrors;
    ++counters_.UdpInErrors;
    return;
  }
  const base::Endpoint from{ip.src(), udp->src_port()};
  auto deliver = [&](udp::Socket& s) {
    SocketEntry* e = entry(s.id);
    udp::Datagram d{from, {udp->payload().begin(), udp->payload().end()}};
    switch (s.rx.push(std::move(d), e->rcvbuf)) {
      case udp::Enqueued::yes:
        break;
      case udp::Enqueued::rcvbuf_full:
        ++counters_.UdpRcvbufErrors;
        ++counters_.UdpInErrors;
        return;
      case udp::Enqueued::no_memory:  // the stack's memory limit (Linux UDP_MIB_MEMERRORS)
        ++counters_.UdpMemErrors;
        ++counters_.UdpInErrors;
        return;
    }
    ++counters_.UdpInDatagrams;
    notify(*e, s.id);
  };
  if (broadcast || ip.dst().is_multicast()) {
    bool any = false;
    udp_table_.for_each_broadcast(ip.dst(), udp->dst_port(), from, [&](udp::Socket& s) {
      any = true;
      deliver(s);
    });
    if (!any) ++counters_.UdpNoPorts;  // no ICMP error for broadcasts (RFC 1122 3.2.2)
    return;
  }
  udp::Socket* s = udp_table_.lookup(ip.dst(), udp->dst_port(), from);
  if (!s) {
    // RFC 1122 4.1.3.1: "If a datagram arrives addressed to a UDP port for which
    // there is no pending LISTEN call, UDP SHOULD send an ICMP Port Unreachable message."
    ++counters_.UdpNoPorts;
    send_icmp_error(ip, wire::icmp_type::dest_unreachable, wire::icmp_unreach::port, broadcast);
    return;
  }
  deliver(*s);
}

base::Result<std::size_t> Stack::udp_send(SocketEntry& e, udp::Socket& s, base::ByteSpan data,
                                          const base::Endpoint* dest) {
  if (data.size() > kMaxUdpPayload) return Errc::message_size;
  base::Endpoint to;
  if (dest) {
    if (dest->port == 0) return Errc::invalid;
    to = *dest;
  } else if (s.peer) {
    to = *s.peer;
  } else {
    return Errc::dest_address_required;
  }
  if (!s.bound()) {
    if (auto st = udp_autobind(s); !st) return st.error();
  }
  auto r = route(to.addr.v4(), s.local.addr.v4());
  if (!r) {
    ++counters_.IpOutNoRoutes;
    return r.error();
  }
  // ip(7) / socket(7): sending to a broadcast address needs SO_BROADCAST.
  if (r->broadcast && !s.broadcast) return Errc::access;
  base::PacketBuf buf(wire::UdpView::kHeaderLen + data.size());
  if (!data.empty()) std::memcpy(buf.data().data() + wire::UdpView::kHeaderLen, data.data(), data.size());
  wire::UdpRepr{s.local.port, to.port}.emit(buf.data(), r->src, to.addr.v4());
  wire::Ipv4Repr hdr{r->src, to.addr.v4(), wire::ip_proto::udp,
                     static_cast<std::uint8_t>(e.ttl == -1 ? config_.default_ttl : e.ttl),
                     static_cast<std::uint8_t>(e.tos)};
  // Linux's default (IP_PMTUDISC_WANT): DF on datagrams that fit, fragments otherwise.
  hdr.dont_fragment = buf.size() + wire::Ipv4Repr::header_len() <= r->iface->mtu;
  if (auto st = ip_output(hdr, std::move(buf), *r); !st) return st.error();
  ++counters_.UdpOutDatagrams;
  return data.size();
}

}  // namespace ustack::stack
