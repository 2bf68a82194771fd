// IPv4 fragment reassembly (RFC 791 3.2, RFC 815), bounded in memory and time.
// Fragments are kept per datagram as a map offset -> payload that never overlaps:
// an overlapping fragment discards the whole datagram (Linux since CVE-2018-5391,
// RFC 5722 for IPv6), so the teardrop and "overwrite the transport header" tricks
// cannot produce a datagram at all.
#include "ip/reassembly.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <utility>

namespace ustack::ip {

using base::Byte;
using base::Instant;

namespace {
/// RFC 791: the total length field is 16 bits; the payload of a reassembled
/// datagram with a 20-byte header can therefore not exceed 65515 bytes.
constexpr std::uint32_t kMaxPayload = 65535 - 20;
/// RFC 792 / RFC 1122 3.3.2: quote the header and the first 64 bits of data.
constexpr std::size_t kQuotedPayload = 8;
}  // namespace

Reassembler::Reassembler(ReassemblyConfig config, base::MemoryAccount* memory)
    : config_(config), mem_(memory, base::MemKind::frag, /*below_pressure=*/true) {}

void Reassembler::erase(std::map<Key, Datagram>::iterator it) {
  bytes_in_use_ -= it->second.bytes;
  mem_.release(it->second.charged);
  datagrams_.erase(it);
}

Reassembler::ExpiredReport Reassembler::report(const Datagram& d) {
  ExpiredReport r;
  r.deadline = d.deadline;
  r.info.had_first_fragment = !d.first_header.empty();
  if (r.info.had_first_fragment) {
    r.info.first_fragment_prefix = base::PacketBuf::copy_of(d.first_header);
  }
  return r;
}

Reassembled Reassembler::add(const wire::Ipv4View& frag, Instant now) {
  Reassembled result;
  const auto drop = [&result](ReassemblyOutcome why) {
    result.outcome = why;
    return result;
  };
  if (!frag.is_fragment()) return drop(ReassemblyOutcome::dropped_invalid);

  const base::ByteSpan payload = frag.payload();
  const std::uint32_t offset = frag.frag_offset();
  const std::uint32_t len = static_cast<std::uint32_t>(payload.size());
  const std::uint32_t end = offset + len;
  const bool last = !frag.more_fragments();

  if (len == 0) return drop(ReassemblyOutcome::dropped_invalid);
  // RFC 791 3.2: every fragment but the last carries a multiple of 8 octets ("the
  // data portion ... shall be a multiple of 8 octets" since offsets count 8-octet units).
  if (!last && len % 8 != 0) return drop(ReassemblyOutcome::dropped_invalid);

  const Key key{frag.src().value(), frag.dst().value(), frag.ident(), frag.protocol()};
  auto it = datagrams_.find(key);
  if (it != datagrams_.end() && now >= it->second.deadline) {
    // Timed out but not yet polled: report it at the next poll, start afresh.
    pending_expired_.push_back(report(it->second));
    erase(it);
    it = datagrams_.end();
  }

  if (end > kMaxPayload) {  // the ping-of-death shape: the datagram would exceed 65535
    if (it != datagrams_.end()) erase(it);
    return drop(ReassemblyOutcome::dropped_invalid);
  }

  if (it == datagrams_.end()) {
    if (datagrams_.size() >= config_.max_datagrams) return drop(ReassemblyOutcome::dropped_limit);
    if (bytes_in_use_ + len > config_.max_bytes) return drop(ReassemblyOutcome::dropped_limit);
    Datagram fresh;
    // RFC 791 3.2: the timer is set by the first fragment to arrive and not refreshed.
    fresh.deadline = now + config_.timeout;
    it = datagrams_.emplace(key, std::move(fresh)).first;
  }
  Datagram& d = it->second;

  // The end of the datagram, once known, is fixed: a second last fragment must
  // agree, and no fragment may reach past it.
  if (d.total_len && (last ? end != *d.total_len : end > *d.total_len)) {
    erase(it);
    return drop(ReassemblyOutcome::dropped_invalid);
  }
  if (last && !d.total_len && !d.fragments.empty()) {
    const auto& [o, bytes] = *d.fragments.rbegin();
    if (o + bytes.size() > end) {
      erase(it);
      return drop(ReassemblyOutcome::dropped_invalid);
    }
  }

  // An exact copy (a retransmitted or duplicated fragment) is harmless: ignore it.
  if (auto same = d.fragments.find(offset); same != d.fragments.end() &&
                                            same->second.size() == len &&
                                            std::equal(payload.begin(), payload.end(),
                                                       same->second.begin())) {
    return drop(ReassemblyOutcome::duplicate);
  }

  // Any other overlap discards the datagram. Held fragments never overlap, so the
  // one starting last before `end` is the only one that can reach past `offset`.
  if (auto after = d.fragments.lower_bound(end); after != d.fragments.begin()) {
    const auto& [o, bytes] = *std::prev(after);
    if (o + bytes.size() > offset) {
      erase(it);
      return drop(ReassemblyOutcome::dropped_overlap);
    }
  }

  if (d.fragments.size() >= config_.max_fragments_per_datagram) {
    erase(it);
    return drop(ReassemblyOutcome::dropped_limit);
  }
  if (bytes_in_use_ + len > config_.max_bytes || !mem_.try_add(len + kFragmentOverhead)) {
    if (d.fragments.empty()) erase(it);
    return drop(ReassemblyOutcome::dropped_limit);
  }

  d.fragments.emplace(offset, std::vector<Byte>(payload.begin(), payload.end()));
  d.bytes += len;
  d.charged += len + kFragmentOverhead;
  bytes_in_use_ += len;
  if (last) d.total_len = end;
  if (offset == 0) {
    const base::ByteSpan header = frag.header();
    d.first_header.assign(header.begin(), header.end());
    const auto quoted = payload.first(std::min<std::size_t>(len, kQuotedPayload));
    d.first_header.insert(d.first_header.end(), quoted.begin(), quoted.end());
  }

  // Complete when the last fragment is known and the pieces cover [0, total).
  if (!d.total_len) return result;  // incomplete
  std::uint32_t covered = 0;
  for (const auto& [o, bytes] : d.fragments) {
    if (o != covered) return result;  // a hole
    covered += static_cast<std::uint32_t>(bytes.size());
  }
  if (covered != *d.total_len) return result;

  result.outcome = ReassemblyOutcome::complete;
  result.datagram = build(d);
  erase(it);
  return result;
}

base::PacketBuf Reassembler::build(const Datagram& d) {
  const std::uint32_t total = *d.total_len;
  base::PacketBuf out(wire::Ipv4Repr::header_len() + total);
  base::MutByteSpan bytes = out.data();
  // The first fragment's header (fragment 0 is always held when complete).
  const base::ByteSpan first(d.first_header);
  wire::Ipv4Repr repr;
  repr.tos = first[1];
  repr.ident = base::load_be16(first, 4);
  repr.dont_fragment = (first[6] & 0x40) != 0;
  repr.more_fragments = false;
  repr.frag_offset = 0;
  repr.ttl = first[8];
  repr.protocol = first[9];
  repr.src = base::Ipv4Addr(base::load_be32(first, 12));
  repr.dst = base::Ipv4Addr(base::load_be32(first, 16));
  repr.payload_len = static_cast<std::uint16_t>(total);
  repr.emit(bytes.first(wire::Ipv4Repr::header_len()));
  std::size_t at = wire::Ipv4Repr::header_len();
  for (const auto& [o, piece] : d.fragments) {
    std::memcpy(bytes.data() + at, piece.data(), piece.size());
    at += piece.size();
  }
  return out;
}

void Reassembler::poll(Instant now, std::vector<ExpiredDatagram>& out) {
  // RFC 1122 3.3.2: "if the timer runs out, the [partially-reassembled datagram]
  // MUST be discarded"; the caller sends ICMP time exceeded when had_first_fragment.
  for (auto& r : pending_expired_) out.push_back(std::move(r.info));
  pending_expired_.clear();
  for (auto it = datagrams_.begin(); it != datagrams_.end();) {
    if (now >= it->second.deadline) {
      out.push_back(report(it->second).info);
      bytes_in_use_ -= it->second.bytes;
      mem_.release(it->second.charged);
      it = datagrams_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<Instant> Reassembler::next_deadline() const {
  std::optional<Instant> next;
  for (const auto& r : pending_expired_) {
    if (!next || r.deadline < *next) next = r.deadline;
  }
  for (const auto& [key, d] : datagrams_) {
    if (!next || d.deadline < *next) next = d.deadline;
  }
  return next;
}

}  // namespace ustack::ip
