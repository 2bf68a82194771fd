// Stack::socket_infos(): every socket and every connection without one, with the
// queue lengths Linux's ss shows.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "ctl_world.h"

namespace ustack::ctl {
namespace {

TEST(SocketInfos, ListsSocketsThenOrphans) {
  test::CtlWorld w;
  const auto infos = w.b->socket_infos();
  ASSERT_EQ(infos.size(), 5u);
  // By socket id, then the orphan (TIME-WAIT).
  EXPECT_EQ(infos[0].id, w.listener);
  EXPECT_TRUE(infos[0].listening);
  EXPECT_EQ(infos[0].tcp_state, tcp::State::listen);
  EXPECT_EQ(infos[0].recv_q, 0u);   // accept queue
  EXPECT_EQ(infos[0].send_q, 16u);  // backlog
  EXPECT_FALSE(infos[0].peer);

  const auto& est = infos[1];
  EXPECT_EQ(est.id, w.server);
  EXPECT_EQ(est.tcp_state, tcp::State::established);
  EXPECT_EQ(est.recv_q, 100u);
  EXPECT_EQ(est.send_q, 3000u);
  EXPECT_EQ(est.local, (base::Endpoint{base::Ipv4Addr(198, 18, 0, 2), 80}));
  ASSERT_TRUE(est.tcp);
  EXPECT_EQ(est.tcp->info.bytes_received, 100u);

  EXPECT_EQ(infos[2].id, w.udp_echo);
  EXPECT_EQ(infos[2].protocol, IPPROTO_UDP);
  EXPECT_EQ(infos[2].local.port, 7);
  EXPECT_FALSE(infos[2].peer);
  EXPECT_EQ(infos[3].id, w.udp_conn);
  ASSERT_TRUE(infos[3].peer);
  EXPECT_EQ(infos[3].peer->port, 53);

  EXPECT_EQ(infos[4].id, -1);
  EXPECT_EQ(infos[4].tcp_state, tcp::State::time_wait);
  EXPECT_TRUE(infos[4].tcp);
}

TEST(SocketInfos, EmbryoShowsInSynReceived) {
  test::CtlWorld w;
  // A SYN whose handshake has not finished: b holds an embryo in SYN-RECEIVED.
  auto c = *w.a->socket(AF_INET, SOCK_STREAM, 0);
  (void)w.a->connect(c, base::Endpoint{base::Ipv4Addr(198, 18, 0, 2), 80});
  w.world.run_for(std::chrono::microseconds(700));  // the SYN arrived, the SYN-ACK is on its way
  bool found = false;
  for (const auto& s : w.b->socket_infos())
    if (s.tcp_state == tcp::State::syn_received) {
      found = true;
      EXPECT_GE(s.id, 0);
      EXPECT_EQ(s.local.port, 80);
    }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace ustack::ctl
