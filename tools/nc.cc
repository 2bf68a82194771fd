// `ustack nc`: netcat over ustack, TCP by default, UDP with -u.
// TCP: connect (or -l: accept one connection), standard input to the socket and
// the socket to standard output; when standard input ends the sending side is
// shut down (as OpenBSD nc -N), and nc exits when the peer closes.
// UDP: one datagram per read; after standard input ends it waits -w seconds of
// quiet for replies, then exits.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <optional>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "cli.h"
#include "base/addr.h"
#include "runtime/runtime.h"
#include "socket/descriptors.h"
#include "stack/stack.h"
#include "ustack/socket.h"

namespace ustack::tools {
namespace {

struct NcOptions {
  HostOptions host;
  bool listen = false;
  bool udp = false;
  double idle_wait = 2.0;
  std::vector<std::string> args;  // [HOST] PORT
};

constexpr std::size_t kTcpBuffer = 64 * 1024;

/// The stack lives in this process: once it exits, nobody retransmits a FIN
/// that was lost. So wait (5 s at most, as a kernel orphan would retry for much
/// longer) until no connection still has an unacknowledged FIN
/// (FIN-WAIT-1, CLOSING, LAST-ACK).
void linger_until_fin_acked(Host& host) {
  for (int i = 0; i < 500 && !stop_requested(); ++i) {
    const bool pending = host.runtime().call([](stack::Stack& s) {
      for (const auto& info : s.socket_infos())
        if (info.tcp_state == tcp::State::fin_wait_1 || info.tcp_state == tcp::State::closing ||
            info.tcp_state == tcp::State::last_ack)
          return true;
      return false;
    });
    if (!pending) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

/// Writes out what the host's pcap and TCP trace hold buffered.
void flush_host_output() {
  if (runtime::Runtime* rt = socket::default_runtime()) (void)rt->call([](stack::Stack& s) {
      s.flush_devices();
      return 0;
    });
}

/// The TCP session once connected: stdin -> socket (then SHUT_WR), socket -> stdout.
int tcp_session(int fd) {
  std::atomic<bool> input_done{false};
  std::atomic<int> status{0};
  std::thread reader([&] {
    std::vector<char> buf(kTcpBuffer);
    while (true) {
      const ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      // A blocking stream send returns once every byte is queued, or early with
      // what it queued when interrupted (send(2)): send the rest, unless stopping.
      ssize_t off = 0;
      int err = 0;
      while (off < n && !stop_requested()) {
        const ssize_t w = ustack_send(fd, buf.data() + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
          err = w < 0 ? errno : EPIPE;
          break;
        }
        off += w;
      }
      if (off < n) {
        if (err != 0 && err != EPIPE && err != ECONNRESET)
          std::fprintf(stderr, "ustack nc: send: %s\n", std::strerror(err));
        status = 1;
        break;
      }
    }
    ustack_shutdown(fd, SHUT_WR);  // the peer reads end of stream
    input_done = true;
  });
  std::vector<char> buf(kTcpBuffer);
  bool peer_done = false;
  while (!stop_requested() && !peer_done) {
    pollfd p{fd, POLLIN, 0};
    if (ustack_poll(&p, 1, 200) <= 0) continue;  // wake now and then to see a stop signal
    const ssize_t n = ustack_recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n == 0) break;  // the peer has sent all it will
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      std::fprintf(stderr, "ustack nc: recv: %s\n", std::strerror(errno));
      status = 1;
      break;
    }
    for (ssize_t off = 0; off < n;) {
      const ssize_t w = ::write(STDOUT_FILENO, buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        status = 1;
        peer_done = true;
        break;
      }
      off += w;
    }
  }
  // As OpenBSD nc: a peer that only half-closed still gets the rest of standard
  // input (the reader ends at its end, or when a send fails because the peer
  // has gone). A stop signal ends it at once.
  while (!input_done && !stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!input_done) {
    reader.detach();  // blocked in read(2) on standard input
    std::fflush(stdout);
    flush_host_output();  // _Exit runs no destructor: the pcap and the TCP trace first
    std::_Exit(status);
  }
  reader.join();
  ustack_close(fd);
  return status;
}

int run_tcp(const sockaddr_in& sa, bool listen) {
  int fd = ustack_socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    std::fprintf(stderr, "ustack nc: socket: %s\n", std::strerror(errno));
    return 1;
  }
  if (listen) {
    const int one = 1;
    ustack_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ustack_bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0 || ustack_listen(fd, 1) < 0) {
      std::fprintf(stderr, "ustack nc: listen: %s\n", std::strerror(errno));
      return 1;
    }
    // Accept one connection, waking now and then to see a stop signal.
    int conn = -1;
    while (conn < 0) {
      if (stop_requested()) return 1;
      pollfd p{fd, POLLIN, 0};
      if (ustack_poll(&p, 1, 200) <= 0) continue;
      conn = ustack_accept(fd, nullptr, nullptr);
      if (conn < 0 && errno != EAGAIN && errno != ECONNABORTED) {
        std::fprintf(stderr, "ustack nc: accept: %s\n", std::strerror(errno));
        return 1;
      }
    }
    ustack_close(fd);  // one connection, as nc -l
    fd = conn;
  } else if (ustack_connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0) {
    std::fprintf(stderr, "ustack nc: connect: %s\n", std::strerror(errno));
    return 1;
  }
  return tcp_session(fd);
}

