// Test helpers: hand-built Ethernet, ARP, IPv4, UDP and ICMP frames (checksums
// computed here, independent of src/wire), and numbered test frames.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/addr.h"
#include "base/bytes.h"
#include "base/time.h"

namespace ustack::link::testing {

using Bytes = std::vector<base::Byte>;

inline base::Instant at_ms(double ms) {
  return base::kEpoch + base::Duration{static_cast<std::int64_t>(ms * 1e6)};
}
inline base::Instant at_ns(std::int64_t ns) { return base::kEpoch + base::Duration{ns}; }

inline base::MacAddr mac(std::uint8_t last) { return base::MacAddr({0x02, 0, 0, 0, 0, last}); }

inline void put_mac(Bytes& b, std::size_t off, const base::MacAddr& m) {
  for (std::size_t i = 0; i < 6; ++i) b[off + i] = m.bytes()[i];
}

/// An Ethernet frame of `size` bytes (>= 18) with a 32-bit id after the header.
inline Bytes numbered_frame(std::uint32_t id, base::MacAddr dst = mac(2), base::MacAddr src = mac(1),
                            std::size_t size = 64) {
  Bytes b(size, 0);
  put_mac(b, 0, dst);
  put_mac(b, 6, src);
  base::store_be16(b, 12, 0x88b5);  // IEEE local experimental EtherType
  base::store_be32(b, 14, id);
  for (std::size_t i = 18; i < size; ++i) b[i] = static_cast<base::Byte>(i * 7 + id);
  return b;
}
inline std::uint32_t frame_id(base::ByteSpan frame) { return base::load_be32(frame, 14); }

inline std::uint16_t inet_checksum(base::ByteSpan b, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < b.size(); i += 2) sum += base::load_be16(b, i);
  if (b.size() % 2) sum += std::uint32_t{b.back()} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

/// A 20-byte IPv4 header followed by `payload`, header checksum filled in.
inline Bytes ipv4_packet(base::Ipv4Addr src, base::Ipv4Addr dst, std::uint8_t proto, const Bytes& payload) {
  Bytes p(20 + payload.size(), 0);
  p[0] = 0x45;
  base::store_be16(p, 2, static_cast<std::uint16_t>(p.size()));
  base::store_be16(p, 4, 0x1234);
  p[6] = 0x40;  // DF
  p[8] = 64;
  p[9] = proto;
  base::store_be32(p, 12, src.value());
  base::store_be32(p, 16, dst.value());
  base::store_be16(p, 10, inet_checksum(base::ByteSpan(p).first(20)));
  std::copy(payload.begin(), payload.end(), p.begin() + 20);
  return p;
}

inline Bytes udp_datagram(base::Ipv4Addr src, base::Ipv4Addr dst, std::uint16_t sport, std::uint16_t dport,
                          const Bytes& data) {
  Bytes u(8 + data.size(), 0);
  base::store_be16(u, 0, sport);
  base::store_be16(u, 2, dport);
  base::store_be16(u, 4, static_cast<std::uint16_t>(u.size()));
  std::copy(data.begin(), data.end(), u.begin() + 8);
  Bytes pseudo(12, 0);
  base::store_be32(pseudo, 0, src.value());
  base::store_be32(pseudo, 4, dst.value());
  pseudo[9] = 17;
  base::store_be16(pseudo, 10, static_cast<std::uint16_t>(u.size()));
  Bytes all = pseudo;
  all.insert(all.end(), u.begin(), u.end());
  std::uint16_t c = inet_checksum(all);
  base::store_be16(u, 6, c == 0 ? 0xffff : c);
  return ipv4_packet(src, dst, 17, u);
}

inline Bytes icmp_echo_request(base::Ipv4Addr src, base::Ipv4Addr dst, std::uint16_t ident, std::uint16_t seq) {
  Bytes m(8 + 16, 0);
  m[0] = 8;
  base::store_be16(m, 4, ident);
  base::store_be16(m, 6, seq);
  for (std::size_t i = 8; i < m.size(); ++i) m[i] = static_cast<base::Byte>(i);
  base::store_be16(m, 2, inet_checksum(m));
  return ipv4_packet(src, dst, 1, m);
}

inline Bytes ethernet(base::MacAddr dst, base::MacAddr src, std::uint16_t type, const Bytes& payload) {
  // Sized once: GCC 12 at -O3 warns falsely (-Warray-bounds) on insert() after construction.
  Bytes f(14 + payload.size(), 0);
  put_mac(f, 0, dst);
  put_mac(f, 6, src);
  base::store_be16(f, 12, type);
  std::copy(payload.begin(), payload.end(), f.begin() + 14);
  return f;
}

/// ARP request (RFC 826): who has `target`? tell `sender` at `sender_mac`. Broadcast.
inline Bytes arp_request(base::MacAddr sender_mac, base::Ipv4Addr sender, base::Ipv4Addr target) {
  Bytes a(28, 0);
  base::store_be16(a, 0, 1);       // Ethernet
  base::store_be16(a, 2, 0x0800);  // IPv4
  a[4] = 6;
  a[5] = 4;
  base::store_be16(a, 6, 1);  // request
  put_mac(a, 8, sender_mac);
  base::store_be32(a, 14, sender.value());
  base::store_be32(a, 24, target.value());
  return ethernet(base::MacAddr::broadcast(), sender_mac, 0x0806, a);
}

}  // namespace ustack::link::testing
