// Raw IP sockets (Linux raw(7)): each receives a copy of every datagram of its
// protocol, IP header included; sends carry the payload, or the whole datagram
// with IP_HDRINCL.
#include <netinet/in.h>

#include <cstring>

#include "stack/interface.h"
#include "stack/stack.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

namespace ustack::stack {

bool Stack::raw_input(const wire::Ipv4View& ip) {
  bool delivered = false;
  for (SocketId id : raw_sockets_) {
    SocketEntry* e = entry(id);
    auto& s = std::get<RawSocket>(e->proto);
    if (s.protocol != ip.protocol() || s.protocol == IPPROTO_RAW) continue;
    if (!s.local.is_unspecified() && s.local != ip.dst()) continue;
    if (s.peer && *s.peer != ip.src()) continue;
    udp::Datagram d{{ip.src(), 0}, {ip.datagram().begin(), ip.datagram().end()}};
    if (const auto r = s.rx.push(std::move(d), e->rcvbuf); r != udp::Enqueued::yes) {
      if (r == udp::Enqueued::no_memory) ++counters_.DropRawMemory;
      else ++counters_.DropRawRcvbuf;
      continue;
    }
    delivered = true;
    notify(*e, id);
  }
  return delivered;
}

base::Result<std::size_t> Stack::raw_send(SocketEntry& e, RawSocket& s, base::ByteSpan data,
                                          const base::Endpoint* dest) {
  base::Ipv4Addr to;
  if (dest) to = dest->addr.v4();
  else if (s.peer) to = *s.peer;
  else return Errc::dest_address_required;

  if (!s.header_included) {
    if (data.size() > 65535 - wire::Ipv4Repr::header_len()) return Errc::message_size;
    auto r = route(to, s.local);
    if (!r) {
      ++counters_.IpOutNoRoutes;
      return r.error();
    }
    if (r->broadcast && !s.broadcast) return Errc::access;
    base::PacketBuf buf = base::PacketBuf::copy_of(data);
    wire::Ipv4Repr hdr{r->src, to, s.protocol,
                       static_cast<std::uint8_t>(e.ttl == -1 ? config_.default_ttl : e.ttl),
                       static_cast<std::uint8_t>(e.tos)};
    hdr.dont_fragment = buf.size() + wire::Ipv4Repr::header_len() <= r->iface->mtu;
    if (auto st = ip_output(hdr, std::move(buf), *r); !st) return st.error();
    return data.size();
  }
  // raw(7), IP_HDRINCL: "The IPv4 layer ... Always filled in: IP Checksum, Total
  // Length. Filled in when zero: Source Address, Packet ID." The datagram is not
  // fragmented.
  if (data.size() < wire::Ipv4View::kMinHeaderLen) return Errc::invalid;
  const std::size_t ihl = std::size_t{data[0] & 0x0fu} * 4;
  if ((data[0] >> 4) != 4 || ihl < wire::Ipv4View::kMinHeaderLen || ihl > data.size())
    return Errc::invalid;
  const base::Ipv4Addr hdr_dst(base::load_be32(data, 16));
  auto r = route(hdr_dst.is_unspecified() ? to : hdr_dst, base::Ipv4Addr(base::load_be32(data, 12)));
  if (!r) {
    ++counters_.IpOutNoRoutes;
    return r.error();
  }
  if (r->broadcast && !s.broadcast) return Errc::access;
  if (data.size() > r->iface->mtu) return Errc::message_size;
  base::PacketBuf buf = base::PacketBuf::copy_of(data);
  base::MutByteSpan h = buf.data();
  base::store_be16(h, 2, static_cast<std::uint16_t>(data.size()));
  if (base::load_be16(h, 4) == 0) base::store_be16(h, 4, next_ip_id());
  if (base::load_be32(h, 12) == 0) base::store_be32(h, 12, r->src.value());
  base::store_be16(h, 10, 0);
  base::store_be16(h, 10, wire::internet_checksum(h.first(ihl)));
  ++counters_.IpOutRequests;
  link_output(*r->iface, r->next_hop, r->broadcast, std::move(buf));
  return data.size();
}

}  // namespace ustack::stack
