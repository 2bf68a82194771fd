// ImpairedDevice: loss, duplication, reordering, corruption, delay, jitter and rate,
// in both directions, deterministic for a seed.
#include "link/impair.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <set>

#include "link/loopback.h"
#include "link/sim.h"
#include "unit/link/frames.h"

namespace ustack::link {
namespace {

using namespace std::chrono_literals;
using testing::at_ms;
using testing::Bytes;
using testing::frame_id;
using testing::numbered_frame;

// An impaired port `a` linked to a plain port `b` (no delay on the link itself).
class ImpairTest : public ::testing::Test {
 protected:
  ImpairedDevice& impair(const std::string& spec) {
    auto s = ImpairSpec::parse(spec);
    EXPECT_TRUE(s.ok()) << s.error();
    dev_ = std::make_unique<ImpairedDevice>(a_, *s);
    return *dev_;
  }
  // Sends n numbered frames from the impaired side, one per millisecond, reading b
  // as it goes (and for 100 ms after); returns the ids b received, in order.
  std::vector<std::uint32_t> send_out(std::uint32_t n) {
    std::vector<std::uint32_t> ids;
    Bytes buf(2048);
    auto drain = [&](base::Instant now) {
      dev_->receive(now, buf);  // a poll: releases due outbound frames
      while (auto len = b_.receive(now, buf)) ids.push_back(frame_id(base::ByteSpan(buf.data(), *len)));
    };
    for (std::uint32_t i = 0; i < n; ++i) {
      EXPECT_TRUE(dev_->transmit(at_ms(i), numbered_frame(i)));
      drain(at_ms(i));
    }
    for (int ms = 0; ms <= 100; ++ms) drain(at_ms(n + ms));
    return ids;
  }

