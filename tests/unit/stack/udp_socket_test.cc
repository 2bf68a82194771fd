// Socket semantics on the Stack API with Linux's errno (socket(2), bind(2),
// connect(2), socket(7), ip(7), udp(7), raw(7)), on a stack with only its
// loopback interface, stepped by hand.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <vector>

#include "stack/stack.h"
#include "wire/ipv4.h"

namespace ustack::stack {
namespace {

using namespace std::chrono_literals;
using base::Endpoint;
using base::Errc;
using base::Ipv4Addr;
using Bytes = std::vector<base::Byte>;

const Ipv4Addr kLo = Ipv4Addr::loopback();

struct StackTest : ::testing::Test {
  Stack s;
  base::Instant now = base::kEpoch + 1s;

  /// Polls until nothing more is due now (loopback frames), then a little later.
  void pump() {
    for (int i = 0; i < 20; ++i) {
      s.poll(now);
      auto next = s.next_deadline();
      if (!next || *next > now) break;
    }
    now += 1ms;
    s.poll(now);
  }
  SocketId udp(std::optional<Endpoint> bind_to = std::nullopt) {
    auto id = s.socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT_TRUE(id.ok());
    if (bind_to) {
      EXPECT_TRUE(s.bind(*id, *bind_to).ok());
    }
    return *id;
  }
  Errc error_of(const Status& st) {
    EXPECT_FALSE(st.ok());
    return st.ok() ? Errc{} : st.error();
  }
  template <class T>
  Errc error_of(const base::Result<T>& r) {
    EXPECT_FALSE(r.ok());
    return r.ok() ? Errc{} : r.error();
  }
  Bytes numbered(std::uint32_t n, std::size_t len = 100) {
    Bytes b(len, static_cast<base::Byte>(n));
    base::store_be32(b, 0, n);
    return b;
  }
};

// ---- socket() -------------------------------------------------------------------

TEST_F(StackTest, SocketErrors) {
  // socket(2): "EAFNOSUPPORT The implementation does not support the specified address family."
  EXPECT_EQ(error_of(s.socket(AF_INET6, SOCK_DGRAM, 0)), Errc::family_not_supported);
  // raw(7): protocol 0 is not a protocol ("EPROTONOSUPPORT The protocol type or the
  // specified protocol is not supported within this domain").
  EXPECT_EQ(error_of(s.socket(AF_INET, SOCK_RAW, 0)), Errc::protocol_not_supported);
  // socket(2): "EINVAL Unknown protocol, or protocol family not available. EINVAL
  // Invalid flags in type."
  EXPECT_EQ(error_of(s.socket(AF_INET, 12345, 0)), Errc::invalid);
  EXPECT_EQ(error_of(s.socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP)), Errc::protocol_not_supported);
  EXPECT_TRUE(s.socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP).ok());
  EXPECT_TRUE(s.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP).ok());
}

// ---- bind() -----------------------------------------------------------------------

TEST_F(StackTest, BindTwiceIsEinval) {
  const SocketId a = udp(Endpoint{kLo, 5000});
  // bind(2): "EINVAL The socket is already bound to an address."
  EXPECT_EQ(error_of(s.bind(a, Endpoint{kLo, 5001})), Errc::invalid);
  EXPECT_EQ(s.local_endpoint(a)->port, 5000);
}

