// ArpCache: retries, failure and hold (RFC 1122 2.3.2.1), the bounded queue
// (RFC 1122 2.3.2.2), RFC 826 merge with and without create, aging, static entries,
// the max_entries eviction policy and next_deadline().
#include "ip/arp_cache.h"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using ustack::base::Instant;
using ustack::base::Ipv4Addr;
using ustack::base::MacAddr;
using ustack::base::PacketBuf;
using ustack::ip::ArpCache;
using ustack::ip::ArpConfig;
using ustack::ip::ArpEntryInfo;
using ustack::ip::ArpWork;
using State = ArpEntryInfo::State;

namespace {

const Instant t0 = ustack::base::kEpoch + 1000s;
const Ipv4Addr kIp(198, 18, 0, 2);
const MacAddr kMac({0x02, 0, 0, 0, 0, 0x02});
const MacAddr kMac2({0x02, 0, 0, 0, 0, 0x22});

/// A one-byte packet tagged n, to check order.
PacketBuf pkt(std::uint8_t n) {
  const std::uint8_t b[1] = {n};
  return PacketBuf::copy_of(b);
}
std::uint8_t tag(const PacketBuf& p) { return p.data()[0]; }

Ipv4Addr host(int n) { return Ipv4Addr(198, 18, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)); }

std::optional<ArpEntryInfo> info(const ArpCache& c, Ipv4Addr ip) {
  for (const auto& e : c.entries()) {
    if (e.ip == ip) return e;
  }
  return std::nullopt;
}

}  // namespace

TEST(ArpCache, EnqueueCreatesIncompleteEntryAndAsksForOneRequest) {
  ArpCache c;
  ArpWork w;
  c.enqueue(kIp, pkt(1), t0, w);
  ASSERT_EQ(w.send_requests.size(), 1u);
  EXPECT_EQ(w.send_requests[0], kIp);
  EXPECT_TRUE(w.ready.empty());
  EXPECT_TRUE(w.failed.empty());
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.queued_packets(), 1u);
  EXPECT_FALSE(c.lookup(kIp, t0));
  auto e = info(c, kIp);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, State::incomplete);
  EXPECT_FALSE(e->mac);

  // A second packet for the same address joins the queue without a second request.
  ArpWork w2;
  c.enqueue(kIp, pkt(2), t0 + 100ms, w2);
  EXPECT_TRUE(w2.send_requests.empty());
  EXPECT_EQ(c.queued_packets(), 2u);
}

TEST(ArpCache, RetriesEverySecondThenFailsAfterThreeRequestsThenHoldsThenRemoves) {
  ArpCache c;  // retry 1 s, 3 requests, 3 s hold
  ArpWork w;
  c.enqueue(kIp, pkt(1), t0, w);
  c.enqueue(kIp, pkt(2), t0, w);
  ASSERT_EQ(w.send_requests.size(), 1u);  // request 1 at t0
  EXPECT_EQ(c.next_deadline(), t0 + 1s);

  ArpWork a;
  c.poll(t0 + 999ms, a);  // not yet
  EXPECT_TRUE(a.send_requests.empty());
  c.poll(t0 + 1s, a);  // request 2
  ASSERT_EQ(a.send_requests.size(), 1u);
  EXPECT_EQ(a.send_requests[0], kIp);
  EXPECT_EQ(c.next_deadline(), t0 + 2s);
  c.poll(t0 + 1500ms, a);
  EXPECT_EQ(a.send_requests.size(), 1u);
  c.poll(t0 + 2s, a);  // request 3
  EXPECT_EQ(a.send_requests.size(), 2u);
  EXPECT_EQ(c.next_deadline(), t0 + 3s);
  EXPECT_TRUE(a.failed.empty());

  ArpWork f;
  c.poll(t0 + 3s, f);  // no answer to 3 requests: failed, queue dropped in order
  EXPECT_TRUE(f.send_requests.empty());
  ASSERT_EQ(f.failed.size(), 2u);
  EXPECT_EQ(tag(f.failed[0]), 1);
  EXPECT_EQ(tag(f.failed[1]), 2);
  EXPECT_EQ(c.queued_packets(), 0u);
  EXPECT_EQ(info(c, kIp)->state, State::failed);
  EXPECT_EQ(c.next_deadline(), t0 + 6s);

  // While failed, a new packet is refused at once, with no new request.
  ArpWork r;
  c.enqueue(kIp, pkt(3), t0 + 4s, r);
  EXPECT_TRUE(r.send_requests.empty());
  ASSERT_EQ(r.failed.size(), 1u);
  EXPECT_EQ(tag(r.failed[0]), 3);
  EXPECT_EQ(c.queued_packets(), 0u);

  ArpWork h;
  c.poll(t0 + 6s - 1ns, h);
  EXPECT_EQ(c.size(), 1u);
  c.poll(t0 + 6s, h);  // the hold ends: the entry is removed
  EXPECT_EQ(c.size(), 0u);
  EXPECT_FALSE(c.next_deadline());
  EXPECT_TRUE(h.send_requests.empty());
  EXPECT_TRUE(h.failed.empty());

  // After that a packet starts resolution afresh.
  ArpWork n;
  c.enqueue(kIp, pkt(4), t0 + 7s, n);
  EXPECT_EQ(n.send_requests.size(), 1u);
  EXPECT_EQ(info(c, kIp)->state, State::incomplete);
}

