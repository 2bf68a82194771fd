// The stack's frame: interfaces, polling and deadlines, Ethernet and ARP (RFC 826,
// RFC 1122 2.3.2, RFC 5227 for the announcement at start).
#include "stack/stack.h"

#include <poll.h>

#include <algorithm>

#include "link/loopback.h"
#include "stack/interface.h"
#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

namespace ustack::stack {

using base::ByteSpan;
using base::Instant;
using base::Ipv4Addr;
using base::MacAddr;

namespace {
// The largest frame a device hands over: an Ethernet header and a whole IPv4
// datagram. With TAP offloads the kernel sends TCP super-frames that large (GRO
// and TSO, up to 64 KB), far beyond the MTU; ipv4_input() has no MTU check.
constexpr std::size_t kRxBufferSize = 65536 + 64;
}

Stack::Stack(StackConfig config)
    : config_(std::move(config)),
      tcp_config_(config_.tcp),
      memory_(config_.memory),
      rng_(config_.seed),
      reassembler_(config_.reassembly, &memory_),
      icmp_limiter_(config_.icmp_errors_per_sec, config_.icmp_error_burst),
      // Linux inet_peer_xrlim_allow(): a token each icmp_ratelimit, up to
      // XRLIM_BURST_FACTOR (6) of them.
      icmp_host_limiter_(config_.icmp_ratelimit_ms ? 1000.0 / config_.icmp_ratelimit_ms : 0.0, 6.0,
                         config_.ratelimit_slots, config_.seed ^ 0x69636d70686f7374ULL),
      tcp_rst_limiter_(config_.tcp_rst_per_sec, config_.tcp_rst_per_sec, config_.ratelimit_slots,
                       config_.seed ^ 0x7463707273746c6dULL),
      ports_(rng_),
      ip_id_(static_cast<std::uint16_t>(rng_.next_u32())),
      isn_(rng_),
      // Its own stream, so that the stack's other draws stay as they were.
      syncookies_(config_.seed ^ 0x73796e636f6f6b69ULL),
      rx_buffer_(kRxBufferSize) {
  loopback_device_ = std::make_unique<link::LoopbackDevice>();
  const InterfaceId lo = add_interface(*loopback_device_, {"lo", MacAddr(), {Ipv4Addr::loopback(), 8}, std::nullopt});
  loopback_ = interface_by_id(lo);
  loopback_->loopback = true;
  loopback_->announce_pending = false;
}

Stack::~Stack() = default;

InterfaceId Stack::add_interface(link::Device& device, const InterfaceConfig& config) {
  auto iface = std::make_unique<Interface>();
  iface->id = static_cast<InterfaceId>(interfaces_.size());
  iface->name = config.name;
  iface->device = &device;
  iface->mac = config.mac;
  iface->addr = config.addr;
  iface->mtu = config.mtu.value_or(device.mtu());
  iface->arp = ip::ArpCache(config_.arp);
  iface->announce_pending = iface->ethernet();
  routes_.add({config.addr, std::nullopt, iface->id, 0, ip::Route::Kind::connected});
  config_.logger.info("{}: up, {} mac {} mtu {}", iface->name, config.addr,
                      iface->mac, iface->mtu);
  interfaces_.push_back(std::move(iface));
  return interfaces_.back()->id;
}

Stack::Interface* Stack::interface_by_id(InterfaceId id) {
  return id < interfaces_.size() ? interfaces_[id].get() : nullptr;
}

Stack::Interface* Stack::interface_for_subnet(Ipv4Addr a) {
  for (auto& i : interfaces_)
    if (!i->loopback && i->addr.contains(a)) return i.get();
  return nullptr;
}

Status Stack::set_default_gateway(Ipv4Addr gateway) {
  Interface* iface = interface_for_subnet(gateway);
  if (!iface) return Errc::net_unreachable;
  routes_.set_default_gateway(gateway, iface->id);
  return {};
}

Status Stack::add_route(base::Ipv4Cidr dest, std::optional<Ipv4Addr> gateway) {
  Interface* iface = gateway ? interface_for_subnet(*gateway) : nullptr;
  if (gateway && !iface) return Errc::net_unreachable;
  if (!iface) {  // a device route needs exactly one non-loopback interface to be unambiguous
    for (auto& i : interfaces_)
      if (!i->loopback) { iface = i.get(); break; }
    if (!iface) return Errc::no_device;
  }
  routes_.add({dest, gateway, iface->id, 0, ip::Route::Kind::static_route});
  return {};
}

Status Stack::add_static_arp(Ipv4Addr ip, MacAddr mac) {
  Interface* iface = interface_for_subnet(ip);
  if (!iface) return Errc::net_unreachable;
  iface->arp.add_static(ip, mac);
  return {};
}

std::vector<InterfaceInfo> Stack::interfaces() const {
  std::vector<InterfaceInfo> out;
  for (const auto& i : interfaces_)
    out.push_back({i->id, i->name, i->mac, i->addr, i->mtu, i->loopback, i->device->stats(), i->device->offloads()});
  return out;
}

std::vector<ip::ArpEntryInfo> Stack::arp_entries() const {
  std::vector<ip::ArpEntryInfo> out;
  for (const auto& i : interfaces_) {
    auto e = i->arp.entries();
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

bool Stack::is_local_address(Ipv4Addr a) const {
  if (a.is_loopback()) return true;
  return std::any_of(interfaces_.begin(), interfaces_.end(),
                     [&](const auto& i) { return i->addr.addr == a; });
}

// --- Driving -------------------------------------------------------------------

void Stack::poll(Instant now) {
  set_time(now);
  for (auto& iface : interfaces_) {
    if (iface->announce_pending) {
      // RFC 5227 2.3: an ARP announcement is a request whose sender and target
      // IP address are both the host's address, and whose target MAC is zero.
      iface->announce_pending = false;
      send_arp(*iface, static_cast<std::uint16_t>(wire::ArpOp::request), MacAddr(),
               iface->addr.addr, MacAddr::broadcast());
    }
    link::Device& dev = *iface->device;
    const bool buffers = dev.receives_buffers();
    for (std::size_t n = 0; n < config_.rx_batch; ++n) {
      if (clock_) set_time(clock_());
      std::optional<base::PacketBuf> owned;  // the frame's own buffer: no copy into rx_buffer_
      ByteSpan frame;
      if (buffers) {
        owned = dev.receive_buf(now_, rx_buffer_.size());
        if (!owned) break;
        frame = owned->data();
      } else {
        auto len = dev.receive(now_, rx_buffer_);
        if (!len) break;
        frame = ByteSpan(rx_buffer_.data(), *len);
      }
      rx_csum_trusted_ = dev.rx_checksum_trusted();
      receive_frame(*iface, frame);
      rx_csum_trusted_ = false;
    }
  }
  if (clock_) set_time(clock_());
  for (auto& iface : interfaces_) {
    ip::ArpWork work;
    iface->arp.poll(now_, work);
    handle_arp_work(*iface, work);
  }
  tcp_poll_timers();
  std::vector<ip::ExpiredDatagram> expired;
  reassembler_.poll(now_, expired);
  for (auto& e : expired) {
    ++counters_.IpReasmFails;
    ++counters_.IpReasmTimeout;
    // RFC 1122 3.3.2: "If the fragment zero is not available, then no time-
    // exceeded need be sent at all."
    if (!e.had_first_fragment) continue;
    // The prefix is the header and 8 bytes, shorter than its total length says, so
    // it is no Ipv4View: the error is built from the bytes.
    send_icmp_error(e.first_fragment_prefix.data(), wire::icmp_type::time_exceeded,
                    wire::icmp_time_exceeded::reassembly, false);
  }
  wake_memory_waiters();
  flush_tx();
}

void Stack::flush_tx() {
  for (auto& iface : interfaces_) iface->device->flush_tx();
}

void Stack::wake_memory_waiters() {
  counters_.TcpExtTCPMemoryPressures = memory_.pressure_entries();
  if (mem_waiters_.empty() || memory_.room(/*below_pressure=*/true) == 0) return;
  // Memory came back (data acknowledged or read): senders held back may write
  // again (Linux sk_stream_write_space). Their readiness says whether they can;
  // one that memory still keeps from being writable stays on the list.
  std::erase_if(mem_waiters_, [&](SocketId id) {
    SocketEntry* e = entry(id);
    auto* t = e ? std::get_if<TcpSocket>(&e->proto) : nullptr;
    if (!t || !t->conn) return true;
    if (!(tcp_readiness(*e, *t) & POLLOUT) && t->conn->send_space() < t->conn->send_space_unlimited()) return false;
    notify(*e, id);
    return true;
  });
}

std::vector<int> Stack::pollable_fds() const {
  std::vector<int> fds;
  for (const auto& iface : interfaces_)
    if (int fd = iface->device->pollable_fd(); fd >= 0) fds.push_back(fd);
  return fds;
}

void Stack::flush_devices() {
  for (auto& iface : interfaces_) iface->device->flush();
  if (config_.tcp_trace) config_.tcp_trace->flush();
}

std::optional<Instant> Stack::next_deadline() const {
  std::optional<Instant> next;
  auto consider = [&](std::optional<Instant> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  for (const auto& iface : interfaces_) {
    if (iface->announce_pending) consider(now_);
    consider(iface->arp.next_deadline());
    consider(iface->device->next_deadline());
  }
  consider(reassembler_.next_deadline());
  consider(tcp_next_deadline());
  return next;
}

// --- Link layer ------------------------------------------------------------------

void Stack::transmit(Interface& iface, ByteSpan frame) {
  if (!iface.device->transmit(now_, frame)) ++counters_.DropDeviceTx;
}

void Stack::transmit(Interface& iface, base::PacketBuf&& frame) {
  if (!iface.device->transmit_buf(now_, std::move(frame))) ++counters_.DropDeviceTx;
}

void Stack::receive_frame(Interface& iface, ByteSpan frame) {
  if (!iface.ethernet()) {
    // A TUN carries bare datagrams of any version; the kernel sends IPv6 there too.
    if (!frame.empty() && (frame[0] >> 4) == 6) {
      ++counters_.DropNotIpv4;
      return;
    }
    ipv4_input(iface, frame, false);
    return;
  }
  auto eth = wire::EthernetView::parse(frame);
  if (!eth) {
    ++counters_.DropEthTruncated;
    return;
  }
  const MacAddr dst = eth->dst();
  const bool link_broadcast = dst.is_broadcast() || dst.is_multicast();
  if (dst != iface.mac && !link_broadcast) {
    ++counters_.DropEthNotForUs;
    return;
  }
  switch (eth->ethertype()) {
    case static_cast<std::uint16_t>(wire::EtherType::ipv4):
      ipv4_input(iface, eth->payload(), link_broadcast);
      break;
    case static_cast<std::uint16_t>(wire::EtherType::arp):
      arp_input(iface, eth->payload());
      break;
    case static_cast<std::uint16_t>(wire::EtherType::ipv6):
      ++counters_.DropNotIpv4;  // until ustack speaks IPv6
      break;
    default:
      ++counters_.DropEthUnknownType;
  }
}

void Stack::arp_input(Interface& iface, ByteSpan payload) {
  auto arp = wire::ArpRepr::parse(payload);
  if (!arp) {
    if (arp.error() == wire::ParseError::unsupported) ++counters_.DropArpUnsupported;
    else ++counters_.DropArpMalformed;
    return;
  }
  if (arp->op == wire::ArpOp::request) ++counters_.ArpInRequests;
  else ++counters_.ArpInReplies;
  // A sender claiming our address, a broadcast or multicast MAC, or an address
  // that cannot be a host's is never learned.
  const Ipv4Addr sender = arp->sender_ip;
  if (arp->sender_mac.is_multicast() || arp->sender_mac.is_zero() || sender == iface.addr.addr ||
      sender.is_broadcast() || sender.is_multicast() || is_broadcast_for(iface, sender)) {
    ++counters_.DropArpBogusSender;
    return;
  }
  const bool for_us = arp->target_ip == iface.addr.addr;
  ip::ArpWork work;
  // RFC 826: "If the pair <protocol type, sender protocol address> is already in
  // my translation table, update the sender hardware address field of the entry
  // with the new information ... Am I the target protocol address? If Merge_flag
  // is false, add the triplet <protocol type, sender protocol address, sender
  // hardware address> to the translation table." A probe (sender 0.0.0.0,
  // RFC 5227 2.1.1) teaches nothing.
  if (!sender.is_unspecified()) {
    const bool is_reply = arp->op == wire::ArpOp::reply;
    switch (iface.arp.update(sender, arp->sender_mac, now_, for_us, work, is_reply)) {
      case ip::ArpUpdate::refused_unsolicited:
        ++counters_.DropArpUnsolicited;
        config_.logger.debug("{}: ARP reply from {} ({}) we never asked for: not learned", iface.name, sender,
                             arp->sender_mac);
        break;
      case ip::ArpUpdate::refused_change:
        ++counters_.DropArpMacChange;
        config_.logger.info("{}: ARP says {} is at {}: refused, its entry is reachable at another MAC",
                            iface.name, sender, arp->sender_mac);
        break;
      default:
        break;
    }
  }
  handle_arp_work(iface, work);
  if (!for_us) {
    ++counters_.DropArpNotForUs;
    return;
  }
  // RFC 826: "Is the opcode ares_op$REQUEST? If so, swap fields, putting the local
  // hardware and protocol addresses in the sender fields. ... Send the packet to
  // the (new) target hardware address on the same hardware on which the request
  // was received."
  if (arp->op == wire::ArpOp::request) {
    send_arp(iface, static_cast<std::uint16_t>(wire::ArpOp::reply), arp->sender_mac, sender,
             arp->sender_mac);
    config_.logger.debug("{}: ARP reply to {} ({})", iface.name, sender,
                         arp->sender_mac);
  }
}

void Stack::send_arp(Interface& iface, std::uint16_t op, MacAddr target_mac, Ipv4Addr target_ip,
                     MacAddr eth_dst) {
  std::array<base::Byte, wire::EthernetView::kHeaderLen + wire::ArpView::kLen> frame{};
  wire::EthernetRepr{eth_dst, iface.mac, static_cast<std::uint16_t>(wire::EtherType::arp)}.emit(frame);
  wire::ArpRepr arp{static_cast<wire::ArpOp>(op), iface.mac, iface.addr.addr, target_mac, target_ip};
  arp.emit(base::MutByteSpan(frame).subspan(wire::EthernetView::kHeaderLen));
  if (op == static_cast<std::uint16_t>(wire::ArpOp::request)) ++counters_.ArpOutRequests;
  else ++counters_.ArpOutReplies;
  transmit(iface, frame);
}

void Stack::handle_arp_work(Interface& iface, ip::ArpWork& work) {
  for (Ipv4Addr ip : work.send_requests) {
    config_.logger.debug("{}: ARP who-has {}", iface.name, ip);
    send_arp(iface, static_cast<std::uint16_t>(wire::ArpOp::request), MacAddr(), ip, MacAddr::broadcast());
  }
  for (auto& [mac, packet] : work.ready) {
    auto hdr = packet.push_front(wire::EthernetView::kHeaderLen);
    wire::EthernetRepr{mac, iface.mac, static_cast<std::uint16_t>(wire::EtherType::ipv4)}.emit(hdr);
    transmit(iface, packet.data());
  }
  // Dropped for room while resolving: counted, not reported (the host may answer yet).
  counters_.DropArpQueueOverflow += work.dropped.size();
  for (auto& packet : work.failed) {
    ++counters_.DropArpUnresolved;
    // RFC 1122 2.3.2.1 leaves the report to the host; Linux tells the sending
    // socket "host unreachable", and so do we. Not while a connection's segments
    // are being sent: the report could free it under its sender (Stack::tcp_after).
    if (tcp_sending_depth_ > 0) {
      deferred_unreachable_.push_back(std::move(packet));
      continue;
    }
    report_to_sender(packet.data(), EHOSTUNREACH);
  }
  if (!work.ready.empty())
    config_.logger.debug("{}: ARP resolved, {} queued packet(s) sent", iface.name, work.ready.size());
}

void Stack::link_output(Interface& iface, Ipv4Addr next_hop, bool broadcast, base::PacketBuf packet) {
  if (!iface.ethernet()) {
    transmit(iface, packet.data());
    return;
  }
  std::optional<MacAddr> mac;
  if (broadcast) {
    mac = MacAddr::broadcast();
  } else if (next_hop.is_multicast()) {
    // RFC 1112 6.4: 01-00-5E followed by the low-order 23 bits of the group.
    const auto o = next_hop.octets();
    mac = MacAddr({0x01, 0x00, 0x5e, static_cast<std::uint8_t>(o[1] & 0x7f), o[2], o[3]});
  } else {
    mac = iface.arp.lookup(next_hop, now_);
  }
  if (!mac) {
    ip::ArpWork work;
    iface.arp.enqueue(next_hop, std::move(packet), now_, work);
    handle_arp_work(iface, work);
    return;
  }
  auto hdr = packet.push_front(wire::EthernetView::kHeaderLen);
  wire::EthernetRepr{*mac, iface.mac, static_cast<std::uint16_t>(wire::EtherType::ipv4)}.emit(hdr);
  transmit(iface, std::move(packet));
}

}  // namespace ustack::stack
