// The simulated network: link delay, rate and queue limit timing, learning switch.
#include "link/sim.h"

#include <gtest/gtest.h>

#include "unit/link/frames.h"

namespace ustack::link {
namespace {

using namespace std::chrono_literals;
using testing::at_ms;
using testing::at_ns;
using testing::Bytes;
using testing::mac;
using testing::numbered_frame;

class SimLinkTest : public ::testing::Test {
 protected:
  std::optional<std::uint32_t> recv_id(SimPort& p, base::Instant now) {
    auto n = p.receive(now, buf_);
    if (!n) return std::nullopt;
    return testing::frame_id(base::ByteSpan(buf_.data(), *n));
  }
  SimNetwork net_;
  SimPort& a_ = net_.add_port("a");
  SimPort& b_ = net_.add_port("b");
  Bytes buf_ = Bytes(2048);
};

TEST_F(SimLinkTest, DelayHoldsFrameUntilDue) {
  ASSERT_TRUE(net_.connect(a_, b_, LinkParams{.delay = 10ms}).ok());
  Bytes f = numbered_frame(7);
  ASSERT_TRUE(a_.transmit(at_ms(1), f));
  EXPECT_EQ(b_.next_deadline(), at_ms(11));
  EXPECT_EQ(net_.next_deadline(), at_ms(11));
  EXPECT_FALSE(b_.receive(at_ms(11) - 1ns, buf_));
  auto n = b_.receive(at_ms(11), buf_);
  ASSERT_TRUE(n);
  EXPECT_EQ(Bytes(buf_.begin(), buf_.begin() + static_cast<long>(*n)), f);
  EXPECT_EQ(b_.next_deadline(), std::nullopt);
  EXPECT_FALSE(a_.receive(at_ms(100), buf_));  // nothing goes back to the sender
  EXPECT_EQ(a_.stats().tx_frames, 1u);
  EXPECT_EQ(a_.stats().tx_bytes, 64u);
  EXPECT_EQ(b_.stats().rx_frames, 1u);
  EXPECT_EQ(b_.stats().rx_bytes, 64u);
}

TEST_F(SimLinkTest, DirectionsHaveTheirOwnParams) {
  ASSERT_TRUE(net_.connect(a_, b_, LinkParams{.delay = 2ms}, LinkParams{.delay = 5ms}).ok());
  ASSERT_TRUE(a_.transmit(at_ms(0), numbered_frame(1)));
  ASSERT_TRUE(b_.transmit(at_ms(0), numbered_frame(2, mac(1), mac(2))));
  EXPECT_EQ(b_.next_deadline(), at_ms(2));
  EXPECT_EQ(a_.next_deadline(), at_ms(5));
}

TEST_F(SimLinkTest, RateSerializesFramesBehindEachOther) {
  // 125 bytes at 1 Mbit/s = 1000 bits = 1 ms on the wire, plus 1 ms propagation.
  ASSERT_TRUE(net_.connect(a_, b_, LinkParams{.delay = 1ms, .rate_bps = 1'000'000}).ok());
  for (std::uint32_t i = 0; i < 3; ++i) ASSERT_TRUE(a_.transmit(at_ms(0), numbered_frame(i, mac(2), mac(1), 125)));
  EXPECT_EQ(a_.out_channel()->serialization_time(125), 1ms);
  EXPECT_EQ(b_.next_deadline(), at_ms(2));
  EXPECT_FALSE(recv_id(b_, at_ms(2) - 1ns));
  EXPECT_EQ(recv_id(b_, at_ms(2)), 0u);
  EXPECT_EQ(b_.next_deadline(), at_ms(3));
  EXPECT_FALSE(recv_id(b_, at_ms(3) - 1ns));
  EXPECT_EQ(recv_id(b_, at_ms(3)), 1u);
  EXPECT_EQ(recv_id(b_, at_ms(10)), 2u);  // due at 4 ms, read late
  // The link has been idle since 3 ms: a frame sent at 10 ms starts at once.
  ASSERT_TRUE(a_.transmit(at_ms(10), numbered_frame(3, mac(2), mac(1), 125)));
  EXPECT_EQ(b_.next_deadline(), at_ms(12));
}

TEST_F(SimLinkTest, SerializationRoundsUpToTheNanosecond) {
  ASSERT_TRUE(net_.connect(a_, b_, LinkParams{.rate_bps = 3'000'000}).ok());
  // 100 bytes = 800 bits at 3 Mbit/s = 266666.67 ns -> 266667 ns.
  ASSERT_TRUE(a_.transmit(at_ns(0), numbered_frame(0, mac(2), mac(1), 100)));
  EXPECT_EQ(b_.next_deadline(), at_ns(266667));
  ASSERT_TRUE(a_.transmit(at_ns(0), numbered_frame(1, mac(2), mac(1), 100)));
  EXPECT_EQ(recv_id(b_, at_ns(266667)), 0u);
  EXPECT_EQ(b_.next_deadline(), at_ns(2 * 266667));
}

TEST_F(SimLinkTest, QueueLimitTailDrops) {
  ASSERT_TRUE(net_.connect(a_, b_, LinkParams{.rate_bps = 1'000'000, .queue_limit = 2}).ok());
  EXPECT_TRUE(a_.transmit(at_ms(0), numbered_frame(0, mac(2), mac(1), 125)));   // serializing until 1 ms
  EXPECT_TRUE(a_.transmit(at_ms(0), numbered_frame(1, mac(2), mac(1), 125)));   // waits, done at 2 ms
  EXPECT_FALSE(a_.transmit(at_ms(0), numbered_frame(2, mac(2), mac(1), 125)));  // queue full
  EXPECT_FALSE(a_.transmit(at_ms(0.5), numbered_frame(3, mac(2), mac(1), 125)));
  EXPECT_EQ(a_.stats().tx_dropped, 2u);
  EXPECT_EQ(a_.stats().tx_frames, 2u);
  EXPECT_EQ(a_.out_channel()->stats().queue_drops, 2u);
  // At 1 ms the first frame is done: room for one more, which finishes at 3 ms.
  EXPECT_TRUE(a_.transmit(at_ms(1), numbered_frame(4, mac(2), mac(1), 125)));
  EXPECT_FALSE(a_.transmit(at_ms(1), numbered_frame(5, mac(2), mac(1), 125)));
  EXPECT_EQ(recv_id(b_, at_ms(10)), 0u);
  EXPECT_EQ(recv_id(b_, at_ms(10)), 1u);
  EXPECT_EQ(recv_id(b_, at_ms(10)), 4u);
  EXPECT_FALSE(recv_id(b_, at_ms(10)));
}

TEST_F(SimLinkTest, EcnMarkingAboveThreshold) {
  // RFC 3168 5: above the threshold an ECT packet is marked CE (its header
  // checksum kept valid) and a Not-ECT one is dropped; below it both pass.
  LinkParams p{.delay = 1ms, .rate_bps = 1'000'000, .queue_limit = 10};
  p.ecn_mark_threshold = 2;
  ASSERT_TRUE(net_.connect(a_, b_, p).ok());
  const base::Ipv4Addr src(198, 18, 0, 1), dst(198, 18, 0, 2);
  auto frame = [&](std::uint8_t ecn) {
    Bytes ip = testing::ipv4_packet(src, dst, 17, Bytes(100, 0));
    // Set the ECN bits and recompute the header checksum.
    ip[1] = ecn;
    ip[10] = ip[11] = 0;
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 20; i += 2) sum += base::load_be16(ip, i);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    base::store_be16(ip, 10, static_cast<std::uint16_t>(~sum));
    return testing::ethernet(mac(2), mac(1), 0x0800, ip);
  };
  ASSERT_TRUE(a_.transmit(at_ms(0), frame(2)));   // queue 0: passes unmarked
  ASSERT_TRUE(a_.transmit(at_ms(0), frame(0)));   // queue 1: passes
  ASSERT_TRUE(a_.transmit(at_ms(0), frame(2)));   // queue 2: ECT(0) marked CE
  ASSERT_TRUE(a_.transmit(at_ms(0), frame(1)));   // ECT(1) marked CE
  EXPECT_FALSE(a_.transmit(at_ms(0), frame(0)));  // Not-ECT dropped
  EXPECT_EQ(a_.out_channel()->stats().ce_marks, 2u);
  EXPECT_EQ(a_.out_channel()->stats().queue_drops, 1u);
  std::vector<std::uint8_t> tos;
  while (auto n = b_.receive(at_ms(100), buf_)) {
    const base::ByteSpan ip = base::ByteSpan(buf_).subspan(14, 20);
    tos.push_back(ip[1]);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 20; i += 2) sum += base::load_be16(ip, i);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    EXPECT_EQ(sum, 0xffffu) << "header checksum after marking";
  }
  EXPECT_EQ(tos, (std::vector<std::uint8_t>{2, 0, 3, 3}));
}

