// `ustack ping`: ICMP echo over a raw socket of the Berkeley API, with the output
// and exit status of iputils ping (0: replies came; 1: none; 2: other errors).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <map>

#include "cli.h"
#include "runtime/runtime.h"
#include "ustack/socket.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

namespace ustack::tools {
namespace {

struct PingOptions {
  HostOptions host;
  int count = -1;
  int size = 56;
  double interval = 1.0;
  double wait = 2.0;
  std::string target;
};

using Clock = std::chrono::steady_clock;

int run_ping(const PingOptions& o) {
  auto dst = base::Ipv4Addr::parse(o.target);
  if (!dst) {
    std::fprintf(stderr, "ustack ping: %s: Name or service not known\n", o.target.c_str());
    return 2;
  }
  if (o.size < 0 || o.size > 65507) {
    std::fprintf(stderr, "ustack ping: invalid -s value: '%d': out of range: 0 <= value <= 65507\n", o.size);
    return 2;
  }
  if (o.interval < 0.002 || o.wait <= 0) {
    std::fprintf(stderr, "ustack ping: bad timing interval\n");
    return 2;
  }
  block_stop_signals();
  auto host = Host::start(o.host);
  if (!host) {
    std::fprintf(stderr, "ustack ping: %s\n", host.error().c_str());
    return 2;
  }
  const int fd = ustack_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0) {
    std::fprintf(stderr, "ustack ping: socket: %s\n", std::strerror(errno));
    return 2;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(dst->value());
  const auto ident = static_cast<std::uint16_t>(::getpid());
  std::printf("PING %s (%s) %d(%d) bytes of data.\n", o.target.c_str(), o.target.c_str(), o.size, o.size + 28);
  std::fflush(stdout);

  std::map<std::uint16_t, Clock::time_point> sent_at;
  int transmitted = 0, received = 0, errors = 0;
  double rtt_min = 1e18, rtt_max = 0, rtt_sum = 0, rtt_sum2 = 0;
  const auto start = Clock::now();
  auto next_send = start;
  Clock::time_point last_send = start;
  std::vector<std::uint8_t> data(static_cast<std::size_t>(o.size));
  std::vector<std::uint8_t> packet(65536);
  std::vector<std::uint8_t> in(65536 + 60);

  bool interrupted = false;

  while (!interrupted) {
    const auto now = Clock::now();
    const bool more_to_send = o.count < 0 || transmitted < o.count;
    if (!more_to_send) {
      if (received >= transmitted || now - last_send >= std::chrono::duration<double>(o.wait)) break;
    }
    if (more_to_send && now >= next_send) {
      const auto seq = static_cast<std::uint16_t>(transmitted + 1);
      // Data bytes counting up, as iputils fills them after its timestamp.
      for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i);
      const auto req = wire::IcmpRepr::echo_request(ident, seq, data);
      req.emit(packet);
      if (ustack_sendto(fd, packet.data(), req.buffer_len(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
        std::printf("ping: sendmsg: %s\n", std::strerror(errno));
        ++errors;
      }
      sent_at[seq] = now;
      ++transmitted;
      last_send = now;
      next_send = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.interval));
      continue;
    }
    // Wait for a reply until the next send (or the final wait), checking for ^C.
    const auto until = more_to_send ? next_send : last_send + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.wait));
    const int timeout_ms = static_cast<int>(std::max<std::int64_t>(
        0, std::min<std::int64_t>(100, std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1)));
    pollfd p{fd, POLLIN, 0};
    const int ready = ustack_poll(&p, 1, timeout_ms);
    if (stop_requested()) interrupted = true;
    if (ready <= 0) continue;
    sockaddr_in from{};
    socklen_t flen = sizeof from;
    const ssize_t n = ustack_recvfrom(fd, in.data(), in.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n <= 0) continue;
    const auto arrived = Clock::now();
    auto ip = wire::Ipv4View::parse(base::ByteSpan(in.data(), static_cast<std::size_t>(n)));
    if (!ip) continue;
    auto icmp = wire::IcmpView::parse(ip->payload());
    if (!icmp) continue;
    const std::string src = ip->src().to_string();
    if (icmp->type() == wire::icmp_type::echo_reply && icmp->ident() == ident) {
      auto it = sent_at.find(icmp->seq());
      if (it == sent_at.end()) continue;  // a duplicate or a stranger's
      const double ms = std::chrono::duration<double, std::milli>(arrived - it->second).count();
      sent_at.erase(it);
      ++received;
      rtt_min = std::min(rtt_min, ms);
      rtt_max = std::max(rtt_max, ms);
      rtt_sum += ms;
      rtt_sum2 += ms * ms;
      std::printf("%zu bytes from %s: icmp_seq=%u ttl=%u time=%.3f ms\n", icmp->payload().size() + 8, src.c_str(),
                  icmp->seq(), ip->ttl(), ms);
      std::fflush(stdout);
    } else if (wire::icmp_is_error(icmp->type()) && icmp->payload().size() >= 28) {
      // The quoted datagram: our echo request, if its identifier is ours.
      const base::ByteSpan q = icmp->payload();
      const std::size_t ihl = std::size_t{q[0] & 0x0fu} * 4;
      if (q.size() < ihl + 8 || q[ihl] != wire::icmp_type::echo_request || base::load_be16(q, ihl + 4) != ident) continue;
      ++errors;
      const char* what = icmp->type() == wire::icmp_type::time_exceeded ? "Time to live exceeded"
                         : icmp->code() == wire::icmp_unreach::host      ? "Destination Host Unreachable"
                         : icmp->code() == wire::icmp_unreach::net       ? "Destination Net Unreachable"
                                                                          : "Destination Unreachable";
      std::printf("From %s icmp_seq=%u %s\n", src.c_str(), base::load_be16(q, ihl + 6), what);
    }
  }
  const auto total_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  std::printf("\n--- %s ping statistics ---\n", o.target.c_str());
  const int loss = transmitted ? (transmitted - received) * 100 / transmitted : 0;
  if (errors) std::printf("%d packets transmitted, %d received, +%d errors, %d%% packet loss, time %lldms\n", transmitted, received, errors, loss, static_cast<long long>(total_ms));
  else std::printf("%d packets transmitted, %d received, %d%% packet loss, time %lldms\n", transmitted, received, loss, static_cast<long long>(total_ms));
  if (received) {
    const double avg = rtt_sum / received;
    const double mdev = std::sqrt(std::max(0.0, rtt_sum2 / received - avg * avg));
    std::printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", rtt_min, avg, rtt_max, mdev);
  }
  std::fflush(stdout);
  ustack_close(fd);
  return received > 0 ? 0 : 1;
}

}  // namespace

void register_ping(CLI::App& app) {
  auto o = std::make_shared<PingOptions>();
  auto* cmd = app.add_subcommand("ping", "Send ICMP echo requests, like iputils ping");
  add_attach_options(*cmd, o->host);
  cmd->add_option("-c", o->count, "Stop after sending this many requests");
  cmd->add_option("-s", o->size, "Data bytes per request (default 56)");
  cmd->add_option("-i", o->interval, "Seconds between requests (default 1)");
  cmd->add_option("-W", o->wait, "Seconds to wait for the last reply (default 2)");
  cmd->add_option("host", o->target, "Destination A.B.C.D")->required();
  cmd->callback([o] { std::exit(run_ping(*o)); });
}

}  // namespace ustack::tools
