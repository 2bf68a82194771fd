// The virtio-net header of a TAP with IFF_VNET_HDR: receive-side checks and the
// transmit-side TSO coalescer (the kernel's include/linux/virtio_net.h
// virtio_net_hdr_to_skb() is what the kernel checks on what we write).
#include "link/vnet.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "base/bytes.h"
#include "wire/checksum.h"

namespace ustack::link {
namespace {

constexpr std::size_t kEth = 14;
constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint8_t kProtoTcp = 6, kProtoUdp = 17;
constexpr std::uint8_t kAck = 0x10, kPsh = 0x08;
constexpr std::size_t kIpTotalLen = 2, kIpId = 4, kIpFrag = 6, kIpProto = 9, kIpCsum = 10, kIpSrc = 12;
constexpr std::size_t kTcpSeq = 4, kTcpFlags = 13, kTcpCsum = 16;

// The IPv4 header of an Ethernet frame, when it has one: its length, or 0.
std::size_t ipv4_header_len(base::ByteSpan frame) {
  if (frame.size() < kEth + 20 || base::load_be16(frame, 12) != kEtherIpv4) return 0;
  const base::Byte vihl = frame[kEth];
  if ((vihl >> 4) != 4) return 0;
  const std::size_t ihl = std::size_t{vihl & 0x0fu} * 4;
  if (ihl < 20 || frame.size() < kEth + ihl) return 0;
  return ihl;
}

}  // namespace

VnetRx check_vnet_rx(const VnetHeader& h, base::MutByteSpan frame) {
  VnetRx r;
  constexpr unsigned kKnownFlags = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
  if (h.flags & ~kKnownFlags) {
    r.why = "unknown vnet header flags";
    return r;
  }
  const std::size_t ihl = ipv4_header_len(frame);
  const std::uint8_t proto = ihl ? frame[kEth + kIpProto] : 0;
  switch (h.gso_type) {
    case VIRTIO_NET_HDR_GSO_NONE:
      break;
    case VIRTIO_NET_HDR_GSO_TCPV4: {
      // One IPv4 TCP segment, longer than the MTU: the kernel coalesced it (GRO) or
      // its TCP built it for us (TSO). Its IP header covers all of it.
      if (!ihl || proto != kProtoTcp) {
        r.why = "GSO TCPV4 frame that is not IPv4 TCP";
        return r;
      }
      if (h.gso_size == 0) {
        r.why = "GSO frame with gso_size 0";
        return r;
      }
      if (base::load_be16(frame, kEth + kIpFrag) & 0x3fff) {
        r.why = "GSO frame that is an IP fragment";
        return r;
      }
      r.gso = true;
      break;
    }
    default:  // TCPV6, UDP, UDP_L4, ECN: never negotiated (TUNSETOFFLOAD), so never valid
      r.why = "GSO type not negotiated";
      return r;
  }
  if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
    const std::size_t start = h.csum_start, offset = h.csum_offset;
    if (start + offset + 2 > frame.size() || (offset & 1)) {
      r.why = "partial checksum outside the frame";
      return r;
    }
    const bool l4_field = ihl && start == kEth + ihl && !(base::load_be16(frame, kEth + kIpFrag) & 0x3fff) &&
                          ((proto == kProtoTcp && offset == 16) || (proto == kProtoUdp && offset == 6));
    if (r.gso && !l4_field) {
      r.why = "GSO frame whose partial checksum is not its TCP checksum";
      r.gso = false;
      return r;
    }
    if (!l4_field && start < kEth + ihl) {
      // Finishing it would write into the headers already checked above (the
      // fuzzer found a "partial checksum" over the IP protocol byte).
      r.why = "partial checksum inside the Ethernet or IP header";
      r.gso = false;
      return r;
    }
    if (l4_field) {
      // The field holds the pseudo-header sum only: the data is the kernel's own,
      // never corrupted on the way (a memory copy), so there is nothing to verify.
      r.checksum_trusted = true;
    } else {
      // Finish it here, as a NIC would: the one's-complement sum from csum_start to
      // the end (the field's pseudo-header sum included), inverted.
      wire::Checksum c;
      c.add(base::ByteSpan(frame).subspan(start));
      base::store_be16(frame, start + offset, c.finish());
    }
  } else if (r.gso) {
    // Without NEEDS_CSUM the checksum would have to cover the whole super-frame;
    // the kernel never sends that way, and a checksum of a frame it did not build
    // cannot be trusted either: refuse it rather than guess.
    if (!(h.flags & VIRTIO_NET_HDR_F_DATA_VALID)) {
      r.why = "GSO frame without NEEDS_CSUM or DATA_VALID";
      r.gso = false;
      return r;
    }
  }
  if (h.flags & VIRTIO_NET_HDR_F_DATA_VALID) r.checksum_trusted = true;
  r.ok = true;
  return r;
}