TEST(ArpCache, QueueIsBoundedAndDropsTheOldest) {
  ArpConfig cfg;
  cfg.max_queued_per_entry = 3;
  ArpCache c(cfg);
  ArpWork w;
  for (std::uint8_t i = 1; i <= 5; ++i) c.enqueue(kIp, pkt(i), t0, w);
  EXPECT_EQ(c.queued_packets(), 3u);
  // Dropped for room, not failed: the host may still answer.
  EXPECT_TRUE(w.failed.empty());
  ASSERT_EQ(w.dropped.size(), 2u);
  EXPECT_EQ(tag(w.dropped[0]), 1);
  EXPECT_EQ(tag(w.dropped[1]), 2);
  EXPECT_EQ(w.send_requests.size(), 1u);

  ArpWork u;
  c.update(kIp, kMac, t0 + 10ms, /*create=*/false, u);
  ASSERT_EQ(u.ready.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(u.ready[i].first, kMac);
    EXPECT_EQ(tag(u.ready[i].second), 3 + i);
  }
}

TEST(ArpCache, UpdateReleasesQueuedPacketsInOrderAndMakesEntryReachable) {
  ArpCache c;
  ArpWork w;
  for (std::uint8_t i = 1; i <= 8; ++i) c.enqueue(kIp, pkt(i), t0, w);
  EXPECT_TRUE(w.failed.empty());
  ArpWork u;
  c.update(kIp, kMac, t0 + 1500ms, /*create=*/false, u);
  ASSERT_EQ(u.ready.size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(u.ready[i].first, kMac);
    EXPECT_EQ(tag(u.ready[i].second), i + 1);
  }
  EXPECT_EQ(c.queued_packets(), 0u);
  EXPECT_EQ(c.lookup(kIp, t0 + 1500ms), kMac);
  auto e = info(c, kIp);
  EXPECT_EQ(e->state, State::reachable);
  EXPECT_EQ(e->mac, kMac);
  EXPECT_EQ(e->expires, t0 + 1500ms + 60s);
  // No more retries: the only deadline left is the age-out.
  EXPECT_EQ(c.next_deadline(), t0 + 61500ms);
  ArpWork p;
  c.poll(t0 + 3s, p);
  EXPECT_TRUE(p.send_requests.empty());
  EXPECT_TRUE(p.failed.empty());

  // A packet enqueued for a reachable entry is simply ready.
  ArpWork q;
  c.enqueue(kIp, pkt(9), t0 + 4s, q);
  ASSERT_EQ(q.ready.size(), 1u);
  EXPECT_EQ(tag(q.ready[0].second), 9);
  EXPECT_TRUE(q.send_requests.empty());
}

TEST(ArpCache, UpdateWithoutCreateDoesNotCreate) {
  ArpCache c;
  ArpWork w;
  c.update(kIp, kMac, t0, /*create=*/false, w);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_FALSE(c.lookup(kIp, t0));
  c.update(kIp, kMac, t0, /*create=*/true, w);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.lookup(kIp, t0), kMac);
  // create=false does update an existing entry, and refreshes its age.
  EXPECT_EQ(c.update(kIp, kMac, t0 + 30s, /*create=*/false, w), ustack::ip::ArpUpdate::refreshed);
  EXPECT_EQ(c.lookup(kIp, t0 + 30s), kMac);
  EXPECT_EQ(info(c, kIp)->expires, t0 + 90s);
  EXPECT_TRUE(w.ready.empty());
}

// --- Poisoning protection (docs/hardening.md) ------------------------------------

using ustack::ip::ArpUpdate;

