// Stack: the pure core of a host. Interfaces, routes, neighbours, IPv4, ICMP, UDP
// and raw sockets, driven by poll(now) and next_deadline(). It never reads a
// clock, sleeps or blocks: src/runtime/ does that, and tests step it by hand.
#pragma once

#include <cstdint>
#include <deque>
#include <set>
#include <memory>
#include <unordered_map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/addr.h"
#include "base/lazy_deque.h"
#include "base/log.h"
#include "base/memory.h"
#include "base/packet.h"
#include "base/random.h"
#include "base/result.h"
#include "base/time.h"
#include "ip/arp_cache.h"
#include "ip/ports.h"
#include "ip/rate_limit.h"
#include "ip/source_limit.h"
#include "ip/reassembly.h"
#include "ip/route.h"
#include "link/device.h"
#include "stack/counters.h"
#include "tcp/connection.h"
#include "tcp/trace.h"
#include "tcp/isn.h"
#include "tcp/syncookie.h"
#include "udp/socket.h"
#include "udp/table.h"

namespace ustack::wire {
class Ipv4View;
struct Ipv4Repr;
}  // namespace ustack::wire

namespace ustack::stack {

using base::Errc;
using base::Status;
using InterfaceId = ip::InterfaceId;
using SocketId = std::int32_t;

struct StackConfig {
  std::uint64_t seed = 1;          // randomness: ISNs, ports, IP ids (the runtime passes getrandom())
  base::Logger logger;             // events; per-packet detail at debug level
  ip::ArpConfig arp;
  ip::ReassemblyConfig reassembly;
  std::uint8_t default_ttl = 64;   // Linux net.ipv4.ip_default_ttl
  double icmp_errors_per_sec = 1000;  // Linux net.ipv4.icmp_msgs_per_sec
  double icmp_error_burst = 50;       // Linux net.ipv4.icmp_msgs_burst
  bool icmp_echo_ignore_broadcasts = true;  // Linux default
  /// Per-destination limit on ICMP errors (docs/hardening.md), Linux
  /// net.ipv4.icmp_ratelimit: milliseconds between errors to one host, in bursts
  /// of up to 6 (XRLIM_BURST_FACTOR); 0 turns it off. Loopback is exempt.
  unsigned icmp_ratelimit_ms = 1000;
  /// Resets sent for segments that match no connection (closed ports, ACKs to a
  /// listener, failed SYN cookies), per destination address: per second, and as
  /// a burst; 0 turns it off. Loopback is exempt.
  double tcp_rst_per_sec = 1000;
  /// Addresses each per-destination limit tracks at once (bounded memory).
  std::size_t ratelimit_slots = 1024;
  std::size_t rmem_default = 212992;  // Linux net.core.rmem_default: a datagram socket's SO_RCVBUF
  std::size_t wmem_default = 212992;  // Linux net.core.wmem_default
  std::size_t rmem_max = 212992;      // Linux net.core.rmem_max: setsockopt(SO_RCVBUF) is capped here
  std::size_t wmem_max = 212992;      // Linux net.core.wmem_max: setsockopt(SO_SNDBUF) is capped here
  /// The stack-wide memory limit (Linux tcp_mem / udp_mem; docs/hardening.md
  /// "Memory limits"): socket buffers' data and IP fragments are charged to it.
  base::MemoryLimits memory;
  std::size_t max_sockets = 65536;
  std::size_t rx_batch = 64;          // frames read from one device per poll
  tcp::Config tcp;                    // what a new stream socket starts with
  /// SYN cookies (docs/hardening.md), as Linux net.ipv4.tcp_syncookies: 0 never,
  /// 1 when a listener's SYN queue is full (the default, as Linux), 2 always.
  int tcp_syncookies = 1;
  /// The most TCP connections (every TCB: embryos in SYN-RECEIVED, established,
  /// closing, TIME-WAIT) the stack holds at once (docs/hardening.md). At the cap
  /// a SYN or a cookie's ACK is dropped and counted (DropTcpConnLimit), and
  /// connect() fails with ENOBUFS.
  std::size_t tcp_max_connections = 65536;
  /// When set, every TCP connection is sampled after each event and a CSV row
  /// written when it changed (docs/trace.md). Shared: it may outlive the stack.
  std::shared_ptr<tcp::TraceRecorder> tcp_trace;
};

/// One socket (or a connection whose socket is gone: an orphan, TIME-WAIT) as
/// `ss` shows it.
struct SocketInfo {
  SocketId id = -1;                     // -1: no socket any more (closed by the application)
  int type = 0;                         // SOCK_STREAM, SOCK_DGRAM, SOCK_RAW
  int protocol = 0;                     // IPPROTO_TCP, IPPROTO_UDP, or the raw protocol
  bool listening = false;
  std::optional<tcp::State> tcp_state;  // stream sockets with a connection
  base::Endpoint local;
  std::optional<base::Endpoint> peer;
  /// ss's Recv-Q and Send-Q: bytes waiting to be read and sent; for a listener,
  /// the accept queue's length and the backlog.
  std::size_t recv_q = 0, send_q = 0;
  std::size_t rcvbuf = 0, sndbuf = 0;   // SO_RCVBUF, SO_SNDBUF (ss -m); 0 for an orphan
  std::uint64_t drops = 0;              // datagrams refused for a full receive queue (ss -m's d)
  std::optional<tcp::Snapshot> tcp;     // TCP internals (ss -i)
};

struct InterfaceConfig {
  std::string name;
  base::MacAddr mac;                 // ignored for IP-medium devices
  base::Ipv4Cidr addr;
  std::optional<std::size_t> mtu;    // default: the device's
};

struct InterfaceInfo {
  InterfaceId id;
  std::string name;
  base::MacAddr mac;
  base::Ipv4Cidr addr;
  std::size_t mtu;
  bool loopback;
  link::DeviceStats device_stats;
  std::string offloads;  // Device::offloads(): TAP offloads in use, or why none
};

/// What recv_from() copied.
struct Received {
  std::size_t copied = 0;     // bytes written into the caller's buffer
  std::size_t full_len = 0;   // length of the whole datagram
  base::Endpoint from;
};

class Stack {
 public:
  explicit Stack(StackConfig config = {});
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // --- Interfaces and routes -------------------------------------------------
  /// Attaches a device (not owned) with an address; adds the connected route and
  /// announces the address with a gratuitous ARP at the next poll.
  InterfaceId add_interface(link::Device& device, const InterfaceConfig& config);
  /// The default gateway, reached through the interface whose subnet holds it.
  Status set_default_gateway(base::Ipv4Addr gateway);
  Status add_route(base::Ipv4Cidr dest, std::optional<base::Ipv4Addr> gateway);
  Status add_static_arp(base::Ipv4Addr ip, base::MacAddr mac);
  const ip::RouteTable& routes() const { return routes_; }
  std::vector<InterfaceInfo> interfaces() const;
  std::vector<ip::ArpEntryInfo> arp_entries() const;
  /// IP reassembly in progress: datagrams waiting for fragments, and their bytes.
  std::pair<std::size_t, std::size_t> reassembly_in_progress() const {
    return {reassembler_.datagrams_in_progress(), reassembler_.bytes_in_use()};
  }
  bool is_local_address(base::Ipv4Addr a) const;