// --- Transmit: TSO coalescing ------------------------------------------------------

bool TsoCoalescer::candidate(base::ByteSpan frame, Candidate* c) {
  const std::size_t ihl = ipv4_header_len(frame);
  if (ihl != 20 || frame[kEth + kIpProto] != kProtoTcp) return false;
  if (base::load_be16(frame, kEth + kIpFrag) & 0x3fff) return false;  // MF or an offset
  if (base::load_be16(frame, kEth + kIpTotalLen) != frame.size() - kEth) return false;  // padding, or lying
  const std::size_t tcp = kEth + 20;
  if (frame.size() < tcp + 20) return false;
  const std::size_t thl = static_cast<std::size_t>(frame[tcp + 12] >> 4) * 4;
  if (thl < 20 || frame.size() <= tcp + thl) return false;  // no payload: nothing to gain
  const std::uint8_t flags = frame[tcp + kTcpFlags];
  if ((flags & ~kPsh) != kAck) return false;  // only ACK or ACK|PSH (no FIN, SYN, RST, URG, ECE, CWR)
  c->hdr_len = tcp + thl;
  c->payload_len = frame.size() - c->hdr_len;
  c->seq = base::load_be32(frame, tcp + kTcpSeq);
  c->psh = flags & kPsh;
  return true;
}

bool TsoCoalescer::joins(base::ByteSpan frame, const Candidate& c) const {
  if (segments_ == 0 || closed_ || c.hdr_len != hdr_len_) return false;
  if (last_payload_ != gso_size_ || c.payload_len > gso_size_ || c.seq != next_seq_) return false;
  if (len_ + c.payload_len > kMaxFrame) return false;
  // Headers identical but for the fields each segment has its own of.
  const base::Byte* a = buf_.data();
  const base::Byte* b = frame.data();
  const std::size_t ip = kEth, tcp = kEth + 20;
  auto same = [&](std::size_t from, std::size_t to) { return std::memcmp(a + from, b + from, to - from) == 0; };
  return same(0, ip + kIpTotalLen) && same(ip + kIpId + 2, ip + kIpCsum) && same(ip + kIpCsum + 2, tcp + kTcpSeq) &&
         same(tcp + kTcpSeq + 4, tcp + kTcpFlags) && a[tcp + kTcpFlags] == kAck &&
         same(tcp + kTcpFlags + 1, tcp + kTcpCsum) && same(tcp + kTcpCsum + 2, hdr_len_);
}

void TsoCoalescer::start(base::ByteSpan frame, const Candidate& c) {
  if (buf_.size() < kMaxFrame) buf_.resize(kMaxFrame);
  std::memcpy(buf_.data(), frame.data(), frame.size());
  len_ = frame.size();
  hdr_len_ = c.hdr_len;
  gso_size_ = c.payload_len;
  last_payload_ = c.payload_len;
  next_seq_ = c.seq + static_cast<std::uint32_t>(c.payload_len);
  segments_ = 1;
  closed_ = c.psh;
}

