// TCP in the stack: demultiplexing by the socket pair, listeners with SYN and
// accept queues, the closed-port reset (RFC 9293 3.10.7.1), orphans, timers and
// the stream-socket calls with Linux's errno.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <utility>

#include "stack/interface.h"
#include "stack/stack.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

namespace ustack::stack {

namespace flag = wire::tcp_flag;
using base::Ipv4Addr;

namespace {
constexpr int kSomaxconn = 4096;  // Linux net.core.somaxconn

/// The MSS we announce for an interface: the MTU less the IPv4 and TCP headers,
/// and never more than an IPv4 datagram can hold (65535 bytes: 65495 on a 64 KiB
/// loopback, as Linux's lo). Options come off per segment (Connection::effective_mss).
std::uint16_t mss_for(std::size_t mtu) {
  return static_cast<std::uint16_t>(std::min<std::size_t>(mtu, 65535) - 40);
}
}  // namespace

std::size_t Stack::TupleHash::operator()(const TupleKey& k) const {
  std::uint64_t h = (std::uint64_t{k.local_addr} << 32 | k.remote_addr) * 0x9e3779b97f4a7c15ULL;
  h ^= (std::uint64_t{k.local_port} << 16 | k.remote_port) + 0x632be59bd9b4e019ULL + (h << 6) + (h >> 2);
  return static_cast<std::size_t>(h ^ (h >> 29));
}

Stack::TupleKey Stack::key_of(const tcp::Connection& c) {
  return {c.local().addr.v4().value(), c.remote().addr.v4().value(), c.local().port, c.remote().port};
}

void Stack::tcp_demux_insert(tcp::Connection& c) {
  tcp_demux_[key_of(c)] = &c;
  ++tcp_port_users_[c.local().port];
}

void Stack::tcp_unfile(tcp::Connection& c) {
  if (!c.filed_deadline) return;
  auto node = tcp_timers_.extract({*c.filed_deadline, &c});
  c.filed_deadline.reset();
  if (!node.empty() && spare_timer_nodes_.size() < kSpareTimerNodes) spare_timer_nodes_.push_back(std::move(node));
}

void Stack::tcp_refile(tcp::Connection& c) {
  const auto next = c.next_deadline();
  if (next == c.filed_deadline) return;
  tcp_unfile(c);
  if (!next) return;
  c.filed_deadline = next;
  if (spare_timer_nodes_.empty()) {
    tcp_timers_.insert({*next, &c});
    return;
  }
  auto node = std::move(spare_timer_nodes_.back());
  spare_timer_nodes_.pop_back();
  node.value() = {*next, &c};
  tcp_timers_.insert(std::move(node));
}

void Stack::tcp_demux_erase(const tcp::Connection& c) {
  tcp_unfile(const_cast<tcp::Connection&>(c));
  auto it = tcp_demux_.find(key_of(c));
  if (it == tcp_demux_.end() || it->second != &c) return;
  tcp_demux_.erase(it);
  auto pu = tcp_port_users_.find(c.local().port);
  if (pu != tcp_port_users_.end() && --pu->second == 0) tcp_port_users_.erase(pu);
}

bool Stack::tcp_accept_queue_full(const tcp::Connection& c) const {
  const SocketEntry* e = entry(c.owner);
  const auto* t = e ? std::get_if<TcpSocket>(&e->proto) : nullptr;
  if (!t || t->listener < 0) return false;
  const SocketEntry* le = entry(t->listener);
  const auto* l = le ? std::get_if<TcpSocket>(&le->proto) : nullptr;
  // sk_acceptq_is_full(): more waiting than the backlog.
  return l && static_cast<int>(l->accept_queue.size()) > l->backlog;
}

Stack::TcpSocket* Stack::tcp_listener_for(Ipv4Addr local, std::uint16_t port) {
  auto it = tcp_listeners_.find(port);
  if (it == tcp_listeners_.end()) return nullptr;
  TcpSocket* wildcard = nullptr;
  for (SocketId id : it->second) {
    auto& t = std::get<TcpSocket>(entry(id)->proto);
    if (t.local.addr.v4() == local) return &t;  // a specific address wins over the wildcard
    if (t.local.addr.is_unspecified()) wildcard = &t;
  }
  return wildcard;
}

bool Stack::tcp_port_conflict(const TcpSocket& s, base::IpAddr addr, std::uint16_t port) const {
  // Linux inet_csk_bind_conflict(): a clash with any socket bound to the port at an
  // overlapping address, unless both set SO_REUSEADDR and the other is not listening.
  if (auto it = tcp_bound_.find(port); it != tcp_bound_.end()) {
    for (SocketId id : it->second) {
      const SocketEntry* e = entry(id);
      if (!e) continue;
      const auto& o = std::get<TcpSocket>(e->proto);
      if (&o == &s) continue;
      const bool overlap = o.local.addr.is_unspecified() || addr.is_unspecified() || o.local.addr == addr;
      if (overlap && !(s.reuse_addr && o.reuse_addr && !o.listening)) return true;
    }
  }
  // Connections whose socket is gone (orphans, TIME-WAIT) still hold the port,
  // unless SO_REUSEADDR (Linux lets it override TIME-WAIT).
  if (!s.reuse_addr && tcp_port_users_.contains(port)) {
    for (const auto& o : tcp_orphans_)
      if (o->local().port == port && (addr.is_unspecified() || o->local().addr == addr)) return true;
  }
  return false;
}

// --- Input -------------------------------------------------------------------------

void Stack::tcp_reset_closed(const wire::Ipv4View& ip, const wire::TcpRepr& seg, std::size_t payload_len) {
  // RFC 9293 3.10.7.1: "An incoming segment containing a RST is discarded. An
  // incoming segment not containing a RST causes a RST to be sent in response."
  if (seg.flags & flag::rst) return;
  wire::TcpRepr rst;
  rst.src_port = seg.dst_port;
  rst.dst_port = seg.src_port;
  if (seg.flags & flag::ack) {
    // "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>"
    rst.seq = seg.ack;
    rst.flags = flag::rst;
  } else {
    // "If the ACK bit is off, sequence number zero is used,
    //  <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"
    const std::uint32_t seg_len = static_cast<std::uint32_t>(payload_len) + ((seg.flags & flag::syn) ? 1u : 0u) +
                                  ((seg.flags & flag::fin) ? 1u : 0u);
    rst.seq = 0;
    rst.ack = seg.seq + seg_len;
    rst.flags = flag::rst | flag::ack;
  }
  auto r = route(ip.src(), ip.dst());
  if (!r) return;
  // Per destination, resets for segments of no connection are rate-limited
  // (docs/hardening.md; in the manner of FreeBSD's icmplim, which counts them with
  // ICMP unreachables): a spoofed flood cannot make us reflect one reset each.
  if (!r->iface->loopback && !tcp_rst_limiter_.allow(ip.src(), now_)) {
    ++counters_.DropTcpRstRateLimit;
    return;
  }
  base::PacketBuf buf(rst.header_len());
  rst.emit(buf.data(), r->src, ip.src());
  wire::Ipv4Repr hdr{r->src, ip.src(), wire::ip_proto::tcp, config_.default_ttl};
  hdr.dont_fragment = true;
  if (ip_output(hdr, std::move(buf), *r)) {
    ++counters_.TcpOutRsts;
    ++counters_.TcpOutSegs;
  }
}

void Stack::tcp_input(const wire::Ipv4View& ip, bool broadcast) {
  ++counters_.TcpInSegs;
  // A TAP with offloads vouches for the checksum (the kernel left it partial, or
  // verified it): not verified again. The segment may then be a GRO/TSO
  // super-frame, one segment of up to 64 KB.
  const bool verify = !std::exchange(rx_csum_trusted_, false);
  auto view = wire::TcpView::parse(ip.payload());
  auto seg = wire::TcpRepr::parse(ip.payload(), ip.src(), ip.dst(), verify);
  if (!view || !seg) {
    ++counters_.DropTcpMalformed;
    ++counters_.TcpInErrs;
    return;
  }
  // RFC 9293 3.9.1 / RFC 1122 4.2.3.10: segments to a broadcast or multicast
  // address are not for TCP.
  if (broadcast || ip.dst().is_multicast()) return;
  const base::ByteSpan payload = view->payload();
  const TupleKey key{ip.dst().value(), ip.src().value(), seg->dst_port, seg->src_port};
  if (auto it = tcp_demux_.find(key); it != tcp_demux_.end()) {
    tcp::Connection& c = *it->second;
    // RFC 6191: a SYN for a connection in TIME-WAIT may open a new incarnation when
    // its timestamp (or, without timestamps, its sequence number) is newer.
    const bool new_syn = (seg->flags & flag::syn) && !(seg->flags & (flag::ack | flag::rst));
    if (!(c.state() == tcp::State::time_wait && new_syn && c.syn_may_reuse(*seg) &&
          tcp_listener_for(ip.dst(), seg->dst_port))) {
      // Linux (tcp_check_req -> syn_recv_sock): the ACK that would complete an
      // embryo is dropped while the listener's accept queue is full; the embryo
      // stays in SYN-RECEIVED and its SYN-ACK retransmission lets the peer try again.
      if (c.state() == tcp::State::syn_received && (seg->flags & flag::ack) &&
          !(seg->flags & (flag::rst | flag::syn)) && tcp_accept_queue_full(c)) {
        ++counters_.TcpExtListenOverflows;
        ++counters_.TcpExtListenDrops;
        return;
      }
      c.on_segment(*seg, payload, now_, ip.ecn());
      tcp_after(c);
      return;
    }
    ++counters_.TcpTimeWaitReused;
    c.abort(now_);
    tcp_after(c);
  }
  TcpSocket* l = tcp_listener_for(ip.dst(), seg->dst_port);
  if (!l) {
    tcp_reset_closed(ip, *seg, payload.size());
    return;
  }
  // RFC 9293 3.10.7.2, LISTEN: "first, check for a RST ... An incoming RST should
  // be ignored. second, check for an ACK ... Any acknowledgment is bad if it
  // arrives on a connection still in the LISTEN state. An acceptable reset
  // segment should be formed for any arriving ACK-bearing segment."
  if (seg->flags & flag::rst) return;
  if (seg->flags & flag::ack) {
    // Linux tcp_v4_cookie_check(): an ACK may complete a handshake begun with a SYN
    // cookie (tcp_listen.cc); any other gets the reset.
    if (tcp_cookie_ack(*l, ip, *seg, payload)) return;
    tcp_reset_closed(ip, *seg, payload.size());
    return;
  }
  if (!(seg->flags & flag::syn)) return;  // "fourth, other control or text ... drop"
  tcp_listen_syn(*l, ip, *seg);
}

void Stack::tcp_icmp_error(Ipv4Addr local, std::uint16_t lport, Ipv4Addr remote, std::uint16_t rport,
                           std::uint32_t seq, int err) {
  auto it = tcp_demux_.find({local.value(), remote.value(), lport, rport});
  if (it == tcp_demux_.end()) return;
  tcp::Connection& c = *it->second;
  c.on_icmp_error(err, tcp::Seq(seq), now_);
  tcp_after(c);
}

void Stack::tcp_path_mtu(base::ByteSpan quoted, std::uint32_t next_hop_mtu) {
  if (quoted.size() < wire::Ipv4View::kMinHeaderLen || (quoted[0] >> 4) != 4) return;
  const std::size_t ihl = std::size_t{quoted[0] & 0x0fu} * 4;
  if (ihl < wire::Ipv4View::kMinHeaderLen || quoted.size() < ihl + 8 || quoted[9] != wire::ip_proto::tcp) return;
  const TupleKey key{base::load_be32(quoted, 12), base::load_be32(quoted, 16), base::load_be16(quoted, ihl),
                     base::load_be16(quoted, ihl + 2)};
  auto it = tcp_demux_.find(key);
  if (it == tcp_demux_.end()) return;
  it->second->on_path_mtu(next_hop_mtu, tcp::Seq(base::load_be32(quoted, ihl + 4)), now_);
  tcp_after(*it->second);
}

void Stack::tcp_after(tcp::Connection& c) {
  tcp_after_inner(c);
  // `c` may be gone now. Reports held back while segments were being sent go out
  // once no tcp_after() is sending (each may run tcp_after() for its connection).
  if (tcp_sending_depth_ == 0 && !deferred_unreachable_.empty()) {
    std::vector<base::PacketBuf> reports;
    reports.swap(deferred_unreachable_);
    for (auto& packet : reports) report_to_sender(packet.data(), EHOSTUNREACH);
  }
}

void Stack::tcp_after_inner(tcp::Connection& c) {
  // Taken out first: sending can come back here (a packet ARP gives up on is
  // reported to its connection: handle_arp_work() defers that while we send).
  std::vector<tcp::OutSegment> outbox;
  outbox.swap(c.outbox());
  if (!outbox.empty()) {
    ++tcp_sending_depth_;
    // One route and one header template for the whole batch: every segment goes
    // to the same peer.
    auto r = route(c.remote().addr.v4(), c.local().addr.v4());
    const int ttl = c.config().ip_ttl;
    wire::Ipv4Repr hdr{r ? r->src : Ipv4Addr(), c.remote().addr.v4(), wire::ip_proto::tcp,
                       static_cast<std::uint8_t>(ttl == -1 ? config_.default_ttl : ttl),
                       static_cast<std::uint8_t>(c.config().ip_tos), 0,
                       true /* DF: Linux's TCP does path MTU discovery */};
    // The ECN field is TCP's, segment by segment (RFC 3168 6.1); IP_TOS sets the
    // other six bits (Linux keeps the ECN bits out of the user's TOS too).
    const std::uint8_t tos = static_cast<std::uint8_t>(c.config().ip_tos & ~wire::ip_ecn::mask);
    // The connection leaves checksums partial: finished here unless the device
    // does it (a TAP with offloads; Linux's skb_checksum_help in reverse).
    const bool device_finishes = r && r->iface->device->tx_checksum_offload();
    for (auto& [seg, ecn] : outbox) {
      hdr.tos = static_cast<std::uint8_t>(tos | (ecn & wire::ip_ecn::mask));
      if (!r) {
        ++counters_.IpOutNoRoutes;
        continue;
      }
      // The flags byte of the TCP header: count the resets we send.
      if (seg.size() > 13 && (seg.data()[13] & flag::rst)) ++counters_.TcpOutRsts;
      ++counters_.TcpOutSegs;
      if (!device_finishes) wire::finish_partial_checksum(seg.data(), 16);
      (void)ip_output(hdr, std::move(seg), *r);
    }
    --tcp_sending_depth_;
  }
  // The buffer goes back to a busy connection (one holding data), to be reused
  // without allocating; an idle one keeps no capacity (48 bytes or more each,
  // at 100,000 connections 5 MB): its vector becomes the stack's spare if larger
  // than the spare, which the next connection to emit with an empty outbox
  // borrows (Connection::set_outbox_spare). `outbox` was taken out of `c` above,
  // so even when sends nested in the loop borrowed and returned the spare, it is
  // no other connection's.
  outbox.clear();
  if (c.outbox().empty() && c.buffer_memory() > 0) {
    c.outbox().swap(outbox);
  } else if (outbox.capacity() > spare_outbox_.capacity()) {
    spare_outbox_.swap(outbox);
  }
  counters_.TcpRetransSegs += c.take_retransmits();
  const tcp::MemDrops m = c.take_mem_drops();
  if (m.rcvq_drop > 0) tcp_reclaim_ooo(&c);
  counters_.TcpExtTCPRcvQDrop += m.rcvq_drop;
  counters_.TcpExtTCPOFODrop += m.ofo_drop;
  counters_.TcpExtOfoRangeDrops += m.ofo_ranges;
  counters_.TcpExtTCPOFOQueue += m.ofo_queue;
  counters_.TcpExtPruneCalled += m.prune_called;
  counters_.TcpExtOfoPruned += m.ofo_pruned;
  counters_.TcpExtOfoPrunedBytes += m.ofo_pruned_bytes;
  counters_.TcpExtRcvPruned += m.rcv_pruned;
  counters_.TcpExtTCPMemoryPressures = memory_.pressure_entries();
  if (config_.tcp_trace) config_.tcp_trace->sample(c, now_);
  if (c.state() != tcp::State::closed) tcp_refile(c);
  const tcp::Events ev = c.take_events();
  if (ev.error) {
    const int err = c.peek_error();
    if (err == ECONNREFUSED || err == ETIMEDOUT) ++counters_.TcpAttemptFails;
    if (err == ECONNRESET) ++counters_.TcpEstabResets;
  }
  const SocketId owner = c.owner;
  SocketEntry* e = owner >= 0 ? entry(owner) : nullptr;
  TcpSocket* t = e ? std::get_if<TcpSocket>(&e->proto) : nullptr;
  if (t && t->conn.get() != &c) t = nullptr;  // a stale owner id
  if (t && ev.error) t->pending_error = c.take_error();
  if (t && t->listener >= 0) {
    // An embryo of a listener.
    SocketEntry* le = entry(t->listener);
    auto* l = le ? std::get_if<TcpSocket>(&le->proto) : nullptr;
    if (ev.established && l) {
      --l->syn_queue;
      l->accept_queue.push_back(owner);
      notify(*le, t->listener);
    }
    if (ev.closed) {
      // Reset or timed out before accept(): it vanishes from the queues.
      if (l) {
        if (std::find(l->accept_queue.begin(), l->accept_queue.end(), owner) != l->accept_queue.end())
          l->accept_queue.erase_value(owner);
        else if (l->syn_queue > 0)
          --l->syn_queue;
      }
      tcp_demux_erase(c);
      t->conn.reset();
      (void)destroy(owner);
    }
    return;
  }
  if (ev.closed) tcp_demux_erase(c);
  if (t) {
    if (ev.established || ev.readable || ev.writable || ev.error || ev.closed) notify(*e, owner);
    return;
  }
  if (ev.closed && owner < 0) {
    // An orphan has finished.
    std::erase_if(tcp_orphans_, [&](const auto& p) { return p.get() == &c; });
  }
}

void Stack::tcp_poll_timers() {
  // Take what is due first: handling one may refile or free another.
  tcp_due_.clear();
  while (!tcp_timers_.empty() && tcp_timers_.begin()->first <= now_) {
    tcp::Connection* c = tcp_timers_.begin()->second;
    tcp_unfile(*c);
    tcp_due_.push_back(c);
  }
  if (tcp_due_.empty()) return;
  std::vector<tcp::Connection*> due;
  due.swap(tcp_due_);  // a timer's work may not come back here, but stay safe if it does
  for (tcp::Connection* c : due) {
    if (!tcp_demux_.contains(key_of(*c))) continue;  // freed by an earlier one
    c->on_timer(now_);
    tcp_after(*c);
  }
  due.clear();
  if (tcp_due_.capacity() < due.capacity()) tcp_due_.swap(due);
}

std::optional<base::Instant> Stack::tcp_next_deadline() const {
  if (tcp_timers_.empty()) return std::nullopt;
  return tcp_timers_.begin()->first;
}

std::size_t Stack::tcp_buffer_storage() const {
  std::size_t total = 0;
  for (const auto& [key, c] : tcp_demux_) total += c->buffer_memory();
  return total;
}

std::vector<std::string> Stack::tcp_describe() const {
  std::vector<std::string> out;
  for (const auto& [key, c] : tcp_demux_)
    out.push_back(c->local().to_string() + " " + c->remote().to_string() + " " + c->describe(now_));
  return out;
}

// --- Socket calls ----------------------------------------------------------------------

Status Stack::listen(SocketId id, int backlog) {
  SocketEntry* e = app_entry(id);
  if (!e) return Errc::bad_descriptor;
  auto* t = std::get_if<TcpSocket>(&e->proto);
  if (!t) return Errc::op_not_supported;  // listen(2) on a datagram socket
  if (t->conn) return Errc::invalid;      // "EINVAL ... already connected"
  if (!t->bound()) {
    auto port = ports_.pick_random([&](std::uint16_t p) { return !tcp_port_conflict(*t, t->local.addr, p); });
    if (!port) return Errc::address_in_use;
    t->local.port = *port;
    tcp_bound_[*port].push_back(id);
  }
  // Linux clamps the backlog to net.core.somaxconn; a negative one means the maximum.
  t->backlog = backlog < 0 ? kSomaxconn : std::min(backlog, kSomaxconn);
  if (!t->listening) {
    // Re-check the binding: SO_REUSEADDR does not let two listeners share a port.
    for (SocketId other : tcp_listeners_[t->local.port]) {
      const auto& o = std::get<TcpSocket>(entry(other)->proto);
      if (o.local.addr.is_unspecified() || t->local.addr.is_unspecified() || o.local.addr == t->local.addr)
        return Errc::address_in_use;
    }
    t->listening = true;
    tcp_listeners_[t->local.port].push_back(id);
  }
  return {};
}

base::Result<SocketId> Stack::accept(SocketId listener, base::Endpoint* peer) {
  SocketEntry* e = app_entry(listener);
  if (!e) return Errc::bad_descriptor;
  auto* t = std::get_if<TcpSocket>(&e->proto);
  if (!t) return Errc::op_not_supported;
  if (!t->listening) return Errc::invalid;
  if (t->accept_queue.empty()) return Errc::would_block;
  const SocketId id = t->accept_queue.front();
  t->accept_queue.pop_front();
  auto& c = std::get<TcpSocket>(entry(id)->proto);
  c.listener = -1;
  if (peer) *peer = c.conn->remote();
  notify(*e, listener);
  return id;
}

Status Stack::tcp_connect(SocketEntry& e, TcpSocket& s, const base::Endpoint& peer) {
  (void)e;
  if (s.listening) return Errc::invalid;
  if (s.conn) {
    switch (s.conn->state()) {
      case tcp::State::syn_sent:
      case tcp::State::syn_received:
        return Errc::already;
      case tcp::State::closed:
        // Linux (inet_stream_connect): a socket once connected stays SS_CONNECTED
        // through a reset or a close: EISCONN. Only a failed attempt may retry.
        if (s.conn->was_established()) return Errc::is_connected;
        if (s.pending_error) return static_cast<Errc>(std::exchange(s.pending_error, 0));
        tcp_demux_erase(*s.conn);
        s.conn.reset();  // a failed attempt: connect() may try again
        break;
      default:
        return Errc::is_connected;
    }
  }
  if (peer.addr.v4().is_broadcast() || peer.addr.v4().is_multicast()) return Errc::net_unreachable;
  if (tcp_at_connection_limit()) return Errc::no_buffers;  // the connection cap (docs/hardening.md)
  auto r = route(peer.addr.v4(), s.local.addr.v4());
  if (!r) {
    ++counters_.IpOutNoRoutes;
    return r.error();
  }
  base::Endpoint local{s.local.addr.is_unspecified() ? base::IpAddr(r->src) : s.local.addr, s.local.port};
  if (!s.bound()) {
    // RFC 6056 Algorithm 3, a port free for this socket pair.
    auto port = ports_.pick_for(local.addr, peer, [&](std::uint16_t p) {
      const TupleKey k{local.addr.v4().value(), peer.addr.v4().value(), p, peer.port};
      return !tcp_demux_.contains(k) && !tcp_port_conflict(s, local.addr, p);
    });
    if (!port) return Errc::address_not_available;  // Linux: EADDRNOTAVAIL when the range is exhausted
    local.port = *port;
    tcp_bound_[*port].push_back(s.id);
  } else if (tcp_demux_.contains({local.addr.v4().value(), peer.addr.v4().value(), local.port, peer.port})) {
    return Errc::address_not_available;
  }
  s.local = local;
  const auto mss = mss_for(r->iface->mtu);
  // Sizes set on the socket (a copy of the shared config only when they differ).
  if (s.config->rcvbuf != e.rcvbuf) s.config.edit().rcvbuf = e.rcvbuf;
  if (s.config->sndbuf != e.sndbuf) s.config.edit().sndbuf = e.sndbuf;
  s.conn = std::make_unique<tcp::Connection>(s.config, local, peer, tcp::Seq(isn_.generate(local, peer, now_)),
                                             mss, rng_.next_u32());
  s.conn->owner = s.id;
  s.conn->set_memory(&memory_);
  s.conn->set_outbox_spare(&spare_outbox_);
  tcp_demux_insert(*s.conn);
  ++counters_.TcpActiveOpens;
  s.conn->connect(now_);
  tcp_after(*s.conn);
  return Errc::in_progress;
}

std::size_t Stack::tcp_reclaim_ooo(const tcp::Connection* except) {
  // In-order data found no memory even after its own connection gave up its
  // out-of-order data, or a send found none: the out-of-order data of every
  // (other) connection goes (Linux prunes only the socket's own queue, but lets
  // one segment into an empty queue past the limit; ustack keeps the limit
  // strict and frees memory this way instead), so that peers filling memory with
  // out-of-order data cannot starve a connection or a sender. A starved segment
  // is taken when its sender resends it.
  std::size_t freed = 0;
  for (auto& [key, conn] : tcp_demux_) {
    if (conn == except || conn->ooo_bytes() == 0) continue;
    freed += conn->prune_ooo();
    const tcp::MemDrops m = conn->take_mem_drops();
    counters_.TcpExtOfoPruned += m.ofo_pruned;
    counters_.TcpExtOfoPrunedBytes += m.ofo_pruned_bytes;
  }
  return freed;
}

base::Result<std::size_t> Stack::tcp_send(SocketEntry& e, TcpSocket& s, base::ByteSpan data, int flags) {
  if (flags & MSG_OOB) return Errc::op_not_supported;
  if (s.pending_error) return static_cast<Errc>(std::exchange(s.pending_error, 0));
  // Linux sk_stream_wait_connect(): EPIPE unless the socket is connecting.
  if (!s.conn || e.shut_wr || s.conn->write_closed() || s.conn->dead() || s.conn->state() == tcp::State::closed)
    return Errc::pipe;
  if (s.conn->state() == tcp::State::syn_sent || s.conn->state() == tcp::State::syn_received) return Errc::would_block;
  if (data.empty()) return std::size_t{0};
  std::size_t n = s.conn->send(data, now_);
  // Held back by memory while peers' out-of-order data holds some: that goes first.
  if (s.conn->send_blocked_on_memory() && tcp_reclaim_ooo(nullptr) > 0) n += s.conn->send(data.subspan(n), now_);
  tcp_after(*s.conn);
  if (s.conn->send_blocked_on_memory()) {
    // The memory account held it back (docs/hardening.md): woken when memory returns.
    ++counters_.TcpExtSndMemWaits;
    if (std::find(mem_waiters_.begin(), mem_waiters_.end(), s.id) == mem_waiters_.end())
      mem_waiters_.push_back(s.id);
  }
  if (n == 0) return Errc::would_block;
  return n;
}

base::Result<Received> Stack::tcp_recv(SocketEntry& e, TcpSocket& s, base::MutByteSpan buf, int flags) {
  if (flags & MSG_OOB) return Errc::invalid;  // no urgent data is kept out of band
  if (!s.conn || s.listening) {
    if (s.pending_error) return static_cast<Errc>(std::exchange(s.pending_error, 0));
    return Errc::not_connected;
  }
  Received r;
  r.from = s.conn->remote();
  // Linux tcp_recvmsg(): data first; then an error; then the end of the stream.
  if (buf.empty() && s.conn->readable_bytes() > 0) return r;
  r.copied = s.conn->receive(buf, (flags & MSG_PEEK) != 0, now_);
  r.full_len = r.copied;
  tcp_after(*s.conn);
  if (r.copied > 0) return r;
  if (s.pending_error) return static_cast<Errc>(std::exchange(s.pending_error, 0));
  if (e.shut_rd || s.conn->at_eof() || s.conn->state() == tcp::State::closed) return r;
  if (s.conn->state() == tcp::State::syn_sent || s.conn->state() == tcp::State::syn_received) return Errc::would_block;
  return Errc::would_block;
}

void Stack::tcp_close(SocketEntry& e, TcpSocket& s) {
  (void)e;
  if (s.listening) {
    // Linux inet_csk_listen_stop(): connections never accepted are reset.
    for (SocketId id : base::LazyDeque<SocketId>(s.accept_queue)) {
      SocketEntry* ce = entry(id);
      if (!ce) continue;
      auto& c = std::get<TcpSocket>(ce->proto);
      c.listener = -1;
      if (c.conn) {
        c.conn->abort(now_);
        tcp_after(*c.conn);
        tcp_demux_erase(*c.conn);
        c.conn.reset();
      }
      (void)destroy(id);
    }
    s.accept_queue.clear();
    // Embryos in SYN-RECEIVED: find them by their listener.
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
      SocketEntry* ce = sockets_[i].get();
      auto* c = ce ? std::get_if<TcpSocket>(&ce->proto) : nullptr;
      if (!c || c->listener != s.id) continue;
      c->listener = -1;
      if (c->conn) {
        c->conn->abort(now_);
        tcp_after(*c->conn);
        tcp_demux_erase(*c->conn);
        c->conn.reset();
      }
      (void)destroy(static_cast<SocketId>(i));
    }
    std::erase(tcp_listeners_[s.local.port], s.id);
    if (tcp_listeners_[s.local.port].empty()) tcp_listeners_.erase(s.local.port);
  }
  if (s.bound()) {
    std::erase(tcp_bound_[s.local.port], s.id);
    if (tcp_bound_[s.local.port].empty()) tcp_bound_.erase(s.local.port);
  }
  if (!s.conn) return;
  tcp::Connection& c = *s.conn;
  c.close(s.linger && s.linger_seconds == 0, now_);
  if (c.state() == tcp::State::closed) {
    tcp_after(c);
    tcp_demux_erase(c);
    s.conn.reset();
    return;
  }
  // The stack finishes the connection on the application's behalf (orphan).
  c.owner = -1;
  tcp_orphans_.push_back(std::move(s.conn));
  tcp_after(c);
}