  // --- Driving ----------------------------------------------------------------
  /// Receives what the devices hold, fires due timers, transmits what follows.
  void poll(base::Instant now);
  /// When poll() must run again at the latest (absent frames arriving).
  std::optional<base::Instant> next_deadline() const;
  /// Descriptors that become readable when a device has frames (TAP, TUN).
  std::vector<int> pollable_fds() const;
  /// Flushes devices' buffered output (pcap) and the TCP trace's.
  void flush_devices();
  /// Writes the frames devices hold back to batch them (TAP offloads: TSO
  /// coalescing). poll() ends with it; a caller that sends between polls (the
  /// runtime, after each socket call) calls it when its round of work is done.
  void flush_tx();
  /// Tells the stack the time before a socket call made between polls.
  void set_time(base::Instant now) { if (now > now_) now_ = now; }
  /// A live clock (the runtime's monotonic_now), read again before each frame a
  /// poll receives and before its timers, so that each segment's times are its
  /// own: a poll may take hundreds of microseconds (a TAP write runs the kernel's
  /// receive path before it returns), and with one time for all of it, a segment
  /// sent and acknowledged within one poll had a round trip of zero, RACK's
  /// reordering window (min_RTT/4) was zero, and every reordering was taken for
  /// a loss. Without one (simulated networks, scripts), poll's `now` is the time
  /// throughout, as those runs need.
  void set_clock(base::Instant (*clock)()) { clock_ = clock; }
  base::Instant now() const { return now_; }

