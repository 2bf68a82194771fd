// `ustack demo`: three ustack hosts on a simulated Ethernet in virtual time,
// showing ARP, ping (fragmented too), UDP over a lossy link, an ICMP port
// unreachable, a TCP handshake and a TCP transfer that repairs its losses, with
// frames printed as they are sent. Needs no privileges.
#include <netinet/in.h>
#include <poll.h>

#include <cstdio>
#include <string>

#include "cli.h"
#include "host/sim_world.h"
#include "host/trace_file.h"
#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/udp.h"

namespace ustack::tools {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;

/// One line a frame, like tcpdump's, for the frames a host sends.
std::string describe_frame(base::ByteSpan frame) {
  auto eth = wire::EthernetView::parse(frame);
  if (!eth) return "malformed frame";
  if (eth->ethertype() == static_cast<std::uint16_t>(wire::EtherType::arp)) {
    auto arp = wire::ArpRepr::parse(eth->payload());
    if (!arp) return "ARP (malformed)";
    if (arp->op == wire::ArpOp::reply)
      return "ARP reply " + arp->sender_ip.to_string() + " is-at " + arp->sender_mac.to_string();
    if (arp->sender_ip == arp->target_ip)
      return "ARP announcement: " + arp->sender_ip.to_string() + " is-at " + arp->sender_mac.to_string();
    return "ARP who-has " + arp->target_ip.to_string() + " tell " + arp->sender_ip.to_string();
  }
  auto ip = wire::Ipv4View::parse(eth->payload());
  if (!ip) return "IPv4 (malformed)";
  std::string s = "IP " + ip->src().to_string() + " > " + ip->dst().to_string() + ": ";
  if (ip->is_fragment() && ip->frag_offset() != 0)
    return s + "fragment offset " + std::to_string(ip->frag_offset()) + ", " + std::to_string(ip->payload().size()) + " bytes" + (ip->more_fragments() ? "" : " (last)");
  const std::string frag = ip->more_fragments() ? " [first fragment]" : "";
  if (ip->protocol() == wire::ip_proto::icmp) {
    auto icmp = wire::IcmpView::parse(ip->payload());
    if (!icmp) return s + "ICMP (malformed)";
    switch (icmp->type()) {
      case wire::icmp_type::echo_request: return s + "ICMP echo request seq " + std::to_string(icmp->seq()) + frag;
      case wire::icmp_type::echo_reply: return s + "ICMP echo reply seq " + std::to_string(icmp->seq()) + frag;
      case wire::icmp_type::dest_unreachable:
        return s + "ICMP destination unreachable (" + (icmp->code() == 3 ? "port" : std::to_string(icmp->code())) + ")";
      default: return s + "ICMP type " + std::to_string(icmp->type());
    }
  }
  if (ip->protocol() == wire::ip_proto::tcp && !ip->is_fragment()) {
    auto tcp = wire::TcpView::parse(ip->payload());
    if (!tcp) return s + "TCP (malformed)";
    std::string flags;
    const std::uint8_t f = tcp->flags();
    if (f & wire::tcp_flag::syn) flags += "SYN ";
    if (f & wire::tcp_flag::fin) flags += "FIN ";
    if (f & wire::tcp_flag::rst) flags += "RST ";
    if (f & wire::tcp_flag::psh) flags += "PSH ";
    if (f & wire::tcp_flag::ack) flags += "ACK ";
    return s + "TCP " + std::to_string(tcp->src_port()) + " > " + std::to_string(tcp->dst_port()) + " [" +
           flags.substr(0, flags.size() - 1) + "] seq " + std::to_string(tcp->seq()) +
           ((f & wire::tcp_flag::ack) ? " ack " + std::to_string(tcp->ack()) : "") + ", " +
           std::to_string(tcp->payload().size()) + " bytes";
  }
  if (ip->protocol() == wire::ip_proto::udp && !ip->is_fragment()) {
    auto udp = wire::UdpView::parse(ip->payload());
    if (!udp) return s + "UDP (malformed)";
    return s + "UDP " + std::to_string(udp->src_port()) + " > " + std::to_string(udp->dst_port()) + ", " +
           std::to_string(udp->payload().size()) + " bytes";
  }
  return s + "protocol " + std::to_string(ip->protocol()) + frag;
}

/// Prints each frame its host sends, when tracing is on.
class TraceDevice : public link::Device {
 public:
  TraceDevice(link::Device& inner, std::string host, const bool& on) : inner_(inner), host_(std::move(host)), on_(on) {}
  link::Medium medium() const override { return inner_.medium(); }
  std::size_t mtu() const override { return inner_.mtu(); }
  std::string name() const override { return inner_.name(); }
  std::optional<std::size_t> receive(base::Instant now, base::MutByteSpan buf) override { return inner_.receive(now, buf); }
  bool transmit(base::Instant now, base::ByteSpan frame) override {
    if (on_) std::printf("   [%9.6f s] %-7s sends %s\n", base::to_seconds(now.time_since_epoch()) - 1.0, host_.c_str(), describe_frame(frame).c_str());
    return inner_.transmit(now, frame);
  }
  std::optional<base::Instant> next_deadline() const override { return inner_.next_deadline(); }
  const link::DeviceStats& stats() const override { return inner_.stats(); }

