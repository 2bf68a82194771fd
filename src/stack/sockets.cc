// The socket table and the calls every kind of socket shares, with Linux's
// semantics for options (socket(7), ip(7)), shutdown and pending errors.
#include <sys/socket.h>
#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <cstring>

#include "stack/interface.h"
#include "stack/stack.h"

namespace ustack::stack {

namespace {
// Linux's floors for SO_RCVBUF / SO_SNDBUF (SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF).
constexpr std::size_t kMinRcvbuf = 2304;
constexpr std::size_t kMinSndbuf = 4608;
}  // namespace

int& Stack::SocketEntry::pending_error() {
  if (auto* u = std::get_if<udp::Socket>(&proto)) return u->pending_error;
  if (auto* t = std::get_if<TcpSocket>(&proto)) return t->pending_error;
  return std::get<RawSocket>(proto).pending_error;
}

udp::ReceiveQueue& Stack::SocketEntry::rx() {  // datagram sockets only
  if (auto* u = std::get_if<udp::Socket>(&proto)) return u->rx;
  return std::get<RawSocket>(proto).rx;
}

bool Stack::SocketEntry::connected() const {
  if (auto* u = std::get_if<udp::Socket>(&proto)) return u->peer.has_value();
  if (auto* t = std::get_if<TcpSocket>(&proto)) return t->conn && t->conn->synchronized();
  return std::get<RawSocket>(proto).peer.has_value();
}

Stack::SocketEntry* Stack::entry(SocketId id) {
  if (id < 0 || static_cast<std::size_t>(id) >= sockets_.size()) return nullptr;
  return sockets_[static_cast<std::size_t>(id)].get();
}
const Stack::SocketEntry* Stack::entry(SocketId id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= sockets_.size()) return nullptr;
  return sockets_[static_cast<std::size_t>(id)].get();
}

void Stack::notify(SocketEntry& e, SocketId id) {
  if (e.changed) return;
  e.changed = true;
  changed_.push_back(id);
}

void Stack::take_changed(std::vector<SocketId>& out) {
  for (SocketId id : changed_) {
    if (SocketEntry* e = entry(id)) e->changed = false;
    out.push_back(id);
  }
  changed_.clear();
}

base::Result<SocketId> Stack::socket(int domain, int type, int protocol) {
  if (domain != AF_INET) return Errc::family_not_supported;  // AF_INET6 arrives with IPv6
  auto e = std::make_unique<SocketEntry>();
  e->type = type;
  e->rcvbuf = config_.rmem_default;
  e->sndbuf = config_.wmem_default;
  switch (type) {
    case SOCK_DGRAM:
      if (protocol != 0 && protocol != IPPROTO_UDP) return Errc::protocol_not_supported;
      e->protocol = IPPROTO_UDP;
      e->proto.emplace<udp::Socket>().rx.set_memory(&memory_);
      break;
    case SOCK_RAW: {
      // raw(7): protocol 0 is not a protocol; IPPROTO_RAW implies IP_HDRINCL.
      if (protocol <= 0 || protocol > 255) return Errc::protocol_not_supported;
      e->protocol = protocol;
      RawSocket raw;
      raw.protocol = static_cast<std::uint8_t>(protocol);
      raw.header_included = protocol == IPPROTO_RAW;
      raw.rx.set_memory(&memory_);
      e->proto = std::move(raw);
      break;
    }
    case SOCK_STREAM:
      if (protocol != 0 && protocol != IPPROTO_TCP) return Errc::protocol_not_supported;
      e->protocol = IPPROTO_TCP;
      e->rcvbuf = config_.tcp.rcvbuf;
      e->sndbuf = config_.tcp.sndbuf;
      // Built in place from the stack's defaults (a temporary TcpSocket{} moved in
      // trips GCC 12's -Wmaybe-uninitialized on Config's string).
      e->proto.emplace<TcpSocket>().config = tcp_config_;
      break;
    case SOCK_SEQPACKET:
    case SOCK_RDM:
      return Errc::type_not_supported;
    default:
      return Errc::invalid;
  }
  SocketId id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    if (sockets_.size() >= config_.max_sockets) return Errc::too_many_files;
    id = static_cast<SocketId>(sockets_.size());
    sockets_.emplace_back();
  }
  if (auto* u = std::get_if<udp::Socket>(&e->proto)) u->id = id;
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) t->id = id;
  if (auto* r = std::get_if<RawSocket>(&e->proto)) {
    r->id = id;
    raw_sockets_.push_back(id);
  }
  sockets_[static_cast<std::size_t>(id)] = std::move(e);
  return id;
}

