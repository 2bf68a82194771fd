// One TCP flow across a simulated bottleneck: the harness behind the sweeps.
#include "bench/goodput.h"

#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "base/random.h"
#include "host/sim_world.h"
#include "host/trace_file.h"
#include "tcp/cc.h"

namespace ustack::bench {

using namespace std::chrono_literals;
using base::Ipv4Addr;

namespace {

/// Drops each frame the wrapped device sends with probability p: loss on the
/// data path only (the ACK path stays clean), as in the Mathis model.
class EgressLoss : public link::Device {
 public:
  EgressLoss(link::Device& inner, double p, std::uint64_t seed) : inner_(inner), p_(p), rng_(seed) {}
  link::Medium medium() const override { return inner_.medium(); }
  std::size_t mtu() const override { return inner_.mtu(); }
  std::string name() const override { return inner_.name(); }
  std::optional<std::size_t> receive(base::Instant now, base::MutByteSpan buf) override {
    return inner_.receive(now, buf);
  }
  bool transmit(base::Instant now, base::ByteSpan frame) override {
    // Only large frames (TCP data): the handshake and ARP are never lost, so a
    // cell measures the flow, not a SYN's 1 s retransmission timeout.
    if (p_ > 0 && frame.size() > 200 && static_cast<double>(rng_.next_u64() >> 11) * 0x1.0p-53 < p_) {
      ++dropped_;
      return true;
    }
    return inner_.transmit(now, frame);
  }
  std::optional<base::Instant> next_deadline() const override { return inner_.next_deadline(); }
  const link::DeviceStats& stats() const override { return inner_.stats(); }
  std::uint64_t dropped() const { return dropped_; }