TEST_F(SimLinkTest, UnlimitedRateNeverQueues) {
  ASSERT_TRUE(net_.connect(a_, b_, LinkParams{.queue_limit = 1}).ok());
  for (std::uint32_t i = 0; i < 100; ++i) ASSERT_TRUE(a_.transmit(at_ms(0), numbered_frame(i)));
  for (std::uint32_t i = 0; i < 100; ++i) ASSERT_EQ(recv_id(b_, at_ms(0)), i);
}

TEST_F(SimLinkTest, RefusesUnattachedOversizeAndRunt) {
  EXPECT_FALSE(a_.transmit(at_ms(0), numbered_frame(0)));
  EXPECT_EQ(a_.stats().tx_dropped, 1u);
  SimPort& small = net_.add_port("small", 1000);
  ASSERT_TRUE(net_.connect(small, b_).ok());
  EXPECT_EQ(small.mtu(), 1000u);
  EXPECT_EQ(small.medium(), Medium::ethernet);
  EXPECT_TRUE(small.transmit(at_ms(0), numbered_frame(0, mac(2), mac(1), 1014)));
  EXPECT_FALSE(small.transmit(at_ms(0), numbered_frame(1, mac(2), mac(1), 1015)));
  EXPECT_FALSE(small.transmit(at_ms(0), Bytes(13, 0)));
  EXPECT_EQ(small.stats().tx_dropped, 2u);
}