Stack::SocketEntry* Stack::app_entry(SocketId id) {
  SocketEntry* e = entry(id);
  const auto* t = e ? std::get_if<TcpSocket>(&e->proto) : nullptr;
  return t && t->listener >= 0 ? nullptr : e;
}
const Stack::SocketEntry* Stack::app_entry(SocketId id) const {
  const SocketEntry* e = entry(id);
  const auto* t = e ? std::get_if<TcpSocket>(&e->proto) : nullptr;
  return t && t->listener >= 0 ? nullptr : e;
}

Status Stack::close(SocketId id) {
  if (!app_entry(id)) return Errc::bad_descriptor;
  destroy(id);
  wake_memory_waiters();
  return {};
}

void Stack::destroy(SocketId id) {
  SocketEntry* e = entry(id);
  if (auto* u = std::get_if<udp::Socket>(&e->proto); u && u->bound()) udp_table_.erase(u);
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) tcp_close(*e, *t);
  if (std::holds_alternative<RawSocket>(e->proto)) std::erase(raw_sockets_, id);
  sockets_[static_cast<std::size_t>(id)].reset();
  free_ids_.push_back(id);
  changed_.push_back(id);  // wake anyone still waiting on it
}

Status Stack::bind(SocketId id, const base::Endpoint& local) {
  SocketEntry* e = app_entry(id);
  if (!e) return Errc::bad_descriptor;
  if (!local.addr.is_v4()) return Errc::family_not_supported;
  const base::Ipv4Addr a = local.addr.v4();
  // ip(7): binding to an address that is not local fails with EADDRNOTAVAIL
  // (broadcast and multicast addresses may be bound, to receive them).
  bool broadcast_addr = a.is_broadcast();
  for (const auto& i : interfaces_) broadcast_addr |= is_broadcast_for(*i, a);
  if (!a.is_unspecified() && !is_local_address(a) && !a.is_multicast() && !broadcast_addr)
    return Errc::address_not_available;
  if (auto* raw = std::get_if<RawSocket>(&e->proto)) {
    raw->local = a;
    return {};
  }
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) {
    // ip(7): a stream socket binds to a unicast local address or the wildcard.
    if (a.is_multicast() || broadcast_addr) return Errc::address_not_available;
    if (t->bound() || t->conn) return Errc::invalid;
    std::uint16_t port = local.port;
    if (port == 0) {
      auto picked = ports_.pick_random([&](std::uint16_t p) { return !tcp_port_conflict(*t, a, p); });
      if (!picked) return Errc::address_in_use;
      port = *picked;
    } else if (tcp_port_conflict(*t, a, port)) {
      return Errc::address_in_use;
    }
    t->local = {a, port};
    tcp_bound_[port].push_back(id);
    return {};
  }
  auto& s = std::get<udp::Socket>(e->proto);
  if (s.bound()) return Errc::invalid;
  std::uint16_t port = local.port;
  if (port == 0) {
    auto picked = ports_.pick_random([&](std::uint16_t p) { return !udp_table_.conflicts(s, a, p); });
    if (!picked) return Errc::address_in_use;
    port = *picked;
  } else if (udp_table_.conflicts(s, a, port)) {
    return Errc::address_in_use;
  }
  s.local = {a, port};
  udp_table_.insert(&s);
  return {};
}

