// Listeners: the SYN queue and its bound, SYN cookies (RFC 4987 3.6, as Linux's
// tcp_conn_request and net/ipv4/syncookies.c), the accept queue's overflow.
// docs/hardening.md says which Linux rule each branch follows.
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

#include "stack/interface.h"
#include "stack/stack.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

namespace ustack::stack {

namespace flag = wire::tcp_flag;

namespace {
/// As tcp.cc's: the MSS we announce for an interface's MTU.
std::uint16_t mss_for(std::size_t mtu) {
  return static_cast<std::uint16_t>(std::min<std::size_t>(mtu, 65535) - 40);
}
/// The window of our SYN-ACK (Connection::emit: never scaled in a SYN).
std::uint16_t synack_window(std::size_t rcvbuf) { return static_cast<std::uint16_t>(std::min<std::size_t>(rcvbuf, 65535)); }
}  // namespace

tcp::Connection* Stack::tcp_new_embryo(SocketId listener_id, const base::Endpoint& local,
                                       const base::Endpoint& remote, tcp::Seq iss, std::uint32_t ts_offset,
                                       std::uint16_t mss) {
  // A new socket for the embryo, owned by the listener until accept().
  auto sid = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (!sid) return nullptr;
  // socket() may have grown the table: look the listener up again.
  SocketEntry* le = entry(listener_id);
  SocketEntry* ne = entry(*sid);
  ne->rcvbuf = le->rcvbuf;
  ne->sndbuf = le->sndbuf;
  auto& t = std::get<TcpSocket>(ne->proto);
  auto& listener = std::get<TcpSocket>(le->proto);
  t.config = listener.config;  // shared, not copied
  // SO_RCVBUF / SO_SNDBUF set on the listener are inherited (a copy of the
  // config only when they differ from it).
  if (t.config->rcvbuf != le->rcvbuf) t.config.edit().rcvbuf = le->rcvbuf;
  if (t.config->sndbuf != le->sndbuf) t.config.edit().sndbuf = le->sndbuf;
  t.local = local;
  t.listener = listener_id;
  t.conn = std::make_unique<tcp::Connection>(t.config, local, remote, iss, mss, ts_offset);
  t.conn->owner = *sid;
  t.conn->set_memory(&memory_);
  t.conn->set_outbox_spare(&spare_outbox_);
  tcp_demux_insert(*t.conn);
  ++listener.syn_queue;
  ++counters_.TcpPassiveOpens;
  return t.conn.get();
}

void Stack::tcp_listen_syn(TcpSocket& l, const wire::Ipv4View& ip, const wire::TcpRepr& syn) {
  const SocketId listener_id = l.id;
  // Linux tcp_conn_request: "if ((syncookies == 2 || inet_csk_reqsk_queue_is_full(sk))
  // && !isn) { want_cookie = tcp_syn_flood_action(sk, ...); if (!want_cookie) goto
  // drop; }", where inet_csk_reqsk_queue_is_full() is "inet_csk_reqsk_queue_len(sk)
  // > READ_ONCE(sk->sk_max_ack_backlog)": the SYN queue is bounded by the listen()
  // backlog, already clamped to somaxconn.
  bool want_cookie = false;
  if (config_.tcp_syncookies == 2 || static_cast<int>(l.syn_queue) > l.backlog) {
    // tcp_syn_flood_action: cookies if enabled, else the SYN is dropped.
    if (config_.tcp_syncookies != 0) {
      want_cookie = true;
      ++counters_.TcpExtTCPReqQFullDoCookies;
    } else {
      ++counters_.TcpExtTCPReqQFullDrop;
      ++counters_.TcpExtListenDrops;
      return;
    }
  }
  // "if (sk_acceptq_is_full(sk)) { NET_INC_STATS(sock_net(sk),
  // LINUX_MIB_LISTENOVERFLOWS); goto drop; }": a full accept queue drops the SYN,
  // cookie or not; the peer's retransmission tries again.
  if (static_cast<int>(l.accept_queue.size()) > l.backlog) {
    ++counters_.TcpExtListenOverflows;
    ++counters_.TcpExtListenDrops;
    return;
  }
  // The global connection cap (docs/hardening.md): the SYN is dropped as Linux
  // drops one it cannot allocate a request socket for ("req =
  // inet_reqsk_alloc(...); if (!req) goto drop;" -> tcp_listendrop()); the peer's
  // SYN retransmission tries again. A cookie would only defer the refusal to its ACK.
  if (tcp_at_connection_limit()) {
    ++counters_.DropTcpConnLimit;
    ++counters_.TcpExtListenDrops;
    return;
  }
  auto r = route(ip.src(), ip.dst());
  if (!r) return;
  if (want_cookie) {
    tcp_send_cookie(l, *r, ip, syn);
    return;
  }
  const base::Endpoint local{ip.dst(), syn.dst_port};
  const base::Endpoint remote{ip.src(), syn.src_port};
  tcp::Connection* c = tcp_new_embryo(listener_id, local, remote, tcp::Seq(isn_.generate(local, remote, now_)),
                                      rng_.next_u32(), mss_for(r->iface->mtu));
  if (!c) {
    ++counters_.TcpExtListenDrops;
    return;
  }
  c->accept_syn(syn, now_);
  tcp_after(*c);
}

void Stack::tcp_send_cookie(TcpSocket& l, const Route& r, const wire::Ipv4View& ip, const wire::TcpRepr& syn) {
  const SocketEntry* le = entry(l.id);
  const tcp::Config& cfg = *l.config;
  const base::Endpoint local{ip.dst(), syn.dst_port};
  const base::Endpoint remote{ip.src(), syn.src_port};
  // The peer's MSS (RFC 9293 3.7.1: 536 without the option), clamped by TCP_MAXSEG
  // as Linux's mss_clamp, rounded down to the cookie's table.
  std::uint16_t peer_mss = syn.options.mss.value_or(536);
  if (cfg.user_mss) peer_mss = std::min(peer_mss, cfg.user_mss);
  const std::uint16_t mss = tcp::SynCookies::round_mss(peer_mss);

  wire::TcpRepr synack;
  synack.src_port = syn.dst_port;
  synack.dst_port = syn.src_port;
  synack.seq = syncookies_.make_isn(local, remote, syn.seq, mss, now_);
  synack.ack = syn.seq + 1;
  synack.flags = flag::syn | flag::ack;
  synack.window = synack_window(le->rcvbuf);
  std::uint16_t our_mss = mss_for(r.iface->mtu);
  if (cfg.user_mss) our_mss = std::min(our_mss, cfg.user_mss);
  synack.options.mss = our_mss;
  // tcp_conn_request: "if (want_cookie && !tmp_opt.saw_tstamp)
  // tcp_clear_options(&tmp_opt);": without timestamps to carry them, the cookie
  // SYN-ACK offers neither window scaling nor SACK.
  if (cfg.timestamps && syn.options.timestamps) {
    tcp::CookieTsOptions o;
    if (cfg.window_scaling && syn.options.window_scale) {
      o.wscale = std::min<std::uint8_t>(*syn.options.window_scale, 14);  // RFC 7323 2.3: above 14 is 14
      synack.options.window_scale = cfg.window_shift;
    }
    if (cfg.sack && syn.options.sack_permitted) {
      o.sack = true;
      synack.options.sack_permitted = true;
    }
    // The connection's clock (Connection::ts_now): milliseconds plus the pair's offset.
    const auto ts_now = static_cast<std::uint32_t>(base::to_millis(now_.time_since_epoch())) +
                        isn_.ts_offset(local, remote);
    synack.options.timestamps = wire::TcpTimestamps{tcp::SynCookies::encode_timestamp(ts_now, o),
                                                    syn.options.timestamps->value};
  }
  base::PacketBuf buf(synack.header_len());
  synack.emit(buf.data(), r.src, ip.src());
  wire::Ipv4Repr hdr{r.src, ip.src(), wire::ip_proto::tcp, config_.default_ttl};
  hdr.dont_fragment = true;
  // cookie_init_sequence(): "tcp_synq_overflow(sk); __NET_INC_STATS(sock_net(sk),
  // LINUX_MIB_SYNCOOKIESSENT);"
  l.last_cookie_sent = now_;
  ++counters_.TcpExtSyncookiesSent;
  if (ip_output(hdr, std::move(buf), r)) ++counters_.TcpOutSegs;
}

bool Stack::tcp_cookie_ack(TcpSocket& l, const wire::Ipv4View& ip, const wire::TcpRepr& seg, base::ByteSpan payload) {
  // cookie_v4_check: "if (!READ_ONCE(net->ipv4.sysctl_tcp_syncookies) || !th->ack ||
  // th->rst) goto out;" and cookie_tcp_check: "if (tcp_synq_no_recent_overflow(sk))
  // goto out;": only within TCP_SYNCOOKIE_VALID of the last cookie sent (from 1 s
  // before it, as time_between32(now, last_overflow - HZ, last_overflow + VALID)).
  if (config_.tcp_syncookies == 0 || !(seg.flags & flag::ack) || (seg.flags & (flag::rst | flag::syn))) return false;
  if (!l.last_cookie_sent || now_ + std::chrono::seconds(1) < *l.last_cookie_sent ||
      now_ > *l.last_cookie_sent + tcp::SynCookies::kValid)
    return false;
  const base::Endpoint local{ip.dst(), seg.dst_port};
  const base::Endpoint remote{ip.src(), seg.src_port};
  const auto mss = syncookies_.check(local, remote, seg.seq, seg.ack, now_);
  if (!mss) {
    ++counters_.TcpExtSyncookiesFailed;
    return false;  // answered as any other ACK to a listener: a reset
  }
  ++counters_.TcpExtSyncookiesRecv;
  const tcp::Config& cfg = *l.config;
  // The SYN as the cookie remembers it.
  wire::TcpRepr syn;
  syn.src_port = seg.src_port;
  syn.dst_port = seg.dst_port;
  syn.seq = seg.seq - 1;
  syn.flags = flag::syn;
  syn.options.mss = *mss;
  if (seg.options.timestamps) {
    // cookie_timestamp_decode: the options come back in TSecr's low bits; "return
    // false if we decode a tcp option that is disabled on the host".
    if (!cfg.timestamps) return false;
    const tcp::CookieTsOptions o = tcp::SynCookies::decode_timestamp(seg.options.timestamps->echo_reply);
    if (o.sack && !cfg.sack) return false;
    if (o.wscale && !cfg.window_scaling) return false;
    syn.options.sack_permitted = o.sack;
    syn.options.window_scale = o.wscale;
    syn.options.timestamps = wire::TcpTimestamps{seg.options.timestamps->value, 0};
  }
  // tcp_v4_syn_recv_sock: "if (sk_acceptq_is_full(sk)) goto exit_overflow;" ...
  // "exit_overflow: NET_INC_STATS(sock_net(sk), LINUX_MIB_LISTENOVERFLOWS); ...
  // tcp_listendrop(sk);": the ACK is dropped; the peer's retransmission may succeed.
  if (static_cast<int>(l.accept_queue.size()) > l.backlog) {
    ++counters_.TcpExtListenOverflows;
    ++counters_.TcpExtListenDrops;
    return true;
  }
  // At the connection cap the child cannot be made: Linux's "exit_nonewsk" when
  // syn_recv_sock() gets no socket, counted in ListenDrops. Dropped without a reset.
  if (tcp_at_connection_limit()) {
    ++counters_.DropTcpConnLimit;
    ++counters_.TcpExtListenDrops;
    return true;
  }
  auto r = route(ip.src(), ip.dst());
  if (!r) return true;
  const std::size_t rcvbuf = entry(l.id)->rcvbuf;
  tcp::Connection* c = tcp_new_embryo(l.id, local, remote, tcp::Seq(seg.ack - 1), isn_.ts_offset(local, remote),
                                      mss_for(r->iface->mtu));
  if (!c) {
    ++counters_.TcpExtListenDrops;
    return true;
  }
  c->accept_cookie(syn, synack_window(rcvbuf), now_);
  c->on_segment(seg, payload, now_);
  tcp_after(*c);
  return true;
}

}  // namespace ustack::stack