  // --- Sockets (non-blocking; errors are Linux's errno values) ----------------
  base::Result<SocketId> socket(int domain, int type, int protocol);
  Status bind(SocketId id, const base::Endpoint& local);
  /// nullopt disconnects (connect() with AF_UNSPEC).
  Status connect(SocketId id, const std::optional<base::Endpoint>& peer);
  base::Result<std::size_t> send_to(SocketId id, base::ByteSpan data, const base::Endpoint* dest,
                                    int flags);
  base::Result<Received> recv_from(SocketId id, base::MutByteSpan buf, int flags);
  Status shutdown(SocketId id, int how);
  Status close(SocketId id);
  base::Result<base::Endpoint> local_endpoint(SocketId id) const;
  base::Result<base::Endpoint> peer_endpoint(SocketId id) const;
  // --- Stream sockets (TCP, RFC 9293) -------------------------------------------
  /// listen(2): backlog is clamped to [1, somaxconn] as on Linux; EINVAL when
  /// connected, EOPNOTSUPP on a datagram socket. An unbound socket gets a port.
  Status listen(SocketId id, int backlog);
  /// accept(2) without blocking: the oldest connection of the accept queue (a new
  /// socket, already established), or would_block. EINVAL when not listening.
  base::Result<SocketId> accept(SocketId listener, base::Endpoint* peer);
  // connect() on a stream socket starts the handshake and returns in_progress
  // (EINPROGRESS); completion shows as POLLOUT, failure as POLLERR with SO_ERROR
  // (ECONNREFUSED, ETIMEDOUT, ...). A second connect() gives EALREADY while the
  // handshake runs and EISCONN once established. send_to()/recv_from() carry the
  // byte stream: send returns what fit in the send buffer (would_block when none
  // did), recv returns 0 at the end of the stream.

  /// TCP_INFO: the connection's internals (EOPNOTSUPP for a datagram socket; a
  /// socket with no connection reports CLOSE, or LISTEN).
  base::Result<tcp::Snapshot> tcp_info(SocketId id) const;

  /// TCP_CONGESTION: the algorithm by Linux's name ("cubic", "reno", "bbr"); no_entry
  /// (ENOENT) for a name not known, as Linux. On a connection it switches at once.
  Status set_congestion_control(SocketId id, std::string_view name);
  base::Result<std::string> get_congestion_control(SocketId id) const;

  /// SO_LINGER. With on and 0 seconds, close() resets the connection (RFC 9293 3.10.4 ABORT).
  Status set_linger(SocketId id, bool on, int seconds);
  base::Result<std::pair<bool, int>> get_linger(SocketId id);

