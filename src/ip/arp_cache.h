// The ARP neighbour cache (RFC 826; RFC 1122 2.3.2.1 and 2.3.2.2): bounded, aged,
// with request retries and a bounded queue of packets waiting for resolution.
// Pure data structure: the caller sends requests and frames; time is passed in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/addr.h"
#include "base/packet.h"
#include "base/time.h"

namespace ustack::ip {

struct ArpConfig {
  std::size_t max_entries = 1024;               // resolved + pending + static
  base::Duration reachable_time = std::chrono::seconds(60);  // a learned entry ages out after this
  base::Duration retry_interval = std::chrono::seconds(1);
  unsigned max_requests = 3;                    // requests sent before giving up
  std::size_t max_queued_per_entry = 8;         // RFC 1122 2.3.2.2: SHOULD keep at least one
  base::Duration failed_hold = std::chrono::seconds(3);  // how long a failed entry answers "unreachable"
};

struct ArpEntryInfo {
  base::Ipv4Addr ip;
  std::optional<base::MacAddr> mac;  // nullopt while incomplete or failed
  enum class State { incomplete, reachable, failed, permanent } state;
  base::Instant expires;             // meaningless for permanent
};

/// What the caller must do after a cache operation.
struct ArpWork {
  std::vector<base::Ipv4Addr> send_requests;                 // broadcast a request for each
  std::vector<std::pair<base::MacAddr, base::PacketBuf>> ready;  // queued IP packets now resolvable
  std::vector<base::PacketBuf> failed;                        // packets dropped: no answer came
  std::vector<base::PacketBuf> dropped;                       // packets dropped for room (queue or cache full)
};

class ArpCache {
 public:
  explicit ArpCache(ArpConfig config = {});

  /// The MAC for ip if the entry is reachable (not expired) or permanent.
  std::optional<base::MacAddr> lookup(base::Ipv4Addr ip, base::Instant now) const;

  /// Queues an IP packet for ip, which has no usable entry. Creates an incomplete
  /// entry (and asks for a request in work.send_requests) if there is none. When
  /// the entry's queue is full, the oldest packet is dropped (returned in
  /// work.dropped); when the entry is failed, the packet itself is returned in
  /// work.failed. When the cache is full and no entry can be evicted, the packet is
  /// returned in work.dropped.
  void enqueue(base::Ipv4Addr ip, base::PacketBuf packet, base::Instant now, ArpWork& work);

  /// Records ip -> mac (RFC 826 "merge"). With create=false only an existing entry
  /// is updated (RFC 826: the sender is added only if we are the target). Packets
  /// waiting for ip are moved to work.ready. Permanent entries are never changed.
  void update(base::Ipv4Addr ip, base::MacAddr mac, base::Instant now, bool create, ArpWork& work);

  void add_static(base::Ipv4Addr ip, base::MacAddr mac);
  bool remove(base::Ipv4Addr ip);

  /// Fires retries (work.send_requests), gives up after max_requests (work.failed),
  /// and removes expired entries.
  void poll(base::Instant now, ArpWork& work);
  std::optional<base::Instant> next_deadline() const;

  /// A snapshot, sorted by address. For an incomplete entry `expires` is the next retry.
  std::vector<ArpEntryInfo> entries() const;
  std::size_t size() const { return entries_.size(); }
  std::size_t queued_packets() const;
  /// Entries evicted to make room for new ones (max_entries reached).
  std::uint64_t evictions() const { return evictions_; }

 private:
  struct Entry {
    ArpEntryInfo::State state = ArpEntryInfo::State::incomplete;
    base::MacAddr mac;
    base::Instant expires;       // reachable: age-out; failed: end of hold
    base::Instant next_request;  // incomplete: when to retry
    unsigned requests_sent = 0;
    std::deque<base::PacketBuf> queue;
  };
  bool make_room(base::Instant now);
  void start_resolution(base::Ipv4Addr ip, Entry& e, base::Instant now, ArpWork& work);
  void push_queued(Entry& e, base::PacketBuf packet, ArpWork& work);
  ArpConfig config_;
  std::unordered_map<std::uint32_t, Entry> entries_;
  std::uint64_t evictions_ = 0;
};

}  // namespace ustack::ip
