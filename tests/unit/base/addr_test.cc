// Address parsing and printing, with the malformed forms that must be refused.
#include "base/addr.h"

#include <gtest/gtest.h>

namespace ustack::base {
namespace {

TEST(Ipv4Addr, ParsesAndPrints) {
  auto a = Ipv4Addr::parse("198.18.0.1");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, Ipv4Addr(198, 18, 0, 1));
  EXPECT_EQ(a->value(), 0xc6120001u);
  EXPECT_EQ(a->to_string(), "198.18.0.1");
  EXPECT_EQ(Ipv4Addr::parse("0.0.0.0"), Ipv4Addr::any());
  EXPECT_EQ(Ipv4Addr::parse("255.255.255.255"), Ipv4Addr::broadcast());
  EXPECT_EQ(Ipv4Addr::broadcast().to_string(), "255.255.255.255");
  EXPECT_EQ(Ipv4Addr().to_string(), "0.0.0.0");
}

TEST(Ipv4Addr, RefusesMalformed) {
  for (const char* s : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04",
                        "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "1.2.3.-4",
                        "+1.2.3.4", "1000.2.3.4", "0x1.2.3.4", "1.2.3.4/24", "1,2,3,4"})
    EXPECT_FALSE(Ipv4Addr::parse(s)) << s;
}

TEST(Ipv4Addr, Classes) {
  EXPECT_TRUE(Ipv4Addr(224, 0, 0, 1).is_multicast());
  EXPECT_TRUE(Ipv4Addr(239, 255, 255, 255).is_multicast());
  EXPECT_FALSE(Ipv4Addr(240, 0, 0, 1).is_multicast());
  EXPECT_TRUE(Ipv4Addr(240, 0, 0, 1).is_reserved());
  EXPECT_FALSE(Ipv4Addr::broadcast().is_reserved());
  EXPECT_TRUE(Ipv4Addr(127, 1, 2, 3).is_loopback());
  EXPECT_TRUE(Ipv4Addr(0, 1, 2, 3).is_this_network());
  EXPECT_TRUE(Ipv4Addr::any().is_unspecified());
  EXPECT_LT(Ipv4Addr(10, 0, 0, 1), Ipv4Addr(10, 0, 0, 2));
}

TEST(Ipv4Cidr, ParsesMasksAndContains) {
  auto c = Ipv4Cidr::parse("198.18.0.2/24");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->prefix_len, 24);
  EXPECT_EQ(c->mask(), 0xffffff00u);
  EXPECT_EQ(c->network(), Ipv4Addr(198, 18, 0, 0));
  EXPECT_EQ(c->broadcast(), Ipv4Addr(198, 18, 0, 255));
  EXPECT_TRUE(c->contains(Ipv4Addr(198, 18, 0, 77)));
  EXPECT_FALSE(c->contains(Ipv4Addr(198, 18, 1, 77)));
  EXPECT_EQ(c->to_string(), "198.18.0.2/24");
  auto host = Ipv4Cidr::parse("10.0.0.1");  // no prefix: a host route
  ASSERT_TRUE(host);
  EXPECT_EQ(host->prefix_len, 32);
  auto all = Ipv4Cidr::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->mask(), 0u);  // no shift by 32
  EXPECT_TRUE(all->contains(Ipv4Addr(1, 2, 3, 4)));
  EXPECT_EQ(Ipv4Cidr::parse("1.2.3.4/32")->mask(), 0xffffffffu);
}

TEST(Ipv4Cidr, RefusesMalformed) {
  for (const char* s : {"1.2.3.4/33", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/2a", "1.2.3/24", "/24",
                        "1.2.3.4/24/1", "1.2.3.4/1000", "256.0.0.0/8"})
    EXPECT_FALSE(Ipv4Cidr::parse(s)) << s;
}

TEST(MacAddr, ParsesAndPrints) {
  auto m = MacAddr::parse("02:00:00:00:00:01");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, MacAddr({2, 0, 0, 0, 0, 1}));
  EXPECT_EQ(m->to_string(), "02:00:00:00:00:01");
  auto upper = MacAddr::parse("AA:bb:Cc:dD:ee:FF");
  ASSERT_TRUE(upper);
  EXPECT_EQ(upper->to_string(), "aa:bb:cc:dd:ee:ff");
  EXPECT_TRUE(MacAddr::parse("ff:ff:ff:ff:ff:ff")->is_broadcast());
  EXPECT_TRUE(MacAddr::parse("01:00:5e:00:00:01")->is_multicast());
  EXPECT_FALSE(m->is_multicast());
  EXPECT_TRUE(MacAddr().is_zero());
}

TEST(MacAddr, RefusesMalformed) {
  for (const char* s : {"", "02:00:00:00:00", "02:00:00:00:00:01:", "02:00:00:00:00:01:02", "2:0:0:0:0:1",
                        "02-00-00-00-00-01", "020000000001", "02:00:00:00:00:0g", "02:00:00:00:00:001",
                        "02:00:00:00:00: 1", "+2:00:00:00:00:01", "02::00:00:00:00:01"})
    EXPECT_FALSE(MacAddr::parse(s)) << s;
}

TEST(IpAddrAndEndpoint, Printing) {
  const IpAddr v4 = Ipv4Addr(10, 0, 0, 1);
  EXPECT_TRUE(v4.is_v4());
  EXPECT_EQ(v4.to_string(), "10.0.0.1");
  EXPECT_TRUE(IpAddr().is_unspecified());
  std::array<std::uint8_t, 16> b{};
  b[0] = 0x20;
  b[1] = 0x01;
  b[2] = 0x0d;
  b[3] = 0xb8;
  b[15] = 1;
  const IpAddr v6 = IpAddr::v6(b);
  EXPECT_EQ(v6.family(), Family::v6);
  EXPECT_FALSE(v6.is_unspecified());
  EXPECT_EQ(v6.to_string(), "2001:db8:0:0:0:0:0:1");
  EXPECT_NE(v6, IpAddr(Ipv4Addr(32, 1, 13, 184)));
  EXPECT_EQ((Endpoint{v4, 80}).to_string(), "10.0.0.1:80");
  EXPECT_EQ((Endpoint{v6, 443}).to_string(), "[2001:db8:0:0:0:0:0:1]:443");
}

}  // namespace
}  // namespace ustack::base