TEST_F(StackTest, BindConflictIsEaddrinuseUnlessBothSetReuseaddr) {
  udp(Endpoint{Ipv4Addr::any(), 5000});
  const SocketId b = udp();
  // bind(2): "EADDRINUSE The given address is already in use." The wildcard
  // overlaps every address.
  EXPECT_EQ(error_of(s.bind(b, Endpoint{kLo, 5000})), Errc::address_in_use);
  EXPECT_EQ(error_of(s.bind(b, Endpoint{Ipv4Addr::any(), 5000})), Errc::address_in_use);

  const SocketId c = udp();
  const SocketId d = udp();
  ASSERT_TRUE(s.set_option(c, SOL_SOCKET, SO_REUSEADDR, 1).ok());
  ASSERT_TRUE(s.bind(c, Endpoint{Ipv4Addr::any(), 6000}).ok());
  // socket(7) SO_REUSEADDR: only when every socket on the port set it.
  EXPECT_EQ(error_of(s.bind(d, Endpoint{Ipv4Addr::any(), 6000})), Errc::address_in_use);
  ASSERT_TRUE(s.set_option(d, SOL_SOCKET, SO_REUSEADDR, 1).ok());
  EXPECT_EQ(*s.get_option(d, SOL_SOCKET, SO_REUSEADDR), 1);
  EXPECT_TRUE(s.bind(d, Endpoint{Ipv4Addr::any(), 6000}).ok());
}

TEST_F(StackTest, BindToANonLocalAddressIsEaddrnotavail) {
  const SocketId a = udp();
  // ip(7): "EADDRNOTAVAIL A nonexistent interface was requested or the requested
  // source address was not local."
  EXPECT_EQ(error_of(s.bind(a, Endpoint{Ipv4Addr(192, 0, 2, 1), 5000})), Errc::address_not_available);
  EXPECT_TRUE(s.bind(a, Endpoint{Ipv4Addr(127, 1, 2, 3), 5000}).ok());  // all of 127/8 is ours
}

TEST_F(StackTest, PortZeroGetsAnEphemeralPort) {
  // ip(7): "ip_local_port_range ... the default values are 32768 and 60999."
  std::set<std::uint16_t> ports;
  for (int i = 0; i < 50; ++i) {
    const SocketId a = udp(Endpoint{Ipv4Addr::any(), 0});
    const auto p = s.local_endpoint(a)->port;
    EXPECT_GE(p, 32768);
    EXPECT_LE(p, 60999);
    ports.insert(p);
  }
  EXPECT_EQ(ports.size(), 50u);  // no two sockets share one
}

TEST_F(StackTest, ClosingFreesThePort) {
  const SocketId a = udp(Endpoint{kLo, 5000});
  ASSERT_TRUE(s.close(a).ok());
  EXPECT_FALSE(s.valid(a));
  EXPECT_EQ(error_of(s.close(a)), Errc::bad_descriptor);
  udp(Endpoint{kLo, 5000});
}

// ---- send, connect and names ----------------------------------------------------

TEST_F(StackTest, SendWithoutPeerIsEdestaddrreq) {
  const SocketId a = udp();
  const Bytes data(10);
  // send(2): "EDESTADDRREQ The socket is not connection-mode, and no peer address is set."
  EXPECT_EQ(error_of(s.send_to(a, data, nullptr, 0)), Errc::dest_address_required);
}

TEST_F(StackTest, OversizeDatagramIsEmsgsize) {
  const SocketId a = udp();
  const Endpoint to{kLo, 9};
  // udp(7): "EMSGSIZE ... the datagram is larger than 65507 (65535 - 20 - 8) bytes".
  EXPECT_EQ(error_of(s.send_to(a, Bytes(65508), &to, 0)), Errc::message_size);
  const SocketId rx = udp(Endpoint{kLo, 9});
  auto sent = s.send_to(a, Bytes(65507, 7), &to, 0);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, 65507u);
  pump();
  Bytes buf(70000);
  auto r = s.recv_from(rx, buf, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->full_len, 65507u);
}