short Stack::tcp_readiness(const SocketEntry& e, const TcpSocket& s) const {
  if (s.listening) return s.accept_queue.empty() ? 0 : POLLIN;
  short ev = 0;
  if (s.pending_error) ev |= POLLERR;
  if (!s.conn) return static_cast<short>(ev | POLLOUT | POLLHUP);  // Linux tcp_poll() in CLOSE
  const tcp::Connection& c = *s.conn;
  switch (c.state()) {
    case tcp::State::syn_sent:
    case tcp::State::syn_received:
      return ev;
    case tcp::State::closed:
      return static_cast<short>(ev | POLLIN | POLLRDHUP | POLLHUP | POLLOUT);
    default:
      break;
  }
  if (c.readable_bytes() > 0) ev |= POLLIN;
  if (c.fin_received() || e.shut_rd) ev |= POLLIN | POLLRDHUP;
  // Linux sk_stream_is_writeable(): free space of at least half of what is queued.
  if (!c.write_closed() && c.send_space() > 0 && c.send_space() * 2 >= c.send_queued()) ev |= POLLOUT;
  if (c.write_closed() && c.fin_received()) ev |= POLLHUP;
  return ev;
}

Status Stack::tcp_set_option(SocketEntry& e, TcpSocket& s, int level, int name, int value) {
  // The socket's options, which its connection shares: edited (copied first if
  // shared with other sockets), then handed to the connection.
  auto edit = [&s](auto field, auto v) {
    s.config.edit().*field = v;
    if (s.conn) s.conn->set_config(s.config);
  };
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_REUSEADDR: s.reuse_addr = value != 0; return {};
      case SO_KEEPALIVE:
        edit(&tcp::Config::keepalive, value != 0);
        if (s.conn) tcp_after(*s.conn);  // the keepalive deadline moved
        return {};
      default: return Errc::protocol_option;
    }
  }
  if (level != IPPROTO_TCP) return Errc::protocol_option;
  switch (name) {
    case TCP_NODELAY:
      edit(&tcp::Config::nodelay, value != 0);
      if (s.conn) {
        s.conn->push(now_);  // send what Nagle held back (Linux tcp_push_pending_frames)
        tcp_after(*s.conn);
      }
      return {};
    case TCP_MAXSEG:
      // tcp(7): "The value must be ... between 88 and 32767" (Linux TCP_MIN_MSS, MAX_TCP_WINDOW).
      if (value != 0 && (value < 88 || value > 32767)) return Errc::invalid;
      edit(&tcp::Config::user_mss, static_cast<std::uint16_t>(value));
      return {};
    case TCP_KEEPIDLE:
      if (value < 1 || value > 32767) return Errc::invalid;
      edit(&tcp::Config::keepalive_idle, base::Duration(std::chrono::seconds(value)));
      if (s.conn) tcp_after(*s.conn);
      return {};
    case TCP_KEEPINTVL:
      if (value < 1 || value > 32767) return Errc::invalid;
      edit(&tcp::Config::keepalive_interval, base::Duration(std::chrono::seconds(value)));
      return {};
    case TCP_KEEPCNT:
      if (value < 1 || value > 127) return Errc::invalid;
      edit(&tcp::Config::keepalive_count, static_cast<unsigned>(value));
      return {};
    case TCP_SYNCNT:
      // tcp(7): "The number of SYN retransmits ... It cannot exceed 255."
      if (value < 1 || value > 255) return Errc::invalid;
      edit(&tcp::Config::syn_retries, static_cast<unsigned>(value));
      return {};
    case TCP_USER_TIMEOUT:
      // tcp(7): milliseconds; 0 restores the system default.
      if (value < 0) return Errc::invalid;
      edit(&tcp::Config::user_timeout, base::Duration(std::chrono::milliseconds(value)));
      return {};
    default:
      (void)e;
      return Errc::protocol_option;
  }
}