void TsoCoalescer::add(base::ByteSpan frame, VnetFrameSink& out) {
  Candidate c;
  if (!candidate(frame, &c)) {
    flush(out);
    if (tcp_frame_len(frame) == 0) {  // not TCP: as given, no copy
      out.write_frame(VnetHeader{}, frame, 1);
      return;
    }
    single_.assign(frame.begin(), frame.end());  // its checksum field is rewritten
    write_single(single_, out);
    return;
  }
  if (!joins(frame, c)) {
    flush(out);
    start(frame, c);
    return;
  }
  std::memcpy(buf_.data() + len_, frame.data() + c.hdr_len, c.payload_len);
  len_ += c.payload_len;
  last_payload_ = c.payload_len;
  next_seq_ += static_cast<std::uint32_t>(c.payload_len);
  ++segments_;
  if (c.psh) {
    buf_[kEth + 20 + kTcpFlags] |= kPsh;
    closed_ = true;
  }
}

namespace {

/// The TCP checksum field of an IPv4 TCP frame gets the pseudo-header sum over
/// `tcp_len` bytes of TCP header and data; returns the header that tells the
/// kernel to finish it.
VnetHeader partial_tcp_checksum(base::MutByteSpan f, std::size_t ip, std::size_t tcp) {
  wire::Checksum pseudo;
  pseudo.add(f.subspan(ip + kIpSrc, 8));  // source and destination addresses
  pseudo.add_u16(kProtoTcp);
  pseudo.add_u16(static_cast<std::uint16_t>(f.size() - tcp));
  // CHECKSUM_PARTIAL as Linux's own TCP leaves it (__tcp_v4_send_check): the field
  // holds the folded pseudo-header sum; whoever finishes it adds the rest.
  base::store_be16(f, tcp + kTcpCsum, pseudo.folded());
  VnetHeader h{};
  h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h.csum_start = static_cast<std::uint16_t>(tcp);
  h.csum_offset = kTcpCsum;
  return h;
}

}  // namespace

std::size_t TsoCoalescer::tcp_frame_len(base::ByteSpan f) {
  const std::size_t ihl = ipv4_header_len(f);
  if (!ihl || f[kEth + kIpProto] != kProtoTcp || (base::load_be16(f, kEth + kIpFrag) & 0x3fff)) return 0;
  const std::size_t total = base::load_be16(f, kEth + kIpTotalLen);
  return total >= ihl + 20 && kEth + total <= f.size() ? kEth + total : 0;
}

void TsoCoalescer::write_single(base::MutByteSpan f, VnetFrameSink& out) {
  const std::size_t len = tcp_frame_len(f);
  if (len == 0) {
    out.write_frame(VnetHeader{}, f, 1);
    return;
  }
  // Without Ethernet padding, if any: the checksum covers csum_start to the end.
  const base::MutByteSpan g = f.first(len);
  out.write_frame(partial_tcp_checksum(g, kEth, kEth + ipv4_header_len(g)), g, 1);
}

void TsoCoalescer::flush(VnetFrameSink& out) {
  if (segments_ == 0) return;
  const std::size_t segments = std::exchange(segments_, 0);
  const base::MutByteSpan f(buf_.data(), len_);
  if (segments == 1) {
    write_single(f, out);
    return;
  }
  const std::size_t ip = kEth, tcp = kEth + 20;
  base::store_be16(f, ip + kIpTotalLen, static_cast<std::uint16_t>(len_ - kEth));
  base::store_be16(f, ip + kIpCsum, 0);
  base::store_be16(f, ip + kIpCsum, wire::internet_checksum(f.subspan(ip, 20)));
  VnetHeader h = partial_tcp_checksum(f, ip, tcp);
  h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
  h.hdr_len = static_cast<std::uint16_t>(hdr_len_);
  h.gso_size = static_cast<std::uint16_t>(gso_size_);
  out.write_frame(h, f, segments);
}

}  // namespace ustack::link
