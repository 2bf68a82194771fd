// MemoryAccount: charges refused at max, pressure entered above `pressure` and
// left at `min` (Linux tcp_mem), the breakdown by kind, the peak; MemCharge gives
// back what it holds when it goes.
#include "base/memory.h"

#include <gtest/gtest.h>

#include <utility>

namespace ustack::base {
namespace {

TEST(MemoryAccount, RefusesPastMaxAndCountsIt) {
  MemoryAccount a({100, 200, 300});
  EXPECT_TRUE(a.try_charge(MemKind::tcp, 250));
  EXPECT_FALSE(a.try_charge(MemKind::udp, 51));
  EXPECT_EQ(a.refusals(), 1u);
  EXPECT_TRUE(a.try_charge(MemKind::udp, 50));  // exactly max
  EXPECT_TRUE(a.exhausted());
  EXPECT_FALSE(a.try_charge(MemKind::frag, 1));
  EXPECT_EQ(a.usage(), 300u);
  EXPECT_EQ(a.usage(MemKind::tcp), 250u);
  EXPECT_EQ(a.usage(MemKind::udp), 50u);
  EXPECT_EQ(a.usage(MemKind::frag), 0u);
  EXPECT_FALSE(a.try_charge(MemKind::tcp, static_cast<std::size_t>(-1)));  // no overflow
  a.uncharge(MemKind::tcp, 250);
  EXPECT_EQ(a.usage(), 50u);
  EXPECT_EQ(a.peak(), 300u);
}

TEST(MemoryAccount, PressureHasHysteresis) {
  MemoryAccount a({100, 200, 300});
  EXPECT_TRUE(a.try_charge(MemKind::tcp, 200));
  EXPECT_FALSE(a.under_pressure());  // at pressure, not above
  EXPECT_TRUE(a.try_charge(MemKind::tcp, 1));
  EXPECT_TRUE(a.under_pressure());
  EXPECT_EQ(a.pressure_entries(), 1u);
  a.uncharge(MemKind::tcp, 100);  // 101: still above min
  EXPECT_TRUE(a.under_pressure());
  a.uncharge(MemKind::tcp, 1);  // 100: at min, left
  EXPECT_FALSE(a.under_pressure());
  EXPECT_TRUE(a.try_charge(MemKind::tcp, 150));
  EXPECT_EQ(a.pressure_entries(), 2u);
}

// Holders that must leave the band above pressure to received data (queued
// sends, fragments) are refused at pressure; others go on to max.
TEST(MemoryAccount, BelowPressureChargesStopAtPressure) {
  MemoryAccount a({100, 200, 300});
  MemCharge send(&a, MemKind::tcp, /*below_pressure=*/true);
  MemCharge recv(&a, MemKind::tcp);
  EXPECT_EQ(send.room(), 200u);
  EXPECT_TRUE(send.try_add(150));
  EXPECT_FALSE(send.try_add(51));
  EXPECT_TRUE(send.try_add(50));
  EXPECT_EQ(send.room(), 0u);
  EXPECT_EQ(recv.room(), 100u);
  EXPECT_TRUE(recv.try_add(100));
  EXPECT_FALSE(recv.try_add(1));
  recv.release_all();
  EXPECT_EQ(send.room(), 0u);  // at pressure exactly: still nothing for sends
  send.release(1);
  EXPECT_EQ(send.room(), 1u);
}

TEST(MemoryAccount, FromMaxKeepsLinuxRatios) {
  const auto l = MemoryLimits::from_max(3000);
  EXPECT_EQ(l.max, 3000u);
  EXPECT_EQ(l.pressure, 2000u);
  EXPECT_EQ(l.min, 1500u);
  const MemoryLimits d;
  EXPECT_EQ(d.min * 4, d.pressure * 3);  // Linux tcp_init_mem
  EXPECT_EQ(d.max, 2 * d.min);
}

TEST(MemCharge, GivesBackWhatItHoldsWhenDestroyedOrMoved) {
  MemoryAccount a({10, 20, 30});
  {
    MemCharge c(&a, MemKind::udp);
    EXPECT_TRUE(c.try_add(10));
    EXPECT_FALSE(c.try_add(21));
    EXPECT_EQ(c.bytes(), 10u);
    MemCharge d = std::move(c);
    EXPECT_EQ(c.bytes(), 0u);
    EXPECT_EQ(d.bytes(), 10u);
    EXPECT_TRUE(d.set(25));
    EXPECT_FALSE(d.set(31));
    EXPECT_EQ(a.usage(), 25u);
    EXPECT_TRUE(d.set(5));
    EXPECT_EQ(a.usage(MemKind::udp), 5u);
    d.release(100);  // more than held: all of it
    EXPECT_EQ(a.usage(), 0u);
    EXPECT_TRUE(d.try_add(7));
  }
  EXPECT_EQ(a.usage(), 0u);
  MemCharge free_standing;  // no account: every charge succeeds, nothing counted
  EXPECT_TRUE(free_standing.try_add(1u << 30));
  EXPECT_FALSE(free_standing.under_pressure());
}

TEST(MemoryLimits, ParsesASizeOrLinuxsTcpMemTriple) {
  EXPECT_EQ(parse_memory_limits("64M")->max, 64u << 20);
  EXPECT_EQ(parse_memory_limits("64M")->pressure, (64u << 20) / 3 * 2);
  EXPECT_EQ(parse_memory_limits("512k")->max, 512u << 10);
  EXPECT_EQ(parse_memory_limits("1G")->max, std::size_t{1} << 30);
  EXPECT_EQ(parse_memory_limits("100000")->max, 100000u);
  const auto triple = parse_memory_limits("100,200,300");
  ASSERT_TRUE(triple);
  EXPECT_EQ(triple->min, 100u * 4096);
  EXPECT_EQ(triple->pressure, 200u * 4096);
  EXPECT_EQ(triple->max, 300u * 4096);
  for (const char* bad : {"", "M", "0", "-1", "1.5M", "12Q", "1,2", "3,2,1", "1,2,x", "1,,3", "99999999999999999999G"})
    EXPECT_FALSE(parse_memory_limits(bad)) << bad;
}

}  // namespace
}  // namespace ustack::base
