// The whole ingress path: a stack (198.18.0.2 on an Ethernet device fed by
// hand) with a TCP listener on :80, an established connection from
// 198.18.0.1:40000, a UDP socket on :7 and an ICMP raw socket, fed a sequence
// of frames and time steps decoded from the input. Each step is one of: a raw
// frame; an IPv4 datagram with fuzzed header fields; a TCP segment to the
// established connection near its sequence space (checksums right, so it gets
// past validation); a segment to the listener; a UDP datagram; time passing;
// the application reading, writing or closing.
//
// Invariants, whatever comes in:
//  - every frame the stack sends parses, with correct IP, TCP and UDP checksums;
//  - the application reads the peer's stream intact: the fuzzer's payload byte
//    at stream offset k is always pattern(k), so any byte delivered at the
//    wrong offset, twice or invented is caught;
//  - receive queues stay within their buffers and sockets within a bound.
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "fuzz.h"
#include "stack/stack.h"
#include "support/hand_fed_device.h"
#include "wire/ethernet.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/udp.h"

using namespace ustack;

namespace {

const base::Ipv4Addr kPeer(198, 18, 0, 1), kUs(198, 18, 0, 2);
const base::MacAddr kPeerMac({0x02, 0, 0, 0, 0, 0x01}), kUsMac({0x02, 0, 0, 0, 0, 0x02});
constexpr std::uint16_t kPeerPort = 40000;
constexpr std::size_t kMaxSteps = 48;

/// The peer's stream: the byte at stream offset k (k = seq - peer ISN - 1).
base::Byte pattern(std::uint32_t k) { return static_cast<base::Byte>((k * 131u + 7u) ^ (k >> 9)); }

using Frame = std::vector<base::Byte>;

Frame ethernet(std::uint16_t type, base::ByteSpan payload) {
  Frame f(wire::EthernetView::kHeaderLen + payload.size());
  wire::EthernetRepr{kUsMac, kPeerMac, type}.emit(f);
  std::copy(payload.begin(), payload.end(), f.begin() + wire::EthernetView::kHeaderLen);
  return f;
}

Frame ipv4(wire::Ipv4Repr ip, base::ByteSpan payload) {
  Frame d(wire::Ipv4Repr::header_len() + payload.size());
  ip.payload_len = static_cast<std::uint16_t>(payload.size());
  ip.emit(d);
  std::copy(payload.begin(), payload.end(), d.begin() + wire::Ipv4Repr::header_len());
  return ethernet(0x0800, d);
}

wire::Ipv4Repr from_peer(std::uint8_t proto) {
  wire::Ipv4Repr ip;
  ip.src = kPeer;
  ip.dst = kUs;
  ip.protocol = proto;
  ip.dont_fragment = true;
  return ip;
}

Frame tcp_segment(const wire::TcpRepr& t, base::ByteSpan payload) {
  Frame s(t.header_len() + payload.size());
  std::copy(payload.begin(), payload.end(), s.begin() + static_cast<std::ptrdiff_t>(t.header_len()));
  t.emit(s, kPeer, kUs);
  return ipv4(from_peer(wire::ip_proto::tcp), s);
}

struct World {
  testing::HandFedDevice dev{link::Medium::ethernet};
  stack::Stack st{stack::StackConfig{.seed = 7}};
  base::Instant now = base::kEpoch + std::chrono::seconds(1);
  stack::SocketId listener = -1, conn = -1, udp = -1, raw = -1;
  std::uint32_t peer_isn = 1000;
  std::uint32_t peer_next = 0;  // what the stack last acknowledged
  std::uint32_t our_next = 0;   // the stack's next sequence number
  std::uint32_t read_offset = 0;  // stream bytes the application has read