int run_nc(const NcOptions& o) {
  std::string host_arg, port_arg;
  if (o.args.size() == 1 && o.listen) port_arg = o.args[0];
  else if (o.args.size() == 2) { host_arg = o.args[0]; port_arg = o.args[1]; }
  else {
    std::fprintf(stderr, "ustack nc: want HOST PORT (or -l [HOST] PORT)\n");
    return 2;
  }
  char* end = nullptr;
  const long port = std::strtol(port_arg.c_str(), &end, 10);
  if (!end || *end || port < 1 || port > 65535) {
    std::fprintf(stderr, "ustack nc: bad port '%s'\n", port_arg.c_str());
    return 2;
  }
  std::optional<base::Ipv4Addr> addr;
  if (!host_arg.empty()) {
    addr = base::Ipv4Addr::parse(host_arg);
    if (!addr) {
      std::fprintf(stderr, "ustack nc: bad address '%s'\n", host_arg.c_str());
      return 2;
    }
  }
  block_stop_signals();
  auto host = Host::start(o.host);
  if (!host) {
    std::fprintf(stderr, "ustack nc: %s\n", host.error().c_str());
    return 2;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr.s_addr = htonl(addr ? addr->value() : 0);
  if (!o.udp) {
    const int status = run_tcp(sa, o.listen);
    linger_until_fin_acked(**host);
    return status;
  }
  const int fd = ustack_socket(AF_INET, SOCK_DGRAM, 0);
  if (o.listen) {
    if (ustack_bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
      std::fprintf(stderr, "ustack nc: bind: %s\n", std::strerror(errno));
      return 1;
    }
  } else if (ustack_connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    std::fprintf(stderr, "ustack nc: connect: %s\n", std::strerror(errno));
    return 1;
  }
  std::atomic<bool> connected{!o.listen};
  std::atomic<bool> input_done{false};
  std::atomic<long long> last_activity{0};
  auto stamp = [&] { last_activity = std::chrono::steady_clock::now().time_since_epoch().count(); };
  stamp();
  int status = 0;
  // Standard input -> socket. A listener sends once it knows its peer.
  std::thread reader([&] {
    std::vector<char> buf(65507);
    while (true) {
      const ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
      if (n <= 0) break;
      while (!connected) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (ustack_send(fd, buf.data(), static_cast<size_t>(n), 0) < 0) {
        std::fprintf(stderr, "ustack nc: send: %s\n", std::strerror(errno));
        status = 1;
        break;
      }
      stamp();
    }
    input_done = true;
  });
  std::vector<char> buf(65536);
  while (true) {
    if (stop_requested()) break;
    const auto idle = std::chrono::steady_clock::now().time_since_epoch().count() - last_activity.load();
    if (input_done && connected && idle > static_cast<long long>(o.idle_wait * 1e9)) break;
    pollfd p{fd, POLLIN, 0};
    if (ustack_poll(&p, 1, 50) <= 0) continue;
    sockaddr_in from{};
    socklen_t flen = sizeof from;
    const ssize_t n = ustack_recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 0) {
      if (errno == EAGAIN) continue;
      std::fprintf(stderr, "ustack nc: %s\n", std::strerror(errno));
      status = 1;
      if (errno == ECONNREFUSED) break;
      continue;
    }
    if (!connected) {  // like OpenBSD nc -l -u: the first sender becomes the peer
      ustack_connect(fd, reinterpret_cast<sockaddr*>(&from), flen);
      connected = true;
    }
    stamp();
    if (::write(STDOUT_FILENO, buf.data(), static_cast<size_t>(n)) != n) break;
  }
  ustack_close(fd);
  if (!input_done) {
    // The reader is blocked in read(2) on standard input; we are done anyway.
    reader.detach();
    std::fflush(stdout);
    flush_host_output();  // _Exit runs no destructor: the pcap and the TCP trace first
    std::_Exit(status);
  }
  reader.join();
  return status;
}

}  // namespace

void register_nc(CLI::App& app) {
  auto o = std::make_shared<NcOptions>();
  o->host.control = true;  // `ustack ss` and the others see this host
  o->host.program = "ustack nc";
  auto* cmd = app.add_subcommand("nc", "netcat over ustack: TCP (half-close when standard input ends), or UDP with -u");
  add_attach_options(*cmd, o->host);
  cmd->add_flag("-l", o->listen, "Listen for a peer (TCP: accept one connection) instead of connecting");
  cmd->add_flag("-u", o->udp, "UDP");
  cmd->add_option("-w", o->idle_wait, "UDP: after standard input ends, exit after this many quiet seconds (default 2)");
  cmd->add_option("args", o->args, "[HOST] PORT");
  cmd->callback([o] { std::exit(run_nc(*o)); });
}

}  // namespace ustack::tools
