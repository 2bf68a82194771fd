// A simulated link that carries TCP checksums left partial (LinkParams::
// checksum_offload, as a veth pair carries CHECKSUM_PARTIAL): the sender leaves
// each TCP checksum holding only the pseudo-header sum and the receiver takes
// the frame on the link's word. Off by default, when every TCP frame on the
// wire carries a full checksum. The bench's tcp_bulk_nocsum row runs on it.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>

#include <vector>

#include "host/sim_world.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

namespace ustack {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;

/// Records the TCP frames a port sends: are their checksums full?
class Recorder : public link::WrapperDevice {
 public:
  explicit Recorder(link::Device& inner) : WrapperDevice(inner) {}
  bool transmit(base::Instant now, base::ByteSpan frame) override {
    auto eth = wire::EthernetView::parse(frame);
    if (eth && eth->ethertype() == static_cast<std::uint16_t>(wire::EtherType::ipv4)) {
      auto ip = wire::Ipv4View::parse(eth->payload());
      if (ip && ip->protocol() == IPPROTO_TCP) {
        auto tcp = wire::TcpView::parse(ip->payload());
        if (tcp) (tcp->checksum_ok(ip->src(), ip->dst()) ? full : partial) += 1;
      }
    }
    return WrapperDevice::transmit(now, frame);
  }
  unsigned full = 0, partial = 0;
};

struct Outcome {
  unsigned full = 0, partial = 0;
  bool byte_exact = false;
};

Outcome transfer(bool offload) {
  host::SimWorld world(3);
  auto& pa = world.net().add_port("a");
  auto& pb = world.net().add_port("b");
  link::LinkParams params{.delay = 100us};
  params.checksum_offload = offload;
  EXPECT_TRUE(world.net().connect(pa, pb, params).ok());
  EXPECT_EQ(pa.tx_checksum_offload(), offload);
  EXPECT_EQ(pb.rx_checksum_trusted(), offload);
  Recorder rec(pa);
  auto& a = world.add_host("a", rec, {Ipv4Addr(198, 18, 0, 1), 24});
  auto& b = world.add_host("b", pb, {Ipv4Addr(198, 18, 0, 2), 24});

  auto l = *b.socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_TRUE(b.bind(l, {Ipv4Addr::any(), 80}).ok());
  EXPECT_TRUE(b.listen(l, 4).ok());
  auto c = *a.socket(AF_INET, SOCK_STREAM, 0);
  (void)a.connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 80});
  std::vector<base::Byte> data(300'000), got, buf(65536);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<base::Byte>(i * 7 + (i >> 9));
  std::optional<stack::SocketId> s;
  std::size_t sent = 0;
  EXPECT_TRUE(world.run_until([&] {
    if (!s)
      if (auto x = b.accept(l, nullptr)) s = *x;
    while (sent < data.size()) {
      auto n = a.send_to(c, base::ByteSpan(data).subspan(sent), nullptr, 0);
      if (!n || *n == 0) break;
      sent += *n;
    }
    while (s) {
      auto r = b.recv_from(*s, buf, 0);
      if (!r || r->copied == 0) break;
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<long>(r->copied));
    }
    return got.size() == data.size();
  }, 10s));
  return {rec.full, rec.partial, got == data};
}

TEST(ChecksumOffloadLink, OffByDefaultEveryTcpFrameCarriesAFullChecksum) {
  const Outcome o = transfer(false);
  EXPECT_TRUE(o.byte_exact);
  EXPECT_GT(o.full, 200u);  // SYN, ~210 data segments, FIN-less ACKs
  EXPECT_EQ(o.partial, 0u);
}

TEST(ChecksumOffloadLink, OnTheSenderLeavesChecksumsPartialAndTheReceiverTrustsThem) {
  const Outcome o = transfer(true);
  EXPECT_TRUE(o.byte_exact);
  EXPECT_GT(o.partial, 200u);
  EXPECT_EQ(o.full, 0u);
}

TEST(ChecksumOffloadLink, PortsOnASwitchNeverClaimIt) {
  link::SimNetwork net;
  auto& sw = net.add_switch("sw");
  auto& p = net.add_port("p");
  link::LinkParams params;
  params.checksum_offload = true;
  ASSERT_TRUE(net.attach(sw, p, params).ok());
  EXPECT_FALSE(p.tx_checksum_offload());
  EXPECT_FALSE(p.rx_checksum_trusted());
}

}  // namespace
}  // namespace ustack