TEST(ArpPoisoning, AReplyNeverAskedForTeachesNothing) {
  // Linux arp_accept=0: a reply for an address with no entry is not learned.
  ArpCache c;
  ArpWork w;
  EXPECT_EQ(c.update(kIp, kMac, t0, /*create=*/true, w, /*is_reply=*/true), ArpUpdate::refused_unsolicited);
  EXPECT_EQ(c.size(), 0u);
  // A request addressed to us does teach the sender (RFC 826; Linux neigh_event_ns).
  EXPECT_EQ(c.update(kIp, kMac, t0, /*create=*/true, w, /*is_reply=*/false), ArpUpdate::learned);
  EXPECT_EQ(c.lookup(kIp, t0), kMac);
}

TEST(ArpPoisoning, AcceptUnsolicitedLearnsFromAnyReply) {
  ArpConfig cfg;
  cfg.accept_unsolicited = true;  // Linux arp_accept=1
  ArpCache c(cfg);
  ArpWork w;
  EXPECT_EQ(c.update(kIp, kMac, t0, true, w, true), ArpUpdate::learned);
  EXPECT_EQ(c.lookup(kIp, t0), kMac);
}

TEST(ArpPoisoning, TheReplyToOurRequestIsLearned) {
  ArpCache c;
  ArpWork w;
  c.enqueue(kIp, pkt(1), t0, w);  // an outstanding request
  EXPECT_EQ(c.update(kIp, kMac, t0 + 5ms, true, w, true), ArpUpdate::learned);
  EXPECT_EQ(c.lookup(kIp, t0 + 5ms), kMac);
  EXPECT_EQ(w.ready.size(), 1u);
}

TEST(ArpPoisoning, AReachableEntryKeepsItsMacAgainstRepliesRequestsAndGratuitousArp) {
  ArpCache c;
  ArpWork w;
  c.enqueue(kIp, pkt(1), t0, w);
  ASSERT_EQ(c.update(kIp, kMac, t0 + 5ms, true, w, true), ArpUpdate::learned);
  // Spoofed: a reply to us, a request to us, a gratuitous ARP (not for us), long after locktime.
  EXPECT_EQ(c.update(kIp, kMac2, t0 + 10s, true, w, true), ArpUpdate::refused_change);
  EXPECT_EQ(c.update(kIp, kMac2, t0 + 20s, true, w, false), ArpUpdate::refused_change);
  EXPECT_EQ(c.update(kIp, kMac2, t0 + 30s, false, w, false), ArpUpdate::refused_change);
  EXPECT_EQ(c.lookup(kIp, t0 + 30s), kMac);
  EXPECT_EQ(info(c, kIp)->expires, t0 + 5ms + 60s);  // refused messages do not refresh it either
  // The genuine owner confirms it.
  EXPECT_EQ(c.update(kIp, kMac, t0 + 40s, true, w, true), ArpUpdate::refreshed);
  EXPECT_EQ(info(c, kIp)->expires, t0 + 100s);
  // Once it has aged out, a new resolution learns whatever answers (a host that
  // really moved is reachable again after reachable_time).
  c.poll(t0 + 101s, w);
  c.enqueue(kIp, pkt(2), t0 + 102s, w);
  EXPECT_EQ(c.update(kIp, kMac2, t0 + 102s, true, w, true), ArpUpdate::learned);
  EXPECT_EQ(c.lookup(kIp, t0 + 102s), kMac2);
}

TEST(ArpPoisoning, WithoutProtectionLinuxLocktimeRules) {
  // Linux: "override = time_after(jiffies, n->updated + NEIGH_VAR(n->parms,
  // LOCKTIME))": another MAC is refused within locktime (1 s) of the last update.
  ArpConfig cfg;
  cfg.protect_reachable = false;
  ArpCache c(cfg);
  ArpWork w;
  ASSERT_EQ(c.update(kIp, kMac, t0, true, w), ArpUpdate::learned);
  EXPECT_EQ(c.update(kIp, kMac2, t0 + 500ms, true, w, true), ArpUpdate::refused_change);
  EXPECT_EQ(c.lookup(kIp, t0 + 500ms), kMac);
  EXPECT_EQ(c.update(kIp, kMac2, t0 + 1500ms, true, w, true), ArpUpdate::changed);
  EXPECT_EQ(c.lookup(kIp, t0 + 1500ms), kMac2);
  // A confirmation restarts the lock.
  EXPECT_EQ(c.update(kIp, kMac2, t0 + 3s, false, w), ArpUpdate::refreshed);
  EXPECT_EQ(c.update(kIp, kMac, t0 + 3500ms, false, w), ArpUpdate::refused_change);
}

