// The TAP measurements (root): ustack on a TAP in a namespace the bench creates,
// against Linux over a veth pair between that namespace and a second one, in
// the same run.
//
//   ns-bench:  tap-bench0 198.18.5.1/24 (Linux's side of the TAP; ustack is
//              198.18.5.2 on it), vb-bench0 198.18.6.1/24, wrk, the Linux senders
//   ns-benchp: vb-bench1 198.18.6.2/24, the Linux receivers and servers of the
//              reference measurements
//   ns-bench also holds tap-bench1 198.18.7.1/24, Linux's side of a second TAP
//   that the lwIP peer (bench/lwip_peer/, a process of its own) opens as
//   198.18.7.2: the same kind of TAP, in the same namespace, with the same Linux
//   sender and receiver code as the ustack rows.
//
// Sources and sinks are written once against apps::SocketCalls, so each side
// runs the same code on ustack's sockets and on Linux's.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "apps/calls.h"
#include "apps/server.h"
#include "bench/peer_process.h"
#include "bench/suite.h"
#include "bench/suite_util.h"
#include "ustack/host.h"

namespace ustack::bench {
namespace {

constexpr const char* kNs = "ns-bench";
constexpr const char* kPeerNs = "ns-benchp";
constexpr const char* kTap = "tap-bench0";
constexpr const char* kLwipTap = "tap-bench1";
constexpr std::uint32_t kLinuxLwipTapAddr = 0xc6120701;  // 198.18.7.1
constexpr std::uint32_t kLwipAddr = 0xc6120702;          // 198.18.7.2 (the lwIP peer)
constexpr std::uint32_t kLinuxTapAddr = 0xc6120501;   // 198.18.5.1
constexpr std::uint32_t kUstackAddr = 0xc6120502;     // 198.18.5.2
constexpr std::uint32_t kPeerAddr = 0xc6120602;       // 198.18.6.2 (ns-benchp)
constexpr std::size_t kConnCap = 10000;

bool sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

void teardown() {
  sh(std::string("ip netns del ") + kNs);
  sh(std::string("ip netns del ") + kPeerNs);
}

/// Makes both namespaces; an error message when it cannot.
std::string setup() {
  teardown();  // a previous run killed before it cleaned up
  const std::string ns = kNs, peer = kPeerNs;
  const std::vector<std::string> cmds = {
      "ip netns add " + ns,
      "ip netns add " + peer,
      "ip -n " + ns + " link set lo up",
      "ip -n " + peer + " link set lo up",
      "ip netns exec " + ns + " sysctl -qw net.ipv6.conf.all.disable_ipv6=1",
      "ip netns exec " + peer + " sysctl -qw net.ipv6.conf.all.disable_ipv6=1",
      "ip -n " + ns + " tuntap add dev " + kTap + " mode tap",
      "ip -n " + ns + " addr add 198.18.5.1/24 dev " + kTap,
      "ip -n " + ns + " link set " + kTap + " up",
      "ip -n " + ns + " tuntap add dev " + kLwipTap + " mode tap",
      "ip -n " + ns + " addr add 198.18.7.1/24 dev " + kLwipTap,
      "ip -n " + ns + " link set " + kLwipTap + " up",
      "ip -n " + ns + " link add vb-bench0 type veth peer name vb-bench1 netns " + peer,
      "ip -n " + ns + " addr add 198.18.6.1/24 dev vb-bench0",
      "ip -n " + peer + " addr add 198.18.6.2/24 dev vb-bench1",
      "ip -n " + ns + " link set vb-bench0 up",
      "ip -n " + peer + " link set vb-bench1 up",
  };
  for (const auto& c : cmds)
    if (!sh(c)) return "'" + c + "' failed";
  return "";
}

/// Moves the calling thread into a named network namespace until destroyed.
class NetnsGuard {
 public:
  explicit NetnsGuard(const char* name) {
    saved_ = Fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    Fd target(::open((std::string("/var/run/netns/") + name).c_str(), O_RDONLY | O_CLOEXEC));
    ok_ = saved_.get() >= 0 && target.get() >= 0 && ::setns(target.get(), CLONE_NEWNET) == 0;
  }
  ~NetnsGuard() {
    if (ok_) (void)::setns(saved_.get(), CLONE_NEWNET);
  }
  bool ok() const { return ok_; }

