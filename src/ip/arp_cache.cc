// The ARP neighbour cache (RFC 826; RFC 1122 2.3.2.1 and 2.3.2.2).
//
// Entry life cycle, all driven by the caller's clock:
//   incomplete --(reply)--> reachable --(reachable_time)--> removed
//   incomplete --(max_requests sent, no reply)--> failed --(failed_hold)--> removed
//   permanent: set by add_static(), never aged, never evicted, never updated.
#include "ip/arp_cache.h"

#include <algorithm>
#include <utility>

namespace ustack::ip {

using base::Instant;
using base::Ipv4Addr;
using base::MacAddr;
using base::PacketBuf;
using State = ArpEntryInfo::State;

ArpCache::ArpCache(ArpConfig config) : config_(config) {}

std::optional<MacAddr> ArpCache::lookup(Ipv4Addr ip, Instant now) const {
  const auto it = entries_.find(ip.value());
  if (it == entries_.end()) return std::nullopt;
  const Entry& e = it->second;
  if (e.state == State::permanent) return e.mac;
  if (e.state == State::reachable && now < e.expires) return e.mac;
  return std::nullopt;
}

void ArpCache::start_resolution(Ipv4Addr ip, Entry& e, Instant now, ArpWork& work) {
  e.state = State::incomplete;
  e.mac = MacAddr();
  e.requests_sent = 1;
  e.next_request = now + config_.retry_interval;
  e.expires = Instant{};
  work.send_requests.push_back(ip);
}

void ArpCache::push_queued(Entry& e, PacketBuf packet, ArpWork& work) {
  // RFC 1122 2.3.2.2: "The link layer SHOULD save (rather than discard) at least
  // one (the latest) packet of each set of packets destined to the same
  // unresolved IP address". The oldest is dropped when the queue is full.
  if (config_.max_queued_per_entry == 0) {
    work.dropped.push_back(std::move(packet));
    return;
  }
  while (e.queue.size() >= config_.max_queued_per_entry) {
    work.dropped.push_back(std::move(e.queue.front()));
    e.queue.pop_front();
  }
  e.queue.push_back(std::move(packet));
}

void ArpCache::enqueue(Ipv4Addr ip, PacketBuf packet, Instant now, ArpWork& work) {
  auto it = entries_.find(ip.value());
  if (it != entries_.end()) {
    Entry& e = it->second;
    switch (e.state) {
      case State::permanent:
        work.ready.emplace_back(e.mac, std::move(packet));
        return;
      case State::reachable:
        if (now < e.expires) {  // the caller did not need to queue: send it now
          work.ready.emplace_back(e.mac, std::move(packet));
          return;
        }
        start_resolution(ip, e, now, work);  // aged out but not yet polled away
        break;
      case State::failed:
        if (now < e.expires) {  // still answering "unreachable"
          work.failed.push_back(std::move(packet));
          return;
        }
        start_resolution(ip, e, now, work);  // hold over: try again
        break;
      case State::incomplete:
        break;
    }
    push_queued(e, std::move(packet), work);
    return;
  }
  if (entries_.size() >= config_.max_entries && !make_room(now)) {
    work.dropped.push_back(std::move(packet));
    return;
  }
  Entry& e = entries_[ip.value()];
  start_resolution(ip, e, now, work);
  push_queued(e, std::move(packet), work);
}

ArpUpdate ArpCache::update(Ipv4Addr ip, MacAddr mac, Instant now, bool create, ArpWork& work, bool is_reply) {
  auto it = entries_.find(ip.value());
  ArpUpdate result = ArpUpdate::learned;
  if (it == entries_.end()) {
    // RFC 826: "If the pair <protocol type, sender protocol address> is already
    // in my translation table, update ... [only] if I am the target protocol
    // address ... add the triplet".
    if (!create) return ArpUpdate::not_created;
    // Linux arp_process(), arp_accept=0: a reply for which no neighbour entry
    // exists is not learned ("n = __neigh_lookup(&arp_tbl, &sip, dev, 0)" with
    // create only when arp_accept allows); a request to us is (neigh_event_ns).
    if (is_reply && !config_.accept_unsolicited) return ArpUpdate::refused_unsolicited;
    if (entries_.size() >= config_.max_entries && !make_room(now)) return ArpUpdate::no_room;
    it = entries_.emplace(ip.value(), Entry{}).first;
  }
  Entry& e = it->second;
  if (e.state == State::permanent) return ArpUpdate::permanent;
  if (e.state == State::reachable && now < e.expires) {
    if (e.mac == mac) {
      result = ArpUpdate::refreshed;
    } else {
      // Another MAC for a live entry: what ARP spoofing sends. Refused outright
      // with protect_reachable; otherwise Linux's rule (arp_process: "override =
      // time_after(jiffies, n->updated + NEIGH_VAR(n->parms, LOCKTIME))", and
      // neigh_update() without NEIGH_UPDATE_F_OVERRIDE keeps a valid entry's address).
      if (config_.protect_reachable || now < e.updated + config_.locktime) return ArpUpdate::refused_change;
      result = ArpUpdate::changed;
    }
  }
  e.state = State::reachable;
  e.mac = mac;
  e.expires = now + config_.reachable_time;
  e.updated = now;
  e.requests_sent = 0;
  while (!e.queue.empty()) {
    work.ready.emplace_back(mac, std::move(e.queue.front()));
    e.queue.pop_front();
  }
  return result;
}

void ArpCache::add_static(Ipv4Addr ip, MacAddr mac) {
  auto it = entries_.find(ip.value());
  if (it == entries_.end()) {
    // Static entries are configuration: never refused. Make room as enqueue would;
    // if only incomplete and permanent entries remain, the table grows past max_entries.
    if (entries_.size() >= config_.max_entries) make_room(Instant{});
    it = entries_.emplace(ip.value(), Entry{}).first;
  }
  Entry& e = it->second;
  e.state = State::permanent;
  e.mac = mac;
  e.requests_sent = 0;
  // Packets queued while the entry was incomplete stay queued and are handed out
  // as ready by the next poll() (add_static has no ArpWork to return them in).
}

bool ArpCache::remove(Ipv4Addr ip) { return entries_.erase(ip.value()) != 0; }

bool ArpCache::make_room(Instant now) {
  // Evict a failed or expired entry first, else the reachable entry closest to
  // expiry. Incomplete entries hold packets and permanent ones are configuration:
  // neither is evicted.
  auto victim = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const Entry& e = it->second;
    if (e.state == State::failed || (e.state == State::reachable && now >= e.expires)) {
      victim = it;
      break;
    }
    if (e.state == State::reachable &&
        (victim == entries_.end() || e.expires < victim->second.expires)) {
      victim = it;
    }
  }
  if (victim == entries_.end()) return false;
  entries_.erase(victim);
  ++evictions_;
  return true;
}

