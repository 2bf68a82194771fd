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
  // Poisoning protection (docs/hardening.md).
  /// Linux arp_accept: with false (Linux's default 0) an ARP reply for an address
  /// with no entry creates none: only a reply to a request of ours (an incomplete
  /// entry) or a request addressed to us teaches a new neighbour.
  bool accept_unsolicited = false;
  /// With true (the default), a reachable entry's MAC is never changed by ARP
  /// (a reply, a request or a gratuitous ARP with another MAC): it keeps its MAC
  /// until it ages out and is resolved again. With false, Linux's rule: a change
  /// is refused only within `locktime` of the entry's last update.
  bool protect_reachable = true;
  /// Linux neigh locktime (net.ipv4.neigh.*.locktime, 1 s).
  base::Duration locktime = std::chrono::seconds(1);
};

/// What update() did with an ARP message's sender.
enum class ArpUpdate {
  learned,               // a new entry, or an incomplete/failed/expired one resolved
  refreshed,             // a reachable entry confirmed with the same MAC
  changed,               // a reachable entry's MAC replaced (protection off, past locktime)
  not_created,           // no entry and create=false (RFC 826: we are not the target)
  refused_unsolicited,   // a reply for an address we never asked (accept_unsolicited off)
  refused_change,        // a reachable entry's MAC kept (protect_reachable, or within locktime)
  permanent,             // a static entry: never changed
  no_room,               // the cache is full and nothing could be evicted
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
  /// is updated (RFC 826: the sender is added only if we are the target); with
  /// is_reply a missing entry is created only if accept_unsolicited. A reachable
  /// entry's MAC changes only as ArpConfig's protection allows. Packets waiting
  /// for ip are moved to work.ready. Permanent entries are never changed.
  ArpUpdate update(base::Ipv4Addr ip, base::MacAddr mac, base::Instant now, bool create, ArpWork& work,
                   bool is_reply = false);

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
    base::Instant updated{};     // reachable: when its MAC was last set or confirmed (locktime)
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