 private:
  Fd saved_;
  bool ok_ = false;
};

/// A listening socket of either stack.
int listen_on(const apps::SocketCalls& calls, std::uint32_t addr, std::uint16_t port) {
  const int fd = calls.socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  const int one = 1;
  calls.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = sockaddr_v4(addr, port);
  if (calls.bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || calls.listen(fd, 1024) < 0) {
    calls.close(fd);
    return -1;
  }
  return fd;
}

void set_timeouts(const apps::SocketCalls& calls, int fd) {
  timeval tv{10, 0};
  calls.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  calls.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/// What a sink saw: bytes read from accept to end of stream, and how long that took.
struct SinkResult {
  std::uint64_t bytes = 0;
  double seconds = 0;
  bool ok = false;
};

/// Accepts one connection on `listener` and reads it to the end (own thread).
void sink(const apps::SocketCalls& calls, int listener, SinkResult* out) {
  const int fd = calls.accept4(listener, nullptr, nullptr, 0);
  if (fd < 0) return;
  set_timeouts(calls, fd);
  std::vector<char> buf(256 * 1024);
  Stopwatch sw;
  while (true) {
    const ssize_t n = calls.recv(fd, buf.data(), buf.size(), 0);
    if (n == 0) {
      out->ok = true;
      break;
    }
    if (n < 0) break;
    out->bytes += static_cast<std::uint64_t>(n);
  }
  out->seconds = sw.seconds();
  calls.close(fd);
}

/// Connects and sends for `seconds`, then closes its sending side.
bool source(const apps::SocketCalls& calls, std::uint32_t addr, std::uint16_t port, double seconds) {
  const int fd = calls.socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  set_timeouts(calls, fd);
  sockaddr_in a = sockaddr_v4(addr, port);
  if (calls.connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
    calls.close(fd);
    return false;
  }
  std::vector<char> chunk(64 * 1024, 0x5a);
  Stopwatch sw;
  bool ok = true;
  while (sw.seconds() < seconds) {
    const ssize_t n = calls.send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      ok = false;
      break;
    }
  }
  calls.shutdown(fd, SHUT_WR);
  // Wait for the sink's close (end of stream both ways) before closing.
  char c;
  while (calls.recv(fd, &c, 1, 0) > 0) {}
  calls.close(fd);
  return ok;
}

/// Goodput in Gbit/s of a source on `from` into a sink already listening on `listener` of `to`.
std::optional<double> bulk(const apps::SocketCalls& from, const apps::SocketCalls& to, int listener,
                           std::uint32_t addr, std::uint16_t port, double seconds, std::string* why) {
  SinkResult r;
  std::thread t(sink, std::cref(to), listener, &r);
  const bool sent = source(from, addr, port, seconds);
  t.join();
  if (!sent || !r.ok || r.seconds <= 0) {
    *why = std::string("transfer failed (") + from.name + " -> " + to.name + ")";
    return std::nullopt;
  }
  return r.bytes * 8.0 / r.seconds / 1e9;
}

/// A Linux listener that accepts and closes until told to stop (own thread).
struct AcceptCloser {
  int listener = -1;
  std::atomic<bool> stop{false};
  std::thread thread;
  void start() {
    thread = std::thread([this] {
      while (!stop.load()) {
        const int fd = ::accept4(listener, nullptr, nullptr, 0);
        if (fd >= 0) ::close(fd);
        else if (errno != EINTR && errno != EAGAIN) break;
      }
    });
  }
  void finish() {
    stop = true;
    ::shutdown(listener, SHUT_RDWR);  // wakes accept()
    thread.join();
    ::close(listener);
  }
};

/// Serial connect + close from `calls` to a Linux listener at addr:port.
double conn_rate(const apps::SocketCalls& calls, std::uint32_t addr, std::uint16_t port, double seconds) {
  std::uint64_t n = 0;
  Stopwatch sw;
  const sockaddr_in a = sockaddr_v4(addr, port);
  while (n < kConnCap && sw.seconds() < seconds) {
    const int fd = calls.socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    set_timeouts(calls, fd);
    if (calls.connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0) {
      calls.close(fd);
      break;
    }
    calls.close(fd);
    ++n;
  }
  return n / sw.seconds();
}

/// Requests/s that wrk reports against url (run in ns-bench), or nullopt.
std::optional<double> wrk(const SuiteOptions& o, const std::string& url, std::string* why) {
  const std::string cmd = "ip netns exec " + std::string(kNs) + " " + o.wrk + " -t1 -c32 -d" +
                          std::to_string(static_cast<int>(o.seconds < 1 ? 1 : o.seconds + 0.5)) + "s " + url +
                          " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    *why = "popen failed";
    return std::nullopt;
  }
  std::string text;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) text += buf;
  const int rc = ::pclose(p);
  const auto at = text.find("Requests/sec:");
  if (rc != 0 || at == std::string::npos) {
    *why = "wrk failed: " + text.substr(0, 200);
    return std::nullopt;
  }
  double v = std::strtod(text.c_str() + at + 13, nullptr);
  // Non-2xx answers or socket errors mean the figure is not one of served requests.
  if (text.find("Non-2xx") != std::string::npos) *why = "wrk saw non-2xx responses";
  return v;
}

