// IPv4 fragment reassembly (RFC 791 3.2, RFC 815) with a timeout and memory
// limits. Overlapping fragments drop the whole datagram (as Linux does since
// CVE-2018-5391; RFC 5722 makes the same choice for IPv6); exact duplicates are ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "base/memory.h"
#include "base/packet.h"
#include "base/time.h"
#include "wire/ipv4.h"

namespace ustack::ip {

struct ReassemblyConfig {
  base::Duration timeout = std::chrono::seconds(30);  // Linux ipfrag_time
  std::size_t max_bytes = 4u << 20;                   // all datagrams in progress (Linux ipfrag_high_thresh)
  std::size_t max_datagrams = 1024;
  std::size_t max_fragments_per_datagram = 64;
};

enum class ReassemblyOutcome {
  incomplete,        // kept, waiting for more
  complete,          // datagram returned
  duplicate,         // an exact copy of a fragment already held: ignored
  dropped_overlap,   // overlapped another fragment: the whole datagram was discarded
  dropped_invalid,   // past 65535 bytes, misaligned offset, or inconsistent last fragment
  dropped_limit,     // memory (max_bytes or the stack's account), datagram or fragment-count limit reached
};

struct Reassembled {
  ReassemblyOutcome outcome = ReassemblyOutcome::incomplete;
  /// When complete: the whole datagram, a 20-byte header (the first fragment's
  /// addresses, protocol, id and TTL; no options; MF and offset cleared; total
  /// length and checksum recomputed) followed by the payload.
  std::optional<base::PacketBuf> datagram;
};

struct ExpiredDatagram {
  bool had_first_fragment = false;  // RFC 1122 3.3.2: time exceeded only if fragment 0 arrived
  /// The first fragment's IP header + up to 8 bytes of its payload, to quote in
  /// ICMP time exceeded (code 1). Empty if fragment 0 never arrived.
  base::PacketBuf first_fragment_prefix;
};

/// Each fragment held is charged to the stack's memory account at its length
/// plus this (the map node and vector that hold it), as Linux charges an skb's
/// truesize: a flood of 8-byte fragments costs what it really holds.
inline constexpr std::size_t kFragmentOverhead = 96;

class Reassembler {
 public:
  /// `memory`: the stack's account, charged with what is held (may be null), up
  /// to its pressure threshold: fragments never take the band above it, kept for
  /// sockets' received data (docs/hardening.md).
  explicit Reassembler(ReassemblyConfig config = {}, base::MemoryAccount* memory = nullptr);

  /// Adds one fragment (frag.is_fragment() must be true; frag is validated).
  Reassembled add(const wire::Ipv4View& frag, base::Instant now);
  /// Discards datagrams past their timeout; reports them in out.
  void poll(base::Instant now, std::vector<ExpiredDatagram>& out);
  std::optional<base::Instant> next_deadline() const;

  /// Payload bytes held (ReassemblyConfig::max_bytes bounds them).
  std::size_t bytes_in_use() const { return bytes_in_use_; }
  /// What is charged to the memory account: payload and per-fragment overhead.
  std::size_t bytes_charged() const { return mem_.bytes(); }
  std::size_t datagrams_in_progress() const { return datagrams_.size(); }

 private:
  struct Key {
    std::uint32_t src, dst;
    std::uint16_t ident;
    std::uint8_t protocol;
    auto operator<=>(const Key&) const = default;
  };
  struct Datagram {
    base::Instant deadline;
    std::map<std::uint32_t, std::vector<base::Byte>> fragments;  // offset -> payload
    std::optional<std::uint32_t> total_len;                      // payload length, once the last fragment arrived
    std::vector<base::Byte> first_header;                        // header of fragment 0, +8 bytes
    std::size_t bytes = 0;
    std::size_t charged = 0;                                     // bytes + overhead per fragment
  };
  /// A datagram found timed out by add() before poll() saw it: reported at the next poll.
  struct ExpiredReport {
    base::Instant deadline;
    ExpiredDatagram info;
  };
  void erase(std::map<Key, Datagram>::iterator it);
  static ExpiredReport report(const Datagram& d);
  static base::PacketBuf build(const Datagram& d);
  ReassemblyConfig config_;
  std::map<Key, Datagram> datagrams_;
  std::vector<ExpiredReport> pending_expired_;
  std::size_t bytes_in_use_ = 0;
  base::MemCharge mem_;
};

}  // namespace ustack::ip