base::Result<int> Stack::tcp_get_option(SocketEntry& e, TcpSocket& s, int level, int name) {
  (void)e;
  const tcp::Config& cfg = s.conn ? s.conn->config() : *s.config;
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_REUSEADDR: return int{s.reuse_addr};
      case SO_KEEPALIVE: return int{cfg.keepalive};
      case SO_ERROR: return std::exchange(s.pending_error, 0);
      case SO_ACCEPTCONN: return int{s.listening};
      default: return Errc::protocol_option;
    }
  }
  if (level != IPPROTO_TCP) return Errc::protocol_option;
  switch (name) {
    case TCP_NODELAY: return int{cfg.nodelay};
    case TCP_MAXSEG:
      if (s.conn && s.conn->synchronized()) return int{s.conn->mss()};
      return cfg.user_mss ? int{cfg.user_mss} : 536;  // Linux reports TCP_MSS_DEFAULT before connecting
    case TCP_KEEPIDLE: return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(cfg.keepalive_idle).count());
    case TCP_KEEPINTVL: return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(cfg.keepalive_interval).count());
    case TCP_KEEPCNT: return static_cast<int>(cfg.keepalive_count);
    case TCP_SYNCNT: return static_cast<int>(cfg.syn_retries);
    case TCP_USER_TIMEOUT:
      return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(cfg.user_timeout).count());
    default: return Errc::protocol_option;
  }
}