bool have_wrk(const SuiteOptions& o) { return sh("command -v " + o.wrk); }

/// The lwIP peer's path: the option, or ustack-lwip-peer beside this executable.
std::string lwip_peer_path(const SuiteOptions& o) {
  if (!o.lwip_peer.empty()) return o.lwip_peer;
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "ustack-lwip-peer";
  std::string self(buf, static_cast<std::size_t>(n));
  const auto slash = self.rfind('/');
  return (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/ustack-lwip-peer";
}

/// "key=value" out of a line the lwIP peer prints ("sink bytes=N seconds=S").
double field(const std::string& line, const std::string& key) {
  const auto at = line.find(" " + key + "=");
  return at == std::string::npos ? -1 : std::strtod(line.c_str() + at + key.size() + 2, nullptr);
}

/// Linux (ns-bench) -> the lwIP peer's sink over tap-bench1: the same source()
/// as Linux -> ustack; the peer times accept to end of stream, as sink() does.
std::optional<double> linux_to_lwip(const SuiteOptions& o, const std::string& peer, std::string* why) {
  const double limit = o.tap_bulk_seconds + 30;
  auto p = PeerProcess::start({peer, "--tap", kLwipTap, "--addr", "198.18.7.2/24", "--mode", "sink", "--port", "5401",
                               "--count", "1", "--timeout", std::to_string(static_cast<int>(limit))},
                              why);
  if (!p) return std::nullopt;
  if (!p->line_starting("ready", 10)) {
    *why = "lwIP peer not ready: " + p->output();
    return std::nullopt;
  }
  const bool sent = source(apps::linux_calls(), kLwipAddr, 5401, o.tap_bulk_seconds);
  const auto line = p->line_starting("sink ", 10);
  const int rc = p->wait(5);
  const double bytes = line ? field(*line, "bytes") : -1, secs = line ? field(*line, "seconds") : -1;
  if (!sent || rc != 0 || bytes <= 0 || secs <= 0) {
    *why = "Linux -> lwIP failed (sent " + std::string(sent ? "ok" : "failed") + ", peer status " +
           std::to_string(rc) + "): " + (line ? *line : p->output());
    return std::nullopt;
  }
  return bytes * 8 / secs / 1e9;
}

/// The lwIP peer's source -> a Linux sink() in ns-bench over tap-bench1, the
/// same sink as ustack -> Linux.
std::optional<double> lwip_to_linux(const SuiteOptions& o, const std::string& peer, std::string* why) {
  const auto& lx = apps::linux_calls();
  const int l = listen_on(lx, kLinuxLwipTapAddr, 5402);
  if (l < 0) {
    *why = "listen failed";
    return std::nullopt;
  }
  SinkResult r;
  std::thread t(sink, std::cref(lx), l, &r);
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f", o.tap_bulk_seconds);
  const double limit = o.tap_bulk_seconds + 30;
  auto p = PeerProcess::start({peer, "--tap", kLwipTap, "--addr", "198.18.7.2/24", "--mode", "source", "--connect",
                               "198.18.7.1:5402", "--seconds", secs, "--timeout",
                               std::to_string(static_cast<int>(limit))},
                              why);
  int rc = -1;
  std::string out;
  if (p) {
    rc = p->wait(limit + 5);
    out = p->output();
  }
  ::shutdown(l, SHUT_RDWR);  // wakes an accept() still waiting (the peer never connected)
  t.join();
  ::close(l);
  if (!p) return std::nullopt;
  if (rc != 0 || !r.ok || r.seconds <= 0) {
    *why = "lwIP -> Linux failed (peer status " + std::to_string(rc) + "): " + out;
    return std::nullopt;
  }
  return r.bytes * 8.0 / r.seconds / 1e9;
}

}  // namespace

