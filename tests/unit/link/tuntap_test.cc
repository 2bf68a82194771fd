// TAP and TUN devices: never create a missing interface; with root, attach to real
// ones inside a throwaway network namespace and exchange frames with the kernel.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "link/tap.h"
#include "link/tun.h"
#include "unit/link/frames.h"

namespace ustack::link {
namespace {

using testing::Bytes;

bool sys_class_net_has(const char* name) {
  struct stat st;
  return ::stat((std::string("/sys/class/net/") + name).c_str(), &st) == 0;
}

TEST(TapDevice, MissingInterfaceFailsWithNoDeviceAndIsNotCreated) {
  ASSERT_FALSE(sys_class_net_has("ustnotexist0"));
  std::string why;
  auto tap = TapDevice::open("ustnotexist0", &why);
  ASSERT_FALSE(tap.ok());
  EXPECT_EQ(tap.error(), base::Errc::no_device);
  EXPECT_NE(why.find("ustnotexist0: no such interface"), std::string::npos) << why;
  EXPECT_FALSE(sys_class_net_has("ustnotexist0"));
  EXPECT_EQ(::if_nametoindex("ustnotexist0"), 0u);

  auto tun = TunDevice::open("ustnotexist1");
  ASSERT_FALSE(tun.ok());
  EXPECT_EQ(tun.error(), base::Errc::no_device);
  EXPECT_FALSE(sys_class_net_has("ustnotexist1"));
}

TEST(TapDevice, InvalidNamesAreRejected) {
  EXPECT_EQ(TapDevice::open("").error(), base::Errc::invalid);
  EXPECT_EQ(TapDevice::open("a-name-too-long-for-linux").error(), base::Errc::invalid);
  EXPECT_EQ(TunDevice::open("bad/name").error(), base::Errc::invalid);
}

int sh(const std::string& cmd) { return std::system(("{ " + cmd + "; } >/dev/null 2>&1").c_str()); }

// Moves this thread into a fresh network namespace for the test, and back after.
// Commands run with sh() inherit it; the namespace and its devices vanish at the end.
class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (TUNSETIFF and namespaces)";
    if (::access("/dev/net/tun", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/net/tun";
    if (sh("command -v ip") != 0) GTEST_SKIP() << "iproute2 (ip) not installed";
    saved_ns_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(saved_ns_, 0);
    if (::unshare(CLONE_NEWNET) != 0) GTEST_SKIP() << "unshare(CLONE_NEWNET) failed: " << std::strerror(errno);
    in_ns_ = true;
    ASSERT_EQ(sh("ip link set lo up"), 0);
    sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
  }
  void TearDown() override {
    if (in_ns_) {
      sh("ip link del ustt0; ip link del ustn0");
      EXPECT_EQ(::setns(saved_ns_, CLONE_NEWNET), 0);
    }
    if (saved_ns_ >= 0) ::close(saved_ns_);
  }
  // Sends with `send` every 200 ms and reads frames for up to 3 s until `want` accepts
  // one. Resending matters: until the kernel's linkwatch notices the carrier that our
  // attach raised (up to a second), the interface's qdisc drops what the kernel sends.
  template <class Send, class Pred>
  bool exchange(Device& dev, Send send, Pred want) {
    Bytes buf(4096);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    auto next_send = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::chrono::steady_clock::now() >= next_send) {
        EXPECT_TRUE(send());
        next_send += std::chrono::milliseconds(200);
      }
      pollfd p{dev.pollable_fd(), POLLIN, 0};
      ::poll(&p, 1, 20);
      while (auto n = dev.receive(base::kEpoch, buf)) {
        if (want(base::ByteSpan(buf.data(), *n))) return true;
      }
    }
    return false;
  }
  int saved_ns_ = -1;
  bool in_ns_ = false;
};

