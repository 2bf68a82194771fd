// The delivery rate (tcpi_delivery_rate, ss -i's delivery_rate) of a bulk
// transfer through a 20 Mbit/s bottleneck measures the bottleneck: the sender
// fills the path, so each sample is the rate the bottleneck delivers at.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <vector>

#include "host/sim_world.h"

namespace ustack {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;
using stack::SocketId;

TEST(TcpDeliveryRate, ABulkTransferMeasuresTheBottleneck) {
  host::SimWorld world(9);
  auto& pa = world.net().add_port("a");
  auto& pb = world.net().add_port("b");
  constexpr std::uint64_t kRate = 20'000'000;  // bits per second, frames' bytes
  ASSERT_TRUE(world.net().connect(pa, pb, {5ms, kRate, 1000}).ok());
  auto& a = world.add_host("a", pa, {Ipv4Addr(198, 18, 0, 1), 24});
  auto& b = world.add_host("b", pb, {Ipv4Addr(198, 18, 0, 2), 24});
  auto l = *b.socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(b.bind(l, {Ipv4Addr::any(), 5001}).ok());
  ASSERT_TRUE(b.listen(l, 1).ok());
  auto c = *a.socket(AF_INET, SOCK_STREAM, 0);
  (void)a.connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 5001});
  EXPECT_EQ(a.tcp_info(c)->delivery_rate, 0u) << "no sample before any delivery";
  std::optional<SocketId> s;
  constexpr std::size_t kTotal = 4u << 20;
  std::vector<base::Byte> data(kTotal, base::Byte{0x5a}), buf(65536);
  std::size_t sent = 0, received = 0;
  ASSERT_TRUE(world.run_until([&] {
    if (!s) if (auto r = b.accept(l, nullptr)) s = *r;
    while (sent < kTotal) {
      auto n = a.send_to(c, base::ByteSpan(data).subspan(sent), nullptr, 0);
      if (!n) break;
      sent += *n;
    }
    while (s) {
      auto r = b.recv_from(*s, buf, 0);
      if (!r || r->copied == 0) break;
      received += r->copied;
    }
    return received >= kTotal / 2;
  }, 60s));
  // Payload is 1448 of every 1514 frame bytes on the wire (timestamps on).
  const double payload_rate = static_cast<double>(kRate) / 8 * 1448 / 1514;
  const double measured = static_cast<double>(a.tcp_info(c)->delivery_rate);
  EXPECT_GT(measured, 0.85 * payload_rate) << measured * 8 / 1e6 << " Mbit/s";
  EXPECT_LT(measured, 1.10 * payload_rate) << measured * 8 / 1e6 << " Mbit/s";
}

}  // namespace
}  // namespace ustack