TEST_F(SimLinkTest, FrameLargerThanBufferIsDroppedAndCounted) {
  ASSERT_TRUE(net_.connect(a_, b_).ok());
  ASSERT_TRUE(a_.transmit(at_ms(0), numbered_frame(0, mac(2), mac(1), 200)));
  ASSERT_TRUE(a_.transmit(at_ms(0), numbered_frame(1, mac(2), mac(1), 100)));
  Bytes small(150);
  auto n = b_.receive(at_ms(0), small);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 100u);
  EXPECT_EQ(b_.stats().rx_dropped, 1u);
}

TEST_F(SimLinkTest, ConnectRejectsReuse) {
  ASSERT_TRUE(net_.connect(a_, b_).ok());
  SimPort& c = net_.add_port("c");
  EXPECT_EQ(net_.connect(a_, c).error(), base::Errc::is_connected);
  EXPECT_EQ(net_.connect(c, c).error(), base::Errc::invalid);
  SimSwitch& sw = net_.add_switch("sw");
  EXPECT_EQ(net_.attach(sw, b_).error(), base::Errc::is_connected);
  EXPECT_TRUE(net_.attach(sw, c).ok());
}

class SimSwitchTest : public SimLinkTest {
 protected:
  void SetUp() override {
    for (SimPort* p : {&a_, &b_, &c_}) ASSERT_TRUE(net_.attach(sw_, *p, LinkParams{.delay = 1ms}).ok());
  }
  SimPort& c_ = net_.add_port("c");
  SimSwitch& sw_ = net_.add_switch("sw");
};

