// The stack's memory limits at the socket API (docs/hardening.md "Memory limits"):
// SO_RCVBUF / SO_SNDBUF capped at rmem_max / wmem_max (not at the defaults), UDP
// datagrams past the stack-wide limit dropped and counted (UdpMemErrors), and the
// memory given back when datagrams are read or their socket is closed.
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <vector>

#include "stack/stack.h"

namespace ustack::stack {
namespace {

using namespace std::chrono_literals;
using base::Endpoint;
using base::Ipv4Addr;
using Bytes = std::vector<base::Byte>;

const Ipv4Addr kLo = Ipv4Addr::loopback();

StackConfig config() {
  StackConfig c;
  c.rmem_max = 1u << 20;  // above the defaults, as after sysctl -w net.core.rmem_max=1048576
  c.wmem_max = 2u << 20;
  c.memory = base::MemoryLimits::from_max(10 * (100 + udp::kDatagramOverhead));
  return c;
}

struct MemoryLimitsTest : ::testing::Test {
  Stack s{config()};
  base::Instant now = base::kEpoch + 1s;
  void pump() {
    for (int i = 0; i < 20; ++i) {
      s.poll(now);
      auto next = s.next_deadline();
      if (!next || *next > now) break;
    }
    now += 1ms;
    s.poll(now);
  }
  SocketId udp(std::uint16_t port) {
    auto id = s.socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT_TRUE(id.ok());
    EXPECT_TRUE(s.bind(*id, Endpoint{kLo, port}).ok());
    return *id;
  }
};

// socket(7) SO_RCVBUF: "The maximum allowed value is set by the
// /proc/sys/net/core/rmem_max file"; rmem_default is only the initial size. (It
// used to be capped at rmem_default, equal to rmem_max by default, so a raised
// rmem_max had no effect.)
TEST_F(MemoryLimitsTest, SoRcvbufAndSoSndbufAreCappedAtTheMaxima) {
  for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
    const SocketId a = *s.socket(AF_INET, type, 0);
    ASSERT_TRUE(s.set_option(a, SOL_SOCKET, SO_RCVBUF, 500000).ok());
    EXPECT_EQ(*s.get_option(a, SOL_SOCKET, SO_RCVBUF), 1000000) << type;  // past rmem_default, doubled
    ASSERT_TRUE(s.set_option(a, SOL_SOCKET, SO_RCVBUF, 1 << 30).ok());
    EXPECT_EQ(*s.get_option(a, SOL_SOCKET, SO_RCVBUF), 2 << 20) << type;  // 2 * rmem_max
    ASSERT_TRUE(s.set_option(a, SOL_SOCKET, SO_SNDBUF, 1 << 30).ok());
    EXPECT_EQ(*s.get_option(a, SOL_SOCKET, SO_SNDBUF), 4 << 20) << type;  // 2 * wmem_max
    ASSERT_TRUE(s.close(a).ok());
  }
}

TEST_F(MemoryLimitsTest, UdpDatagramsPastTheMemoryLimitAreDroppedAndCounted) {
  const SocketId rx = udp(8000);
  ASSERT_TRUE(s.set_option(rx, SOL_SOCKET, SO_RCVBUF, 1 << 20).ok());  // SO_RCVBUF is not what stops them
  const SocketId tx = udp(8001);
  const Endpoint to{kLo, 8000};
  for (std::uint32_t i = 0; i < 40; ++i) {
    Bytes d(100, static_cast<base::Byte>(i));
    ASSERT_TRUE(s.send_to(tx, d, &to, 0).ok());
  }
  pump();
  // Each datagram is charged 100 + 256: ten fit the limit.
  EXPECT_EQ(s.counters().UdpInDatagrams, 10u);
  EXPECT_EQ(s.counters().UdpMemErrors, 30u);  // Linux UDP_MIB_MEMERRORS
  EXPECT_EQ(s.counters().UdpRcvbufErrors, 0u);
  EXPECT_EQ(s.memory().usage(), s.memory().limits().max);
  EXPECT_EQ(s.memory().usage(base::MemKind::udp), s.memory().limits().max);
  EXPECT_EQ(s.memory().peak(), s.memory().limits().max);
  EXPECT_GE(s.memory().pressure_entries(), 1u);
  Bytes buf(200);
  for (std::uint32_t i = 0; i < 10; ++i) {
    auto r = s.recv_from(rx, buf, 0);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(buf[0], static_cast<base::Byte>(i));  // the first ten, in order
  }
  EXPECT_EQ(s.memory().usage(), 0u);
  EXPECT_FALSE(s.memory().under_pressure());
  // A socket closed with datagrams queued gives their memory back.
  Bytes d(100);
  ASSERT_TRUE(s.send_to(tx, d, &to, 0).ok());
  pump();
  EXPECT_GT(s.memory().usage(), 0u);
  ASSERT_TRUE(s.close(rx).ok());
  EXPECT_EQ(s.memory().usage(), 0u);
}

TEST_F(MemoryLimitsTest, RawSocketsArePartOfTheLimit) {
  const SocketId raw = *s.socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
  const SocketId tx = udp(8001);
  const Endpoint to{kLo, 9};  // no UDP socket: the raw socket sees them all
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(s.send_to(tx, Bytes(100), &to, 0).ok());
  pump();
  EXPECT_GT(s.counters().DropRawMemory, 0u);
  EXPECT_LE(s.memory().peak(), s.memory().limits().max);
  ASSERT_TRUE(s.close(raw).ok());
  EXPECT_EQ(s.memory().usage(), 0u);
}

}  // namespace
}  // namespace ustack::stack