  /// Integer-valued options (SOL_SOCKET, IPPROTO_IP, IPPROTO_TCP) as setsockopt() would set them.
  Status set_option(SocketId id, int level, int name, int value);
  base::Result<int> get_option(SocketId id, int level, int name);
  /// poll(2) events now true for the socket: POLLIN, POLLOUT, POLLERR, POLLHUP.
  short readiness(SocketId id) const;
  bool valid(SocketId id) const { return app_entry(id) != nullptr; }
  /// Sockets whose readiness may have changed since the last call.
  void take_changed(std::vector<SocketId>& out);

  const Counters& counters() const { return counters_; }
  /// The memory account: usage, peak, limits, pressure (docs/hardening.md).
  const base::MemoryAccount& memory() const { return memory_; }
  void set_memory_limits(base::MemoryLimits limits) { memory_.set_limits(limits); }
  /// Every socket and every connection still alive without one, for ss.
  std::vector<SocketInfo> socket_infos() const;
  /// Bytes of storage the TCP connections' send and receive rings hold now: they
  /// allocate on their first byte and give it back once drained (read, or
  /// acknowledged), so idle connections hold none. Walks every connection.
  std::size_t tcp_buffer_storage() const;
  /// One line per TCP connection (the socket pair and Connection::describe()).
  std::vector<std::string> tcp_describe() const;
  const base::Logger& logger() const { return config_.logger; }

 private:
  struct Interface;
  struct RawSocket {
    SocketId id = -1;
    std::uint8_t protocol = 0;
    base::Ipv4Addr local;                  // any: all
    std::optional<base::Ipv4Addr> peer;    // set by connect()
    bool header_included = false;          // IP_HDRINCL
    bool broadcast = false;
    udp::ReceiveQueue rx;
    int pending_error = 0;
  };
  struct TcpSocket {
    SocketId id = -1;
    base::Endpoint local;                  // port 0 until bound
    bool reuse_addr = false;
    /// Its options, shared with the stack's defaults until set (copy on write),
    /// and with its connection: option calls edit it and hand it to the connection.
    tcp::SharedConfig config;
    std::unique_ptr<tcp::Connection> conn; // from connect() or a listener's SYN
    bool listening = false;
    int backlog = 0;
    base::LazyDeque<SocketId> accept_queue;  // established, waiting for accept(); no memory while empty
    std::size_t syn_queue = 0;             // embryos in SYN-RECEIVED
    /// When this listener last sent a SYN cookie (Linux's stamp for
    /// tcp_synq_no_recent_overflow): ACKs are checked for cookies only soon after.
    std::optional<base::Instant> last_cookie_sent;
    SocketId listener = -1;                // an embryo's listener, until accept()
    bool linger = false;
    int linger_seconds = 0;
    int pending_error = 0;                 // from the connection, reported once
    bool bound() const { return local.port != 0; }
  };
  struct SocketEntry {
    int type = 0;
    int protocol = 0;
    std::size_t rcvbuf = 0;
    std::size_t sndbuf = 0;
    bool shut_rd = false;
    bool shut_wr = false;
    bool changed = false;  // already on changed_
    int ttl = -1;          // IP_TTL; -1: the default
    int tos = 0;           // IP_TOS
    std::variant<udp::Socket, RawSocket, TcpSocket> proto;
    int& pending_error();
    udp::ReceiveQueue& rx();
    const udp::ReceiveQueue& rx() const { return const_cast<SocketEntry*>(this)->rx(); }
    bool connected() const;
    /// SO_RCVBUF / SO_SNDBUF now: a TCP connection's buffers grow by auto-tuning
    /// (docs/buffers.md).
    std::size_t current_rcvbuf() const {
      const auto* t = std::get_if<TcpSocket>(&proto);
      return t && t->conn ? t->conn->rcvbuf() : rcvbuf;
    }
    std::size_t current_sndbuf() const {
      const auto* t = std::get_if<TcpSocket>(&proto);
      return t && t->conn ? t->conn->sndbuf() : sndbuf;
    }
  };
  struct Route {
    Interface* iface;
    base::Ipv4Addr next_hop;
    base::Ipv4Addr src;
    bool broadcast;  // limited or directed broadcast
  };