TEST_F(SimSwitchTest, FloodsUnknownThenForwardsLearned) {
  // a -> b while b is unknown: flooded to b and c, never back to a.
  ASSERT_TRUE(a_.transmit(at_ms(0), numbered_frame(1, mac(2), mac(1))));
  EXPECT_EQ(b_.next_deadline(), at_ms(1));  // the frame reaches the switch at 1 ms
  net_.advance(at_ms(1));
  EXPECT_EQ(sw_.lookup(mac(1)), 0u);
  EXPECT_EQ(b_.next_deadline(), at_ms(2));
  EXPECT_EQ(c_.next_deadline(), at_ms(2));
  EXPECT_EQ(recv_id(b_, at_ms(2)), 1u);
  EXPECT_EQ(recv_id(c_, at_ms(2)), 1u);
  EXPECT_FALSE(recv_id(a_, at_ms(10)));
  EXPECT_EQ(sw_.stats().flooded, 1u);

  // b -> a: a is known, so only a gets it; the switch learns b.
  ASSERT_TRUE(b_.transmit(at_ms(3), numbered_frame(2, mac(1), mac(2))));
  EXPECT_EQ(recv_id(a_, at_ms(5)), 2u);
  EXPECT_FALSE(recv_id(c_, at_ms(10)));
  EXPECT_EQ(sw_.lookup(mac(2)), 1u);
  EXPECT_EQ(sw_.stats().forwarded, 1u);

  // a -> b again: now unicast to b only.
  ASSERT_TRUE(a_.transmit(at_ms(10), numbered_frame(3, mac(2), mac(1))));
  EXPECT_EQ(recv_id(b_, at_ms(12)), 3u);
  EXPECT_FALSE(recv_id(c_, at_ms(20)));
  EXPECT_EQ(sw_.stats().forwarded, 2u);
  EXPECT_EQ(sw_.stats().flooded, 1u);
  EXPECT_EQ(sw_.port_count(), 3u);
}

TEST_F(SimSwitchTest, FloodsBroadcastAndMulticastButNotToIngress) {
  ASSERT_TRUE(c_.transmit(at_ms(0), numbered_frame(1, base::MacAddr::broadcast(), mac(3))));
  EXPECT_EQ(recv_id(a_, at_ms(2)), 1u);
  EXPECT_EQ(recv_id(b_, at_ms(2)), 1u);
  EXPECT_FALSE(recv_id(c_, at_ms(10)));
  const base::MacAddr mcast({0x01, 0x00, 0x5e, 0x00, 0x00, 0x01});
  ASSERT_TRUE(a_.transmit(at_ms(10), numbered_frame(2, mcast, mac(1))));
  EXPECT_EQ(recv_id(b_, at_ms(12)), 2u);
  EXPECT_EQ(recv_id(c_, at_ms(12)), 2u);
  EXPECT_FALSE(recv_id(a_, at_ms(20)));
  EXPECT_EQ(sw_.stats().flooded, 2u);
  EXPECT_FALSE(sw_.lookup(mcast));
}

TEST_F(SimSwitchTest, FiltersFrameForAStationOnItsIngressPort) {
  ASSERT_TRUE(a_.transmit(at_ms(0), numbered_frame(1, base::MacAddr::broadcast(), mac(1))));
  ASSERT_TRUE(a_.transmit(at_ms(5), numbered_frame(2, mac(1), mac(9))));  // to a station behind a's port
  net_.advance(at_ms(20));
  EXPECT_EQ(sw_.stats().filtered, 1u);
  EXPECT_EQ(recv_id(b_, at_ms(20)), 1u);
  EXPECT_FALSE(recv_id(b_, at_ms(20)));
  EXPECT_FALSE(recv_id(a_, at_ms(20)));
}

