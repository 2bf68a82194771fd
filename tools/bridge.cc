// `ustack bridge`: forwards Ethernet frames between two existing TAP interfaces
// through ustack's impairment wrapper (link::ImpairedDevice), so that two Linux
// network namespaces talk over a link that loses, reorders, delays or limits
// frames in both directions as `--impair` does to ustack. This kernel has no
// netem; interop test 20 uses the bridge to measure Linux's own goodput under
// the impairment it applies to ustack, in the same run.
//
//   ns A: tap A (Linux's address) <-> ustack bridge <-> tap B (Linux's address) :ns B
//
// Frames from A pass the wrapper's inbound pipeline before they go to B; frames
// from B pass its outbound pipeline before they go to A: each direction is
// impaired once, with the same spec. Plain frames (no offloads), so that loss
// and reordering apply per segment.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "cli.h"
#include "link/impair.h"
#include "link/tap.h"
#include "runtime/runtime.h"

namespace ustack::tools {
namespace {

struct BridgeOptions {
  std::string tap_a, tap_b, netns_b, impair;
};

/// Opens TAP `name` (plain frames) in network namespace `netns` (empty: this one).
base::Result<std::unique_ptr<link::TapDevice>> open_tap(const std::string& name, const std::string& netns,
                                                        std::string* why) {
  if (netns.empty()) return link::TapDevice::open(name, why, /*offload=*/false);
  const int saved = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = ::open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (saved < 0 || target < 0 || ::setns(target, CLONE_NEWNET) != 0) {
    *why = "cannot enter network namespace " + netns;
    if (saved >= 0) ::close(saved);
    if (target >= 0) ::close(target);
    return base::Errc::no_device;
  }
  // The descriptor stays bound to the interface after we leave its namespace.
  auto dev = link::TapDevice::open(name, why, /*offload=*/false);
  (void)::setns(saved, CLONE_NEWNET);
  ::close(saved);
  ::close(target);
  return dev;
}

int run_bridge(const BridgeOptions& o) {
  auto spec = link::ImpairSpec::parse(o.impair);
  if (!spec) {
    std::fprintf(stderr, "ustack bridge: bad --impair: %s\n", spec.error().c_str());
    return 2;
  }
  std::string why;
  auto a = open_tap(o.tap_a, "", &why);
  if (!a) {
    std::fprintf(stderr, "ustack bridge: %s: %s\n", o.tap_a.c_str(), why.c_str());
    return 1;
  }
  auto b = open_tap(o.tap_b, o.netns_b, &why);
  if (!b) {
    std::fprintf(stderr, "ustack bridge: %s: %s\n", o.tap_b.c_str(), why.c_str());
    return 1;
  }
  link::FdDevice& dev_b = **b;
  const int fd_a = (*a)->pollable_fd(), fd_b = dev_b.pollable_fd();
  link::ImpairedDevice side_a(std::move(*a), *spec);
  block_stop_signals();
  std::printf("ustack bridge: %s <-> %s%s, impair %s\n", o.tap_a.c_str(), o.tap_b.c_str(),
              o.netns_b.empty() ? "" : (" (netns " + o.netns_b + ")").c_str(),
              spec->to_string().empty() ? "none" : spec->to_string().c_str());
  std::fflush(stdout);

  constexpr std::size_t kBatch = 256;  // frames each way per round: neither side starves the other
  std::array<base::Byte, 65536> buf{};
  std::uint64_t a_to_b = 0, b_to_a = 0;
  while (!stop_requested()) {
    const base::Instant now = runtime::monotonic_now();
    for (std::size_t i = 0; i < kBatch; ++i) {
      const auto n = side_a.receive(now, buf);
      if (!n) break;
      if (dev_b.transmit(now, base::ByteSpan(buf.data(), *n))) ++a_to_b;
    }
    for (std::size_t i = 0; i < kBatch; ++i) {
      const auto n = dev_b.receive(now, buf);
      if (!n) break;
      if (side_a.transmit(now, base::ByteSpan(buf.data(), *n))) ++b_to_a;
    }
    // A TAP may hold a round's frames to write them together (batched writes,
    // Device::flush_tx): the round ends here, as the stack's poll does.
    dev_b.flush_tx();
    side_a.flush_tx();
    // Sleep until a frame arrives or a held one is due; at most 100 ms, to see a
    // stop signal.
    base::Duration wait = std::chrono::milliseconds(100);
    if (const auto due = side_a.next_deadline()) wait = std::min(wait, *due - runtime::monotonic_now());
    if (wait < base::Duration::zero()) wait = base::Duration::zero();
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(wait);
    const timespec ts{static_cast<time_t>(secs.count()),
                      static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(wait - secs).count())};
    pollfd fds[2] = {{fd_a, POLLIN, 0}, {fd_b, POLLIN, 0}};
    (void)::ppoll(fds, 2, &ts, nullptr);
  }
  const auto st = side_a.impair_stats();
  std::printf(
      "ustack bridge: forwarded %llu frames %s -> %s (dropped %llu, reordered %llu), %llu %s -> %s (dropped %llu, "
      "reordered %llu)\n",
      static_cast<unsigned long long>(a_to_b), o.tap_a.c_str(), o.tap_b.c_str(),
      static_cast<unsigned long long>(st.in.dropped), static_cast<unsigned long long>(st.in.reordered),
      static_cast<unsigned long long>(b_to_a), o.tap_b.c_str(), o.tap_a.c_str(),
      static_cast<unsigned long long>(st.out.dropped), static_cast<unsigned long long>(st.out.reordered));
  return 0;
}

}  // namespace

void register_bridge(CLI::App& app) {
  auto o = std::make_shared<BridgeOptions>();
  auto* cmd = app.add_subcommand(
      "bridge", "Forward frames between two TAP interfaces through the impairment wrapper (netem for two Linux "
                "namespaces; plain frames)");
  cmd->add_option("--tap", o->tap_a, "The first TAP interface (in this network namespace)")->required();
  cmd->add_option("--tap-b", o->tap_b, "The second TAP interface")->required();
  cmd->add_option("--netns-b", o->netns_b, "The network namespace of the second (ip netns name; default: this one)");
  cmd->add_option("--impair", o->impair,
                  "Impair both directions: loss=P%,dup=P%,reorder=P%,corrupt=P%,delay=Nms,jitter=Nms,rate=Nmbit,seed=N");
  cmd->callback([o] { std::exit(run_bridge(*o)); });
}

}  // namespace ustack::tools