TEST(ArpCache, ReachableEntriesAgeOut) {
  ArpCache c;
  ArpWork w;
  c.update(kIp, kMac, t0, true, w);
  EXPECT_EQ(c.next_deadline(), t0 + 60s);
  EXPECT_EQ(c.lookup(kIp, t0 + 60s - 1ns), kMac);
  EXPECT_FALSE(c.lookup(kIp, t0 + 60s));  // expired: ignored before poll removes it
  EXPECT_EQ(c.size(), 1u);
  c.poll(t0 + 60s - 1ns, w);
  EXPECT_EQ(c.size(), 1u);
  c.poll(t0 + 60s, w);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_FALSE(c.next_deadline());
}

TEST(ArpCache, EnqueueOnExpiredUnpolledEntryStartsResolution) {
  ArpCache c;
  ArpWork w;
  c.update(kIp, kMac, t0, true, w);
  ArpWork q;
  c.enqueue(kIp, pkt(1), t0 + 61s, q);
  EXPECT_TRUE(q.ready.empty());
  ASSERT_EQ(q.send_requests.size(), 1u);
  EXPECT_EQ(info(c, kIp)->state, State::incomplete);
  EXPECT_EQ(c.queued_packets(), 1u);
}

TEST(ArpCache, StaticEntriesAreImmuneToUpdateAgingAndEviction) {
  ArpConfig cfg;
  cfg.max_entries = 2;
  ArpCache c(cfg);
  c.add_static(kIp, kMac);
  ArpWork w;
  c.update(kIp, kMac2, t0, true, w);
  c.update(kIp, kMac2, t0, false, w);
  EXPECT_EQ(c.lookup(kIp, t0), kMac);
  EXPECT_EQ(c.lookup(kIp, t0 + 24h), kMac);
  c.poll(t0 + 24h, w);
  EXPECT_EQ(c.lookup(kIp, t0 + 24h), kMac);
  EXPECT_EQ(info(c, kIp)->state, State::permanent);
  EXPECT_FALSE(c.next_deadline());

  // Fill the cache with a learned entry; a third address evicts it, never the static one.
  c.update(host(10), kMac2, t0, true, w);
  EXPECT_EQ(c.size(), 2u);
  c.update(host(11), kMac2, t0 + 1s, true, w);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.lookup(kIp, t0 + 1s), kMac);
  EXPECT_FALSE(c.lookup(host(10), t0 + 1s));
  EXPECT_EQ(c.lookup(host(11), t0 + 1s), kMac2);
  EXPECT_EQ(c.evictions(), 1u);

  // A packet for a static entry is ready at once.
  ArpWork q;
  c.enqueue(kIp, pkt(1), t0, q);
  ASSERT_EQ(q.ready.size(), 1u);
  EXPECT_EQ(q.ready[0].first, kMac);

  // Only remove() takes it away.
  EXPECT_TRUE(c.remove(kIp));
  EXPECT_FALSE(c.remove(kIp));
  EXPECT_FALSE(c.lookup(kIp, t0));
}

TEST(ArpCache, StaticEntryReplacingAPendingOneReleasesItsQueueAtNextPoll) {
  ArpCache c;
  ArpWork w;
  c.enqueue(kIp, pkt(1), t0, w);
  c.enqueue(kIp, pkt(2), t0, w);
  c.add_static(kIp, kMac);
  EXPECT_EQ(c.next_deadline(), Instant{});  // overdue: poll now
  ArpWork p;
  c.poll(t0, p);
  ASSERT_EQ(p.ready.size(), 2u);
  EXPECT_EQ(tag(p.ready[0].second), 1);
  EXPECT_EQ(tag(p.ready[1].second), 2);
  EXPECT_TRUE(p.send_requests.empty());
  EXPECT_FALSE(c.next_deadline());
}

TEST(ArpCache, FullCacheEvictsFailedFirstThenReachableClosestToExpiry) {
  ArpConfig cfg;
  cfg.max_entries = 4;
  ArpCache c(cfg);
  ArpWork w;
  c.update(host(1), kMac, t0 + 5s, true, w);  // expires t0+65s
  c.update(host(2), kMac, t0 + 1s, true, w);  // expires t0+61s: closest to expiry
  c.update(host(3), kMac, t0 + 9s, true, w);  // expires t0+69s
  c.enqueue(host(4), pkt(1), t0, w);          // incomplete
  ASSERT_EQ(c.size(), 4u);
  // Let host(4) fail: requests at t0, t0+1, t0+2; failed at t0+3.
  for (int s = 1; s <= 3; ++s) c.poll(t0 + std::chrono::seconds(s), w);
  ASSERT_EQ(info(c, host(4))->state, State::failed);

  ArpWork a;
  c.enqueue(host(5), pkt(2), t0 + 10s, a);  // the failed entry goes first
  EXPECT_EQ(a.send_requests.size(), 1u);
  EXPECT_TRUE(a.failed.empty());
  EXPECT_FALSE(info(c, host(4)));
  EXPECT_TRUE(info(c, host(1)));
  EXPECT_TRUE(info(c, host(2)));
  EXPECT_TRUE(info(c, host(3)));

  ArpWork b;
  c.update(host(6), kMac, t0 + 10s, true, b);  // then the reachable one closest to expiry
  EXPECT_FALSE(info(c, host(2)));
  EXPECT_TRUE(info(c, host(1)));
  EXPECT_TRUE(info(c, host(3)));
  EXPECT_EQ(c.size(), 4u);
  EXPECT_EQ(c.evictions(), 2u);
}