TEST(SimSwitch, FramesReachTheSwitchInTimeOrderNotSendingOrder) {
  SimNetwork net;
  SimPort& far = net.add_port("far");
  SimPort& near = net.add_port("near");
  SimPort& dst = net.add_port("dst");
  SimSwitch& sw = net.add_switch("sw");
  ASSERT_TRUE(net.attach(sw, far, LinkParams{.delay = 10ms}).ok());
  ASSERT_TRUE(net.attach(sw, near, LinkParams{}).ok());
  ASSERT_TRUE(net.attach(sw, dst, LinkParams{.rate_bps = 1'000'000}).ok());
  ASSERT_TRUE(far.transmit(at_ms(0), numbered_frame(1, base::MacAddr::broadcast(), mac(1), 125)));
  ASSERT_TRUE(near.transmit(at_ms(1), numbered_frame(2, base::MacAddr::broadcast(), mac(2), 125)));
  // near's frame reaches the switch at 1 ms and dst at 2 ms (1 ms serialization);
  // far's reaches the switch at 10 ms and is not delayed by near's.
  Bytes buf(2048);
  EXPECT_EQ(dst.next_deadline(), at_ms(1));
  ASSERT_TRUE(dst.receive(at_ms(2), buf));
  EXPECT_EQ(testing::frame_id(buf), 2u);
  EXPECT_EQ(dst.next_deadline(), at_ms(10));
  EXPECT_FALSE(dst.receive(at_ms(11) - 1ns, buf));
  ASSERT_TRUE(dst.receive(at_ms(11), buf));
  EXPECT_EQ(testing::frame_id(buf), 1u);
  // Still unread: far's broadcast at near (due 10 ms), near's at far (1 ms + 10 ms).
  EXPECT_EQ(near.next_deadline(), at_ms(10));
  EXPECT_EQ(far.next_deadline(), at_ms(11));
  EXPECT_EQ(net.next_deadline(), at_ms(10));
}

}  // namespace
}  // namespace ustack::link

namespace ustack::link {
namespace {

TEST(SimLinkBuffers, AFrameHandedOverAsABufferArrivesIntactAndIsHandedOverAgain) {
  SimNetwork net;
  SimPort& a = net.add_port("a");
  SimPort& b = net.add_port("b");
  ASSERT_TRUE(net.connect(a, b, LinkParams{.delay = std::chrono::milliseconds(1)}).ok());
  const testing::Bytes f = testing::numbered_frame(9);
  base::PacketBuf buf = base::PacketBuf::copy_of(f);
  const base::Byte* storage = buf.data().data();
  ASSERT_TRUE(a.transmit_buf(testing::at_ms(0), std::move(buf)));
  EXPECT_TRUE(b.receives_buffers());
  auto got = b.receive_buf(testing::at_ms(1), 2048);
  ASSERT_TRUE(got);
  EXPECT_EQ(testing::Bytes(got->data().begin(), got->data().end()), f);
  EXPECT_EQ(got->data().data(), storage);  // the same storage: no copy on the way
  EXPECT_EQ(b.stats().rx_frames, 1u);
  EXPECT_EQ(a.stats().tx_bytes, f.size());
}

TEST(SimLinkBuffers, LimitsAreTheCopyingCalls) {
  SimNetwork net;
  SimPort& a = net.add_port("a", 100);
  SimPort& b = net.add_port("b");
  ASSERT_TRUE(net.connect(a, b).ok());
  // Longer than the sender's MTU + 14: dropped at the sender, as transmit() does.
  EXPECT_FALSE(a.transmit_buf(testing::at_ms(0), base::PacketBuf::copy_of(testing::numbered_frame(1, testing::mac(2), testing::mac(1), 115))));
  EXPECT_EQ(a.stats().tx_dropped, 1u);
  // Longer than what the receiver takes: dropped and counted, as receive() does.
  ASSERT_TRUE(a.transmit_buf(testing::at_ms(0), base::PacketBuf::copy_of(testing::numbered_frame(2, testing::mac(2), testing::mac(1), 100))));
  EXPECT_FALSE(b.receive_buf(testing::at_ms(0), 99));
  EXPECT_EQ(b.stats().rx_dropped, 1u);
}

}  // namespace
}  // namespace ustack::link