void ArpCache::poll(Instant now, ArpWork& work) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    const Ipv4Addr ip(it->first);
    bool erase = false;
    switch (e.state) {
      case State::permanent:
        while (!e.queue.empty()) {
          work.ready.emplace_back(e.mac, std::move(e.queue.front()));
          e.queue.pop_front();
        }
        break;
      case State::reachable:
        erase = now >= e.expires;
        break;
      case State::failed:
        erase = now >= e.expires;
        break;
      case State::incomplete:
        if (now < e.next_request) break;
        if (e.requests_sent < config_.max_requests) {
          // RFC 1122 2.3.2.1: retransmit, but "prevent ARP flooding": at most one
          // request per retry_interval.
          ++e.requests_sent;
          e.next_request = now + config_.retry_interval;
          work.send_requests.push_back(ip);
        } else {
          // No answer to max_requests requests, each given retry_interval.
          e.state = State::failed;
          e.expires = now + config_.failed_hold;
          while (!e.queue.empty()) {
            work.failed.push_back(std::move(e.queue.front()));
            e.queue.pop_front();
          }
        }
        break;
    }
    it = erase ? entries_.erase(it) : std::next(it);
  }
}

std::optional<Instant> ArpCache::next_deadline() const {
  std::optional<Instant> next;
  const auto consider = [&next](Instant t) {
    if (!next || t < *next) next = t;
  };
  for (const auto& [ip, e] : entries_) {
    switch (e.state) {
      case State::permanent:
        if (!e.queue.empty()) consider(Instant{});  // packets to hand out: poll now
        break;
      case State::reachable:
      case State::failed:
        consider(e.expires);
        break;
      case State::incomplete:
        consider(e.next_request);
        break;
    }
  }
  return next;
}

std::vector<ArpEntryInfo> ArpCache::entries() const {
  std::vector<ArpEntryInfo> out;
  out.reserve(entries_.size());
  for (const auto& [ip, e] : entries_) {
    ArpEntryInfo info{Ipv4Addr(ip), std::nullopt, e.state, e.expires};
    if (e.state == State::reachable || e.state == State::permanent) info.mac = e.mac;
    if (e.state == State::incomplete) info.expires = e.next_request;
    out.push_back(info);
  }
  std::sort(out.begin(), out.end(),
            [](const ArpEntryInfo& a, const ArpEntryInfo& b) { return a.ip < b.ip; });
  return out;
}

std::size_t ArpCache::queued_packets() const {
  std::size_t n = 0;
  for (const auto& [ip, e] : entries_) n += e.queue.size();
  return n;
}

}  // namespace ustack::ip
