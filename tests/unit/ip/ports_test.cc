// EphemeralPorts: RFC 6056 Algorithm 1 (pick_random) and Algorithm 3 (pick_for).
#include "ip/ports.h"

#include <gtest/gtest.h>

#include <set>

using ustack::base::Endpoint;
using ustack::base::IpAddr;
using ustack::base::Ipv4Addr;
using ustack::base::Random;
using ustack::ip::EphemeralPorts;

namespace {
const IpAddr kLocal = Ipv4Addr(198, 18, 0, 1);
const Endpoint kPeerA{Ipv4Addr(203, 0, 113, 5), 80};
const Endpoint kPeerB{Ipv4Addr(203, 0, 113, 6), 80};
const Endpoint kPeerA443{Ipv4Addr(203, 0, 113, 5), 443};
}  // namespace

TEST(EphemeralPorts, DefaultRangeIsLinuxs) {
  Random rng(1);
  EphemeralPorts p(rng);
  EXPECT_EQ(p.first(), 32768);
  EXPECT_EQ(p.last(), 60999);
}

TEST(EphemeralPorts, PickRandomStaysInRangeAndRespectsIsFree) {
  Random rng(7);
  EphemeralPorts p(rng, 40000, 40099);
  std::set<std::uint16_t> used;
  const auto is_free = [&used](std::uint16_t port) { return !used.contains(port); };
  for (int i = 0; i < 100; ++i) {
    auto port = p.pick_random(is_free);
    ASSERT_TRUE(port) << i;
    EXPECT_GE(*port, 40000);
    EXPECT_LE(*port, 40099);
    EXPECT_TRUE(used.insert(*port).second) << "port " << *port << " handed out twice";
  }
  EXPECT_EQ(used.size(), 100u);  // the whole range was covered
  EXPECT_FALSE(p.pick_random(is_free));
}

TEST(EphemeralPorts, PickRandomStartsAtRandomPlaces) {
  Random rng(11);
  EphemeralPorts p(rng);
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 50; ++i) seen.insert(*p.pick_random([](std::uint16_t) { return true; }));
  EXPECT_GT(seen.size(), 45u);
}

TEST(EphemeralPorts, PickRandomFindsTheOnlyFreePort) {
  Random rng(3);
  EphemeralPorts p(rng, 1000, 1009);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(p.pick_random([](std::uint16_t port) { return port == 1000; }), 1000);
    EXPECT_EQ(p.pick_random([](std::uint16_t port) { return port == 1009; }), 1009);
  }
  EXPECT_FALSE(p.pick_random([](std::uint16_t) { return false; }));
}

TEST(EphemeralPorts, PickForIsDeterministicForASeed) {
  Random r1(42), r2(42);
  EphemeralPorts a(r1), b(r2);
  const auto any = [](std::uint16_t) { return true; };
  for (int i = 0; i < 5; ++i) {
    auto pa = a.pick_for(kLocal, kPeerA, any);
    auto pb = b.pick_for(kLocal, kPeerA, any);
    ASSERT_TRUE(pa);
    EXPECT_EQ(pa, pb);
  }
}

TEST(EphemeralPorts, PickForOffsetDependsOnTheRemoteEndpointAndSecret) {
  const auto any = [](std::uint16_t) { return true; };
  // Fresh generators (next_ = 0), so the ports are the bare offsets F(...).
  Random r1(42), r2(42), r3(42), r4(43);
  auto a = EphemeralPorts(r1).pick_for(kLocal, kPeerA, any);
  auto b = EphemeralPorts(r2).pick_for(kLocal, kPeerB, any);
  auto c = EphemeralPorts(r3).pick_for(kLocal, kPeerA443, any);
  auto d = EphemeralPorts(r4).pick_for(kLocal, kPeerA, any);  // another secret
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
}

TEST(EphemeralPorts, PickForStepsThroughTheRangeWithTheCounter) {
  Random rng(5);
  EphemeralPorts p(rng);
  const auto any = [](std::uint16_t) { return true; };
  const std::uint16_t p0 = *p.pick_for(kLocal, kPeerA, any);
  const std::uint16_t p1 = *p.pick_for(kLocal, kPeerA, any);
  // Algorithm 3: successive connections to one peer use successive ports.
  EXPECT_EQ(p1, p0 == 60999 ? 32768 : p0 + 1);
}

TEST(EphemeralPorts, PickForSmallRangeGivesAllTenPortsThenNothing) {
  Random rng(9);
  EphemeralPorts p(rng, 1000, 1009);
  std::set<std::uint16_t> used;
  const auto is_free = [&used](std::uint16_t port) { return !used.contains(port); };
  for (int i = 0; i < 10; ++i) {
    auto port = p.pick_for(kLocal, kPeerA, is_free);
    ASSERT_TRUE(port) << i;
    EXPECT_GE(*port, 1000);
    EXPECT_LE(*port, 1009);
    EXPECT_TRUE(used.insert(*port).second);
  }
  EXPECT_EQ(used.size(), 10u);
  EXPECT_FALSE(p.pick_for(kLocal, kPeerA, is_free));
  EXPECT_FALSE(p.pick_for(kLocal, kPeerB, is_free));
}

TEST(EphemeralPorts, PickForSkipsPortsInUse) {
  Random rng(9);
  EphemeralPorts p(rng, 1000, 1009);
  auto only = [](std::uint16_t want) { return [want](std::uint16_t port) { return port == want; }; };
  for (std::uint16_t want = 1000; want <= 1009; ++want) EXPECT_EQ(p.pick_for(kLocal, kPeerB, only(want)), want);
}

TEST(EphemeralPorts, SingletonRange) {
  Random rng(1);
  EphemeralPorts p(rng, 5000, 5000);
  const auto any = [](std::uint16_t) { return true; };
  EXPECT_EQ(p.pick_random(any), 5000);
  EXPECT_EQ(p.pick_for(kLocal, kPeerA, any), 5000);
}