 private:
  link::Device& inner_;
  std::string host_;
  const bool& on_;
};

base::Endpoint ep(Ipv4Addr a, std::uint16_t port) { return {a, port}; }

int run_demo(std::uint64_t seed, const std::string& tcp_trace) {
  bool trace = true;
  host::SimWorld world(seed);
  if (!tcp_trace.empty()) {
    auto recorder = host::open_tcp_trace(tcp_trace);
    if (!recorder) {
      std::fprintf(stderr, "ustack demo: %s\n", recorder.error().c_str());
      return 1;
    }
    world.host_config().tcp_trace = std::move(*recorder);
  }
  auto& net = world.net();
  auto& lan = net.add_switch("lan");
  auto& pa = net.add_port("alpha");
  auto& pb = net.add_port("bravo");
  auto& pc = net.add_port("charlie");
  const link::LinkParams lan_link{std::chrono::microseconds(50), 1'000'000'000, 1000};  // 1 Gbit/s, 50 us
  (void)net.attach(lan, pa, lan_link);
  (void)net.attach(lan, pb, lan_link);
  (void)net.attach(lan, pc, {std::chrono::milliseconds(10), 10'000'000, 1000});       // 10 Mbit/s, 10 ms
  link::ImpairSpec lossy;
  lossy.loss = 0.1;
  lossy.seed = seed;
  TraceDevice ta(pa, "alpha", trace), tb(pb, "bravo", trace);
  TraceDevice tc(world.impair(pc, lossy), "charlie", trace);
  const Ipv4Addr A(198, 18, 0, 1), B(198, 18, 0, 2), C(198, 18, 0, 3);
  auto& alpha = world.add_host("alpha", ta, {A, 24});
  auto& bravo = world.add_host("bravo", tb, {B, 24});
  auto& charlie = world.add_host("charlie", tc, {C, 24});

  std::printf("ustack demo: three ustack hosts on a simulated Ethernet, in virtual time.\n"
              "  alpha   198.18.0.1/24 and bravo 198.18.0.2/24 on a switch (1 Gbit/s, 50 us links)\n"
              "  charlie 198.18.0.3/24 behind a slow lossy link (10 Mbit/s, 10 ms, 10%% loss each way, seed %llu)\n"
              "Each line below is a frame as a host sends it; times are virtual seconds.\n\n",
              static_cast<unsigned long long>(seed));

  std::printf("1. At start each host announces its address with a gratuitous ARP (RFC 5227).\n");
  world.run_for(1ms);

  std::printf("\n2. alpha pings bravo through a raw ICMP socket. alpha knows no MAC for bravo,\n"
              "   so ARP asks first (RFC 826); bravo learns alpha from the request and answers.\n");
  auto ping = [&](stack::Stack& from, Ipv4Addr to, std::uint16_t seq, std::size_t size) -> bool {
    auto fd = from.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    std::vector<base::Byte> data(size, 0x42), pkt(size + 8);
    const auto req = wire::IcmpRepr::echo_request(0x1234, seq, data);
    req.emit(pkt);
    const auto dst = ep(to, 0);
    const base::Instant sent = world.now();
    if (!from.send_to(*fd, pkt, &dst, 0)) return false;
    std::vector<base::Byte> in(size + 100);
    bool ok = false;
    world.run_until([&] {
      auto r = from.recv_from(*fd, in, 0);
      if (!r) return false;
      auto ip = wire::Ipv4View::parse(base::ByteSpan(in.data(), r->copied));
      auto icmp = ip ? wire::IcmpView::parse(ip->payload()) : wire::Parsed<wire::IcmpView>(wire::ParseError::truncated);
      ok = icmp && icmp->type() == wire::icmp_type::echo_reply && icmp->seq() == seq && icmp->payload().size() == size;
      return ok;
    }, 3s);
    std::printf("   => %s: %zu bytes from %s, seq %u, rtt %.3f ms\n", ok ? "reply" : "no reply", size, to.to_string().c_str(), seq,
                std::chrono::duration<double, std::milli>(world.now() - sent).count());
    (void)from.close(*fd);
    return ok;
  };
  const bool ping_ok = ping(alpha, B, 1, 56);

  std::printf("\n3. A 3000-byte ping does not fit the 1500-byte MTU: IPv4 fragments it (RFC 791)\n"
              "   and bravo reassembles it, answers, and its reply is fragmented in turn.\n");
  const bool big_ok = ping(alpha, B, 2, 3000);

  std::printf("\n4. UDP over the lossy link: alpha sends 20 datagrams to charlie's echo service\n"
              "   (port 7). Some requests and some echoes are lost; UDP does not retransmit.\n");
  trace = false;
  auto echo = *charlie.socket(AF_INET, SOCK_DGRAM, 0);
  (void)charlie.bind(echo, ep(Ipv4Addr::any(), 7));
  auto client = *alpha.socket(AF_INET, SOCK_DGRAM, 0);
  (void)alpha.connect(client, ep(C, 7));
  int echoed = 0;
  std::vector<base::Byte> buf(2048);
  auto serve = [&] {
    while (auto r = charlie.recv_from(echo, buf, 0)) (void)charlie.send_to(echo, base::ByteSpan(buf.data(), r->copied), &r->from, 0);
    while (auto r = alpha.recv_from(client, buf, 0)) ++echoed;
    return false;
  };
  for (int i = 0; i < 20; ++i) {
    const std::string msg = "datagram " + std::to_string(i);
    (void)alpha.send_to(client, base::as_bytes(msg.data(), msg.size()), nullptr, 0);
    world.run_until(serve, 50ms);
  }
  world.run_until(serve, 1s);
  std::printf("   => %d of 20 datagrams came back (each crossed the lossy link twice).\n", echoed);

  std::printf("\n5. alpha sends to a port nobody listens on at bravo: bravo answers ICMP port\n"
              "   unreachable (RFC 1122 4.1.3.1), and alpha's connected socket reports ECONNREFUSED.\n");
  trace = true;
  auto closed = *alpha.socket(AF_INET, SOCK_DGRAM, 0);
  (void)alpha.connect(closed, ep(B, 9999));
  (void)alpha.send_to(closed, base::as_bytes("hello?", 6), nullptr, 0);
  world.run_for(5ms);
  auto r = alpha.recv_from(closed, buf, 0);
  const bool refused = !r && r.error() == base::Errc::conn_refused;
  std::printf("   => recv on alpha's socket: %s\n", refused ? "ECONNREFUSED (Connection refused)" : "unexpected result");

  std::printf("\n6. TCP: alpha connects to a listener on bravo. The three-way handshake\n"
              "   (RFC 9293 3.5) agrees on MSS, window scaling, SACK and timestamps.\n");
  auto listener = *bravo.socket(AF_INET, SOCK_STREAM, 0);
  (void)bravo.bind(listener, ep(Ipv4Addr::any(), 5001));
  (void)bravo.listen(listener, 8);
  auto tcp_client = *alpha.socket(AF_INET, SOCK_STREAM, 0);
  (void)alpha.connect(tcp_client, ep(B, 5001));
  std::optional<stack::SocketId> tcp_server;
  world.run_until([&] {
    if (!tcp_server) if (auto a = bravo.accept(listener, nullptr)) tcp_server = *a;
    return tcp_server && (alpha.readiness(tcp_client) & POLLOUT);
  }, 5s);
  const bool tcp_open = tcp_server.has_value();
  std::printf("   => %s\n", tcp_open ? "connection established" : "no connection");

  std::printf("\n7. TCP over the lossy link: charlie sends 1 MB to alpha. Segments and ACKs\n"
              "   are lost (10%% each way); retransmissions (RFC 6298, RFC 6582) repair it.\n");
  trace = false;
  auto bulk_listener = *alpha.socket(AF_INET, SOCK_STREAM, 0);
  (void)alpha.bind(bulk_listener, ep(Ipv4Addr::any(), 5002));
  (void)alpha.listen(bulk_listener, 8);
  auto sender = *charlie.socket(AF_INET, SOCK_STREAM, 0);
  (void)charlie.connect(sender, ep(A, 5002));
  std::optional<stack::SocketId> receiver;
  std::vector<base::Byte> payload(1 << 20);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<base::Byte>(i * 7 + i / 251);
  std::size_t sent = 0, received = 0, mismatched = 0;
  const base::Instant bulk_start = world.now();
  world.run_until([&] {
    if (!receiver) if (auto a = alpha.accept(bulk_listener, nullptr)) receiver = *a;
    while (sent < payload.size()) {
      auto n = charlie.send_to(sender, base::ByteSpan(payload).subspan(sent), nullptr, 0);
      if (!n) break;
      sent += *n;
    }
    if (receiver) {
      while (auto got = alpha.recv_from(*receiver, buf, 0)) {
        if (got->copied == 0) break;
        for (std::size_t i = 0; i < got->copied; ++i) mismatched += buf[i] != payload[received + i];
        received += got->copied;
      }
    }
    return received == payload.size();
  }, 3600s);
  const double secs = base::to_seconds(world.now() - bulk_start);
  std::printf("   => %zu of %zu bytes arrived intact in %.1f virtual seconds (%llu segments retransmitted)\n",
              received - mismatched, payload.size(), secs,
              static_cast<unsigned long long>(charlie.counters().TcpRetransSegs));
  const bool tcp_ok = tcp_open && received == payload.size() && mismatched == 0;

  std::printf("\n8. Counters (standard MIB names) after the run:\n");
  const char* names[] = {"IpInReceives", "IpFragCreates", "IpReasmOKs", "IcmpInEchos", "IcmpOutEchoReps",
                         "IcmpOutDestUnreachs", "UdpInDatagrams", "UdpNoPorts", "ArpInRequests", "ArpOutReplies",
                         "TcpActiveOpens", "TcpPassiveOpens", "TcpInSegs", "TcpOutSegs", "TcpRetransSegs"};
  std::printf("   %-22s %8s %8s %8s\n", "", "alpha", "bravo", "charlie");
  for (const char* n : names) {
    std::printf("   %-22s", n);
    for (stack::Stack* s : {&alpha, &bravo, &charlie}) {
      std::uint64_t v = 0;
      s->counters().for_each([&](std::string_view name, std::uint64_t value) { if (name == n) v = value; });
      std::printf(" %8llu", static_cast<unsigned long long>(v));
    }
    std::printf("\n");
  }
  const bool ok = ping_ok && big_ok && refused && echoed > 0 && echoed < 20 && tcp_ok;
  std::printf("\n%s\n", ok ? "demo finished: every step behaved as described."
                           : "demo finished, but a step did not behave as described (see above).");
  return ok ? 0 : 1;
}

}  // namespace

void register_demo(CLI::App& app) {
  auto seed = std::make_shared<std::uint64_t>(7);
  auto tcp_trace = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("demo", "Show ustack at work on a simulated network (no privileges needed)");
  cmd->add_option("--seed", *seed, "Seed for the lossy link (default 7)");
  cmd->add_option("--tcp-trace", *tcp_trace, "Write the TCP connections' trace to this CSV file (docs/trace.md)");
  cmd->callback([seed, tcp_trace] { std::exit(run_demo(*seed, *tcp_trace)); });
}

}  // namespace ustack::tools
