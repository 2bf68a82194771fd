// RouteTable: longest prefix match, metric and age tie-breaks, removal, and the
// next hop of connected versus gateway routes.
#include "ip/route.h"

#include <gtest/gtest.h>

using ustack::base::Ipv4Addr;
using ustack::base::Ipv4Cidr;
using ustack::ip::NextHop;
using ustack::ip::Route;
using ustack::ip::RouteTable;

namespace {

Ipv4Cidr cidr(const char* text) { return *Ipv4Cidr::parse(text); }
Ipv4Addr ip(const char* text) { return *Ipv4Addr::parse(text); }

Route connected(const char* dest, ustack::ip::InterfaceId iface, std::uint32_t metric = 0) {
  return Route{cidr(dest), std::nullopt, iface, metric, Route::Kind::connected};
}
Route via(const char* dest, const char* gw, ustack::ip::InterfaceId iface, std::uint32_t metric = 0) {
  return Route{cidr(dest), ip(gw), iface, metric, Route::Kind::static_route};
}

}  // namespace

TEST(RouteTable, EmptyTableHasNoRoute) {
  RouteTable t;
  EXPECT_FALSE(t.lookup(ip("198.18.0.1")));
}

TEST(RouteTable, LongestPrefixWinsAcrossZeroSixteenTwentyFourAndThirtyTwo) {
  RouteTable t;
  t.set_default_gateway(ip("10.0.0.1"), 1);
  t.add(via("198.18.0.0/16", "10.0.0.16", 2));
  t.add(connected("198.18.5.0/24", 3));
  t.add(via("198.18.5.77/32", "10.0.0.32", 4));

  auto h = t.lookup(ip("8.8.8.8"));  // only the default matches
  ASSERT_TRUE(h);
  EXPECT_EQ(h->iface, 1u);
  EXPECT_EQ(h->addr, ip("10.0.0.1"));

  h = t.lookup(ip("198.18.200.1"));  // /16
  ASSERT_TRUE(h);
  EXPECT_EQ(h->iface, 2u);
  EXPECT_EQ(h->addr, ip("10.0.0.16"));

  h = t.lookup(ip("198.18.5.9"));  // /24, connected: the destination itself
  ASSERT_TRUE(h);
  EXPECT_EQ(h->iface, 3u);
  EXPECT_EQ(h->addr, ip("198.18.5.9"));

  h = t.lookup(ip("198.18.5.77"));  // /32
  ASSERT_TRUE(h);
  EXPECT_EQ(h->iface, 4u);
  EXPECT_EQ(h->addr, ip("10.0.0.32"));

  h = t.lookup(ip("198.18.5.78"));  // the /32 does not match its neighbour
  ASSERT_TRUE(h);
  EXPECT_EQ(h->iface, 3u);
}

TEST(RouteTable, OrderOfAdditionDoesNotChangeTheLongestMatch) {
  RouteTable t;
  t.add(via("198.18.5.77/32", "10.0.0.32", 4));
  t.add(connected("198.18.5.0/24", 3));
  t.add(via("198.18.0.0/16", "10.0.0.16", 2));
  t.set_default_gateway(ip("10.0.0.1"), 1);
  EXPECT_EQ(t.lookup(ip("198.18.5.77"))->iface, 4u);
  EXPECT_EQ(t.lookup(ip("198.18.5.1"))->iface, 3u);
  EXPECT_EQ(t.lookup(ip("198.18.6.1"))->iface, 2u);
  EXPECT_EQ(t.lookup(ip("1.2.3.4"))->iface, 1u);
}

TEST(RouteTable, DestinationIsMaskedOnAdd) {
  RouteTable t;
  t.add(connected("198.18.0.5/24", 1));
  ASSERT_EQ(t.routes().size(), 1u);
  EXPECT_EQ(t.routes()[0].dest.addr, ip("198.18.0.0"));
  EXPECT_EQ(t.routes()[0].dest.prefix_len, 24);
  EXPECT_TRUE(t.lookup(ip("198.18.0.200")));
  EXPECT_FALSE(t.lookup(ip("198.18.1.5")));
  // Removal masks as well.
  EXPECT_EQ(t.remove(cidr("198.18.0.99/24")), 1u);
  EXPECT_TRUE(t.routes().empty());
}

