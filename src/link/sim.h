// An in-memory simulated Ethernet for tests: ports joined by point-to-point links
// or by learning switches, with delay, rate and queue limits, on virtual time.
// Everything is deterministic: the same calls in the same order give the same frames.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/addr.h"
#include "base/packet.h"
#include "base/ring_deque.h"
#include "base/result.h"
#include "link/device.h"

namespace ustack::link {

class SimNetwork;
class SimSwitch;

/// One direction of a link. Serialization time is ceil(bytes * 8 / rate_bps)
/// seconds (frame bytes only, no preamble or gap); frames queue behind each other.
struct LinkParams {
  base::Duration delay{0};         // one-way propagation delay
  std::uint64_t rate_bps = 0;      // 0 = unlimited (no serialization delay)
  std::size_t queue_limit = 1000;  // frames waiting or in serialization; 0 = unlimited
  /// Active queue management with ECN (RFC 3168 5, as a router running RED in
  /// step form, or DCTCP's K): a frame arriving while this many frames or more
  /// are queued is marked CE when it is an ECN-capable (ECT) IPv4 packet and
  /// dropped otherwise ("instead of dropping"). 0: off, tail drop only.
  std::size_t ecn_mark_threshold = 0;
  /// The link carries TCP checksums left partial, as a veth pair carries
  /// CHECKSUM_PARTIAL: the sending port declares checksum offload
  /// (Device::tx_checksum_offload) and the receiving port vouches for what it
  /// received (Device::rx_checksum_trusted), so neither end sums payloads. Only
  /// on point-to-point links; frames crossing a switch are always summed. Off by
  /// default: tests see real checksums. For benchmarks that measure without
  /// them, as smoltcp's loopback benchmark does.
  bool checksum_offload = false;
};

struct ChannelStats {
  std::uint64_t frames = 0, bytes = 0;  // accepted into the channel
  std::uint64_t queue_drops = 0;        // tail drops at the queue limit, and Not-ECT drops at the marking threshold
  std::uint64_t ce_marks = 0;           // ECT packets marked CE at the marking threshold
};

/// One direction of a link: a transmit queue, a serializer and a propagation delay.
class SimChannel {
 public:
  explicit SimChannel(LinkParams p) : params_(p) {}
  /// Accepts an Ethernet frame offered at `now`; returns when it arrives at the
  /// far end, or nullopt when the queue is full (counted). Above the ECN marking
  /// threshold an ECT IPv4 packet's ECN field becomes CE, in `frame`.
  std::optional<base::Instant> offer(base::Instant now, base::MutByteSpan frame);
  base::Duration serialization_time(std::size_t bytes) const;
  const LinkParams& params() const { return params_; }
  const ChannelStats& stats() const { return stats_; }

 private:
  LinkParams params_;
  base::Instant busy_until_{};
  base::RingDeque<base::Instant> finish_times_;  // frames not yet fully serialized
  ChannelStats stats_;
};

/// A simulated Ethernet port: a Device owned by a SimNetwork. Frames it receives
/// become readable at their due time, in due order.
class SimPort : public Device {
 public:
  SimPort(SimNetwork& net, std::string name, std::size_t mtu)
      : net_(&net), name_(std::move(name)), mtu_(mtu) {}
  SimPort(const SimPort&) = delete;
  SimPort& operator=(const SimPort&) = delete;

  Medium medium() const override { return Medium::ethernet; }
  std::size_t mtu() const override { return mtu_; }
  std::string name() const override { return name_; }
  /// The next frame due at or before `now`, earliest first (ties in sending order).
  std::optional<std::size_t> receive(base::Instant now, base::MutByteSpan buf) override;
  /// Sends into the attached link; false (tx_dropped) when unattached, when the frame
  /// exceeds mtu + 14 bytes or is shorter than an Ethernet header, or on a queue drop.
  bool transmit(base::Instant now, base::ByteSpan frame) override;
  /// As transmit(), keeping the buffer: the frame crosses the link uncopied.
  bool transmit_buf(base::Instant now, base::PacketBuf&& frame) override;
  bool receives_buffers() const override { return true; }
  /// As receive(), handing the buffer over.
  std::optional<base::PacketBuf> receive_buf(base::Instant now, std::size_t max_len) override;
  /// The earliest due frame for this port, or the earliest frame still inside a switch.
  std::optional<base::Instant> next_deadline() const override;
  const DeviceStats& stats() const override { return stats_; }
  /// LinkParams::checksum_offload of the channel this port sends into (point-to-point only).
  bool tx_checksum_offload() const override;
  /// LinkParams::checksum_offload of the channel this port receives from: every
  /// frame on a point-to-point link comes through it.
  bool rx_checksum_trusted() const override;

