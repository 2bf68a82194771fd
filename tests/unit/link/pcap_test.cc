// pcap files: header and record bytes, timestamps, snap length, the device
// wrapper, and a real decoder (tshark) reading what we wrote.
#include "link/pcap.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "link/loopback.h"
#include "link/sim.h"
#include "unit/link/frames.h"

namespace ustack::link {
namespace {

using namespace std::chrono_literals;
using testing::at_ms;
using testing::Bytes;

// 2023-11-14 22:13:20.250000 UTC
const auto kWall = std::chrono::system_clock::time_point(1'700'000'000s + 250'000us);

class PcapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("ustack_link_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".pcap"))
                .string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  Bytes file_bytes() const {
    std::ifstream in(path_, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }
  static std::uint32_t u32(const Bytes& b, std::size_t off) {
    std::uint32_t v;
    std::memcpy(&v, b.data() + off, 4);
    return v;
  }
  static std::uint16_t u16(const Bytes& b, std::size_t off) {
    std::uint16_t v;
    std::memcpy(&v, b.data() + off, 2);
    return v;
  }
  std::string path_;
};

TEST_F(PcapTest, GlobalHeaderAndRecords) {
  const Bytes f1 = testing::numbered_frame(1, testing::mac(2), testing::mac(1), 60);
  const Bytes f2 = testing::numbered_frame(2, testing::mac(1), testing::mac(2), 100);
  {
    auto w = PcapWriter::open(path_, LinkType::ethernet, kWall);
    ASSERT_TRUE(w.ok());
    EXPECT_TRUE((*w)->write(base::kEpoch, f1));
    EXPECT_TRUE((*w)->write(base::kEpoch + 1500ms + 7us + 999ns, f2));  // sub-microsecond part dropped
    EXPECT_EQ((*w)->records(), 2u);
  }  // destructor flushes
  const Bytes b = file_bytes();
  ASSERT_EQ(b.size(), 24u + 16 + 60 + 16 + 100);
  EXPECT_EQ(u32(b, 0), 0xa1b2c3d4u);
  EXPECT_EQ(u16(b, 4), 2u);
  EXPECT_EQ(u16(b, 6), 4u);
  EXPECT_EQ(u32(b, 8), 0u);   // thiszone
  EXPECT_EQ(u32(b, 12), 0u);  // sigfigs
  EXPECT_EQ(u32(b, 16), 262144u);
  EXPECT_EQ(u32(b, 20), 1u);  // LINKTYPE_ETHERNET
  EXPECT_EQ(u32(b, 24), 1'700'000'000u);
  EXPECT_EQ(u32(b, 28), 250'000u);
  EXPECT_EQ(u32(b, 32), 60u);
  EXPECT_EQ(u32(b, 36), 60u);
  EXPECT_EQ(Bytes(b.begin() + 40, b.begin() + 100), f1);
  EXPECT_EQ(u32(b, 100), 1'700'000'001u);
  EXPECT_EQ(u32(b, 104), 750'007u);
  EXPECT_EQ(u32(b, 108), 100u);
  EXPECT_EQ(u32(b, 112), 100u);
  EXPECT_EQ(Bytes(b.begin() + 116, b.end()), f2);
}

TEST_F(PcapTest, FlushMakesRecordsVisibleBeforeClose) {
  auto w = PcapWriter::open(path_, LinkType::raw_ip, kWall);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write(at_ms(1), Bytes(40, 0x45)));
  EXPECT_EQ(file_bytes().size(), 24u);  // still in the buffer
  EXPECT_TRUE((*w)->flush());
  const Bytes b = file_bytes();
  ASSERT_EQ(b.size(), 24u + 16 + 40);
  EXPECT_EQ(u32(b, 20), 101u);  // LINKTYPE_RAW
  EXPECT_EQ(u32(b, 28), 251'000u);
}

TEST_F(PcapTest, FrameOverSnapLenIsCutButKeepsOriginalLength) {
  {
    auto w = PcapWriter::open(path_, LinkType::ethernet, kWall);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->write(base::kEpoch, Bytes(300'000, 0xab)));
  }
  const Bytes b = file_bytes();
  ASSERT_EQ(b.size(), 24u + 16 + PcapWriter::kSnapLen);
  EXPECT_EQ(u32(b, 32), PcapWriter::kSnapLen);
  EXPECT_EQ(u32(b, 36), 300'000u);
}

TEST_F(PcapTest, TimestampsBefore1970UseFloorDivision) {
  {
    auto w = PcapWriter::open(path_, LinkType::ethernet, std::chrono::system_clock::time_point(-1500ms));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->write(base::kEpoch, Bytes(20, 0)));
  }
  const Bytes b = file_bytes();
  EXPECT_EQ(static_cast<std::int32_t>(u32(b, 24)), -2);
  EXPECT_EQ(u32(b, 28), 500'000u);
}

TEST_F(PcapTest, OpenErrorIsReported) {
  std::string why;
  auto w = PcapWriter::open("/nonexistent-ustack-dir/x.pcap", LinkType::ethernet, kWall, &why);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error(), base::Errc::io);
  EXPECT_NE(why.find("No such file or directory"), std::string::npos) << why;
  LoopbackDevice lo;
  auto d = PcapDevice::open(lo, "/nonexistent-ustack-dir/x.pcap", kWall);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), base::Errc::io);
}

TEST_F(PcapTest, DeviceRecordsBothDirectionsAndForwards) {
  SimNetwork net;
  SimPort& a = net.add_port("a");
  SimPort& b = net.add_port("b");
  ASSERT_TRUE(net.connect(a, b, LinkParams{.delay = 2ms}).ok());
  auto dev = PcapDevice::open(a, path_, kWall);
  ASSERT_TRUE(dev.ok());
  PcapDevice& cap = **dev;
  EXPECT_EQ(cap.writer().link_type(), LinkType::ethernet);
  const Bytes out = testing::numbered_frame(1, testing::mac(2), testing::mac(1), 70);
  const Bytes in = testing::numbered_frame(2, testing::mac(1), testing::mac(2), 80);
  ASSERT_TRUE(cap.transmit(at_ms(1), out));
  ASSERT_TRUE(b.transmit(at_ms(1), in));
  EXPECT_EQ(cap.next_deadline(), at_ms(3));
  Bytes buf(2048);
  EXPECT_FALSE(cap.receive(at_ms(2), buf));
  auto n = cap.receive(at_ms(3), buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 80u);
  EXPECT_EQ(cap.stats().tx_frames, 1u);  // the inner device's counters
  EXPECT_EQ(cap.stats().rx_frames, 1u);
  ASSERT_TRUE(b.receive(at_ms(3), buf));
  cap.flush();
  const Bytes f = file_bytes();
  ASSERT_EQ(f.size(), 24u + 16 + 70 + 16 + 80);
  EXPECT_EQ(u32(f, 28), 251'000u);
  EXPECT_EQ(Bytes(f.begin() + 40, f.begin() + 110), out);
  EXPECT_EQ(u32(f, 110 + 4), 253'000u);
  EXPECT_EQ(Bytes(f.begin() + 126, f.end()), in);
}

TEST_F(PcapTest, OwningDeviceOnIpMediumWritesRawLinkType) {
  {
    auto dev = PcapDevice::open(std::make_unique<LoopbackDevice>(), path_, kWall);
    ASSERT_TRUE(dev.ok());
    EXPECT_EQ((*dev)->medium(), Medium::ip);
    ASSERT_TRUE((*dev)->transmit(at_ms(0), Bytes(28, 0x45)));
    Bytes buf(100);
    ASSERT_TRUE((*dev)->receive(at_ms(0), buf));
  }
  const Bytes f = file_bytes();
  EXPECT_EQ(u32(f, 20), 101u);
  EXPECT_EQ(f.size(), 24u + 2 * (16 + 28));
}

std::string run_command(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// tshark as root warns on stderr that it runs as root; that line is not about our file.
std::string without_root_warning(std::string s) {
  const std::string warning = "Running as user \"root\" and group \"root\". This could be dangerous.";
  for (std::size_t pos; (pos = s.find(warning)) != std::string::npos;) {
    s.erase(pos, warning.size() + (pos + warning.size() < s.size() && s[pos + warning.size()] == '\n'));
  }
  return s;
}

TEST_F(PcapTest, TsharkDecodesEthernetIpv4Udp) {
  if (::access("/usr/bin/tshark", X_OK) != 0) GTEST_SKIP() << "tshark not installed";
  const base::Ipv4Addr src(198, 18, 0, 2), dst(198, 18, 0, 1);
  const Bytes frame = testing::ethernet(testing::mac(1), testing::mac(2), 0x0800,
                                        testing::udp_datagram(src, dst, 40000, 7, Bytes{'h', 'e', 'l', 'l', 'o'}));
  {
    auto w = PcapWriter::open(path_, LinkType::ethernet, kWall);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->write(at_ms(0), frame));
    ASSERT_TRUE((*w)->write(at_ms(1), frame));
  }
  const std::string checks = " -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE ";
  const std::string fields = run_command(
      "/usr/bin/tshark -r " + path_ + checks +
      "-T fields -E separator=, -e frame.time_epoch -e ip.src -e ip.dst -e udp.srcport -e udp.dstport"
      " -e udp.length -e ip.checksum.status -e udp.checksum.status -e _ws.expert 2>&1");
  EXPECT_EQ(without_root_warning(fields),
            "1700000000.250000000,198.18.0.2,198.18.0.1,40000,7,13,1,1,\n"
            "1700000000.251000000,198.18.0.2,198.18.0.1,40000,7,13,1,1,\n");
  // Nothing in the file draws an expert note, warning or error.
  const std::string expert = run_command("/usr/bin/tshark -r " + path_ + checks + "-Y _ws.expert 2>&1");
  EXPECT_EQ(without_root_warning(expert), "");
}

}  // namespace
}  // namespace ustack::link
