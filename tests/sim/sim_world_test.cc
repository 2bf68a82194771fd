// SimWorld itself: virtual time advances event by event, whatever a port that no
// stack reads (a test's capture port) holds.
#include "helpers.h"

namespace ustack::simtest {
namespace {

TEST(SimWorld, UndrainedCapturePortDoesNotStallVirtualTime) {
  Lan lan;
  lan.world.settle();  // the announcements now wait, due, on the raw port
  ASSERT_GT(lan.port_raw.pending(), 0u);
  const base::Instant t0 = lan.world.now();
  lan.world.run_for(10s);
  EXPECT_EQ(lan.world.now(), t0 + 10s);
  // And run_until still reaches its limit.
  EXPECT_FALSE(lan.world.run_until([] { return false; }, 2s));
  EXPECT_EQ(lan.world.now(), t0 + 12s);
  EXPECT_EQ(lan.drain_raw().size(), 2u);
}

}  // namespace
}  // namespace ustack::simtest