  World() {
    st.add_interface(dev, {"eth0", kUsMac, {kUs, 24}, std::nullopt});
    FUZZ_CHECK(st.add_static_arp(kPeer, kPeerMac).ok());
    listener = *st.socket(AF_INET, SOCK_STREAM, 0);
    FUZZ_CHECK(st.bind(listener, {base::Ipv4Addr::any(), 80}).ok());
    FUZZ_CHECK(st.listen(listener, 4).ok());
    udp = *st.socket(AF_INET, SOCK_DGRAM, 0);
    FUZZ_CHECK(st.bind(udp, {base::Ipv4Addr::any(), 7}).ok());
    raw = *st.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    step(std::chrono::milliseconds(1));

    wire::TcpRepr syn{kPeerPort, 80, peer_isn, 0, wire::tcp_flag::syn, 64240, 0, {}};
    syn.options.mss = 1460;
    syn.options.window_scale = 7;
    syn.options.sack_permitted = true;
    syn.options.timestamps = wire::TcpTimestamps{1, 0};
    feed(tcp_segment(syn, {}));
    step(std::chrono::milliseconds(1));
    wire::TcpRepr ack{kPeerPort, 80, peer_isn + 1, our_next, wire::tcp_flag::ack, 502, 0, {}};
    ack.options.timestamps = wire::TcpTimestamps{2, 1};
    feed(tcp_segment(ack, {}));
    step(std::chrono::milliseconds(1));
    auto c = st.accept(listener, nullptr);
    FUZZ_CHECK(c.ok());
    conn = *c;
    FUZZ_CHECK(peer_next == peer_isn + 1);
  }

  void feed(Frame f) { dev.in.push_back(std::move(f)); }

  /// Time passes; the stack runs; what it sent is checked and read.
  void step(base::Duration d) {
    now += d;
    st.poll(now);
    for (const Frame& f : dev.out) check_sent(f);
    dev.out.clear();
  }

  void check_sent(const Frame& f) {
    auto eth = wire::EthernetRepr::parse(f);
    FUZZ_CHECK(eth.ok());
    if (eth->ethertype != 0x0800) return;
    const base::ByteSpan ipb = base::ByteSpan(f).subspan(wire::EthernetView::kHeaderLen);
    auto ip = wire::Ipv4Repr::parse(ipb);
    FUZZ_CHECK(ip.ok());  // the header checksum is right
    auto view = wire::Ipv4View::parse(ipb);
    if (view->is_fragment()) return;
    if (ip->protocol == wire::ip_proto::tcp) {
      auto t = wire::TcpRepr::parse(view->payload(), ip->src, ip->dst);
      FUZZ_CHECK(t.ok());  // the TCP checksum is right
      if (ip->dst == kPeer && t->dst_port == kPeerPort && t->src_port == 80) {
        const auto len = static_cast<std::uint32_t>(wire::TcpView::parse(view->payload())->payload().size());
        const std::uint32_t end = t->seq + len + ((t->flags & wire::tcp_flag::syn) ? 1 : 0) +
                                  ((t->flags & wire::tcp_flag::fin) ? 1 : 0);
        if (static_cast<std::int32_t>(end - our_next) > 0 || our_next == 0) our_next = end;
        if (t->flags & wire::tcp_flag::ack) peer_next = t->ack;
      }
    } else if (ip->protocol == wire::ip_proto::udp) {
      FUZZ_CHECK(wire::UdpRepr::parse(view->payload(), ip->src, ip->dst).ok());
    } else if (ip->protocol == wire::ip_proto::icmp) {
      FUZZ_CHECK(wire::IcmpRepr::parse(view->payload()).ok());
    }
  }

  /// The application reads what it can and checks every byte against the pattern.
  void app_read(std::size_t max) {
    if (conn < 0) return;
    std::vector<base::Byte> buf(max);
    auto r = st.recv_from(conn, buf, 0);
    if (!r.ok()) return;
    for (std::size_t i = 0; i < r->copied; ++i) FUZZ_CHECK(buf[i] == pattern(read_offset + static_cast<std::uint32_t>(i)));
    read_offset += static_cast<std::uint32_t>(r->copied);
  }