TEST(RouteTable, LowerMetricWinsThenFirstAdded) {
  RouteTable t;
  t.add(via("198.18.0.0/16", "10.0.0.1", 1, 20));
  t.add(via("198.18.0.0/16", "10.0.0.2", 2, 10));
  t.add(via("198.18.0.0/16", "10.0.0.3", 3, 10));  // same metric, added later: loses
  auto h = t.lookup(ip("198.18.1.1"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->iface, 2u);
  EXPECT_EQ(h->addr, ip("10.0.0.2"));
  // A longer prefix beats a lower metric.
  t.add(via("198.18.1.0/24", "10.0.0.4", 4, 1000));
  EXPECT_EQ(t.lookup(ip("198.18.1.1"))->iface, 4u);
  EXPECT_EQ(t.lookup(ip("198.18.2.1"))->iface, 2u);
}

TEST(RouteTable, SameDestGatewayAndIfaceReplaces) {
  RouteTable t;
  t.add(via("198.18.0.0/16", "10.0.0.1", 1, 50));
  t.add(via("198.18.0.0/16", "10.0.0.2", 2, 10));
  t.add(via("198.18.0.0/16", "10.0.0.1", 1, 5));  // replaces the first, now the best
  EXPECT_EQ(t.routes().size(), 2u);
  EXPECT_EQ(t.lookup(ip("198.18.1.1"))->iface, 1u);
  // Same network and gateway on another interface is a distinct route.
  t.add(via("198.18.0.0/16", "10.0.0.1", 7, 5));
  EXPECT_EQ(t.routes().size(), 3u);
  EXPECT_EQ(t.lookup(ip("198.18.1.1"))->iface, 1u);  // equal metric: first added
}

TEST(RouteTable, RemoveTakesEveryRouteToExactlyThatPrefix) {
  RouteTable t;
  t.add(via("198.18.0.0/16", "10.0.0.1", 1));
  t.add(via("198.18.0.0/16", "10.0.0.2", 2));
  t.add(connected("198.18.0.0/24", 3));
  t.set_default_gateway(ip("10.0.0.9"), 1);
  EXPECT_EQ(t.remove(cidr("198.18.0.0/16")), 2u);
  EXPECT_EQ(t.remove(cidr("198.18.0.0/16")), 0u);
  EXPECT_EQ(t.routes().size(), 2u);
  EXPECT_EQ(t.lookup(ip("198.18.0.1"))->iface, 3u);
  EXPECT_EQ(t.lookup(ip("198.18.9.1"))->addr, ip("10.0.0.9"));  // falls back to the default
  EXPECT_EQ(t.remove(cidr("0.0.0.0/0")), 1u);
  EXPECT_FALSE(t.lookup(ip("198.18.9.1")));
}

TEST(RouteTable, RemoveInterfaceTakesAllItsRoutes) {
  RouteTable t;
  t.add(connected("198.18.0.0/24", 1));
  t.add(via("203.0.113.0/24", "198.18.0.1", 1));
  t.add(connected("192.0.2.0/24", 2));
  t.set_default_gateway(ip("192.0.2.1"), 2);
  t.remove_interface(1);
  EXPECT_EQ(t.routes().size(), 2u);
  auto h = t.lookup(ip("198.18.0.7"));  // now via the default on iface 2
  ASSERT_TRUE(h);
  EXPECT_EQ(h->iface, 2u);
  EXPECT_EQ(h->addr, ip("192.0.2.1"));
  t.remove_interface(2);
  EXPECT_TRUE(t.routes().empty());
  EXPECT_FALSE(t.lookup(ip("198.18.0.7")));
}

TEST(RouteTable, HostRouteAndDefaultEdgeAddresses) {
  RouteTable t;
  t.add(connected("255.255.255.255/32", 5));
  t.set_default_gateway(ip("10.0.0.1"), 1);
  EXPECT_EQ(t.lookup(ip("255.255.255.255"))->iface, 5u);
  EXPECT_EQ(t.lookup(ip("255.255.255.254"))->iface, 1u);
  EXPECT_EQ(t.lookup(ip("0.0.0.0"))->iface, 1u);
}