TEST_F(StackTest, ConnectThenDisconnectWithAfUnspec) {
  const SocketId a = udp();
  EXPECT_EQ(error_of(s.peer_endpoint(a)), Errc::not_connected);  // getpeername(2): ENOTCONN
  EXPECT_EQ(*s.local_endpoint(a), (Endpoint{Ipv4Addr::any(), 0}));  // unbound
  ASSERT_TRUE(s.connect(a, Endpoint{kLo, 7000}).ok());
  EXPECT_EQ(*s.peer_endpoint(a), (Endpoint{kLo, 7000}));
  const auto local = *s.local_endpoint(a);
  EXPECT_EQ(local.addr, base::IpAddr(kLo));  // chosen by the route
  EXPECT_GE(local.port, 32768);
  // connect(2): "Connectionless sockets may dissolve the association by connecting
  // to an address with the sa_family member of sockaddr set to AF_UNSPEC." Linux
  // (__udp_disconnect) then clears a local address that connect() chose, keeping the port.
  ASSERT_TRUE(s.connect(a, std::nullopt).ok());
  EXPECT_EQ(error_of(s.peer_endpoint(a)), Errc::not_connected);
  EXPECT_EQ(*s.local_endpoint(a), (Endpoint{Ipv4Addr::any(), local.port}));
  EXPECT_EQ(error_of(s.send_to(a, Bytes(4), nullptr, 0)), Errc::dest_address_required);

  // An address bound explicitly survives the disconnect.
  const SocketId b = udp(Endpoint{kLo, 7001});
  ASSERT_TRUE(s.connect(b, Endpoint{kLo, 7000}).ok());
  ASSERT_TRUE(s.connect(b, std::nullopt).ok());
  EXPECT_EQ(*s.local_endpoint(b), (Endpoint{kLo, 7001}));
}