TEST_F(NetnsTest, TapExchangesArpWithTheKernel) {
  ASSERT_EQ(sh("ip tuntap add dev ustt0 mode tap && ip link set ustt0 mtu 1400 && "
               "ip addr add 198.18.0.1/24 dev ustt0 && ip link set ustt0 up"),
            0);
  std::string why;
  auto opened = TapDevice::open("ustt0", &why);
  ASSERT_TRUE(opened.ok()) << why;
  TapDevice& tap = **opened;
  EXPECT_GE(tap.pollable_fd(), 0);
  EXPECT_TRUE(::fcntl(tap.pollable_fd(), F_GETFL) & O_NONBLOCK);
  EXPECT_EQ(tap.mtu(), 1400u);
  EXPECT_EQ(tap.medium(), Medium::ethernet);
  EXPECT_EQ(tap.name(), "ustt0");
  Bytes buf(2048);
  EXPECT_FALSE(tap.receive(base::kEpoch, buf));  // non-blocking: nothing yet

  const base::MacAddr ours = testing::mac(0x22);
  const base::Ipv4Addr me(198, 18, 0, 2), kernel(198, 18, 0, 1);
  const Bytes request = testing::arp_request(ours, me, kernel);
  ASSERT_TRUE(tap.transmit(base::kEpoch, request));
  EXPECT_EQ(tap.stats().tx_frames, 1u);
  EXPECT_EQ(tap.stats().tx_bytes, 42u);
  const auto send = [&] { return tap.transmit(base::kEpoch, request); };
  const bool replied = exchange(tap, send, [&](base::ByteSpan f) {
    return f.size() >= 42 && base::load_be16(f, 12) == 0x0806 && base::load_be16(f, 20) == 2 &&
           base::load_be32(f, 28) == kernel.value() && std::equal(ours.bytes().begin(), ours.bytes().end(), f.begin());
  });
  EXPECT_TRUE(replied) << "no ARP reply from the kernel";
  EXPECT_GE(tap.stats().rx_frames, 1u);

  // A frame longer than the buffer is dropped and counted, not truncated.
  const auto dropped_before = tap.stats().rx_dropped;
  ASSERT_TRUE(tap.transmit(base::kEpoch, testing::arp_request(ours, me, kernel)));
  pollfd p{tap.pollable_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 1000), 1);
  Bytes small(20);
  EXPECT_FALSE(tap.receive(base::kEpoch, small));
  EXPECT_GE(tap.stats().rx_dropped, dropped_before + 1);

  // The kernel refuses a second attach, and a TUN attach to a TAP.
  EXPECT_FALSE(TapDevice::open("ustt0").ok());
  EXPECT_EQ(TunDevice::open("ustt0").error(), base::Errc::invalid);
  // Inside the namespace too, a missing name is not created.
  EXPECT_EQ(TapDevice::open("ustmissing0").error(), base::Errc::no_device);
  EXPECT_NE(sh("ip link show ustmissing0"), 0);
}

TEST_F(NetnsTest, TunExchangesIcmpEchoWithTheKernel) {
  ASSERT_EQ(sh("ip tuntap add dev ustn0 mode tun && ip addr add 198.18.1.1/24 dev ustn0 && ip link set ustn0 up"), 0);
  std::string why;
  auto opened = TunDevice::open("ustn0", &why);
  ASSERT_TRUE(opened.ok()) << why;
  TunDevice& tun = **opened;
  EXPECT_EQ(tun.medium(), Medium::ip);
  EXPECT_EQ(tun.mtu(), 1500u);
  const base::Ipv4Addr me(198, 18, 1, 2), kernel(198, 18, 1, 1);
  const Bytes request = testing::icmp_echo_request(me, kernel, 0x4242, 1);
  // A TUN batches its writes (io_uring): flush_tx() ends the round, as the stack's poll() does.
  const auto send = [&] {
    const bool ok = tun.transmit(base::kEpoch, request);
    tun.flush_tx();
    return ok;
  };
  const bool replied = exchange(tun, send, [&](base::ByteSpan d) {
    return d.size() >= 28 && d[0] == 0x45 && d[9] == 1 && base::load_be32(d, 12) == kernel.value() &&
           base::load_be32(d, 16) == me.value() && d[20] == 0 && base::load_be16(d, 24) == 0x4242;
  });
  EXPECT_TRUE(replied) << "no ICMP echo reply from the kernel";
}

TEST_F(NetnsTest, TransmitOnADownInterfaceIsCountedAsDropped) {
  ASSERT_EQ(sh("ip tuntap add dev ustt0 mode tap"), 0);  // left down
  auto opened = TapDevice::open("ustt0");
  ASSERT_TRUE(opened.ok());
  TapDevice& tap = **opened;
  const bool sent = tap.transmit(base::kEpoch, testing::arp_request(testing::mac(1), {}, {}));
  EXPECT_EQ(tap.stats().tx_frames + tap.stats().tx_dropped, 1u);
  EXPECT_EQ(sent, tap.stats().tx_frames == 1);
}

}  // namespace
}  // namespace ustack::link
