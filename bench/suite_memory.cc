// The in-memory measurements: two ustack stacks stepped by one thread on the
// simulated network (zero delay, unlimited rate), against two Linux sockets
// driven by one thread over loopback in the same run. Both sides do all the
// work of both ends on one core, so the ratio compares stack costs.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "bench/suite.h"
#include "bench/suite_util.h"
#include "host/sim_world.h"

namespace ustack::bench {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;

constexpr std::size_t kMtu = 1536;           // the smoltcp loopback benchmark's
constexpr std::size_t kBuffer = 64 * 1024;   // socket buffers, both ends
constexpr std::size_t kConnCap = 14000;      // half the ephemeral range: TIME-WAIT holds ports
constexpr std::uint16_t kPort = 5001;
const base::Duration kVirtualLimit = std::chrono::hours(24);

/// Two stacks joined by a zero-delay, unlimited link, with 64 KB socket buffers.
/// `checksum_offload`: the link carries TCP checksums left partial, as a veth
/// pair or Linux's lo does, so neither stack sums payloads.
struct UstackPair {
  host::SimWorld world{7};
  stack::Stack* a = nullptr;  // the client / sender
  stack::Stack* b = nullptr;  // the server / receiver
  explicit UstackPair(bool checksum_offload = false) {
    auto& cfg = world.host_config();
    cfg.tcp.rcvbuf = cfg.tcp.sndbuf = kBuffer;
    cfg.tcp.rcvbuf_locked = cfg.tcp.sndbuf_locked = true;
    cfg.tcp.nodelay = true;
    auto& pa = world.net().add_port("a", kMtu);
    auto& pb = world.net().add_port("b", kMtu);
    link::LinkParams link{.delay = base::Duration{0}, .rate_bps = 0, .queue_limit = 0};
    link.checksum_offload = checksum_offload;
    (void)world.net().connect(pa, pb, link);
    a = &world.add_host("a", pa, {Ipv4Addr(198, 18, 0, 1), 24});
    b = &world.add_host("b", pb, {Ipv4Addr(198, 18, 0, 2), 24});
  }
  base::Endpoint server_ep() const { return {Ipv4Addr(198, 18, 0, 2), kPort}; }
  stack::SocketId listen() {
    auto l = *b->socket(AF_INET, SOCK_STREAM, 0);
    (void)b->bind(l, {Ipv4Addr::any(), kPort});
    (void)b->listen(l, 4096);
    return l;
  }
  /// A connected pair (client socket, accepted socket), or nullopt.
  std::optional<std::pair<stack::SocketId, stack::SocketId>> connect(stack::SocketId l) {
    auto c = a->socket(AF_INET, SOCK_STREAM, 0);
    if (!c) return std::nullopt;
    (void)a->connect(*c, server_ep());
    std::optional<stack::SocketId> s;
    if (!world.run_until([&] {
          if (!s)
            if (auto x = b->accept(l, nullptr)) s = *x;
          return s && (a->readiness(*c) & POLLOUT);
        }, 10s))
      return std::nullopt;
    return std::make_pair(*c, *s);
  }
};

Measurement base_measurement(std::string name, std::string what, std::string unit) {
  Measurement m;
  m.group = "memory";
  m.name = std::move(name);
  m.what = std::move(what);
  m.unit = std::move(unit);
  m.reference = "Linux loopback, one thread";
  return m;
}

// --- ustack ---------------------------------------------------------------

/// Gbit/s of application bytes read, and whether everything arrived.
double ustack_bulk(const SuiteOptions& o, bool checksum_offload, std::uint64_t* moved) {
  UstackPair p(checksum_offload);
  auto l = p.listen();
  auto cs = p.connect(l);
  if (!cs) return 0;
  auto [c, s] = *cs;
  std::vector<base::Byte> chunk(kBuffer, base::Byte{0x5a}), buf(kBuffer);
  std::uint64_t sent = 0, got = 0;
  const std::uint64_t total = o.bulk_bytes;
  Stopwatch sw;
  std::uint32_t calls = 0;
  p.world.run_until([&] {
    while (sent < total) {
      auto n = p.a->send_to(c, base::ByteSpan(chunk).first(std::min<std::uint64_t>(chunk.size(), total - sent)),
                            nullptr, 0);
      if (!n || *n == 0) break;
      sent += *n;
    }
    while (true) {
      auto r = p.b->recv_from(s, buf, 0);
      if (!r || r->copied == 0) break;
      got += r->copied;
    }
    if ((++calls & 63) == 0 && sw.seconds() > o.bulk_seconds_max) return true;
    return got >= total;
  }, kVirtualLimit);
  const double t = sw.seconds();
  *moved = got;
  return t > 0 ? got * 8.0 / t / 1e9 : 0;
}

double ustack_rr(const SuiteOptions& o) {
  UstackPair p;
  auto l = p.listen();
  auto cs = p.connect(l);
  if (!cs) return 0;
  auto [c, s] = *cs;
  std::array<base::Byte, 64> req{}, resp{}, buf{};
  std::uint64_t rounds = 0;
  Stopwatch sw;
  auto exchange = [&](stack::Stack& from, stack::SocketId fs, stack::Stack& to, stack::SocketId ts,
                      base::ByteSpan msg) {
    if (!from.send_to(fs, msg, nullptr, 0)) return false;
    std::size_t got = 0;
    return p.world.run_until([&] {
      while (got < msg.size()) {
        auto r = to.recv_from(ts, base::MutByteSpan(buf).first(msg.size() - got), 0);
        if (!r || r->copied == 0) break;
        got += r->copied;
      }
      return got == msg.size();
    }, 10s);
  };
  while (sw.seconds() < o.seconds) {
    for (int i = 0; i < 64; ++i) {
      if (!exchange(*p.a, c, *p.b, s, req) || !exchange(*p.b, s, *p.a, c, resp)) return 0;
      ++rounds;
    }
  }
  return rounds / sw.seconds();
}

double ustack_conn_rate(const SuiteOptions& o) {
  UstackPair p;
  auto l = p.listen();
  std::uint64_t n = 0;
  Stopwatch sw;
  while (n < kConnCap && sw.seconds() < o.seconds) {
    auto cs = p.connect(l);
    if (!cs) return 0;
    (void)p.a->close(cs->first);   // the client closes first: TIME-WAIT is the client's
    (void)p.b->close(cs->second);
    p.world.settle();              // FIN, FIN, ACKs
    ++n;
  }
  return n / sw.seconds();
}

double ustack_udp(const SuiteOptions& o, std::size_t payload, double* loss) {
  UstackPair p;
  auto rx = *p.b->socket(AF_INET, SOCK_DGRAM, 0);
  (void)p.b->set_option(rx, SOL_SOCKET, SO_RCVBUF, 4 << 20);
  (void)p.b->bind(rx, {Ipv4Addr::any(), 9000});
  auto tx = *p.a->socket(AF_INET, SOCK_DGRAM, 0);
  const base::Endpoint dst{Ipv4Addr(198, 18, 0, 2), 9000};
  std::vector<base::Byte> msg(payload, base::Byte{0x42}), buf(2048);
  // The first datagram resolves the neighbour (ARP) outside the timed part.
  (void)p.a->send_to(tx, msg, &dst, 0);
  p.world.run_until([&] { auto r = p.b->recv_from(rx, buf, 0); return r && r->copied > 0; }, 10s);
  std::uint64_t sent = 0, got = 0;
  Stopwatch sw;
  while (sw.seconds() < o.seconds) {
    for (int round = 0; round < 16; ++round) {
      for (int i = 0; i < 32; ++i)
        if (p.a->send_to(tx, msg, &dst, 0)) ++sent;
      p.world.settle();
      while (true) {
        auto r = p.b->recv_from(rx, buf, 0);
        if (!r) break;
        ++got;
      }
    }
  }
  const double t = sw.seconds();
  *loss = sent ? 1.0 - static_cast<double>(got) / sent : 0;
  return got / t;
}

// --- Linux over loopback, one thread -----------------------------------------

struct LinuxPair {
  Fd listener, client, server;
  bool ok = false;
  explicit LinuxPair(bool set_buffers) {
    listener = Fd(::socket(AF_INET, SOCK_STREAM, 0));
    const int one = 1;
    ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const int half = kBuffer / 2;  // socket(7): the kernel doubles it
    if (set_buffers) ::setsockopt(listener.get(), SOL_SOCKET, SO_RCVBUF, &half, sizeof half);
    sockaddr_in a = sockaddr_v4(INADDR_LOOPBACK, 0);
    if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    if (::listen(listener.get(), 4096) != 0) return;
    socklen_t len = sizeof a;
    ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    ok = connect_one(set_buffers);
  }
  bool connect_one(bool set_buffers) {
    client = Fd(::socket(AF_INET, SOCK_STREAM, 0));
    const int one = 1, half = kBuffer / 2;
    ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (set_buffers) {
      ::setsockopt(client.get(), SOL_SOCKET, SO_SNDBUF, &half, sizeof half);
      ::setsockopt(client.get(), SOL_SOCKET, SO_RCVBUF, &half, sizeof half);
    }
    sockaddr_in a = sockaddr_v4(INADDR_LOOPBACK, port);
    if (::connect(client.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
    server = Fd(::accept4(listener.get(), nullptr, nullptr, 0));
    if (server.get() < 0) return false;
    ::setsockopt(server.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (set_buffers) ::setsockopt(server.get(), SOL_SOCKET, SO_SNDBUF, &half, sizeof half);
    return true;
  }
  std::uint16_t port = 0;
};

/// Reads exactly n bytes without blocking where it can, waiting in poll() where not.
bool read_exact(int fd, char* buf, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::recv(fd, buf + got, n - got, MSG_DONTWAIT);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
      continue;
    }
    if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
  }
  return true;
}

double linux_bulk(const SuiteOptions& o, std::uint64_t* moved) {
  LinuxPair p(true);
  if (!p.ok) return 0;
  std::vector<char> chunk(kBuffer, 0x5a), buf(kBuffer);
  std::uint64_t sent = 0, got = 0;
  const std::uint64_t total = o.bulk_bytes;
  Stopwatch sw;
  std::uint32_t rounds = 0;
  while (got < total) {
    while (sent < total) {
      const ssize_t n = ::send(p.client.get(), chunk.data(), std::min<std::uint64_t>(chunk.size(), total - sent),
                               MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::uint64_t>(n);
    }
    bool any = false;
    while (true) {
      const ssize_t n = ::recv(p.server.get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n <= 0) break;
      got += static_cast<std::uint64_t>(n);
      any = true;
    }
    if (!any) {
      pollfd pf{p.server.get(), POLLIN, 0};
      ::poll(&pf, 1, 100);
    }
    if ((++rounds & 63) == 0 && sw.seconds() > o.bulk_seconds_max) break;
  }
  const double t = sw.seconds();
  *moved = got;
  return t > 0 ? got * 8.0 / t / 1e9 : 0;
}

double linux_rr(const SuiteOptions& o) {
  LinuxPair p(true);
  if (!p.ok) return 0;
  char msg[64] = {}, buf[64];
  std::uint64_t rounds = 0;
  Stopwatch sw;
  while (sw.seconds() < o.seconds) {
    for (int i = 0; i < 64; ++i) {
      if (::send(p.client.get(), msg, sizeof msg, MSG_NOSIGNAL) != sizeof msg) return 0;
      if (!read_exact(p.server.get(), buf, sizeof buf)) return 0;
      if (::send(p.server.get(), msg, sizeof msg, MSG_NOSIGNAL) != sizeof msg) return 0;
      if (!read_exact(p.client.get(), buf, sizeof buf)) return 0;
      ++rounds;
    }
  }
  return rounds / sw.seconds();
}

double linux_conn_rate(const SuiteOptions& o) {
  LinuxPair p(false);
  if (!p.ok) return 0;
  p.client.reset();
  p.server.reset();
  std::uint64_t n = 0;
  Stopwatch sw;
  while (n < kConnCap && sw.seconds() < o.seconds) {
    if (!p.connect_one(false)) return 0;
    p.client.reset();  // the client closes first, as above
    p.server.reset();
    ++n;
  }
  return n / sw.seconds();
}

double linux_udp(const SuiteOptions& o, std::size_t payload, double* loss) {
  Fd rx(::socket(AF_INET, SOCK_DGRAM, 0)), tx(::socket(AF_INET, SOCK_DGRAM, 0));
  const int big = 4 << 20;
  if (::setsockopt(rx.get(), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0)
    ::setsockopt(rx.get(), SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  sockaddr_in a = sockaddr_v4(INADDR_LOOPBACK, 0);
  if (::bind(rx.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 0;
  socklen_t len = sizeof a;
  ::getsockname(rx.get(), reinterpret_cast<sockaddr*>(&a), &len);
  if (::connect(tx.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 0;
  std::vector<char> msg(payload, 0x42), buf(2048);
  std::uint64_t sent = 0, got = 0;
  Stopwatch sw;
  while (sw.seconds() < o.seconds) {
    for (int round = 0; round < 16; ++round) {
      for (int i = 0; i < 32; ++i)
        if (::send(tx.get(), msg.data(), msg.size(), MSG_DONTWAIT) > 0) ++sent;
      while (::recv(rx.get(), buf.data(), buf.size(), MSG_DONTWAIT) > 0) ++got;
    }
  }
  const double t = sw.seconds();
  *loss = sent ? 1.0 - static_cast<double>(got) / sent : 0;
  return got / t;
}

}  // namespace

std::vector<Measurement> run_memory_suite(const SuiteOptions& o) {
  std::vector<Measurement> out;
  auto emit = [&](Measurement m) {
    if (o.on_result) o.on_result(m);
    out.push_back(std::move(m));
  };
  auto wanted = [&](const std::string& name) { return o.only.empty() || o.only == name; };
  // One Linux run serves as the reference of both bulk rows.
  std::optional<std::pair<double, std::uint64_t>> linux_bulk_run;
  auto linux_reference = [&] {
    if (!linux_bulk_run) {
      std::uint64_t bytes = 0;
      const double v = linux_bulk(o, &bytes);
      linux_bulk_run.emplace(v, bytes);
    }
    return *linux_bulk_run;
  };
  if (wanted("tcp_bulk")) {
    auto m = base_measurement("tcp_bulk", "TCP bulk, one flow", "Gbit/s");
    std::uint64_t us_bytes = 0;
    m.value = ustack_bulk(o, false, &us_bytes);
    const auto [lx, lx_bytes] = linux_reference();
    m.reference_value = lx;
    m.note = "ustack " + human_bytes(us_bytes) + " at MTU 1536, 64 KB socket buffers, TCP checksums computed and "
             "verified in software; Linux " + human_bytes(lx_bytes) +
             " over lo (MTU 65536, no checksums), 64 KB buffers";
    emit(std::move(m));
  }
  if (wanted("tcp_bulk_nocsum")) {
    auto m = base_measurement("tcp_bulk_nocsum", "TCP bulk, one flow, checksums offloaded", "Gbit/s");
    std::uint64_t us_bytes = 0;
    m.value = ustack_bulk(o, true, &us_bytes);
    const auto [lx, lx_bytes] = linux_reference();
    m.reference_value = lx;
    m.note = "as tcp_bulk, but the simulated link carries TCP checksums left partial (as lo and veth do): no "
             "payload is summed, as in smoltcp's loopback benchmark (~12 Gbit/s on these machines; target 2x); "
             "Linux " + human_bytes(lx_bytes) + " over lo";
    emit(std::move(m));
  }
  if (wanted("tcp_rr")) {
    auto m = base_measurement("tcp_rr", "TCP 64-byte request/response", "round trips/s");
    m.value = ustack_rr(o);
    m.reference_value = linux_rr(o);
    m.note = "one connection, TCP_NODELAY, one request in flight";
    emit(std::move(m));
  }
  if (wanted("tcp_conn")) {
    auto m = base_measurement("tcp_conn", "TCP connections opened and closed", "conn/s");
    m.value = ustack_conn_rate(o);
    m.reference_value = linux_conn_rate(o);
    m.note = "serial connect, accept, close (client first); at most " + std::to_string(kConnCap) + " each";
    emit(std::move(m));
  }
  for (std::size_t size : {std::size_t{64}, std::size_t{1472}}) {
    if (!wanted("udp_" + std::to_string(size))) continue;
    auto m = base_measurement("udp_" + std::to_string(size), "UDP datagrams of " + std::to_string(size) + " bytes",
                              "datagrams/s");
    double us_loss = 0, lx_loss = 0;
    m.value = ustack_udp(o, size, &us_loss);
    m.reference_value = linux_udp(o, size, &lx_loss);
    m.note = "received, batches of 32; lost: ustack " + percent(us_loss) + ", Linux " + percent(lx_loss);
    emit(std::move(m));
  }
  return out;
}

}  // namespace ustack::bench
