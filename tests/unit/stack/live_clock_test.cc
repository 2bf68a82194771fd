// Stack::set_clock: with a live clock, each frame a poll receives is taken at its
// own time (a poll over a TAP lasts hundreds of microseconds, and one time for
// all of it made round trips of zero); without one, the poll's time holds
// throughout, as simulated networks and scripts need.
#include <gtest/gtest.h>

#include <vector>

#include "stack/stack.h"
#include "support/hand_fed_device.h"

namespace ustack::stack {
namespace {

using namespace std::chrono_literals;

/// Records the time the stack passes to each receive().
class TimedDevice : public testing::HandFedDevice {
 public:
  std::optional<std::size_t> receive(base::Instant now, base::MutByteSpan buf) override {
    seen.push_back(now);
    return HandFedDevice::receive(now, buf);
  }
  std::vector<base::Instant> seen;
};

base::Instant fake_now{};
base::Instant fake_clock() { return fake_now += 100us; }  // 100 us pass between reads

struct LiveClock : ::testing::Test {
  LiveClock() {
    s.add_interface(dev, {"tun0", base::MacAddr(), {base::Ipv4Addr(10, 0, 0, 1), 24}, std::nullopt});
    for (int i = 0; i < 3; ++i) dev.in.push_back(std::vector<base::Byte>(20, 0));  // dropped: not IPv4
  }
  Stack s;
  TimedDevice dev;
};

TEST_F(LiveClock, EachReceivedFrameIsTakenAtItsOwnTime) {
  fake_now = base::Instant(1s);
  s.set_clock(&fake_clock);
  s.poll(base::Instant(1s));
  ASSERT_EQ(dev.seen.size(), 4u);  // three frames, then the read that finds none
  for (std::size_t i = 1; i < dev.seen.size(); ++i) EXPECT_GT(dev.seen[i], dev.seen[i - 1]);
  EXPECT_GE(s.now(), dev.seen.back());  // the timers run at the time after the frames
}

TEST_F(LiveClock, WithoutOneThePollsTimeHoldsThroughout) {
  s.poll(base::Instant(1s));
  ASSERT_EQ(dev.seen.size(), 4u);
  for (const auto t : dev.seen) EXPECT_EQ(t, base::Instant(1s));
  EXPECT_EQ(s.now(), base::Instant(1s));
}

}  // namespace
}  // namespace ustack::stack
