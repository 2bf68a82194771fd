// `ustack`: a user-space TCP/IP stack and its tools.
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

#include "cli.h"

namespace ustack::tools {

void add_attach_options(CLI::App& cmd, HostOptions& o) {
  cmd.add_option("--tap", o.tap, "Attach to this existing TAP interface")->group("Attach");
  cmd.add_option("--tun", o.tun, "Attach to this existing TUN interface (layer 3)")->group("Attach");
  cmd.add_option("--addr", o.addr, "Address and prefix, A.B.C.D/N")->required()->group("Attach");
  cmd.add_option("--gw", o.gateway, "Default gateway A.B.C.D")->group("Attach");
  cmd.add_option("--mac", o.mac, "MAC address (default: random, locally administered)")->group("Attach");
  cmd.add_option("--pcap", o.pcap, "Write every frame in and out to this pcap file")->group("Attach");
  cmd.add_option("--impair", o.impair,
                 "Impair both directions: loss=P%,dup=P%,reorder=P%,corrupt=P%,delay=Nms,jitter=Nms,rate=Nmbit,seed=N")
      ->group("Attach");
  // The environment sets the default, so that a test whose capture checks wire
  // checksums can turn offloads off for every ustack command it runs.
  if (const char* e = std::getenv("USTACK_TAP_OFFLOAD"); e && std::string(e) == "0") o.tap_offload = false;
  cmd.add_option("--tap-offload", o.tap_offload,
                 "TAP offloads (IFF_VNET_HDR): 1 (default; USTACK_TAP_OFFLOAD=0 in the environment makes it 0) "
                 "checksum offload and TCP super-frames both ways (GRO in, TSO out); 0 plain frames of at most the "
                 "MTU with checksums computed. Off under --impair and --pcap; the ready line says what is used")
      ->group("Attach");
  if (const char* e = std::getenv("USTACK_TAP_IO"); e && *e) o.tap_io = e;
  cmd.add_option("--tap-io", o.tap_io,
                 "How frames go out to the TAP/TUN (USTACK_TAP_IO in the environment sets the default): uring "
                 "a round's frames with one io_uring_enter(), falling back to plain where io_uring is unavailable; "
                 "plain one write() per frame; auto (default) uring without offloads, plain with them (measured "
                 "faster there). The ready line says which is used")
      ->check(CLI::IsMember({"uring", "plain", "auto"}))
      ->group("Attach");
  cmd.add_option("--tcp-trace", o.tcp_trace,
                 "Write each TCP connection's cwnd, ssthresh, RTT, RTO, in-flight and sequence numbers over time "
                 "to this CSV file (docs/trace.md)")
      ->group("Attach");
  cmd.add_option("--congestion-control,--cc", o.congestion_control,
                 "TCP congestion control, as Linux's tcp_congestion_control: cubic (default), reno or bbr")
      ->group("TCP");
  cmd.add_option("--syncookies", o.tcp_syncookies,
                 "SYN cookies, as Linux's tcp_syncookies: 0 off, 1 when a listener's SYN queue is full (default), "
                 "2 always (docs/hardening.md)")
      ->check(CLI::Range(0, 2))
      ->group("Hardening");
  cmd.add_option("--ecn", o.ecn,
                 "TCP ECN (RFC 3168), as Linux's net.ipv4.tcp_ecn: 0 off, 1 request it and accept it, "
                 "2 accept it when the peer asks (default)")
      ->check(CLI::Range(0, 2))
      ->group("TCP");
  cmd.add_option("--max-tcp-connections", o.tcp_max_connections,
                 "The most TCP connections held at once, TIME-WAIT included (default 65536); beyond it SYNs are "
                 "dropped and counted (DropTcpConnLimit) and connect() fails with ENOBUFS")
      ->check(CLI::PositiveNumber)
      ->group("Hardening");
  cmd.add_option("--icmp-ratelimit", o.icmp_ratelimit_ms,
                 "ICMP errors to one host: at most one per this many milliseconds, in bursts of 6, as Linux's "
                 "icmp_ratelimit (default 1000; 0 off); counted in IcmpOutRateLimitHost")
      ->group("Hardening");
  cmd.add_option("--rst-ratelimit", o.tcp_rst_per_sec,
                 "Resets for segments of no connection, per destination per second and burst (default 1000; 0 off); "
                 "counted in DropTcpRstRateLimit")
      ->check(CLI::NonNegativeNumber)
      ->group("Hardening");
  cmd.add_option("--arp-accept", o.arp_accept,
                 "1: learn neighbours from ARP replies never asked for (Linux arp_accept; default 0, counted in "
                 "DropArpUnsolicited)")
      ->group("Hardening");
  cmd.add_option("--arp-protect", o.arp_protect,
                 "1 (default): ARP never changes a reachable neighbour's MAC (DropArpMacChange); 0: Linux's "
                 "rule, refused only within --arp-locktime of the entry's last update")
      ->group("Hardening");
  cmd.add_option("--arp-locktime", o.arp_locktime_ms, "Linux's neigh locktime in milliseconds (default 1000)")
      ->group("Hardening");
  cmd.add_option("--mem-limit", o.mem_limit,
                 "Stack-wide memory limit for socket buffers and fragments: SIZE (e.g. 64M; pressure at 2/3) "
                 "or MIN,PRESSURE,MAX in 4 KiB pages as Linux's tcp_mem (default 5625,7500,11250)")
      ->group("Limits");
  cmd.add_option("--static-arp", o.static_arp, "A permanent ARP entry IP=MAC (repeatable)")
      ->allow_extra_args(false)
      ->group("Attach");
  cmd.add_option("--route", o.routes, "A static route NET/N=GATEWAY (repeatable)")
      ->allow_extra_args(false)
      ->group("Attach");
}

namespace {
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

void block_stop_signals() {
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_stop_signal() {
  const sigset_t set = stop_signals();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

bool stop_requested() {
  // sigtimedwait consumes the pending signal: latch it, so that every later
  // caller (another loop, another thread) sees the stop too.
  static std::atomic<bool> stopped{false};
  if (stopped.load(std::memory_order_relaxed)) return true;
  const sigset_t set = stop_signals();
  const timespec zero{};
  if (sigtimedwait(&set, nullptr, &zero) > 0) stopped.store(true, std::memory_order_relaxed);
  return stopped.load(std::memory_order_relaxed);
}

}  // namespace ustack::tools

int main(int argc, char** argv) {
  CLI::App app{"ustack: a TCP/IP stack in user space"};
  app.require_subcommand(1);
  ustack::tools::register_up(app);
  ustack::tools::register_ping(app);
  ustack::tools::register_nc(app);
  ustack::tools::register_demo(app);
  ustack::tools::register_script(app);
  ustack::tools::register_ss(app);
  ustack::tools::register_netstat(app);
  ustack::tools::register_neigh(app);
  ustack::tools::register_route(app);
  ustack::tools::register_addr(app);
  ustack::tools::register_capture(app);
  ustack::tools::register_bench(app);
  ustack::tools::register_bridge(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