std::vector<Measurement> run_tap_suite(const SuiteOptions& o) {
  std::vector<Measurement> out;
  auto emit = [&](Measurement m) {
    if (o.on_result) o.on_result(m);
    out.push_back(std::move(m));
  };
  auto make = [](std::string name, std::string what, std::string unit, std::string ref) {
    Measurement m;
    m.group = "tap";
    m.name = std::move(name);
    m.what = std::move(what);
    m.unit = std::move(unit);
    m.reference = std::move(ref);
    return m;
  };
  std::vector<Measurement> planned = {
      make("linux_to_ustack", "TCP bulk, Linux -> ustack over TAP", "Gbit/s", "Linux -> Linux over veth"),
      make("ustack_to_linux", "TCP bulk, ustack -> Linux over TAP", "Gbit/s", "Linux -> Linux over veth"),
      make("conn_serial", "Serial connections, ustack -> Linux over TAP", "conn/s", "Linux -> Linux over veth"),
      make("http_wrk", "HTTP requests (wrk -c32) to apps/server", "req/s", "same server on Linux sockets, veth"),
      make("lwip_bulk_in", "TCP bulk, Linux -> ustack against Linux -> lwIP, both over TAP", "Gbit/s",
           "Linux -> lwIP peer over TAP"),
      make("lwip_bulk_out", "TCP bulk, ustack -> Linux against lwIP -> Linux, both over TAP", "Gbit/s",
           "lwIP peer -> Linux over TAP"),
  };
  // `--only NAME` runs one row (and the references it needs), e.g. under perf.
  auto wanted = [&](const char* name) { return o.only.empty() || o.only == name; };
  auto emit_if_wanted = [&](const Measurement& m) {
    if (wanted(m.name.c_str())) emit(m);
  };
  const bool want_bulk = wanted("linux_to_ustack") || wanted("ustack_to_linux") || wanted("lwip_bulk_in") ||
                         wanted("lwip_bulk_out");
  auto skip_all = [&](const std::string& why) {
    for (auto& m : planned) {
      m.skipped = why;
      emit_if_wanted(m);
    }
    return out;
  };
  if (::geteuid() != 0) return skip_all("needs root (network namespaces, TAP, veth)");
  if (const std::string err = setup(); !err.empty()) {
    teardown();
    return skip_all(err);
  }
  {
    NetnsGuard in_ns(kNs);
    if (!in_ns.ok()) {
      teardown();
      return skip_all("cannot enter namespace " + std::string(kNs));
    }
    HostOptions ho;
    ho.tap = kTap;
    ho.addr = "198.18.5.2/24";
    ho.tap_offload = o.tap_offload;
    ho.tap_io = o.tap_io;
    auto host = Host::start(ho);
    if (!host) {
      teardown();
      return skip_all("ustack host: " + host.error());
    }
    const auto& us = apps::ustack_calls();
    const auto& lx = apps::linux_calls();

    // --- Bulk: the reference first, then both directions over the TAP.
    std::string why;
    std::optional<double> veth;
    if (want_bulk) {
      int l = -1;
      {
        NetnsGuard peer(kPeerNs);
        l = listen_on(lx, kPeerAddr, 5203);
      }
      if (l >= 0) {
        veth = bulk(lx, lx, l, kPeerAddr, 5203, o.tap_bulk_seconds, &why);
        ::close(l);
      }
    }
    auto& to_us = planned[0];
    auto& from_us = planned[1];
    if (wanted("linux_to_ustack") || wanted("lwip_bulk_in")) {
      const int l = listen_on(us, kUstackAddr, 5201);
      auto v = l >= 0 ? bulk(lx, us, l, kUstackAddr, 5201, o.tap_bulk_seconds, &why) : std::nullopt;
      if (l >= 0) us.close(l);
      if (v && veth) {
        to_us.value = *v;
        to_us.reference_value = *veth;
      } else {
        to_us.skipped = why.empty() ? "listen failed" : why;
      }
    }
    if (wanted("ustack_to_linux") || wanted("lwip_bulk_out")) {
      const int l = listen_on(lx, kLinuxTapAddr, 5202);
      auto v = l >= 0 ? bulk(us, lx, l, kLinuxTapAddr, 5202, o.tap_bulk_seconds, &why) : std::nullopt;
      if (l >= 0) ::close(l);
      if (v && veth) {
        from_us.value = *v;
        from_us.reference_value = *veth;
      } else {
        from_us.skipped = why.empty() ? "listen failed" : why;
      }
    }
    // What the TAP really used: the host's description ends with "offload ...".
    const std::string desc = (*host)->describe();
    const auto at = desc.find(" offload ");
    const std::string used = at == std::string::npos ? "?" : desc.substr(at + 9);
    const bool offloaded = used.rfind("vnet_hdr", 0) == 0;
    const std::string tap_note =
        offloaded ? "TAP with offloads (IFF_VNET_HDR, TUNSETOFFLOAD CSUM|TSO4: the kernel's GRO/TSO super-frames "
                    "in with partial checksums, not verified; ustack's segments coalesced into TSO super-frames "
                    "out, TCP checksum left partial)"
                  : "TAP without offloads (" + used + "; ustack computes checksums, 1500-byte frames)";
    const std::string bulk_note = std::to_string(static_cast<int>(o.tap_bulk_seconds)) +
                                  " s of 64 KB sends each, default buffers (auto-tuned) on both stacks; " + tap_note +
                                  "; veth with Linux's offloads (TSO/GRO, no checksums)";
    to_us.note = from_us.note = bulk_note;
    emit_if_wanted(to_us);
    emit_if_wanted(from_us);

    // --- Bulk against the lwIP peer (bench/lwip_peer/) on tap-bench1: the same
    // Linux source and sink code as the ustack rows above, the same duration,
    // right after them; ustack's figures are those rows'.
    if (wanted("lwip_bulk_in") || wanted("lwip_bulk_out")) {
      auto& in = planned[4];
      auto& outm = planned[5];
      const std::string peer = lwip_peer_path(o);
      if (::access(peer.c_str(), X_OK) != 0) {
        in.skipped = outm.skipped = "the lwIP peer is not built (" + peer +
                                    " missing): it needs Debian's liblwip-dev when configuring "
                                    "(scripts/deps.sh build, then a fresh build directory)";
      } else {
        const std::string note =
            std::to_string(static_cast<int>(o.tap_bulk_seconds)) +
            " s of 64 KB sends each, the same Linux code; lwIP 2.1.3 as Debian builds it (liblwip-dev): TCP_MSS "
            "1460, TCP_WND 65535 (window scale 1), TCP_SND_BUF 65535, MEM_LIBC_MALLOC, checksums in software "
            "(LWIP_CHECKSUM_ON_COPY), raw API under the core lock on one thread, its own PBUF_RAM TAP netif on "
            "tap-bench1 (no offloads); ustack: its figure in tap/";
        auto fill = [&](Measurement& m, const Measurement& ours, std::optional<double> lw, const std::string& why_lw) {
          if (!lw) {
            m.skipped = why_lw;
          } else if (!ours.skipped.empty()) {
            m.skipped = "ustack's figure is missing (" + ours.skipped + "); lwIP measured " + std::to_string(*lw) +
                        " Gbit/s";
          } else {
            m.value = ours.value;
            m.reference_value = *lw;
            m.note = note + ours.name + ", measured just before";
          }
        };
        std::string why_in, why_out;
        const auto lw_in = linux_to_lwip(o, peer, &why_in);
        const auto lw_out = lwip_to_linux(o, peer, &why_out);
        fill(in, to_us, lw_in, why_in);
        fill(outm, from_us, lw_out, why_out);
      }
      emit_if_wanted(in);
      emit_if_wanted(outm);
    }

    // --- Serial connection rate against a Linux listener.
    if (wanted("conn_serial")) {
      auto& m = planned[2];
      AcceptCloser tap_side, veth_side;
      tap_side.listener = listen_on(lx, kLinuxTapAddr, 5301);
      {
        NetnsGuard peer(kPeerNs);
        veth_side.listener = listen_on(lx, kPeerAddr, 5302);
      }
      if (tap_side.listener < 0 || veth_side.listener < 0) {
        m.skipped = "listen failed";
      } else {
        tap_side.start();
        veth_side.start();
        m.value = conn_rate(us, kLinuxTapAddr, 5301, o.seconds);
        m.reference_value = conn_rate(lx, kPeerAddr, 5302, o.seconds);
        m.note = "blocking connect then close, one at a time, at most " + std::to_string(kConnCap) +
                 "; Linux accepts and closes";
      }
      if (tap_side.listener >= 0) tap_side.finish();
      if (veth_side.listener >= 0) veth_side.finish();
      emit(m);
    }

    // --- HTTP with wrk: apps/server on ustack and on Linux's sockets.
    if (wanted("http_wrk")) {
      auto& m = planned[3];
      if (!have_wrk(o)) {
        m.skipped = "wrk not installed (apt-get install wrk)";
      } else {
        std::string err;
        apps::ServerConfig sc;
        sc.service = apps::Service::http;
        sc.port = 80;
        auto us_server = apps::Server::start(us, sc, &err);
        std::unique_ptr<apps::Server> lx_server;
        {
          NetnsGuard peer(kPeerNs);
          sc.port = 8080;
          lx_server = apps::Server::start(lx, sc, &err);
        }
        if (!us_server || !lx_server) {
          m.skipped = "server: " + err;
        } else {
          std::string why_us, why_lx;
          auto a = wrk(o, "http://198.18.5.2/", &why_us);
          auto b = wrk(o, "http://198.18.6.2:8080/", &why_lx);
          if (a && b) {
            m.value = *a;
            m.reference_value = *b;
            m.note = "GET / (the built-in index, keep-alive), wrk -t1 -c32 for " +
                     std::to_string(static_cast<int>(o.seconds + 0.5)) + " s; the same apps::Server code" +
                     (why_us.empty() && why_lx.empty() ? "" : "; " + why_us + " " + why_lx);
          } else {
            m.skipped = why_us.empty() ? why_lx : why_us;
          }
        }
      }
      emit(m);
    }
  }
  teardown();
  return out;
}

}  // namespace ustack::bench
