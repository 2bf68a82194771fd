// A stack in a known state for the ctl tests: host b (198.18.0.2, "tap0") on the
// simulated network with a peer a (198.18.0.1), holding one socket of each kind
// ss shows. Seeds are fixed, so ports and sequence numbers are the same each run.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>

#include <vector>

#include "host/sim_world.h"

namespace ustack::ctl::test {

using namespace std::chrono_literals;
using base::Ipv4Addr;
using stack::SocketId;

struct CtlWorld {
  host::SimWorld world{7};
  stack::Stack* a = nullptr;
  stack::Stack* b = nullptr;
  SocketId listener = -1;   // b: 0.0.0.0:80, backlog 16
  SocketId server = -1;     // b: 198.18.0.2:80 <- a, 100 bytes unread, 3000 bytes in flight
  SocketId udp_echo = -1;   // b: 0.0.0.0:7
  SocketId udp_conn = -1;   // b: connected to 198.18.0.1:53
  SocketId client = -1;     // a: the established connection's other end

  CtlWorld() {
    auto& pa = world.net().add_port("a");
    auto& pb = world.net().add_port("b");
    EXPECT_TRUE(world.net().connect(pa, pb, {std::chrono::microseconds(500), 100'000'000, 1000}).ok());
    a = &world.add_host("tap0", pa, {Ipv4Addr(198, 18, 0, 1), 24});
    b = &world.add_host("tap0", pb, {Ipv4Addr(198, 18, 0, 2), 24});
    EXPECT_TRUE(b->set_default_gateway(Ipv4Addr(198, 18, 0, 1)).ok());

    listener = *b->socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_TRUE(b->bind(listener, {Ipv4Addr::any(), 80}).ok());
    EXPECT_TRUE(b->listen(listener, 16).ok());

    // A connection that b closes first: b holds it in TIME-WAIT, without a socket.
    auto [c1, s1] = open();
    EXPECT_TRUE(b->close(s1).ok());
    world.run_for(10ms);
    EXPECT_TRUE(a->close(c1).ok());
    world.run_for(10ms);

    // The established connection.
    std::tie(client, server) = open();
    const std::vector<base::Byte> hello(100, base::Byte{'h'});
    EXPECT_EQ(*a->send_to(client, hello, nullptr, 0), 100u);
    world.run_for(10ms);

    udp_echo = *b->socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT_TRUE(b->bind(udp_echo, {Ipv4Addr::any(), 7}).ok());
    udp_conn = *b->socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT_TRUE(b->connect(udp_conn, base::Endpoint{Ipv4Addr(198, 18, 0, 1), 53}).ok());

    // Data b has sent and a has not yet acknowledged: the world is not run after it.
    const std::vector<base::Byte> reply(3000, base::Byte{'r'});
    EXPECT_EQ(*b->send_to(server, reply, nullptr, 0), 3000u);
  }

  /// a connects to b:80; returns {client on a, server on b}.
  std::pair<SocketId, SocketId> open() {
    auto c = *a->socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(a->connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 80}).error(), base::Errc::in_progress);
    std::optional<SocketId> s;
    EXPECT_TRUE(world.run_until([&] {
      if (!s) {
        auto r = b->accept(listener, nullptr);
        if (r) s = *r;
      }
      return s && (a->readiness(c) & POLLOUT);
    }, 10s));
    return {c, s.value_or(-1)};
  }
};

}  // namespace ustack::ctl::test