Status Stack::udp_autobind(udp::Socket& s) {
  auto picked = ports_.pick_random(
      [&](std::uint16_t p) { return !udp_table_.conflicts(s, base::Ipv4Addr::any(), p); });
  if (!picked) return Errc::would_block;  // Linux: EAGAIN when the range is exhausted
  s.local = {base::Ipv4Addr::any(), *picked};
  udp_table_.insert(&s);
  return {};
}

Status Stack::connect(SocketId id, const std::optional<base::Endpoint>& peer) {
  SocketEntry* e = app_entry(id);
  if (!e) return Errc::bad_descriptor;
  if (peer && !peer->addr.is_v4()) return Errc::family_not_supported;
  if (auto* raw = std::get_if<RawSocket>(&e->proto)) {
    raw->peer = peer ? std::optional(peer->addr.v4()) : std::nullopt;
    return {};
  }
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) {
    if (!peer) return Errc::invalid;  // AF_UNSPEC on a stream socket: not supported here
    if (peer->port == 0) return Errc::conn_refused;
    return tcp_connect(*e, *t, *peer);
  }
  auto& s = std::get<udp::Socket>(e->proto);
  if (!peer) {  // AF_UNSPEC: dissolve the association (udp(7))
    s.peer.reset();
    if (s.local_addr_from_connect) {
      s.local.addr = base::Ipv4Addr::any();
      s.local_addr_from_connect = false;
    }
    return {};
  }
  auto r = route(peer->addr.v4(), s.local.addr.v4());
  if (!r) {
    ++counters_.IpOutNoRoutes;
    return r.error();
  }
  if (r->broadcast && !s.broadcast) return Errc::access;
  if (!s.bound()) {
    if (auto st = udp_autobind(s); !st) return st;
  }
  if (s.local.addr.is_unspecified()) {
    s.local.addr = r->src;
    s.local_addr_from_connect = true;
  }
  s.peer = *peer;
  return {};
}

base::Result<std::size_t> Stack::send_to(SocketId id, base::ByteSpan data, const base::Endpoint* dest,
                                          int flags) {
  SocketEntry* e = app_entry(id);
  if (!e) return Errc::bad_descriptor;
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) return tcp_send(*e, *t, data, flags);
  if (flags & MSG_OOB) return Errc::op_not_supported;
  if (e->shut_wr) return Errc::pipe;
  if (int& err = e->pending_error(); err != 0) {  // reported once, as sock_error() does
    const int reported = std::exchange(err, 0);
    return static_cast<Errc>(reported);
  }
  if (dest && !dest->addr.is_v4()) return Errc::family_not_supported;
  if (auto* u = std::get_if<udp::Socket>(&e->proto)) return udp_send(*e, *u, data, dest);
  return raw_send(*e, std::get<RawSocket>(e->proto), data, dest);
}

base::Result<Received> Stack::recv_from(SocketId id, base::MutByteSpan buf, int flags) {
  SocketEntry* e = app_entry(id);
  if (!e) return Errc::bad_descriptor;
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) {
    auto r = tcp_recv(*e, *t, buf, flags);
    wake_memory_waiters();  // reading gave memory back
    return r;
  }
  if (flags & MSG_OOB) return Errc::op_not_supported;
  if (int& err = e->pending_error(); err != 0) {
    const int reported = std::exchange(err, 0);
    return static_cast<Errc>(reported);
  }
  udp::ReceiveQueue& rx = e->rx();
  if (rx.empty()) {
    if (e->shut_rd) return Received{};
    return Errc::would_block;
  }
  const udp::Datagram& d = rx.front();
  Received r;
  r.full_len = d.data.size();
  r.copied = std::min(buf.size(), d.data.size());
  r.from = d.from;
  if (r.copied) std::memcpy(buf.data(), d.data.data(), r.copied);
  if (!(flags & MSG_PEEK)) {
    rx.pop();
    notify(*e, id);
    wake_memory_waiters();
  }
  return r;
}