  SimNetwork net_;
  SimPort& a_ = net_.add_port("a");
  SimPort& b_ = net_.add_port("b");
  std::unique_ptr<ImpairedDevice> dev_;
  void SetUp() override { ASSERT_TRUE(net_.connect(a_, b_).ok()); }
};

TEST_F(ImpairTest, NoImpairmentPassesEverythingInOrder) {
  impair("");
  auto ids = send_out(100);
  ASSERT_EQ(ids.size(), 100u);
  for (std::uint32_t i = 0; i < 100; ++i) EXPECT_EQ(ids[i], i);
  EXPECT_EQ(dev_->stats().tx_frames, 100u);
  EXPECT_EQ(dev_->name(), "a");
  EXPECT_EQ(dev_->mtu(), 1500u);
  EXPECT_EQ(dev_->medium(), Medium::ethernet);
}

TEST_F(ImpairTest, LossRateCloseToSpec) {
  impair("loss=10%,seed=1");
  auto ids = send_out(10000);
  const auto dropped = dev_->impair_stats().out.dropped;
  EXPECT_EQ(ids.size() + dropped, 10000u);
  EXPECT_GE(dropped, 900u);  // 10% of 10000, binomial sd = 30
  EXPECT_LE(dropped, 1100u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(dev_->stats().tx_frames, 10000u);  // a loss is silent to the sender
  EXPECT_EQ(dev_->stats().tx_dropped, 0u);
}

TEST_F(ImpairTest, SameSeedSameRunDifferentSeedDifferentRun) {
  const std::string mix = "loss=5%,dup=5%,reorder=5%,corrupt=5%,jitter=3ms,delay=5ms";
  auto run = [&](int seed) {
    SimNetwork net;
    SimPort& a = net.add_port("a");
    SimPort& b = net.add_port("b");
    EXPECT_TRUE(net.connect(a, b).ok());
    ImpairedDevice dev(a, *ImpairSpec::parse(mix + ",seed=" + std::to_string(seed)));
    std::vector<Bytes> got;
    Bytes buf(2048);
    for (std::uint32_t i = 0; i < 2000; ++i) {
      dev.transmit(at_ms(i * 0.5), numbered_frame(i));
      dev.receive(at_ms(i * 0.5), buf);
      while (auto n = b.receive(at_ms(i * 0.5), buf)) got.emplace_back(buf.begin(), buf.begin() + static_cast<long>(*n));
    }
    dev.receive(at_ms(5000), buf);
    while (auto n = b.receive(at_ms(5000), buf)) got.emplace_back(buf.begin(), buf.begin() + static_cast<long>(*n));
    return got;
  };
  const auto first = run(7);
  EXPECT_GT(first.size(), 1800u);
  EXPECT_EQ(run(7), first);
  EXPECT_NE(run(8), first);
}

TEST_F(ImpairTest, DuplicatesCounted) {
  impair("dup=10%,seed=3");
  auto ids = send_out(10000);
  const auto dups = dev_->impair_stats().out.duplicated;
  EXPECT_EQ(ids.size(), 10000u + dups);
  EXPECT_GE(dups, 900u);
  EXPECT_LE(dups, 1100u);
  std::size_t adjacent_repeats = 0;
  for (std::size_t i = 1; i < ids.size(); ++i) adjacent_repeats += ids[i] == ids[i - 1];
  EXPECT_EQ(adjacent_repeats, dups);  // the copy follows right behind its original
}

TEST_F(ImpairTest, FullReorderSwapsEachPair) {
  impair("reorder=100%");
  auto ids = send_out(6);
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{1, 0, 3, 2, 5, 4}));
  EXPECT_EQ(dev_->impair_stats().out.reordered, 3u);
}

TEST_F(ImpairTest, PartialReorderCountsEveryInversion) {
  impair("reorder=10%,seed=5");
  auto ids = send_out(5000);
  ASSERT_EQ(ids.size(), 5000u);
  std::size_t inversions = 0;
  for (std::size_t i = 1; i < ids.size(); ++i) inversions += ids[i] < ids[i - 1];
  const auto reordered = dev_->impair_stats().out.reordered;
  EXPECT_EQ(inversions, reordered);
  EXPECT_GE(reordered, 350u);  // each held frame also takes its overtaker out of the draw
  EXPECT_LE(reordered, 550u);
  auto sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  for (std::uint32_t i = 0; i < 5000; ++i) ASSERT_EQ(sorted[i], i);
}

TEST_F(ImpairTest, ReorderedFrameWithoutFollowerIsReleasedAfterHoldMax) {
  impair("reorder=100%");
  Bytes buf(2048);
  ASSERT_TRUE(dev_->transmit(at_ms(0), numbered_frame(0)));
  EXPECT_EQ(dev_->next_deadline(), base::kEpoch + ImpairedDevice::kReorderHoldMax);
  dev_->receive(at_ms(9.999), buf);
  EXPECT_FALSE(b_.receive(at_ms(9.999), buf));
  dev_->receive(at_ms(10), buf);
  ASSERT_TRUE(b_.receive(at_ms(10), buf));
  EXPECT_EQ(frame_id(buf), 0u);
  EXPECT_EQ(dev_->impair_stats().out.reordered, 0u);
}

TEST_F(ImpairTest, CorruptFlipsExactlyOneBitPastTheEthernetHeader) {
  impair("corrupt=100%,seed=11");
  Bytes buf(2048);
  std::vector<int> bits_hit(64 * 8, 0);
  for (std::uint32_t i = 0; i < 1000; ++i) {
    const Bytes sent = numbered_frame(i);
    ASSERT_TRUE(dev_->transmit(at_ms(i), sent));
    auto n = b_.receive(at_ms(i), buf);
    ASSERT_TRUE(n);
    ASSERT_EQ(*n, sent.size());
    int flipped = 0;
    for (std::size_t k = 0; k < sent.size(); ++k) {
      const int diff = std::popcount(static_cast<unsigned>(sent[k] ^ buf[k]));
      if (diff) {
        EXPECT_GE(k, 14u) << "Ethernet header corrupted";
        bits_hit[k * 8 + static_cast<std::size_t>(std::countr_zero(static_cast<unsigned>(sent[k] ^ buf[k])))]++;
      }
      flipped += diff;
    }
    ASSERT_EQ(flipped, 1) << "frame " << i;
  }
  EXPECT_EQ(dev_->impair_stats().out.corrupted, 1000u);
  // The flipped bit is spread over the 400 bits past the header, not stuck in one place.
  EXPECT_GT(std::count_if(bits_hit.begin(), bits_hit.end(), [](int c) { return c > 0; }), 300);
}

TEST_F(ImpairTest, DelayHoldsOutboundFramesUntilDue) {
  impair("delay=5ms");
  Bytes buf(2048);
  ASSERT_TRUE(dev_->transmit(at_ms(1), numbered_frame(1)));
  EXPECT_EQ(dev_->next_deadline(), at_ms(6));
  EXPECT_FALSE(dev_->receive(at_ms(6) - 1ns, buf));
  EXPECT_FALSE(b_.receive(at_ms(6) - 1ns, buf));
  EXPECT_FALSE(dev_->receive(at_ms(6), buf));  // the poll hands the frame to the port
  EXPECT_EQ(dev_->next_deadline(), std::nullopt);
  ASSERT_TRUE(b_.receive(at_ms(6), buf));
  EXPECT_EQ(frame_id(buf), 1u);
  EXPECT_EQ(a_.stats().tx_frames, 1u);
}

TEST_F(ImpairTest, DelayHoldsInboundFramesUntilDue) {
  impair("delay=5ms");
  Bytes buf(2048);
  ASSERT_TRUE(b_.transmit(at_ms(2), numbered_frame(9, testing::mac(1), testing::mac(2))));
  EXPECT_FALSE(dev_->receive(at_ms(2), buf));  // pulled from the port, held
  EXPECT_EQ(dev_->next_deadline(), at_ms(7));
  EXPECT_FALSE(dev_->receive(at_ms(7) - 1ns, buf));
  auto n = dev_->receive(at_ms(7), buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(frame_id(buf), 9u);
  EXPECT_EQ(dev_->stats().rx_frames, 1u);
}

TEST_F(ImpairTest, InboundBacklogStaysInTheInnerDeviceWithoutOverflow) {
  // A sender far ahead of the stack: 20,000 frames wait in the inner device, and
  // the stack takes one frame per receive(). The hold queue must not swallow the
  // backlog a batch per call until it overflows (kQueueLimit): then it dropped
  // every arriving frame, far beyond the configured loss.
  impair("reorder=1%,seed=3");
  Bytes buf(2048);
  constexpr std::uint32_t kFrames = 20000;
  for (std::uint32_t i = 0; i < kFrames; ++i)
    ASSERT_TRUE(b_.transmit(at_ms(0), numbered_frame(i, testing::mac(1), testing::mac(2))));
  std::set<std::uint32_t> got;
  for (int ms = 0; ms <= 20 && got.size() < kFrames; ++ms)
    while (auto n = dev_->receive(at_ms(ms), buf)) got.insert(frame_id(base::ByteSpan(buf.data(), *n)));
  EXPECT_EQ(got.size(), kFrames);
  EXPECT_EQ(dev_->impair_stats().in.overflow, 0u);
  EXPECT_EQ(dev_->stats().rx_dropped, 0u);
}

TEST_F(ImpairTest, JitterStaysInRangeAndKeepsOrder) {
  impair("delay=10ms,jitter=5ms,seed=2");
  Bytes buf(2048);
  std::vector<std::pair<std::uint32_t, base::Instant>> arrivals;
  for (int us = 0; us < 320'000; us += 100) {  // 100 frames, one per 3 ms; polls every 100 us
    const base::Instant now = testing::at_ns(us * 1000LL);
    if (us % 3000 == 0 && us < 300'000) {
      ASSERT_TRUE(dev_->transmit(now, numbered_frame(static_cast<std::uint32_t>(us / 3000))));
    }
    dev_->receive(now, buf);
    while (b_.receive(now, buf)) arrivals.emplace_back(frame_id(buf), now);
  }
  ASSERT_EQ(arrivals.size(), 100u);
  std::set<std::int64_t> delays;
  for (std::uint32_t i = 0; i < 100; ++i) {
    EXPECT_EQ(arrivals[i].first, i);
    const base::Duration d = arrivals[i].second - at_ms(3.0 * i);
    EXPECT_GE(d, 5ms);
    EXPECT_LE(d, 15ms);
    delays.insert(d.count() / 100'000);
  }
  EXPECT_GT(delays.size(), 20u);  // the delay really varies
}

TEST_F(ImpairTest, RateSerializesOutbound) {
  impair("rate=1mbit");
  for (std::uint32_t i = 0; i < 3; ++i) ASSERT_TRUE(dev_->transmit(at_ms(0), numbered_frame(i, testing::mac(2), testing::mac(1), 125)));
  EXPECT_EQ(dev_->next_deadline(), at_ms(1));
  Bytes buf(2048);
  dev_->receive(at_ms(2.5), buf);
  EXPECT_TRUE(b_.receive(at_ms(2.5), buf));
  EXPECT_TRUE(b_.receive(at_ms(2.5), buf));
  EXPECT_FALSE(b_.receive(at_ms(2.5), buf));
  EXPECT_EQ(dev_->next_deadline(), at_ms(3));
}

TEST(ImpairLoopback, BothDirectionsAreImpaired) {
  // Over a loopback every frame crosses the wrapper twice: 50% loss each way keeps 25%.
  ImpairedDevice dev(std::make_unique<LoopbackDevice>(), *ImpairSpec::parse("loss=50%,seed=4"));
  EXPECT_EQ(dev.medium(), Medium::ip);
  EXPECT_EQ(dev.mtu(), LoopbackDevice::kMtu);
  Bytes buf(2048);
  std::size_t received = 0;
  for (std::uint32_t i = 0; i < 10000; ++i) {
    ASSERT_TRUE(dev.transmit(at_ms(i), numbered_frame(i)));
    while (dev.receive(at_ms(i), buf)) ++received;
  }
  const ImpairStats st = dev.impair_stats();
  EXPECT_EQ(st.out.dropped + st.in.dropped + received, 10000u);
  EXPECT_GE(st.out.dropped, 4800u);
  EXPECT_LE(st.out.dropped, 5200u);
  EXPECT_GE(received, 2300u);
  EXPECT_LE(received, 2700u);
  EXPECT_EQ(dev.stats().rx_frames, received);
}

TEST(ImpairLoopback, CorruptOnIpMediumMayHitAnyByte) {
  ImpairedDevice dev(std::make_unique<LoopbackDevice>(), *ImpairSpec::parse("corrupt=100%,seed=4"));
  Bytes buf(2048);
  bool header_hit = false;
  for (std::uint32_t i = 0; i < 2000 && !header_hit; ++i) {
    const Bytes sent = numbered_frame(i, testing::mac(2), testing::mac(1), 20);
    ASSERT_TRUE(dev.transmit(at_ms(i), sent));
    auto n = dev.receive(at_ms(i), buf);
    ASSERT_TRUE(n);
    for (std::size_t k = 0; k < 14; ++k) header_hit |= sent[k] != buf[k];
  }
  EXPECT_TRUE(header_hit);
}

}  // namespace
}  // namespace ustack::link