  // stack.cc: interfaces, link layer, ARP
  void receive_frame(Interface& iface, base::ByteSpan frame);
  void arp_input(Interface& iface, base::ByteSpan payload);
  void send_arp(Interface& iface, std::uint16_t op, base::MacAddr target_mac,
                base::Ipv4Addr target_ip, base::MacAddr eth_dst);
  void handle_arp_work(Interface& iface, ip::ArpWork& work);
  void link_output(Interface& iface, base::Ipv4Addr next_hop, bool broadcast, base::PacketBuf packet);
  void transmit(Interface& iface, base::ByteSpan frame);
  /// The frame in its own buffer, which the device may keep (Device::transmit_buf).
  void transmit(Interface& iface, base::PacketBuf&& frame);
  Interface* interface_by_id(InterfaceId id);
  Interface* interface_for_subnet(base::Ipv4Addr a);

  // ipv4.cc: input validation and dispatch, routing, output and fragmentation
  void ipv4_input(Interface& iface, base::ByteSpan packet, bool link_broadcast);
  void ipv4_deliver(Interface& iface, const wire::Ipv4View& ip, bool link_broadcast);
  base::Result<Route> route(base::Ipv4Addr dst, base::Ipv4Addr src_hint) const;
  bool is_broadcast_for(const Interface& iface, base::Ipv4Addr a) const;
  /// Sends payload (transport header and data, with headroom) in one or more
  /// datagrams. hdr.payload_len and fragmentation fields are filled here.
  Status ip_output(wire::Ipv4Repr hdr, base::PacketBuf payload, const Route& r);
  std::uint16_t next_ip_id() { return ip_id_++; }

  // icmp.cc
  void icmp_input(Interface& iface, const wire::Ipv4View& ip, bool broadcast);
  void icmp_error_input(const wire::Ipv4View& ip, std::uint8_t type, std::uint8_t code,
                        std::uint32_t rest, base::ByteSpan quoted);
  /// Sends an ICMP error about `offending` (RFC 1122 3.2.2 restrictions applied, rate-limited).
  void send_icmp_error(const wire::Ipv4View& offending, std::uint8_t type, std::uint8_t code,
                       bool link_broadcast, std::uint32_t rest = 0);
  /// The same for what is left of a datagram: a validated IPv4 header followed by
  /// at least the first bytes of its payload (a reassembly's first fragment prefix).
  void send_icmp_error(base::ByteSpan offending_prefix, std::uint8_t type, std::uint8_t code,
                       bool link_broadcast, std::uint32_t rest = 0);
  /// Reports an error about a datagram this host sent to the socket that sent it.
  void report_to_sender(base::ByteSpan original_datagram, int err);

