// Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation-02 3).
#include "tcp/rate.h"

#include <gtest/gtest.h>

namespace ustack::tcp {
namespace {

using namespace std::chrono_literals;
base::Instant at(base::Duration d) { return base::kEpoch + d; }

TEST(DeliveryRate, ASteadyFlowMeasuresItsRate) {
  // 10 segments of 1000 bytes, one every 1 ms, each delivered 10 ms after it was
  // sent: 1000 bytes per ms once the pipe is full.
  DeliveryRate r;
  std::vector<RateStamp> stamps;
  std::optional<RateSample> last;
  for (int i = 0; i < 30; ++i) {
    const base::Instant now = at(i * 1ms);
    if (i >= 10) {  // the segment sent 10 ms ago arrives
      r.on_delivered(1000, stamps[static_cast<std::size_t>(i - 10)], at((i - 10) * 1ms), now);
      if (auto s = r.on_ack_done(5ms)) last = s;
    }
    stamps.push_back(r.on_send(now, i == 0));
  }
  ASSERT_TRUE(last);
  EXPECT_EQ(r.rate_bytes_per_sec(), 1'000'000u);  // 1000 bytes per ms
  EXPECT_EQ(last->delivered, 10'000u);            // a window's worth
  EXPECT_EQ(last->interval, 10ms);
}

TEST(DeliveryRate, IntervalIsTheLongerOfSendAndAckElapsed) {
  // Two segments sent at once and ACKed 20 ms apart: the ACK side is slower.
  DeliveryRate r;
  const RateStamp a = r.on_send(at(0ms), true);
  const RateStamp b = r.on_send(at(0ms), false);
  r.on_delivered(1000, a, at(0ms), at(10ms));
  (void)r.on_ack_done(std::nullopt);
  r.on_delivered(1000, b, at(0ms), at(30ms));
  auto s = r.on_ack_done(std::nullopt);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->delivered, 2000u);
  EXPECT_EQ(s->interval, 30ms);
}

TEST(DeliveryRate, SamplesShorterThanMinRttAreDiscarded) {
  // ACK compression: a burst of ACKs for data sent over a long time, acknowledged in 1 ms.
  DeliveryRate r;
  const RateStamp a = r.on_send(at(0ms), true);
  r.on_delivered(1000, a, at(0ms), at(1ms));
  EXPECT_FALSE(r.on_ack_done(5ms));
  EXPECT_EQ(r.rate_bytes_per_sec(), 0u);
  EXPECT_FALSE(r.on_ack_done(5ms)) << "no delivery, no sample";
}

}  // namespace
}  // namespace ustack::tcp