  void check_bounds() const {
    const auto infos = st.socket_infos();
    FUZZ_CHECK(infos.size() <= 64);
    for (const auto& s : infos) {
      if (s.id < 0 || s.listening) continue;
      if (s.type == SOCK_STREAM) FUZZ_CHECK(s.recv_q <= s.rcvbuf);
      if (s.type != SOCK_STREAM) FUZZ_CHECK(s.recv_q <= s.rcvbuf + 65536 + 512);  // an empty queue takes one of any size
    }
  }
};

/// A TCP segment to the established connection, near its sequence space,
/// carrying the peer's stream pattern.
Frame segment_to_conn(World& w, fuzz::Input& in) {
  const auto dseq = static_cast<std::int16_t>(in.u16());
  const auto dack = static_cast<std::int16_t>(in.u16());
  const std::uint8_t flags = in.u8();
  const std::uint16_t window = in.u16();
  const std::size_t len = std::size_t{in.u8()} * 8;  // up to 2040 bytes (an MSS is 1460)
  wire::TcpRepr t{kPeerPort, 80, w.peer_next + static_cast<std::uint32_t>(dseq),
                  w.our_next + static_cast<std::uint32_t>(dack), flags, window, 0, {}};
  const std::uint8_t opt = in.u8();
  if (opt & 1) t.options.timestamps = wire::TcpTimestamps{in.u32(), in.u32()};
  if (opt & 2) {
    t.options.sack_count = static_cast<std::uint8_t>(1 + (opt >> 2) % 3);
    for (std::uint8_t i = 0; i < t.options.sack_count; ++i) {
      const std::uint32_t left = w.our_next + static_cast<std::uint32_t>(static_cast<std::int16_t>(in.u16()));
      t.options.sack_blocks[i] = {left, left + in.u16()};
    }
  }
  if (opt & 0x80) t.urgent = in.u16();
  std::vector<base::Byte> payload(len);
  for (std::size_t i = 0; i < len; ++i) payload[i] = pattern(t.seq - w.peer_isn - 1 + static_cast<std::uint32_t>(i));
  return tcp_segment(t, payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  World w;
  for (std::size_t n = 0; n < kMaxSteps && !in.empty(); ++n) {
    switch (in.u8() % 8) {
      case 0: {  // a raw frame
        const std::size_t len = in.u16() % 1515;
        base::ByteSpan b = in.bytes(len);
        w.feed(Frame(b.begin(), b.end()));
        break;
      }
      case 1: {  // IPv4 with fuzzed header fields and payload
        wire::Ipv4Repr ip = from_peer(in.u8());
        ip.tos = in.u8();
        ip.ident = in.u16();
        const std::uint16_t frag = in.u16();
        ip.dont_fragment = frag & 0x4000;
        ip.more_fragments = frag & 0x2000;
        ip.frag_offset = static_cast<std::uint16_t>((frag & 0x1fff) * 8);
        ip.ttl = in.u8();
        const base::ByteSpan payload = in.bytes(in.u16() % 1481);
        w.feed(ipv4(ip, payload));
        break;
      }
      case 2:
      case 3:
        w.feed(segment_to_conn(w, in));
        break;
      case 4: {  // to the listener, from another port
        wire::TcpRepr t{static_cast<std::uint16_t>(1024 + in.u8()), 80, in.u32(), in.u32(), in.u8(), in.u16(), 0, {}};
        if (in.u8() & 1) t.options.mss = in.u16();
        if (in.u8() & 1) t.options.window_scale = in.u8();
        w.feed(tcp_segment(t, in.bytes(in.u8())));
        break;
      }
      case 5: {  // UDP
        const std::uint16_t port = (in.u8() & 1) ? 7 : in.u16();
        const base::ByteSpan payload = in.bytes(in.u16() % 1473);
        Frame u(8 + payload.size());
        std::copy(payload.begin(), payload.end(), u.begin() + 8);
        wire::UdpRepr{5353, port}.emit(u, kPeer, kUs);
        w.feed(ipv4(from_peer(wire::ip_proto::udp), u));
        break;
      }
      case 6:  // time passes: timers (retransmission, delayed ACK, keepalive, TIME-WAIT, reassembly)
        w.step(std::chrono::milliseconds(1 + in.u16() % 8000));
        continue;
      case 7: {  // the application
        const std::uint8_t what = in.u8();
        if (what < 128) {
          w.app_read(std::size_t{what} * 64 + 1);
        } else if (what < 250 && w.conn >= 0) {
          std::vector<base::Byte> out(std::size_t{in.u8()} * 32, base::Byte{'s'});
          (void)w.st.send_to(w.conn, out, nullptr, MSG_DONTWAIT);
        } else if (what < 253 && w.conn >= 0) {
          (void)w.st.shutdown(w.conn, SHUT_WR);
        } else if (w.conn >= 0) {
          (void)w.st.close(w.conn);
          w.conn = -1;
        }
        break;
      }
    }
    w.step(std::chrono::milliseconds(1));
    w.app_read(1 << 16);
    w.check_bounds();
  }
  w.step(std::chrono::seconds(1));
  w.app_read(1 << 16);
  w.check_bounds();
  return 0;
}
