// A ustack host for C++ programs: a stack on a TAP or TUN device, driven by a
// runtime, serving the Berkeley calls of <ustack/socket.h>.
//
//   auto host = ustack::Host::start({.tap = "tap0", .addr = "198.18.0.2/24"});
//   if (!host) { fprintf(stderr, "%s\n", host.error().c_str()); return 1; }
//   int fd = ustack_socket(AF_INET, SOCK_DGRAM, 0);   // a socket of this host
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/result.h"

namespace ustack {

namespace stack { class Stack; }
namespace runtime { class Runtime; }
namespace ctl { struct Snapshot; }  // "ctl/snapshot.h"

struct HostOptions {
  std::string tap;          // attach to this existing TAP interface, or
  std::string tun;          // to this existing TUN interface
  std::string addr;         // "A.B.C.D/N"
  std::string gateway;      // optional "A.B.C.D"
  std::string mac;          // optional "02:..."; default: random, locally administered
  std::string pcap;         // optional file: every frame in and out
  std::string impair;       // optional impairment spec (loss=1%,delay=5ms,...)
  /// TAP offloads (IFF_VNET_HDR: checksum offload, GRO/TSO super-frames both
  /// ways; docs/performance.md). On by default; off under `impair` (loss and
  /// reordering act on frames, and need one segment per frame) and `pcap` (the
  /// file is for checking segments and their checksums). Where the kernel
  /// refuses them the TAP runs plain; describe() says which.
  bool tap_offload = true;
  /// How the TAP/TUN writes frames: "uring" a round's frames with one
  /// io_uring_enter() (batched; where io_uring is unavailable it falls back to
  /// "plain" and describe() says why), "plain" one write() per frame, "auto"
  /// (default) uring for plain frames, plain with TAP offloads (measured faster).
  std::string tap_io = "auto";
  std::string tcp_trace;    // optional file: a CSV row per change of each TCP connection (docs/trace.md)
  std::size_t tcp_trace_max_bytes = 64u << 20;  // the trace stops growing here (the rest is counted)
  std::vector<std::string> static_arp;  // "A.B.C.D=aa:bb:cc:dd:ee:ff", never aged or replaced
  std::vector<std::string> routes;      // "A.B.C.D/N=G": a static route via gateway G
  std::string congestion_control;  // TCP's default algorithm ("cubic", "reno"); empty: cubic
  // Hardening (docs/hardening.md).
  int tcp_syncookies = 1;   // as Linux net.ipv4.tcp_syncookies: 0 off, 1 when the SYN queue is full, 2 always
  int ecn = -1;             // ECN as net.ipv4.tcp_ecn: 0 off, 1 request and accept, 2 accept; -1: 2
  std::size_t tcp_max_connections = 65536;  // TCBs at once; SYNs beyond are dropped, connect() gets ENOBUFS
  unsigned icmp_ratelimit_ms = 1000;  // ICMP errors to one host: one per this many ms, bursts of 6 (Linux icmp_ratelimit); 0 off
  double tcp_rst_per_sec = 1000;      // resets for segments of no connection, per destination per second; 0 off
  bool arp_accept = false;            // Linux arp_accept: learn from ARP replies we never asked for
  bool arp_protect = true;            // never let ARP change a reachable neighbour's MAC
  unsigned arp_locktime_ms = 1000;    // Linux neigh locktime, when arp_protect is off
  /// The stack-wide memory limit (docs/hardening.md "Memory limits"): "SIZE"
  /// (bytes, with K, M or G; pressure at 2/3 and min at 1/2 of it) or
  /// "MIN,PRESSURE,MAX" in 4 KiB pages as Linux's tcp_mem. Empty: the default.
  std::string mem_limit;
  bool inline_loop = false; // no runtime thread: blocking calls drive the stack
  base::LogLevel log_level = base::LogLevel::warn;
  std::uint64_t seed = 0;   // 0: from getrandom()
  /// Serve the control endpoint (docs/ctl-protocol.md) that `ustack ss`,
  /// `netstat`, `neigh`, `route` and `addr` read. Off for embedding programs; the
  /// ustack tools turn it on. Failing to serve it is a warning, not an error.
  bool control = false;
  std::string program;      // the name the snapshot gives the process; default: /proc/self/comm
};

class Host {
 public:
  /// Opens the device and starts the runtime; on failure, a message for the user.
  static base::Result<std::unique_ptr<Host>, std::string> start(const HostOptions& options);
  ~Host();  // stops the runtime, flushes the pcap, closes this host's descriptors

  stack::Stack& stack();
  runtime::Runtime& runtime();
  std::string describe() const;  // "tap0 198.18.0.2/24 mac 02:.. mtu 1500"
  /// What `ustack ss` and the other commands show of this host (sockets,
  /// counters, neighbours, routes, interfaces), taken under the runtime's lock;
  /// the same value the control endpoint serves. Include "ctl/snapshot.h".
  ctl::Snapshot snapshot();
  /// The control socket's path; empty when the endpoint is off.
  std::string control_path() const;

 private:
  struct Impl;
  explicit Host(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ustack
