// A connection in a listener's SYN or accept queue holds a socket id that no
// application was given (Linux: a request socket, no descriptor). The socket
// calls must not reach it: fuzzing found that close() on such an id freed the
// connection while the listener still pointed at it (heap use after free).
// The replayed input is tests/fuzz/regressions/socket_api/close-embryo-id.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "host/sim_world.h"

namespace ustack::stack {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;

TEST(Embryo, SocketCallsSeeNoSocketUntilAcceptReturnsIt) {
  host::SimWorld world(11);
  auto& pa = world.net().add_port("a");
  auto& pb = world.net().add_port("b");
  ASSERT_TRUE(world.net().connect(pa, pb, {500us, 0, 1000}).ok());
  Stack& server = world.add_host("eth0", pa, {Ipv4Addr(198, 18, 0, 1), 24});
  Stack& client = world.add_host("eth0", pb, {Ipv4Addr(198, 18, 0, 2), 24});
  const SocketId l = *server.socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(server.bind(l, {Ipv4Addr::any(), 80}).ok());
  ASSERT_TRUE(server.listen(l, 4).ok());
  const SocketId c = *client.socket(AF_INET, SOCK_STREAM, 0);
  (void)client.connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 1), 80});
  world.run_for(10ms);

  // Established, in the accept queue, not accepted: its id is not the application's.
  SocketId embryo = -1;
  for (const auto& i : server.socket_infos())
    if (!i.listening && i.tcp_state == tcp::State::established) embryo = i.id;
  ASSERT_GE(embryo, 0);
  EXPECT_FALSE(server.valid(embryo));
  EXPECT_EQ(server.close(embryo).error(), base::Errc::bad_descriptor);
  const std::vector<base::Byte> data(10, base::Byte{'x'});
  EXPECT_EQ(server.send_to(embryo, data, nullptr, 0).error(), base::Errc::bad_descriptor);
  EXPECT_EQ(server.set_option(embryo, SOL_SOCKET, SO_KEEPALIVE, 1).error(), base::Errc::bad_descriptor);
  EXPECT_EQ(server.shutdown(embryo, SHUT_RDWR).error(), base::Errc::bad_descriptor);
  world.run_for(10ms);

  // Nothing happened to it: accept() hands it over, and it works.
  base::Endpoint peer;
  auto a = server.accept(l, &peer);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, embryo);
  EXPECT_TRUE(server.valid(*a));
  ASSERT_TRUE(client.send_to(c, data, nullptr, 0).ok());
  world.run_for(10ms);
  std::vector<base::Byte> buf(64);
  auto r = server.recv_from(*a, buf, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->copied, 10u);
  EXPECT_TRUE(server.close(*a).ok());
}

}  // namespace
}  // namespace ustack::stack