  // udp.cc / raw.cc
  void udp_input(Interface& iface, const wire::Ipv4View& ip, bool broadcast);
  // tcp.cc
  void tcp_input(const wire::Ipv4View& ip, bool broadcast);
  void tcp_reset_closed(const wire::Ipv4View& ip, const wire::TcpRepr& seg, std::size_t payload_len);
  /// Sends what the connection queued and acts on its events. An embryo or an
  /// orphan may be freed here: callers do not touch `conn` after it.
  void tcp_after(tcp::Connection& conn);
  void tcp_after_inner(tcp::Connection& conn);
  /// Memory ran out for a connection's in-order data or for a send: every
  /// connection but `except` gives up its out-of-order data (docs/hardening.md).
  /// Returns the bytes freed.
  std::size_t tcp_reclaim_ooo(const tcp::Connection* except);
  void tcp_poll_timers();
  std::optional<base::Instant> tcp_next_deadline() const;
  TcpSocket* tcp_listener_for(base::Ipv4Addr local, std::uint16_t port);
  /// At StackConfig::tcp_max_connections.
  bool tcp_at_connection_limit() const { return tcp_demux_.size() >= config_.tcp_max_connections; }
  // tcp_listen.cc: a listener's SYN queue, SYN cookies, the accept queue.
  /// A SYN (no ACK, no RST) for listener `l`.
  void tcp_listen_syn(TcpSocket& l, const wire::Ipv4View& ip, const wire::TcpRepr& syn);
  /// An ACK for listener `l` with no connection: true if it carried a valid SYN
  /// cookie (a connection was made, or it was dropped and counted); false if the
  /// caller should answer it as any ACK to a listener (with a reset).
  bool tcp_cookie_ack(TcpSocket& l, const wire::Ipv4View& ip, const wire::TcpRepr& seg, base::ByteSpan payload);
  void tcp_send_cookie(TcpSocket& l, const Route& r, const wire::Ipv4View& ip, const wire::TcpRepr& syn);
  /// A socket and connection for an embryo of `listener_id`, counted in its SYN
  /// queue; null when no socket is free.
  tcp::Connection* tcp_new_embryo(SocketId listener_id, const base::Endpoint& local, const base::Endpoint& remote,
                                  tcp::Seq iss, std::uint32_t ts_offset, std::uint16_t mss);
  bool tcp_accept_queue_full(const tcp::Connection& embryo) const;
  bool tcp_port_conflict(const TcpSocket& s, base::IpAddr addr, std::uint16_t port) const;
  void tcp_demux_insert(tcp::Connection& c);
  void tcp_demux_erase(const tcp::Connection& c);
  base::Result<std::size_t> tcp_send(SocketEntry& e, TcpSocket& s, base::ByteSpan data, int flags);
  base::Result<Received> tcp_recv(SocketEntry& e, TcpSocket& s, base::MutByteSpan buf, int flags);
  Status tcp_connect(SocketEntry& e, TcpSocket& s, const base::Endpoint& peer);
  void tcp_close(SocketEntry& e, TcpSocket& s);
  short tcp_readiness(const SocketEntry& e, const TcpSocket& s) const;
  Status tcp_set_option(SocketEntry& e, TcpSocket& s, int level, int name, int value);
  base::Result<int> tcp_get_option(SocketEntry& e, TcpSocket& s, int level, int name);
  bool raw_input(const wire::Ipv4View& ip);
  base::Result<std::size_t> udp_send(SocketEntry& e, udp::Socket& s, base::ByteSpan data,
                                     const base::Endpoint* dest);
  base::Result<std::size_t> raw_send(SocketEntry& e, RawSocket& s, base::ByteSpan data,
                                     const base::Endpoint* dest);
  Status udp_autobind(udp::Socket& s);
  void notify(SocketEntry& e, SocketId id);

  SocketEntry* entry(SocketId id);
  const SocketEntry* entry(SocketId id) const;
  /// entry() as the socket calls see it: null for an embryo (a connection in a
  /// listener's SYN or accept queue), which holds an id that no application was
  /// given, as a Linux request socket has no descriptor. (Found by fuzzing:
  /// close() on an embryo's id freed the connection under its listener.)
  SocketEntry* app_entry(SocketId id);
  const SocketEntry* app_entry(SocketId id) const;
  /// Frees a socket entry and closes what it holds (close() without the check).
  void destroy(SocketId id);