  bool attached() const { return out_ != nullptr; }
  /// Frames waiting for this port (due or not).
  std::size_t pending() const { return inbox_.size(); }
  /// The channel this port transmits into (nullptr when unattached).
  const SimChannel* out_channel() const { return out_; }

 private:
  friend class SimNetwork;
  friend class SimSwitch;
  struct Arrival {
    base::Instant due;
    std::uint64_t seq;
    base::PacketBuf bytes;  // recycled storage: no allocation per frame
    bool operator>(const Arrival& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };
  void deliver(base::Instant due, base::PacketBuf bytes);

  SimNetwork* net_;
  std::string name_;
  std::size_t mtu_;
  SimChannel* out_ = nullptr;  // owned by the network
  // Where frames sent by this port go: a peer port or a switch ingress.
  SimPort* peer_ = nullptr;
  SimSwitch* switch_ = nullptr;
  std::size_t switch_port_ = 0;
  std::vector<Arrival> inbox_;  // a min-heap on (due, seq)
  DeviceStats stats_;
};

struct SwitchStats {
  std::uint64_t received = 0, forwarded = 0, flooded = 0;
  std::uint64_t filtered = 0;  // destination learned on the ingress port itself
  std::uint64_t malformed = 0;
};

/// A learning Ethernet switch (IEEE 802.1D forwarding, no aging, no spanning tree):
/// learns source MACs per port; floods broadcast, multicast and unknown unicast to
/// every port but the ingress; never sends a frame back out of its ingress port.
class SimSwitch {
 public:
  SimSwitch(SimNetwork& net, std::string name) : net_(&net), name_(std::move(name)) {}
  SimSwitch(const SimSwitch&) = delete;
  SimSwitch& operator=(const SimSwitch&) = delete;

  const std::string& name() const { return name_; }
  std::size_t port_count() const { return egress_.size(); }
  /// The switch port index on which `mac` was learned.
  std::optional<std::size_t> lookup(const base::MacAddr& mac) const;
  const SwitchStats& stats() const { return stats_; }

 private:
  friend class SimNetwork;
  struct Egress {
    SimPort* port;
    SimChannel* channel;  // switch -> port, owned by the network
  };
  void forward(base::Instant at, std::size_t ingress, base::PacketBuf frame);

  SimNetwork* net_;
  std::string name_;
  std::vector<Egress> egress_;
  std::map<base::MacAddr, std::size_t> table_;
  SwitchStats stats_;
};

/// Owns ports, switches and channels. Ports and switches live as long as the network
/// (references stay valid). Time should be stepped monotonically across all ports;
/// frames crossing a switch are processed lazily, in (time, sending order), whenever
/// any port's receive(), transmit() or the network's advance() reaches their time.
class SimNetwork {
 public:
  SimNetwork() = default;
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;
  ~SimNetwork();

  SimPort& add_port(std::string name, std::size_t mtu = 1500);
  SimSwitch& add_switch(std::string name);
  /// A point-to-point link; `ab` governs a -> b, `ba` governs b -> a.
  /// Fails (Errc::is_connected) when either port is already attached, or invalid if a == b.
  base::Status connect(SimPort& a, SimPort& b, LinkParams ab, LinkParams ba);
  base::Status connect(SimPort& a, SimPort& b, LinkParams both = {}) { return connect(a, b, both, both); }
  /// Attaches a port to a new switch port; `params` governs both directions.
  base::Status attach(SimSwitch& sw, SimPort& port, LinkParams params = {});

  /// Processes frames that reach switches at or before `now`.
  void advance(base::Instant now);
  /// The earliest time at which anything is pending anywhere (any port, any switch).
  std::optional<base::Instant> next_deadline() const;
  /// The earliest time a frame reaches a switch, if any is in flight towards one.
  std::optional<base::Instant> next_switch_event() const;

 private:
  friend class SimPort;
  friend class SimSwitch;
  struct SwitchEvent {
    base::Instant at;
    std::uint64_t seq;
    SimSwitch* sw;
    std::size_t ingress;
    base::PacketBuf bytes;
    bool operator>(const SwitchEvent& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  SimChannel* make_channel(LinkParams p);
  std::uint64_t next_seq() { return seq_++; }

  std::vector<std::unique_ptr<SimPort>> ports_;
  std::vector<std::unique_ptr<SimSwitch>> switches_;
  std::vector<std::unique_ptr<SimChannel>> channels_;
  std::vector<SwitchEvent> switch_events_;  // a min-heap on (at, seq)
  std::uint64_t seq_ = 0;
};

}  // namespace ustack::link
