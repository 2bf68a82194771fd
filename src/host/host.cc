// Host: device (TAP or TUN, wrapped by impairment, pcap and live capture), stack and runtime,
// registered as the default for the C API.
#include "ustack/host.h"

#include <net/if.h>
#include <sys/random.h>

#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "ctl/server.h"
#include "host/trace_file.h"
#include "link/capture.h"
#include "link/impair.h"
#include "link/pcap.h"
#include "link/tap.h"
#include "link/tun.h"
#include "runtime/runtime.h"
#include "socket/descriptors.h"
#include "stack/stack.h"
#include "ustack/socket.h"

namespace ustack {

struct Host::Impl {
  std::unique_ptr<link::Device> device;  // outermost wrapper, owning the rest
  std::unique_ptr<stack::Stack> stack;
  std::unique_ptr<runtime::Runtime> runtime;
  std::string description;
  std::string offload_note;  // why offloads were not asked for, if they were wanted
  std::string program;
  std::shared_ptr<link::CaptureHub> capture;  // live capture (with the control endpoint)
  std::unique_ptr<ctl::Server> control;  // stopped before the runtime
};

namespace {

std::uint64_t random_seed() {
  std::uint64_t seed = 0;
  if (::getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = static_cast<std::uint64_t>(runtime::monotonic_now().time_since_epoch().count());
  return seed | 1;
}

base::MacAddr random_mac(base::Random& rng) {
  std::array<std::uint8_t, 6> b{};
  const std::uint64_t r = rng.next_u64();
  for (std::size_t i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(r >> (8 * i));
  b[0] = static_cast<std::uint8_t>((b[0] & 0xfe) | 0x02);  // unicast, locally administered
  return base::MacAddr(b);
}

std::string own_program_name() {
  std::ifstream in("/proc/self/comm");
  std::string name;
  std::getline(in, name);
  return name.empty() ? "ustack" : name;
}

}  // namespace

Host::Host(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Host::~Host() {
  if (!impl_) return;
  impl_->control.reset();  // its thread takes snapshots through the runtime
  impl_->runtime->stop();
  if (socket::default_runtime() == impl_->runtime.get()) socket::set_default_runtime(nullptr);
  socket::DescriptorTable::instance().release_runtime(impl_->runtime.get());
  impl_->stack->flush_devices();
}

stack::Stack& Host::stack() { return *impl_->stack; }
runtime::Runtime& Host::runtime() { return *impl_->runtime; }
std::string Host::describe() const { return impl_->description; }
std::string Host::control_path() const { return impl_->control ? impl_->control->path() : std::string(); }

ctl::Snapshot Host::snapshot() {
  return impl_->runtime->call(
      [&](stack::Stack& s) { return ctl::take_snapshot(s, impl_->program, static_cast<int>(::getpid())); });
}

base::Result<std::unique_ptr<Host>, std::string> Host::start(const HostOptions& o) {
  if (o.tap.empty() == o.tun.empty()) return std::string("give exactly one of --tap or --tun");
  auto cidr = base::Ipv4Cidr::parse(o.addr);
  if (!cidr || cidr->addr.is_unspecified()) return "bad address '" + o.addr + "' (want A.B.C.D/N)";
  std::optional<base::Ipv4Addr> gw;
  if (!o.gateway.empty()) {
    gw = base::Ipv4Addr::parse(o.gateway);
    if (!gw) return "bad gateway '" + o.gateway + "' (want A.B.C.D)";
    if (!cidr->contains(*gw)) return "gateway " + o.gateway + " is not in " + o.addr;
  }
  const std::uint64_t seed = o.seed ? o.seed : random_seed();
  base::Random rng(seed);
  base::MacAddr mac = random_mac(rng);
  if (!o.mac.empty()) {
    auto m = base::MacAddr::parse(o.mac);
    if (!m || m->is_multicast() || m->is_zero()) return "bad MAC '" + o.mac + "' (want a unicast aa:bb:cc:dd:ee:ff)";
    mac = *m;
  }
  std::optional<link::ImpairSpec> impair;
  if (!o.impair.empty()) {
    auto spec = link::ImpairSpec::parse(o.impair);
    if (!spec) return "bad --impair: " + spec.error();
    impair = *spec;
  }

  std::vector<std::pair<base::Ipv4Addr, base::MacAddr>> static_arp;
  for (const std::string& entry : o.static_arp) {
    const auto eq = entry.find('=');
    auto ip = base::Ipv4Addr::parse(entry.substr(0, eq));
    auto m = eq == std::string::npos ? std::nullopt : base::MacAddr::parse(entry.substr(eq + 1));
    if (!ip || !m || m->is_multicast()) return "bad --static-arp '" + entry + "' (want A.B.C.D=aa:bb:cc:dd:ee:ff)";
    static_arp.emplace_back(*ip, *m);
  }
  std::vector<std::pair<base::Ipv4Cidr, base::Ipv4Addr>> routes;
  for (const std::string& entry : o.routes) {
    const auto eq = entry.find('=');
    auto dest = base::Ipv4Cidr::parse(entry.substr(0, eq));
    auto via = eq == std::string::npos ? std::nullopt : base::Ipv4Addr::parse(entry.substr(eq + 1));
    if (!dest || !via) return "bad --route '" + entry + "' (want A.B.C.D/N=GATEWAY)";
    routes.emplace_back(*dest, *via);
  }

  std::optional<base::MemoryLimits> mem_limits;
  if (!o.mem_limit.empty()) {
    mem_limits = base::parse_memory_limits(o.mem_limit);
    if (!mem_limits) return "bad --mem-limit '" + o.mem_limit + "' (want SIZE such as 64M, or MIN,PRESSURE,MAX in pages)";
  }
  if (!o.congestion_control.empty() && !tcp::make_congestion_control(o.congestion_control)) {
    std::string known;
    for (auto name : tcp::congestion_control_names()) known += (known.empty() ? "" : ", ") + std::string(name);
    return "unknown congestion control '" + o.congestion_control + "' (known: " + known + ")";
  }

  const auto tx_io = link::parse_tx_io(o.tap_io);
  if (!tx_io) return "bad --tap-io '" + o.tap_io + "' (want uring or plain)";
  if (o.ecn > 2) return "bad ecn " + std::to_string(o.ecn) + " (want 0, 1 or 2, as net.ipv4.tcp_ecn)";

  auto impl = std::make_unique<Impl>();
  std::string why;
  const std::string ifname = o.tap.empty() ? o.tun : o.tap;
  if (!o.tap.empty()) {
    // Offloads hand over super-frames and partial checksums: impairment (loss,
    // reordering per frame) and a pcap meant for checking segments need frames as
    // they are on a plain wire.
    const bool offload = o.tap_offload && !impair && o.pcap.empty();
    auto dev = link::TapDevice::open(o.tap, &why, offload, *tx_io);
    if (!dev) return "cannot attach to TAP " + o.tap + ": " + why;
    impl->device = std::move(*dev);
    if (o.tap_offload && !offload) {
      impl->offload_note = impair ? "off (--impair needs one segment per frame)"
                                  : "off (--pcap records plain segments)";
    }
  } else {
    auto dev = link::TunDevice::open(o.tun, &why, *tx_io);
    if (!dev) return "cannot attach to TUN " + o.tun + ": " + why;
    impl->device = std::move(*dev);
  }
  // The capture sits next to the device, so it shows what really crossed the wire.
  if (!o.pcap.empty()) {
    auto dev = link::PcapDevice::open(std::move(impl->device), o.pcap, runtime::wall_at_epoch(), &why);
    if (!dev) return "cannot write pcap " + o.pcap + ": " + why;
    impl->device = std::move(*dev);
  }
  if (o.control) {
    impl->capture = std::make_shared<link::CaptureHub>(link::link_type_for(impl->device->medium()),
                                                       runtime::wall_at_epoch());
    impl->device = std::make_unique<link::CaptureDevice>(std::move(impl->device), impl->capture);
  }
  if (impair) impl->device = std::make_unique<link::ImpairedDevice>(std::move(impl->device), *impair);

  stack::StackConfig cfg;
  cfg.seed = seed;
  if (!o.tcp_trace.empty()) {
    auto trace = host::open_tcp_trace(o.tcp_trace, o.tcp_trace_max_bytes);
    if (!trace) return trace.error();
    cfg.tcp_trace = std::move(*trace);
  }
  if (!o.congestion_control.empty()) cfg.tcp.congestion_control = o.congestion_control;
  if (o.tcp_syncookies < 0 || o.tcp_syncookies > 2) return std::string("bad --syncookies (want 0, 1 or 2)");
  cfg.tcp_syncookies = o.tcp_syncookies;
  if (o.ecn >= 0) cfg.tcp.ecn = o.ecn;
  if (o.tcp_max_connections == 0) return std::string("bad --max-tcp-connections (want at least 1)");
  cfg.tcp_max_connections = o.tcp_max_connections;
  cfg.icmp_ratelimit_ms = o.icmp_ratelimit_ms;
  if (o.tcp_rst_per_sec < 0) return std::string("bad --rst-ratelimit (want 0 or more)");
  cfg.tcp_rst_per_sec = o.tcp_rst_per_sec;
  cfg.arp.accept_unsolicited = o.arp_accept;
  cfg.arp.protect_reachable = o.arp_protect;
  cfg.arp.locktime = std::chrono::milliseconds(o.arp_locktime_ms);
  if (mem_limits) cfg.memory = *mem_limits;
  cfg.logger = base::Logger(o.log_level, [](base::LogLevel, std::string_view msg) {
    std::fprintf(stderr, "ustack: %.*s\n", static_cast<int>(msg.size()), msg.data());
  });
  impl->stack = std::make_unique<stack::Stack>(cfg);
  impl->stack->add_interface(*impl->device, {ifname, mac, *cidr, std::nullopt});
  if (gw) {
    if (auto st = impl->stack->set_default_gateway(*gw); !st) return std::string("cannot route via gateway");
  }
  for (const auto& [ip, m] : static_arp) {
    if (!impl->stack->add_static_arp(ip, m)) return "--static-arp " + ip.to_string() + ": not on the interface's subnet";
  }
  for (const auto& [dest, via] : routes) {
    if (!impl->stack->add_route(dest, via)) return "--route " + dest.to_string() + ": gateway not on the interface's subnet";
  }
  impl->runtime = std::make_unique<runtime::Runtime>(
      *impl->stack, o.inline_loop ? runtime::Mode::inline_loop : runtime::Mode::threaded);
  impl->description = ifname + " " + cidr->to_string() +
                      (o.tap.empty() ? "" : " mac " + mac.to_string()) + " mtu " +
                      std::to_string(impl->device->mtu()) +
                      (o.tap.empty() ? ""
                                     : " offload " + (impl->offload_note.empty() ? impl->device->offloads()
                                                                                 : impl->offload_note));
  impl->program = o.program.empty() ? own_program_name() : o.program;
  impl->runtime->start();
  socket::set_default_runtime(impl->runtime.get());
  if (o.control) {
    runtime::Runtime* rt = impl->runtime.get();
    const std::string program = impl->program;
    auto snapshot = [rt, program] {
      return rt->call([&](stack::Stack& s) { return ctl::take_snapshot(s, program, static_cast<int>(::getpid())); });
    };
    auto capture = [hub = impl->capture](std::string_view filter, std::function<void()> notify)
        -> base::Result<std::shared_ptr<link::CaptureSubscription>, std::string> {
      auto f = link::CaptureFilter::compile(filter, hub->link_type());
      if (!f) return f.error();
      return hub->subscribe(std::move(*f), std::move(notify));
    };
    auto server = ctl::Server::start({.program = program}, std::move(snapshot), std::move(capture));
    if (server) {
      impl->control = std::move(*server);
    } else {
      std::fprintf(stderr, "ustack: no control endpoint (ustack ss will not see this host): %s\n", server.error().c_str());
    }
  }
  return std::unique_ptr<Host>(new Host(std::move(impl)));
}

}  // namespace ustack

namespace {
std::unique_ptr<ustack::Host> g_c_host;
}

extern "C" int ustack_host_start(const char* tap, const char* addr, const char* gateway) {
  if (!tap || !addr) {
    errno = EINVAL;
    return -1;
  }
  ustack::HostOptions o;
  o.tap = tap;
  o.addr = addr;
  if (gateway) o.gateway = gateway;
  if (::if_nametoindex(tap) == 0) {
    errno = ENODEV;
    return -1;
  }
  auto host = ustack::Host::start(o);
  if (!host) {
    std::fprintf(stderr, "ustack: %s\n", host.error().c_str());
    errno = EINVAL;
    return -1;
  }
  g_c_host = std::move(*host);
  return 0;
}

extern "C" void ustack_host_stop(void) { g_c_host.reset(); }