TEST(ArpCache, FullCacheEvictsAnExpiredEntryBeforeAFresherOne) {
  ArpConfig cfg;
  cfg.max_entries = 2;
  ArpCache c(cfg);
  ArpWork w;
  c.update(host(1), kMac, t0, true, w);        // expires t0+60s
  c.update(host(2), kMac, t0 + 30s, true, w);  // expires t0+90s
  c.enqueue(host(3), pkt(1), t0 + 70s, w);     // host(1) has expired, not yet polled
  EXPECT_FALSE(info(c, host(1)));
  EXPECT_TRUE(info(c, host(2)));
  EXPECT_TRUE(info(c, host(3)));
}

TEST(ArpCache, FullOfPendingAndStaticEntriesRefusesThePacket) {
  ArpConfig cfg;
  cfg.max_entries = 2;
  ArpCache c(cfg);
  ArpWork w;
  c.add_static(host(1), kMac);
  c.enqueue(host(2), pkt(1), t0, w);
  ArpWork x;
  c.enqueue(host(3), pkt(7), t0, x);
  ASSERT_EQ(x.dropped.size(), 1u);
  EXPECT_EQ(tag(x.dropped[0]), 7);
  EXPECT_TRUE(x.failed.empty());
  EXPECT_TRUE(x.send_requests.empty());
  EXPECT_EQ(c.size(), 2u);
  EXPECT_FALSE(info(c, host(3)));
  // update(create=true) cannot make room either: nothing is learned.
  c.update(host(3), kMac, t0, true, x);
  EXPECT_FALSE(info(c, host(3)));
  EXPECT_EQ(c.evictions(), 0u);
}

TEST(ArpCache, NextDeadlineIsTheEarliestOfRetryExpiryAndHold) {
  ArpCache c;
  EXPECT_FALSE(c.next_deadline());
  ArpWork w;
  c.update(host(1), kMac, t0, true, w);  // t0+60s
  EXPECT_EQ(c.next_deadline(), t0 + 60s);
  c.enqueue(host(2), pkt(1), t0 + 10s, w);  // retry at t0+11s
  EXPECT_EQ(c.next_deadline(), t0 + 11s);
  c.poll(t0 + 11s, w);
  c.poll(t0 + 12s, w);
  EXPECT_EQ(c.next_deadline(), t0 + 13s);
  c.poll(t0 + 13s, w);  // failed, held until t0+16s
  EXPECT_EQ(c.next_deadline(), t0 + 16s);
  c.poll(t0 + 16s, w);
  EXPECT_EQ(c.next_deadline(), t0 + 60s);
}

TEST(ArpCache, UpdateOfAFailedEntryMakesItReachable) {
  ArpCache c;
  ArpWork w;
  c.enqueue(kIp, pkt(1), t0, w);
  for (int s = 1; s <= 3; ++s) c.poll(t0 + std::chrono::seconds(s), w);
  ASSERT_EQ(info(c, kIp)->state, State::failed);
  ArpWork u;
  c.update(kIp, kMac, t0 + 4s, false, u);  // a late reply
  EXPECT_TRUE(u.ready.empty());            // the packets were already dropped
  EXPECT_EQ(c.lookup(kIp, t0 + 4s), kMac);
}

TEST(ArpCache, ZeroQueueLengthRefusesEveryPacketButStillResolves) {
  ArpConfig cfg;
  cfg.max_queued_per_entry = 0;
  ArpCache c(cfg);
  ArpWork w;
  c.enqueue(kIp, pkt(1), t0, w);
  EXPECT_EQ(w.send_requests.size(), 1u);
  EXPECT_EQ(w.dropped.size(), 1u);
  EXPECT_TRUE(w.failed.empty());
  EXPECT_EQ(c.queued_packets(), 0u);
}