Status Stack::shutdown(SocketId id, int how) {
  SocketEntry* e = app_entry(id);
  if (!e) return Errc::bad_descriptor;
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return Errc::invalid;
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) {
    if (t->listening && how != SHUT_WR) {
      return {};  // Linux stops a listener on SHUT_RD; it stays open for close()
    }
    if (!t->conn || t->conn->state() == tcp::State::syn_sent) return Errc::not_connected;
    if (how != SHUT_WR) {
      e->shut_rd = true;
      t->conn->shutdown_read();
    }
    if (how != SHUT_RD) {
      e->shut_wr = true;
      t->conn->shutdown_write(now_);
    }
    tcp_after(*t->conn);
    notify(*e, id);
    return {};
  }
  // Linux inet_shutdown(): the flags are set even on an unconnected datagram
  // socket (so that pollers wake), but the call still fails with ENOTCONN.
  if (how != SHUT_WR) e->shut_rd = true;
  if (how != SHUT_RD) e->shut_wr = true;
  notify(*e, id);
  if (!e->connected()) return Errc::not_connected;
  return {};
}

base::Result<base::Endpoint> Stack::local_endpoint(SocketId id) const {
  const SocketEntry* e = app_entry(id);
  if (!e) return Errc::bad_descriptor;
  if (auto* u = std::get_if<udp::Socket>(&e->proto)) return u->local;
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) return t->conn ? t->conn->local() : t->local;
  return base::Endpoint{std::get<RawSocket>(e->proto).local, 0};
}

base::Result<base::Endpoint> Stack::peer_endpoint(SocketId id) const {
  const SocketEntry* e = app_entry(id);
  if (!e) return Errc::bad_descriptor;
  if (auto* u = std::get_if<udp::Socket>(&e->proto)) {
    if (!u->peer) return Errc::not_connected;
    return *u->peer;
  }
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) {
    if (!t->conn || !t->conn->synchronized()) return Errc::not_connected;
    return t->conn->remote();
  }
  const auto& raw = std::get<RawSocket>(e->proto);
  if (!raw.peer) return Errc::not_connected;
  return base::Endpoint{*raw.peer, 0};
}

Status Stack::set_option(SocketId id, int level, int name, int value) {
  SocketEntry* e = app_entry(id);
  if (!e) return Errc::bad_descriptor;
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) {
    if (auto st = tcp_set_option(*e, *t, level, name, value); st || st.error() != Errc::protocol_option) return st;
  } else if (level == IPPROTO_TCP) {
    return Errc::op_not_supported;  // Linux: TCP options on a non-TCP socket
  }
  auto* u = std::get_if<udp::Socket>(&e->proto);
  auto* raw = std::get_if<RawSocket>(&e->proto);
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_REUSEADDR:
        if (u) u->reuse_addr = value != 0;
        return {};
      case SO_BROADCAST:
        if (u) u->broadcast = value != 0;
        if (raw) raw->broadcast = value != 0;
        return {};
      case SO_RCVBUF: {
        // socket(7): "The kernel doubles this value (to allow space for
        // bookkeeping overhead) ... The minimum (doubled) value for this option is 256."
        // socket(7): "The maximum allowed value is set by the
        // /proc/sys/net/core/rmem_max file" (not rmem_default, which is only the
        // initial size).
        const std::size_t v = std::min<std::size_t>(static_cast<unsigned>(value), config_.rmem_max);
        e->rcvbuf = std::max(v * 2, kMinRcvbuf);
        // socket(7)/tcp(7): a buffer the user sized is no longer auto-tuned
        // (Linux SOCK_RCVBUF_LOCK); an open connection takes the size at once.
        if (auto* t = std::get_if<TcpSocket>(&e->proto)) {
          tcp::Config& c = t->config.edit();
          c.rcvbuf_locked = true;
          c.rcvbuf = e->rcvbuf;
          if (t->conn) t->conn->set_rcvbuf(e->rcvbuf);
        }
        return {};
      }
      case SO_SNDBUF: {
        const std::size_t v = std::min<std::size_t>(static_cast<unsigned>(value), config_.wmem_max);
        e->sndbuf = std::max(v * 2, kMinSndbuf);
        if (auto* t = std::get_if<TcpSocket>(&e->proto)) {  // Linux SOCK_SNDBUF_LOCK
          tcp::Config& c = t->config.edit();
          c.sndbuf_locked = true;
          c.sndbuf = e->sndbuf;
          if (t->conn) t->conn->set_sndbuf(e->sndbuf);
        }
        return {};
      }
      default:
        return Errc::protocol_option;
    }
  }
  if (level == IPPROTO_IP) {
    switch (name) {
      case IP_TTL:
        // ip(7): -1 restores the default; otherwise 1..255.
        if (value != -1 && (value < 1 || value > 255)) return Errc::invalid;
        e->ttl = value;
        if (auto* t = std::get_if<TcpSocket>(&e->proto)) {
          t->config.edit().ip_ttl = value;
          if (t->conn) t->conn->set_config(t->config);
        }
        return {};
      case IP_TOS:
        e->tos = value & 0xff;
        if (auto* t = std::get_if<TcpSocket>(&e->proto)) {
          t->config.edit().ip_tos = e->tos;
          if (t->conn) t->conn->set_config(t->config);
        }
        return {};
      case IP_HDRINCL:
        if (!raw) return Errc::protocol_option;
        raw->header_included = value != 0;
        return {};
      default:
        return Errc::protocol_option;
    }
  }
  return Errc::protocol_option;
}

