// Until ustack has TCP (the next issue), every TCP port is closed, and a closed
// port answers as RFC 9293 3.10.7.1 says, so that peers and scanners see "closed".
#include "stack/interface.h"
#include "stack/stack.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

namespace ustack::stack {

void Stack::tcp_input(const wire::Ipv4View& ip, bool broadcast) {
  ++counters_.TcpInSegs;
  auto seg = wire::TcpRepr::parse(ip.payload(), ip.src(), ip.dst());
  if (!seg) {
    ++counters_.DropTcpMalformed;
    return;
  }
  // RFC 9293 3.10.7.1: "An incoming segment containing a RST is discarded. An
  // incoming segment not containing a RST causes a RST to be sent in response."
  if ((seg->flags & wire::tcp_flag::rst) || broadcast || ip.dst().is_multicast()) return;
  const std::size_t payload_len = ip.payload().size() - wire::TcpView::parse(ip.payload())->header_len();
  wire::TcpRepr rst;
  rst.src_port = seg->dst_port;
  rst.dst_port = seg->src_port;
  if (seg->flags & wire::tcp_flag::ack) {
    // "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>"
    rst.seq = seg->ack;
    rst.flags = wire::tcp_flag::rst;
  } else {
    // "If the ACK bit is off, sequence number zero is used,
    //  <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"
    const std::uint32_t seg_len = static_cast<std::uint32_t>(payload_len) +
                                  ((seg->flags & wire::tcp_flag::syn) ? 1u : 0u) +
                                  ((seg->flags & wire::tcp_flag::fin) ? 1u : 0u);
    rst.seq = 0;
    rst.ack = seg->seq + seg_len;
    rst.flags = wire::tcp_flag::rst | wire::tcp_flag::ack;
  }
  auto r = route(ip.src(), ip.dst());
  if (!r) return;
  base::PacketBuf buf(rst.header_len());
  rst.emit(buf.data(), r->src, ip.src());
  wire::Ipv4Repr hdr{r->src, ip.src(), wire::ip_proto::tcp, config_.default_ttl};
  hdr.dont_fragment = true;
  if (ip_output(hdr, std::move(buf), *r)) ++counters_.TcpOutRsts;
}

}  // namespace ustack::stack
