// `ustack nc`: netcat over ustack. UDP today (-u); TCP comes with the TCP issue.
// Standard input goes to the socket (one datagram per read), the socket to
// standard output. After standard input ends, it waits -w seconds of quiet for
// replies, then exits.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <optional>
#include <cstdio>
#include <thread>

#include "cli.h"
#include "base/addr.h"
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

int run_nc(const NcOptions& o) {
  if (!o.udp) {
    std::fprintf(stderr, "ustack nc: TCP is not available yet (it arrives with ustack's TCP); use -u\n");
    return 2;
  }
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
  const int fd = ustack_socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr.s_addr = htonl(addr ? addr->value() : 0);
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
    std::_Exit(status);
  }
  reader.join();
  return status;
}

}  // namespace

void register_nc(CLI::App& app) {
  auto o = std::make_shared<NcOptions>();
  auto* cmd = app.add_subcommand("nc", "netcat over ustack (UDP with -u)");
  add_attach_options(*cmd, o->host);
  cmd->add_flag("-l", o->listen, "Listen for a peer instead of connecting");
  cmd->add_flag("-u", o->udp, "UDP");
  cmd->add_option("-w", o->idle_wait, "After standard input ends, exit after this many quiet seconds (default 2)");
  cmd->add_option("args", o->args, "[HOST] PORT");
  cmd->callback([o] { std::exit(run_nc(*o)); });
}

}  // namespace ustack::tools
