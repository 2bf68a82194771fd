// TAP offloads: the vnet header checks on received frames (GRO super-frames,
// partial checksums, hostile headers) and the TSO coalescer's merge rules and
// the super-frame it writes.
#include "link/vnet.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "unit/link/frames.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

namespace ustack::link {
namespace {

using testing::Bytes;
using testing::inet_checksum;

const base::Ipv4Addr kSrc(198, 18, 0, 2), kDst(198, 18, 0, 1);

struct Seg {
  std::uint32_t seq = 1000;
  std::uint32_t ack = 5000;
  std::uint8_t flags = 0x10;  // ACK
  std::uint16_t window = 512;
  std::size_t payload = 1448;
  std::uint32_t tsval = 77;   // timestamps option (12 bytes with NOPs)
  std::uint16_t src_port = 40000;
  std::uint8_t tos = 0;
  std::uint8_t payload_seed = 0;
};

std::uint16_t pseudo_sum(base::ByteSpan ip_and_tcp) {
  std::uint32_t s = 0;
  for (std::size_t i = 12; i < 20; i += 2) s += base::load_be16(ip_and_tcp, i);
  s += ip_and_tcp[9];
  s += static_cast<std::uint32_t>(ip_and_tcp.size() - 20);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

// An Ethernet frame holding one IPv4 TCP segment, every checksum right.
Bytes tcp_frame(const Seg& s) {
  Bytes tcp(32 + s.payload, 0);
  base::store_be16(tcp, 0, s.src_port);
  base::store_be16(tcp, 2, 80);
  base::store_be32(tcp, 4, s.seq);
  base::store_be32(tcp, 8, s.ack);
  tcp[12] = 8 << 4;
  tcp[13] = s.flags;
  base::store_be16(tcp, 14, s.window);
  tcp[20] = 1;
  tcp[21] = 1;
  tcp[22] = 8;
  tcp[23] = 10;
  base::store_be32(tcp, 24, s.tsval);
  base::store_be32(tcp, 28, 99);
  for (std::size_t i = 0; i < s.payload; ++i) tcp[32 + i] = static_cast<base::Byte>((s.seq + i) * 13 + s.payload_seed);
  Bytes ip = testing::ipv4_packet(kSrc, kDst, 6, tcp);
  ip[1] = s.tos;
  base::store_be16(ip, 10, 0);
  base::store_be16(ip, 10, inet_checksum(base::ByteSpan(ip).first(20)));
  std::uint32_t sum = pseudo_sum(ip);
  base::store_be16(ip, 20 + 16, inet_checksum(base::ByteSpan(ip).subspan(20), sum));
  Bytes f(14 + ip.size());
  testing::put_mac(f, 0, testing::mac(1));
  testing::put_mac(f, 6, testing::mac(2));
  base::store_be16(f, 12, 0x0800);
  std::copy(ip.begin(), ip.end(), f.begin() + 14);
  return f;
}

struct Written {
  VnetHeader h;
  Bytes frame;
  std::size_t segments;
};

class Collect : public VnetFrameSink {
 public:
  void write_frame(const VnetHeader& h, base::ByteSpan frame, std::size_t segments) override {
    out.push_back({h, Bytes(frame.begin(), frame.end()), segments});
  }
  std::vector<Written> out;
};

bool header_is_zero(const VnetHeader& h) {
  VnetHeader z{};
  return std::memcmp(&h, &z, sizeof h) == 0;
}

// A TCP frame written alone: no GSO, the TCP checksum left to the kernel.
bool single_tcp_header(const VnetHeader& h) {
  return h.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && h.gso_type == VIRTIO_NET_HDR_GSO_NONE && h.gso_size == 0 &&
         h.csum_start == 34 && h.csum_offset == 16;
}

// What the kernel (or a NIC) does with a partial checksum: the sum from
// csum_start to the end, the field's pseudo-header sum included, inverted.
void complete_checksum(const VnetHeader& h, Bytes& f) {
  std::uint32_t s = 0;
  base::ByteSpan b = base::ByteSpan(f).subspan(h.csum_start);
  for (std::size_t i = 0; i + 1 < b.size(); i += 2) s += base::load_be16(b, i);
  if (b.size() % 2) s += std::uint32_t{b.back()} << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  base::store_be16(f, h.csum_start + h.csum_offset, static_cast<std::uint16_t>(~s));
}

std::vector<Written> coalesce(const std::vector<Bytes>& frames) {
  TsoCoalescer c;
  Collect out;
  for (const auto& f : frames) c.add(f, out);
  c.flush(out);
  EXPECT_FALSE(c.pending());
  return out.out;
}

TEST(TsoCoalescer, ConsecutiveFullSegmentsOfOneFlowBecomeOneSuperFrame) {
  std::vector<Bytes> frames;
  Bytes payload;
  for (int i = 0; i < 40; ++i) {
    Seg s;
    s.seq = 1000 + 1448u * static_cast<std::uint32_t>(i);
    if (i == 39) s.flags |= 0x08;  // PSH on the last
    frames.push_back(tcp_frame(s));
    payload.insert(payload.end(), frames.back().begin() + 66, frames.back().end());
  }
  auto out = coalesce(frames);
  ASSERT_EQ(out.size(), 1u);
  Written w = out[0];
  EXPECT_EQ(w.segments, 40u);
  EXPECT_EQ(w.h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
  EXPECT_EQ(w.h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
  EXPECT_EQ(w.h.gso_size, 1448);
  EXPECT_EQ(w.h.hdr_len, 14 + 20 + 32);
  EXPECT_EQ(w.h.csum_start, 34);
  EXPECT_EQ(w.h.csum_offset, 16);
  ASSERT_EQ(w.frame.size(), 66 + 40 * 1448u);
  // The IP header covers the whole; its checksum is right.
  auto ip = wire::Ipv4View::parse(base::ByteSpan(w.frame).subspan(14));
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->payload().size(), 32 + 40 * 1448u);
  EXPECT_TRUE(ip->checksum_ok());
  // The TCP checksum field holds the pseudo-header sum: finished as the kernel
  // would, the segment's checksum verifies.
  EXPECT_EQ(base::load_be16(w.frame, 34 + 16), pseudo_sum(base::ByteSpan(w.frame).subspan(14)));
  complete_checksum(w.h, w.frame);
  auto tcp = wire::TcpView::parse(base::ByteSpan(w.frame).subspan(34));
  ASSERT_TRUE(tcp.ok());
  EXPECT_TRUE(tcp->checksum_ok(kSrc, kDst));
  EXPECT_EQ(tcp->seq(), 1000u);
  EXPECT_EQ(tcp->flags(), 0x18);  // ACK and the last segment's PSH
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), w.frame.begin() + 66));
}

// The written frame, its checksum finished as the kernel would.
Bytes finished(Written w) {
  complete_checksum(w.h, w.frame);
  return w.frame;
}

TEST(TsoCoalescer, ASegmentAloneLeavesWithItsChecksumLeftToTheKernel) {
  const Bytes f = tcp_frame(Seg{});
  auto out = coalesce({f});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(single_tcp_header(out[0].h));
  EXPECT_EQ(base::load_be16(out[0].frame, 34 + 16), pseudo_sum(base::ByteSpan(out[0].frame).subspan(14)));
  EXPECT_EQ(finished(out[0]), f);
  EXPECT_EQ(out[0].segments, 1u);
}

TEST(TsoCoalescer, EveryTcpFrameLeavesWithItsChecksumLeftToTheKernel) {
  // The stack hands over TCP segments whose checksum field holds only the
  // pseudo-header sum (Device::tx_checksum_offload): whatever the frame, SYN,
  // FIN, a pure ACK or a lone segment, the kernel is told to finish it.
  for (std::uint8_t flags : {std::uint8_t{0x02}, std::uint8_t{0x12}, std::uint8_t{0x11}, std::uint8_t{0x10},
                             std::uint8_t{0x04}}) {
    Seg s;
    s.flags = flags;
    s.payload = flags == 0x10 ? 0 : 10;
    const Bytes whole = tcp_frame(s);
    Bytes partial = whole;
    base::store_be16(partial, 34 + 16, pseudo_sum(base::ByteSpan(partial).subspan(14)));
    auto out = coalesce({partial});
    ASSERT_EQ(out.size(), 1u) << int{flags};
    EXPECT_TRUE(single_tcp_header(out[0].h)) << int{flags};
    EXPECT_EQ(finished(out[0]), whole) << int{flags};
  }
  // Ethernet padding past the IP datagram is not written (the checksum runs to
  // the end of what is written).
  Seg s;
  s.payload = 0;
  Bytes padded = tcp_frame(s);
  const Bytes whole = padded;
  padded.resize(padded.size() + 6, 0);
  auto out = coalesce({padded});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(finished(out[0]), whole);
}

TEST(TsoCoalescer, ShortLastSegmentJoinsButNothingAfterIt) {
  Seg a, b, c;
  b.seq = a.seq + 1448;
  b.payload = 100;
  c.seq = b.seq + 100;
  auto out = coalesce({tcp_frame(a), tcp_frame(b), tcp_frame(c)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].segments, 2u);
  EXPECT_EQ(out[0].frame.size(), 66 + 1448 + 100u);
  EXPECT_EQ(out[1].segments, 1u);
}

TEST(TsoCoalescer, NothingJoinsAfterPsh) {
  Seg a, b;
  a.flags |= 0x08;
  b.seq = a.seq + 1448;
  auto out = coalesce({tcp_frame(a), tcp_frame(b)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(single_tcp_header(out[0].h));
  EXPECT_TRUE(single_tcp_header(out[1].h));
}

TEST(TsoCoalescer, SegmentsThatDifferDoNotJoin) {
  struct Case {
    const char* what;
    void (*change)(Seg&);
  };
  const Case cases[] = {
      {"a gap in sequence", [](Seg& s) { s.seq += 1; }},
      {"another ACK", [](Seg& s) { s.ack += 1; }},
      {"another window", [](Seg& s) { s.window += 1; }},
      {"another timestamp", [](Seg& s) { s.tsval += 1; }},
      {"another port", [](Seg& s) { s.src_port += 1; }},
      {"another TOS/ECN", [](Seg& s) { s.tos = 2; }},
      {"FIN", [](Seg& s) { s.flags |= 0x01; }},
      {"CWR", [](Seg& s) { s.flags |= 0x80; }},
      {"URG", [](Seg& s) { s.flags |= 0x20; }},
      {"no payload", [](Seg& s) { s.payload = 0; }},
      {"longer than the first", [](Seg& s) { s.payload = 1449; }},
  };
  for (const auto& k : cases) {
    Seg a, b;
    b.seq = a.seq + 1448;
    k.change(b);
    auto out = coalesce({tcp_frame(a), tcp_frame(b)});
    ASSERT_EQ(out.size(), 2u) << k.what;
    for (const auto& w : out) EXPECT_TRUE(single_tcp_header(w.h)) << k.what;
    EXPECT_EQ(finished(out[0]), tcp_frame(a)) << k.what;
  }
}

TEST(TsoCoalescer, OtherFramesLeaveInOrderAndFlushThePendingOne) {
  Seg a, b;
  b.seq = a.seq + 1448;
  Bytes arp = testing::numbered_frame(7);
  TsoCoalescer c;
  Collect out;
  c.add(tcp_frame(a), out);
  c.add(tcp_frame(b), out);
  EXPECT_TRUE(c.pending());
  EXPECT_TRUE(out.out.empty());
  c.add(arp, out);
  ASSERT_EQ(out.out.size(), 2u);
  EXPECT_EQ(out.out[0].segments, 2u);
  EXPECT_EQ(out.out[1].frame, arp);
  EXPECT_TRUE(header_is_zero(out.out[1].h));
  EXPECT_FALSE(c.pending());
}

TEST(TsoCoalescer, StaysWithinOneIpDatagram) {
  std::vector<Bytes> frames;
  for (std::uint32_t i = 0; i < 100; ++i) {
    Seg s;
    s.seq = 1000 + 1448 * i;
    frames.push_back(tcp_frame(s));
  }
  auto out = coalesce(frames);
  std::size_t segs = 0;
  for (const auto& w : out) {
    EXPECT_LE(w.frame.size() - 14, 65535u);
    auto ip = wire::Ipv4View::parse(base::ByteSpan(w.frame).subspan(14));
    ASSERT_TRUE(ip.ok());
    EXPECT_TRUE(ip->checksum_ok());
    segs += w.segments;
  }
  EXPECT_EQ(segs, 100u);
  EXPECT_EQ(out[0].segments, (65535u - 20 - 32) / 1448);
}

TEST(TsoCoalescer, GarbageNeverCrashesAndLeavesUnchanged) {
  std::mt19937 rng(5);
  TsoCoalescer c;
  Collect out;
  std::size_t given = 0;
  for (int i = 0; i < 5000; ++i) {
    Bytes f;
    if (i % 3 == 0) {
      Seg s;
      s.seq = 1000 + 1448u * static_cast<std::uint32_t>(i / 3);
      f = tcp_frame(s);
      f.resize(rng() % (f.size() + 1));
    } else {
      f.resize(rng() % 200);
      for (auto& b : f) b = static_cast<base::Byte>(rng());
      if (f.size() > 14) base::store_be16(f, 12, 0x0800);
    }
    c.add(f, out);
    ++given;
  }
  c.flush(out);
  std::size_t segments = 0;
  for (const auto& w : out.out) segments += w.segments;
  EXPECT_EQ(segments, given);
}

// --- Receive ---------------------------------------------------------------------

VnetHeader gso_header(std::size_t hdr_len) {
  VnetHeader h{};
  h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
  h.hdr_len = static_cast<std::uint16_t>(hdr_len);
  h.gso_size = 1448;
  h.csum_start = 34;
  h.csum_offset = 16;
  return h;
}

// A GRO super-frame as the kernel hands it over: one TCP segment of 40 * 1448
// bytes, the checksum field holding only the pseudo-header sum.
Bytes super_frame() {
  Seg s;
  s.payload = 40 * 1448;
  Bytes f = tcp_frame(s);
  base::store_be16(f, 34 + 16, pseudo_sum(base::ByteSpan(f).subspan(14)));
  return f;
}

TEST(VnetRx, GsoSuperFrameWithPartialChecksumIsTakenAndNotVerified) {
  Bytes f = super_frame();
  const Bytes before = f;
  const VnetRx r = check_vnet_rx(gso_header(66), f);
  EXPECT_TRUE(r.ok) << r.why;
  EXPECT_TRUE(r.gso);
  EXPECT_TRUE(r.checksum_trusted);
  EXPECT_EQ(f, before);  // nothing computed over the 58 KB
}

TEST(VnetRx, PlainFramesAndDataValid) {
  Bytes f = tcp_frame(Seg{});
  VnetHeader h{};
  VnetRx r = check_vnet_rx(h, f);
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.checksum_trusted);
  EXPECT_FALSE(r.gso);
  h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
  r = check_vnet_rx(h, f);
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.checksum_trusted);
  // An ARP frame with no flags at all.
  Bytes arp = testing::numbered_frame(1);
  EXPECT_TRUE(check_vnet_rx(VnetHeader{}, arp).ok);
}

TEST(VnetRx, PartialChecksumOutsideTcpAndUdpIsCompletedInPlace) {
  // A partial checksum the stack cannot skip (the IP header says UDP, the offset
  // is TCP's): finished as a NIC would, the field gets the segment's real checksum.
  VnetHeader h{};
  h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  Bytes g = tcp_frame(Seg{});
  const std::uint16_t real = base::load_be16(g, 34 + 16);
  g[14 + 9] = 17;  // call it UDP: offset 16 is then not UDP's field, so not trusted
  base::store_be16(g, 14 + 10, 0);
  base::store_be16(g, 14 + 10, inet_checksum(base::ByteSpan(g).subspan(14, 20)));
  std::uint32_t s = 0;
  for (std::size_t i = 12; i < 20; i += 2) s += base::load_be16(g, 14 + i);
  s += 6 + (g.size() - 34);  // the pseudo-header as TCP's (protocol 6)
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  base::store_be16(g, 34 + 16, static_cast<std::uint16_t>(s));
  h.csum_start = 34;
  h.csum_offset = 16;
  const VnetRx r2 = check_vnet_rx(h, g);
  EXPECT_TRUE(r2.ok) << r2.why;
  EXPECT_FALSE(r2.checksum_trusted);
  EXPECT_EQ(base::load_be16(g, 34 + 16), real);
}

TEST(VnetRx, HostileHeadersAreRefusedNeverTrusted) {
  const Bytes f = super_frame();
  struct Case {
    const char* what;
    void (*change)(VnetHeader&, Bytes&);
  };
  const Case cases[] = {
      {"unknown flag", [](VnetHeader& h, Bytes&) { h.flags |= 0x04; }},
      {"GSO TCPV6", [](VnetHeader& h, Bytes&) { h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6; }},
      {"GSO UDP", [](VnetHeader& h, Bytes&) { h.gso_type = VIRTIO_NET_HDR_GSO_UDP; }},
      {"GSO UDP_L4", [](VnetHeader& h, Bytes&) { h.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4; }},
      {"GSO ECN", [](VnetHeader& h, Bytes&) { h.gso_type |= VIRTIO_NET_HDR_GSO_ECN; }},
      {"gso_size 0", [](VnetHeader& h, Bytes&) { h.gso_size = 0; }},
      {"csum beyond the frame", [](VnetHeader& h, Bytes&) { h.csum_start = 0xfff0; }},
      {"csum offset beyond", [](VnetHeader& h, Bytes&) { h.csum_offset = 0xffff; }},
      {"odd csum offset", [](VnetHeader& h, Bytes&) { h.csum_offset = 15; }},
      {"GSO without checksum flags", [](VnetHeader& h, Bytes&) { h.flags = 0; }},
      {"GSO of UDP", [](VnetHeader&, Bytes& b) { b[14 + 9] = 17; }},
      {"GSO of ARP", [](VnetHeader&, Bytes& b) { base::store_be16(b, 12, 0x0806); }},
      {"GSO of a fragment", [](VnetHeader&, Bytes& b) { b[14 + 6] |= 0x20; }},
      // Found by fuzz_vnet: "finishing" this partial checksum wrote over the IP
      // TTL and protocol bytes after the frame had been judged IPv4 TCP.
      {"GSO, partial checksum over the IP protocol",
       [](VnetHeader& h, Bytes&) {
         h.csum_start = 6;
         h.csum_offset = 16;
       }},
      {"GSO, partial checksum not TCP's", [](VnetHeader& h, Bytes&) { h.csum_offset = 6; }},
  };
  for (const auto& k : cases) {
    VnetHeader h = gso_header(66);
    Bytes b = f;
    k.change(h, b);
    const VnetRx r = check_vnet_rx(h, b);
    EXPECT_FALSE(r.ok) << k.what;
    EXPECT_FALSE(r.checksum_trusted) << k.what;
    EXPECT_STRNE(r.why, "") << k.what;
  }
  // Truncated frames with a GSO header: refused while the checksum field is not
  // in them (longer ones go on to IPv4's length checks), never read out of bounds.
  for (std::size_t n = 0; n < 52; ++n) {
    Bytes b(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
    const VnetRx r = check_vnet_rx(gso_header(66), b);
    EXPECT_FALSE(r.ok) << n;
  }
}

TEST(VnetRx, PartialChecksumInsideTheHeadersIsRefused) {
  VnetHeader h{};
  h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  Bytes g = tcp_frame(Seg{});
  const Bytes before = g;
  h.csum_start = 6;  // the field at 22: the IP TTL and protocol
  h.csum_offset = 16;
  const VnetRx r = check_vnet_rx(h, g);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(g, before);
}

TEST(VnetRx, RandomHeadersAndFramesNeverCrash) {
  std::mt19937 rng(11);
  const Bytes base = super_frame();
  for (int i = 0; i < 20000; ++i) {
    VnetHeader h;
    std::uint8_t raw[sizeof h];
    for (auto& b : raw) b = static_cast<std::uint8_t>(rng());
    if (i % 2) raw[1] = static_cast<std::uint8_t>(rng() % 2);  // often GSO NONE or TCPV4
    if (i % 4 == 1) raw[0] &= 3;
    std::memcpy(&h, raw, sizeof h);
    Bytes f(base.begin(), base.begin() + static_cast<std::ptrdiff_t>(rng() % (base.size() + 1)));
    if (i % 8 == 0 && !f.empty()) f[rng() % f.size()] ^= static_cast<base::Byte>(1 + rng() % 255);
    const VnetRx r = check_vnet_rx(h, f);
    if (r.ok && r.gso) {
      EXPECT_EQ(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
      EXPECT_NE(h.gso_size, 0);
    }
  }
}

}  // namespace
}  // namespace ustack::link