TEST_F(StackTest, ConnectedSocketHearsOnlyItsPeer) {
  const SocketId a = udp(Endpoint{kLo, 7000});
  const SocketId peer = udp(Endpoint{kLo, 7001});
  const SocketId stranger = udp(Endpoint{kLo, 7002});
  ASSERT_TRUE(s.connect(a, Endpoint{kLo, 7001}).ok());
  const Endpoint to{kLo, 7000};
  ASSERT_TRUE(s.send_to(stranger, numbered(1), &to, 0).ok());
  ASSERT_TRUE(s.send_to(peer, numbered(2), &to, 0).ok());
  pump();
  Bytes buf(200);
  auto r = s.recv_from(a, buf, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(base::load_be32(buf, 0), 2u);
  EXPECT_EQ(error_of(s.recv_from(a, buf, 0)), Errc::would_block);
}

// ---- options ------------------------------------------------------------------------

TEST_F(StackTest, RcvbufIsDoubledWithAFloorAndACap) {
  const SocketId a = udp();
  EXPECT_EQ(*s.get_option(a, SOL_SOCKET, SO_RCVBUF), 212992);  // net.core.rmem_default
  // socket(7) SO_RCVBUF: "The kernel doubles this value (to allow space for
  // bookkeeping overhead) when it is set using setsockopt(2), and this doubled value
  // is returned by getsockopt(2). ... The maximum allowed value is set by the
  // /proc/sys/net/core/rmem_max file". Linux's floor is SOCK_MIN_RCVBUF (2304).
  ASSERT_TRUE(s.set_option(a, SOL_SOCKET, SO_RCVBUF, 1000).ok());
  EXPECT_EQ(*s.get_option(a, SOL_SOCKET, SO_RCVBUF), 2304);
  ASSERT_TRUE(s.set_option(a, SOL_SOCKET, SO_RCVBUF, 100000).ok());
  EXPECT_EQ(*s.get_option(a, SOL_SOCKET, SO_RCVBUF), 200000);
  ASSERT_TRUE(s.set_option(a, SOL_SOCKET, SO_RCVBUF, 1 << 30).ok());
  EXPECT_EQ(*s.get_option(a, SOL_SOCKET, SO_RCVBUF), 2 * 212992);
  ASSERT_TRUE(s.set_option(a, SOL_SOCKET, SO_SNDBUF, 1000).ok());
  EXPECT_EQ(*s.get_option(a, SOL_SOCKET, SO_SNDBUF), 4608);  // SOCK_MIN_SNDBUF
}

TEST_F(StackTest, IpTtlRangeAndDefault) {
  const SocketId a = udp();
  EXPECT_EQ(*s.get_option(a, IPPROTO_IP, IP_TTL), 64);
  // ip(7) IP_TTL: values 1..255; "EINVAL" otherwise; -1 means the default.
  EXPECT_EQ(error_of(s.set_option(a, IPPROTO_IP, IP_TTL, 0)), Errc::invalid);
  EXPECT_EQ(error_of(s.set_option(a, IPPROTO_IP, IP_TTL, 256)), Errc::invalid);
  ASSERT_TRUE(s.set_option(a, IPPROTO_IP, IP_TTL, 5).ok());
  EXPECT_EQ(*s.get_option(a, IPPROTO_IP, IP_TTL), 5);
  // The TTL is on the wire: a raw UDP socket sees the header.
  auto raw = s.socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
  ASSERT_TRUE(raw.ok());
  const Endpoint to{kLo, 9};
  ASSERT_TRUE(s.send_to(a, Bytes(4), &to, 0).ok());
  pump();
  Bytes buf(200);
  auto r = s.recv_from(*raw, buf, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(buf[8], 5);
  ASSERT_TRUE(s.set_option(a, IPPROTO_IP, IP_TTL, -1).ok());
  EXPECT_EQ(*s.get_option(a, IPPROTO_IP, IP_TTL), 64);
}

TEST_F(StackTest, UnknownOptionIsEnoprotoopt) {
  const SocketId a = udp();
  // setsockopt(2): "ENOPROTOOPT The option is unknown at the level indicated."
  EXPECT_EQ(error_of(s.set_option(a, SOL_SOCKET, 9999, 1)), Errc::protocol_option);
  EXPECT_EQ(error_of(s.get_option(a, SOL_SOCKET, 9999)), Errc::protocol_option);
  EXPECT_EQ(error_of(s.set_option(a, IPPROTO_IP, 9999, 1)), Errc::protocol_option);
  EXPECT_EQ(error_of(s.set_option(a, 4242, SO_RCVBUF, 1)), Errc::protocol_option);
  EXPECT_EQ(*s.get_option(a, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
  EXPECT_EQ(*s.get_option(a, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
}

TEST_F(StackTest, SoErrorIsReadOnceAndClears) {
  const SocketId a = udp();
  ASSERT_TRUE(s.connect(a, Endpoint{kLo, 9}).ok());  // nobody on 9
  ASSERT_TRUE(s.send_to(a, Bytes(4), nullptr, 0).ok());
  pump();
  EXPECT_NE(s.readiness(a) & POLLERR, 0);
  // socket(7) SO_ERROR: "Get and clear the pending socket error."
  EXPECT_EQ(*s.get_option(a, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
  EXPECT_EQ(*s.get_option(a, SOL_SOCKET, SO_ERROR), 0);
  EXPECT_EQ(s.readiness(a) & POLLERR, 0);
}

// ---- receiving ---------------------------------------------------------------------

TEST_F(StackTest, PeekLeavesTheDatagramAndTruncationReportsTheFullLength) {
  const SocketId rx = udp(Endpoint{kLo, 8000});
  const SocketId tx = udp(Endpoint{kLo, 8001});
  const Endpoint to{kLo, 8000};
  ASSERT_TRUE(s.send_to(tx, numbered(1, 300), &to, 0).ok());
  ASSERT_TRUE(s.send_to(tx, numbered(2, 300), &to, 0).ok());
  pump();
  Bytes buf(300);
  // recv(2) MSG_PEEK: "returns data from the beginning of the receive queue without
  // removing that data from the queue."
  auto p = s.recv_from(rx, buf, MSG_PEEK);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(base::load_be32(buf, 0), 1u);
  EXPECT_EQ(p->from, (Endpoint{kLo, 8001}));
  // udp(7): "If the datagram is larger than the buffer, the excess is discarded"
  // (MSG_TRUNC reports the real length: full_len).
  Bytes small(10);
  auto t = s.recv_from(rx, small, 0);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->copied, 10u);
  EXPECT_EQ(t->full_len, 300u);
  EXPECT_EQ(base::load_be32(small, 0), 1u);
  auto second = s.recv_from(rx, buf, 0);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->copied, 300u);
  EXPECT_EQ(base::load_be32(buf, 0), 2u);  // the rest of the first was discarded
  EXPECT_EQ(error_of(s.recv_from(rx, buf, 0)), Errc::would_block);
}

TEST_F(StackTest, ReceiveQueueIsBoundedBySoRcvbuf) {
  const SocketId rx = udp(Endpoint{kLo, 8000});
  ASSERT_TRUE(s.set_option(rx, SOL_SOCKET, SO_RCVBUF, 1000).ok());  // 2304 bytes
  const SocketId tx = udp(Endpoint{kLo, 8001});
  const Endpoint to{kLo, 8000};
  for (std::uint32_t i = 0; i < 40; ++i) ASSERT_TRUE(s.send_to(tx, numbered(i), &to, 0).ok());
  pump();
  // Each 100-byte datagram is charged 100 + 256 (its truesize): 6 fit in 2304.
  std::vector<std::uint32_t> got;
  Bytes buf(200);
  while (auto r = s.recv_from(rx, buf, 0)) {
    EXPECT_EQ(r->copied, 100u);
    EXPECT_EQ(Bytes(buf.begin(), buf.begin() + 100), numbered(base::load_be32(buf, 0)));
    got.push_back(base::load_be32(buf, 0));
  }
  EXPECT_EQ(got, (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5}));
  // udp(7) / Linux UDP-MIB: datagrams dropped for a full receive buffer count as
  // RcvbufErrors (and InErrors).
  EXPECT_EQ(s.counters().UdpRcvbufErrors, 34u);
  EXPECT_EQ(s.counters().UdpInDatagrams, 6u);
}

TEST_F(StackTest, ReadinessBits) {
  const SocketId rx = udp(Endpoint{kLo, 8000});
  // A datagram socket can always be written (datagram_poll): POLLOUT.
  EXPECT_EQ(s.readiness(rx), POLLOUT);
  const SocketId tx = udp();
  const Endpoint to{kLo, 8000};
  ASSERT_TRUE(s.send_to(tx, Bytes(3), &to, 0).ok());
  pump();
  EXPECT_EQ(s.readiness(rx), POLLOUT | POLLIN);
  Bytes buf(10);
  ASSERT_TRUE(s.recv_from(rx, buf, 0).ok());
  EXPECT_EQ(s.readiness(rx), POLLOUT);
  ASSERT_TRUE(s.close(rx).ok());
  EXPECT_EQ(s.readiness(rx), POLLNVAL);
}

TEST_F(StackTest, ShutdownOnUnconnectedSocketIsEnotconnButSetsTheFlags) {
  const SocketId a = udp(Endpoint{kLo, 8000});
  // Linux inet_shutdown(): ENOTCONN for an unconnected datagram socket, yet the
  // shutdown flags are set, so that poll() reports them.
  EXPECT_EQ(error_of(s.shutdown(a, SHUT_RD)), Errc::not_connected);
  EXPECT_EQ(s.readiness(a), POLLOUT | POLLIN | POLLRDHUP);
  Bytes buf(10);
  auto r = s.recv_from(a, buf, 0);  // end of file: 0 bytes, not EAGAIN
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->copied, 0u);
  EXPECT_EQ(error_of(s.shutdown(a, SHUT_WR)), Errc::not_connected);
  EXPECT_EQ(s.readiness(a), POLLOUT | POLLIN | POLLRDHUP | POLLHUP);
  // send(2): "EPIPE The local end has been shut down".
  const Endpoint to{kLo, 9};
  EXPECT_EQ(error_of(s.send_to(a, Bytes(1), &to, 0)), Errc::pipe);
  EXPECT_EQ(error_of(s.shutdown(a, 7)), Errc::invalid);

  const SocketId c = udp();
  ASSERT_TRUE(s.connect(c, Endpoint{kLo, 8000}).ok());
  EXPECT_TRUE(s.shutdown(c, SHUT_RDWR).ok());
}

}  // namespace
}  // namespace ustack::stack
