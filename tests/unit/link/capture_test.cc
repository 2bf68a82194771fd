// Live capture: libpcap-compiled filters, the bounded per-reader queues of pcap
// records, and the device wrapper that feeds them.
#include "link/capture.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

#include "frames.h"
#include "link/loopback.h"

namespace ustack::link {
namespace {

using namespace testing;
using base::Ipv4Addr;

const Ipv4Addr kA(198, 18, 0, 1), kB(198, 18, 0, 2);
const auto kWall = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

Bytes udp_frame() { return ethernet(mac(2), mac(1), 0x0800, udp_datagram(kA, kB, 1000, 7, Bytes(10, 'x'))); }
Bytes icmp_frame() { return ethernet(mac(2), mac(1), 0x0800, icmp_echo_request(kA, kB, 1, 1)); }

std::uint32_t u32_at(const std::string& s, std::size_t off) {
  std::uint32_t v = 0;
  std::memcpy(&v, s.data() + off, sizeof v);
  return v;
}

TEST(CaptureFilter, EmptyMatchesEverythingAndTcpdumpSyntaxSelects) {
  auto all = CaptureFilter::compile("", LinkType::ethernet);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->matches(udp_frame()));
  EXPECT_TRUE(all->matches(icmp_frame()));

  auto udp7 = CaptureFilter::compile("udp and dst port 7", LinkType::ethernet);
  ASSERT_TRUE(udp7.ok()) << udp7.error();
  EXPECT_TRUE(udp7->matches(udp_frame()));
  EXPECT_FALSE(udp7->matches(icmp_frame()));

  auto host = CaptureFilter::compile("icmp and src host 198.18.0.1", LinkType::ethernet);
  ASSERT_TRUE(host.ok());
  EXPECT_TRUE(host->matches(icmp_frame()));
  EXPECT_FALSE(host->matches(udp_frame()));
}

TEST(CaptureFilter, RawIpLinkTypeReadsBareDatagrams) {
  auto f = CaptureFilter::compile("udp port 7", LinkType::raw_ip);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_TRUE(f->matches(udp_datagram(kA, kB, 1000, 7, Bytes(4, 'y'))));
  EXPECT_FALSE(f->matches(icmp_echo_request(kA, kB, 1, 1)));
}

TEST(CaptureFilter, SyntaxErrorIsAClearError) {
  auto f = CaptureFilter::compile("tcp port", LinkType::ethernet);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().find("bad filter 'tcp port'"), std::string::npos) << f.error();
  EXPECT_FALSE(CaptureFilter::compile("port 99999", LinkType::ethernet).ok());
}

TEST(CaptureHub, AReaderGetsTheGlobalHeaderThenOneRecordPerMatchingFrame) {
  CaptureHub hub(LinkType::ethernet, kWall);
  int notified = 0;
  auto sub = hub.subscribe(*CaptureFilter::compile("udp", LinkType::ethernet), [&] { ++notified; });
  std::string first = sub->take();
  ASSERT_EQ(first.size(), 24u);
  EXPECT_EQ(u32_at(first, 0), 0xa1b2c3d4u);
  EXPECT_EQ(u32_at(first, 20), 1u);  // LINKTYPE_ETHERNET

  const Bytes u = udp_frame();
  hub.record(at_ms(1500), u);
  hub.record(at_ms(1600), icmp_frame());  // filtered out
  hub.record(at_ms(1700), u);
  EXPECT_EQ(notified, 1) << "notify only when the queue goes from empty to not empty";
  EXPECT_EQ(sub->captured(), 2u);
  const std::string recs = sub->take();
  ASSERT_EQ(recs.size(), 2 * (16 + u.size()));
  EXPECT_EQ(u32_at(recs, 0), 1'700'000'001u);  // seconds: wall time of the epoch + 1.5 s
  EXPECT_EQ(u32_at(recs, 4), 500'000u);        // microseconds
  EXPECT_EQ(u32_at(recs, 8), u.size());        // caplen
  EXPECT_EQ(u32_at(recs, 12), u.size());       // orig len
  EXPECT_EQ(std::memcmp(recs.data() + 16, u.data(), u.size()), 0);
  EXPECT_TRUE(sub->take().empty());
}

TEST(CaptureHub, ASlowReaderLosesFramesCountedAndTheQueueStaysBounded) {
  CaptureHub hub(LinkType::ethernet, kWall);
  const Bytes u = udp_frame();
  const std::size_t record = 16 + u.size();
  auto sub = hub.subscribe(CaptureFilter{}, nullptr, 24 + 3 * record);
  for (int i = 0; i < 10; ++i) hub.record(at_ms(i), u);
  EXPECT_EQ(sub->captured(), 3u);
  EXPECT_EQ(sub->dropped(), 7u);
  EXPECT_EQ(sub->take().size(), 24 + 3 * record);
  hub.record(at_ms(20), u);  // room again
  EXPECT_EQ(sub->captured(), 4u);
}

TEST(CaptureHub, DroppingTheSubscriptionUnsubscribes) {
  CaptureHub hub(LinkType::ethernet, kWall);
  auto a = hub.subscribe(CaptureFilter{}, nullptr);
  auto b = hub.subscribe(CaptureFilter{}, nullptr);
  EXPECT_EQ(hub.subscribers(), 2u);
  a.reset();
  EXPECT_EQ(hub.subscribers(), 1u);
  hub.record(at_ms(1), udp_frame());
  EXPECT_EQ(b->captured(), 1u);
  b.reset();
  hub.record(at_ms(2), udp_frame());  // finds nobody and goes quiet
  EXPECT_EQ(hub.subscribers(), 0u);
}

TEST(CaptureDevice, RecordsWhatIsSentAndWhatIsReceivedAndChangesNothing) {
  auto hub = std::make_shared<CaptureHub>(LinkType::raw_ip, kWall);
  LoopbackDevice lo;
  CaptureDevice dev(lo, hub);
  const Bytes d = udp_datagram(kA, kB, 1, 2, Bytes(5, 'z'));
  ASSERT_TRUE(dev.transmit(at_ms(1), d));  // no reader: nothing recorded, nothing changed
  Bytes buf(2048);
  ASSERT_EQ(dev.receive(at_ms(1), buf), d.size());

  auto sub = hub->subscribe(CaptureFilter{}, nullptr);
  ASSERT_TRUE(dev.transmit(at_ms(2), d));
  auto n = dev.receive(at_ms(3), buf);
  ASSERT_EQ(n, d.size());
  EXPECT_TRUE(std::equal(d.begin(), d.end(), buf.begin()));
  EXPECT_EQ(sub->captured(), 2u);  // out and back in
  EXPECT_EQ(sub->take().size(), 24 + 2 * (16 + d.size()));
  EXPECT_EQ(dev.stats().tx_frames, lo.stats().tx_frames);
}

}  // namespace
}  // namespace ustack::link