 private:
  link::Device& inner_;
  double p_;
  base::Random rng_;
  std::uint64_t dropped_ = 0;
};

double bdp_bytes(const Cell& c) { return static_cast<double>(c.rate_bps) / 8 * base::to_seconds(c.rtt); }

}  // namespace

double mathis_bps(std::uint32_t mss, base::Duration rtt, double loss) {
  if (loss <= 0) return std::numeric_limits<double>::infinity();
  return mss * 8.0 / base::to_seconds(rtt) * std::sqrt(1.5) / std::sqrt(loss);
}

double CellResult::ceiling_bps() const {
  return std::min({mathis_bps, window_bps});
}

CellResult run_cell(const Cell& cell) {
  CellResult res;
  if (!tcp::make_congestion_control(cell.cc)) {
    res.cc_available = false;
    return res;
  }
  const auto wall_start = std::chrono::steady_clock::now();
  const double bdp = bdp_bytes(cell);
  res.queue_frames = cell.queue_frames ? cell.queue_frames
                                       : std::max<std::size_t>(kMinQueueFrames, static_cast<std::size_t>(bdp / 1514));
  const tcp::Config defaults;
  if (!cell.hand_set_buffers) {
    // The ceilings auto-tuning may reach: the sender's buffer holds what is in flight.
    res.buffer_bytes = std::min(defaults.sndbuf_max, std::min(defaults.rcvbuf_max, tcp::max_window(defaults.window_shift)));
  } else {
    res.buffer_bytes = cell.buffer_bytes ? cell.buffer_bytes
                                         : std::clamp<std::size_t>(static_cast<std::size_t>(2 * bdp) + (1u << 20),
                                                                   212992, kMaxBuffer);
  }
  if (cell.receiver_so_rcvbuf > 0)  // socket(7): doubled
    res.buffer_bytes = std::min<std::size_t>(res.buffer_bytes, 2 * static_cast<std::size_t>(cell.receiver_so_rcvbuf));
  res.mathis_bps = mathis_bps(kMss, cell.rtt, cell.loss);
  res.window_bps = std::min(static_cast<double>(cell.rate_bps),
                            res.buffer_bytes * 8.0 / base::to_seconds(cell.rtt));

  host::SimWorld world(cell.seed);
  auto& cfg = world.host_config();
  if (!cell.trace_csv.empty()) {
    auto trace = host::open_tcp_trace(cell.trace_csv);
    if (trace) cfg.tcp_trace = std::move(*trace);
  }
  cfg.tcp.congestion_control = cell.cc;
  if (cell.hand_set_buffers) {
    cfg.tcp.rcvbuf = cfg.tcp.sndbuf = res.buffer_bytes;
    // The offered window scale must cover the buffer (RFC 7323 2.3).
    std::uint8_t shift = 0;
    while (shift < 14 && (std::size_t{65535} << shift) < res.buffer_bytes) ++shift;
    cfg.tcp.window_shift = shift;
  }
  auto& ps = world.net().add_port("sender");
  auto& pr = world.net().add_port("receiver");
  const base::Duration one_way = cell.rtt / 2;
  // Data direction: the bottleneck with its bounded queue. ACK direction: the same
  // rate and delay, and room for every ACK.
  (void)world.net().connect(ps, pr, {one_way, cell.rate_bps, res.queue_frames}, {one_way, cell.rate_bps, 0});
  EgressLoss lossy(ps, cell.loss, cell.seed * 7919 + 1);
  auto& s = world.add_host("sender", lossy, {Ipv4Addr(198, 18, 0, 1), 24});
  auto& r = world.add_host("receiver", pr, {Ipv4Addr(198, 18, 0, 2), 24});
  auto l = *r.socket(AF_INET, SOCK_STREAM, 0);
  if (cell.receiver_so_rcvbuf > 0) (void)r.set_option(l, SOL_SOCKET, SO_RCVBUF, cell.receiver_so_rcvbuf);
  (void)r.bind(l, {Ipv4Addr::any(), 5001});
  (void)r.listen(l, 1);
  auto c = *s.socket(AF_INET, SOCK_STREAM, 0);
  (void)s.connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 5001});
  std::optional<stack::SocketId> a;
  if (!world.run_until([&] {
        if (!a) if (auto x = r.accept(l, nullptr)) a = *x;
        return a && (s.readiness(c) & POLLOUT);
      }, 10s))
    return res;
  std::vector<base::Byte> chunk(1 << 20, base::Byte{0x5a}), buf(1 << 20);
  const base::Instant start = world.now();
  const base::Instant warm = start + std::chrono::duration_cast<base::Duration>(cell.duration * kWarmupFraction);
  const base::Instant end = start + cell.duration;
  std::uint64_t at_warm = 0;
  bool warm_seen = false;
  world.run_until([&] {
    while (true) {
      auto n = s.send_to(c, chunk, nullptr, 0);
      if (!n) break;
    }
    while (true) {
      auto got = r.recv_from(*a, buf, 0);
      if (!got || got->copied == 0) break;
      res.delivered += got->copied;
    }
    if (!warm_seen && world.now() >= warm) {
      warm_seen = true;
      at_warm = res.delivered;
    }
    return world.now() >= end;
  }, cell.duration);
  const double measured = base::to_seconds(world.now() - std::max(warm, start));
  res.goodput_bps = measured > 0 ? (res.delivered - at_warm) * 8.0 / measured : 0;
  if (auto v = r.get_option(*a, SOL_SOCKET, SO_RCVBUF)) res.rcvbuf_end = static_cast<std::size_t>(*v);
  if (auto v = s.get_option(c, SOL_SOCKET, SO_SNDBUF)) res.sndbuf_end = static_cast<std::size_t>(*v);
  const tcp::Snapshot info = *s.tcp_info(c);
  res.retrans_segs = info.info.retransmits_total;
  res.timeouts = info.info.timeouts;
  res.fast_retrans = info.info.fast_retransmits;
  res.queue_drops = ps.out_channel()->stats().queue_drops;
  res.random_drops = lossy.dropped();
  res.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return res;
}

}  // namespace ustack::bench