base::Result<int> Stack::get_option(SocketId id, int level, int name) {
  SocketEntry* e = app_entry(id);
  if (!e) return Errc::bad_descriptor;
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) {
    if (auto v = tcp_get_option(*e, *t, level, name); v || v.error() != Errc::protocol_option) return v;
  } else if (level == IPPROTO_TCP) {
    return Errc::op_not_supported;
  }
  auto* u = std::get_if<udp::Socket>(&e->proto);
  auto* raw = std::get_if<RawSocket>(&e->proto);
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_TYPE: return e->type;
      case SO_PROTOCOL: return e->protocol;
      case SO_DOMAIN: return AF_INET;
      case SO_ERROR: return std::exchange(e->pending_error(), 0);
      case SO_REUSEADDR: return u ? int{u->reuse_addr} : 0;
      case SO_ACCEPTCONN: return 0;
      case SO_BROADCAST: return u ? int{u->broadcast} : raw ? int{raw->broadcast} : 0;
      case SO_RCVBUF: return static_cast<int>(e->current_rcvbuf());  // grown by auto-tuning
      case SO_SNDBUF: return static_cast<int>(e->current_sndbuf());
      default: return Errc::protocol_option;
    }
  }
  if (level == IPPROTO_IP) {
    switch (name) {
      case IP_TTL: return e->ttl == -1 ? int{config_.default_ttl} : e->ttl;
      case IP_TOS: return e->tos;
      case IP_HDRINCL:
        if (!raw) return Errc::protocol_option;
        return int{raw->header_included};
      default: return Errc::protocol_option;
    }
  }
  return Errc::protocol_option;
}

short Stack::readiness(SocketId id) const {
  const SocketEntry* e = app_entry(id);
  if (!e) return POLLNVAL;
  if (auto* t = std::get_if<TcpSocket>(&e->proto)) return tcp_readiness(*e, *t);
  // Linux datagram_poll().
  short ev = POLLOUT;
  if (!e->rx().empty()) ev |= POLLIN;
  if (e->shut_rd) ev |= POLLIN | POLLRDHUP;
  if (e->shut_rd && e->shut_wr) ev |= POLLHUP;
  if (const_cast<SocketEntry*>(e)->pending_error() != 0) ev |= POLLERR;
  return ev;
}

}  // namespace ustack::stack