base::Result<tcp::Snapshot> Stack::tcp_info(SocketId id) const {
  const SocketEntry* e = app_entry(id);
  if (!e) return Errc::bad_descriptor;
  const auto* t = std::get_if<TcpSocket>(&e->proto);
  if (!t) return Errc::op_not_supported;
  if (t->conn) return t->conn->snapshot(now_);
  tcp::Snapshot s;
  s.state = t->listening ? tcp::State::listen : tcp::State::closed;
  return s;
}

Status Stack::set_congestion_control(SocketId id, std::string_view name) {
  SocketEntry* e = entry(id);
  if (!e) return Errc::bad_descriptor;
  auto* t = std::get_if<TcpSocket>(&e->proto);
  if (!t) return Errc::protocol_option;
  if (!tcp::make_congestion_control(name)) return Errc::no_entry;  // Linux tcp_set_congestion_control
  t->config.edit().congestion_control = std::string(name);
  if (t->conn) {
    t->conn->set_config(t->config);
    (void)t->conn->set_congestion_control(name, now_);
    tcp_after(*t->conn);
  }
  return {};
}

base::Result<std::string> Stack::get_congestion_control(SocketId id) const {
  const SocketEntry* e = entry(id);
  if (!e) return Errc::bad_descriptor;
  const auto* t = std::get_if<TcpSocket>(&e->proto);
  if (!t) return Errc::protocol_option;
  if (t->conn) return std::string(t->conn->congestion_control());
  return t->config->congestion_control;
}

Status Stack::set_linger(SocketId id, bool on, int seconds) {
  SocketEntry* e = app_entry(id);
  if (!e) return Errc::bad_descriptor;
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) {
    t->linger = on;
    t->linger_seconds = std::max(seconds, 0);
  }
  return {};
}

base::Result<std::pair<bool, int>> Stack::get_linger(SocketId id) {
  SocketEntry* e = app_entry(id);
  if (!e) return Errc::bad_descriptor;
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) return std::pair<bool, int>{t->linger, t->linger_seconds};
  return std::pair<bool, int>{false, 0};
}

}  // namespace ustack::stack