  StackConfig config_;
  tcp::SharedConfig tcp_config_;  // config_.tcp, which new stream sockets share
  // Before everything that charges it (reassembler_, sockets_, connections), so
  // that it is destroyed after them.
  base::MemoryAccount memory_;
  /// The outbox an idle connection gave back (tcp_after_inner()), lent to the next
  /// connection that emits with an empty one: a flow that goes idle between
  /// bursts reuses it instead of growing a vector from nothing per burst, while
  /// idle connections hold no outbox capacity. Declared before the connections,
  /// which point to it.
  std::vector<tcp::OutSegment> spare_outbox_;
  /// Sockets whose send the memory account held back: woken when memory returns.
  std::vector<SocketId> mem_waiters_;
  void wake_memory_waiters();
  base::Random rng_;
  base::Instant now_{};
  base::Instant (*clock_)() = nullptr;  // set_clock
  std::vector<std::unique_ptr<Interface>> interfaces_;
  std::unique_ptr<link::Device> loopback_device_;
  Interface* loopback_ = nullptr;
  ip::RouteTable routes_;
  ip::Reassembler reassembler_;
  ip::TokenBucket icmp_limiter_;
  ip::SourceRateLimiter icmp_host_limiter_;   // per destination (Linux inetpeer rate_tokens)
  ip::SourceRateLimiter tcp_rst_limiter_;     // resets for segments of no connection, per destination
  ip::EphemeralPorts ports_;
  std::uint16_t ip_id_;
  Counters counters_;
  std::vector<std::unique_ptr<SocketEntry>> sockets_;  // SocketId indexes this
  std::vector<SocketId> free_ids_;
  std::vector<SocketId> changed_;
  std::vector<SocketId> raw_sockets_;
  udp::Table udp_table_;
  struct TupleKey {
    std::uint32_t local_addr, remote_addr;
    std::uint16_t local_port, remote_port;
    bool operator==(const TupleKey&) const = default;
  };
  struct TupleHash {
    std::size_t operator()(const TupleKey& k) const;
  };
  static TupleKey key_of(const tcp::Connection& c);
  tcp::IsnGenerator isn_;
  tcp::SynCookies syncookies_;
  std::unordered_map<TupleKey, tcp::Connection*, TupleHash> tcp_demux_;
  std::unordered_map<std::uint16_t, std::vector<SocketId>> tcp_listeners_;  // by local port
  std::unordered_map<std::uint16_t, std::vector<SocketId>> tcp_bound_;      // every bound TCP socket, by port
  std::unordered_map<std::uint16_t, std::size_t> tcp_port_users_;          // live connections per local port
  std::vector<std::unique_ptr<tcp::Connection>> tcp_orphans_;             // closed by the application, finishing
  using TcpTimers = std::set<std::pair<base::Instant, tcp::Connection*>>;
  TcpTimers tcp_timers_;  // each live connection by its next deadline
  // Nodes taken out of tcp_timers_, kept for the next filing: a deadline that
  // moves (every ACK re-arms the retransmission timer) or comes and goes costs
  // no allocation. At most kSpareTimerNodes.
  static constexpr std::size_t kSpareTimerNodes = 64;
  std::vector<TcpTimers::node_type> spare_timer_nodes_;
  std::vector<tcp::Connection*> tcp_due_;  // tcp_poll_timers()'s list, kept for its capacity
  void tcp_unfile(tcp::Connection& c);
  void tcp_refile(tcp::Connection& c);
  void tcp_icmp_error(base::Ipv4Addr local, std::uint16_t lport, base::Ipv4Addr remote, std::uint16_t rport,
                      std::uint32_t seq, int err);
  void tcp_path_mtu(base::ByteSpan quoted, std::uint32_t next_hop_mtu);
  std::vector<base::Byte> rx_buffer_;
  // The frame being received came from a device that vouches for its TCP/UDP
  // checksum (TAP offloads: partial or already verified). Set around one
  // receive_frame(); taken (and cleared) by tcp_input()/udp_input(), cleared for
  // fragments.
  bool rx_csum_trusted_ = false;
  /// While tcp_after() transmits a connection's segments, a packet that ARP gives
  /// up on at once (its neighbour entry already failed) is not reported to its
  /// connection there and then: the report could free that very connection (an
  /// embryo aborts) under the tcp_after() still sending for it. It waits here until
  /// the outermost tcp_after() has finished. (Found by the adversarial SYN flood:
  /// heap corruption in `ustack up`.)
  unsigned tcp_sending_depth_ = 0;
  std::vector<base::PacketBuf> deferred_unreachable_;
};

}  // namespace ustack::stack
