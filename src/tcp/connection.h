// One TCP connection (RFC 9293): the state machine, send and receive buffers,
// retransmission (RFC 6298), congestion control through tcp/cc.h (RFC 5681),
// loss recovery (SACK scoreboard RFC 6675, PRR RFC 6937, RACK-TLP RFC 8985,
// D-SACK RFC 2883, undo: connection_recovery.cc), window scaling, timestamps
// and PAWS (RFC 7323), SACK blocks (RFC 2018) and the RFC 5961 protections. Pure: it is told the time and hands
// the segments it wants sent to its owner through an outbox.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/addr.h"
#include "base/assembler.h"
#include "base/compact_optional.h"
#include "base/cow.h"
#include "base/memory.h"
#include "base/packet.h"
#include "base/ring_buffer.h"
#include "base/time.h"
#include "tcp/autotune.h"
#include "tcp/cc.h"
#include "tcp/prr.h"
#include "tcp/rack.h"
#include "tcp/rate.h"
#include "tcp/rtt.h"
#include "tcp/scoreboard.h"
#include "tcp/seq.h"
#include "wire/tcp.h"

namespace ustack::tcp {

enum class State {
  closed, listen, syn_sent, syn_received, established, fin_wait_1, fin_wait_2,
  close_wait, closing, last_ack, time_wait,
};
const char* to_string(State s);

struct Config {
  std::size_t rcvbuf = 131072;          // Linux tcp_rmem default; grows by auto-tuning (docs/buffers.md)
  std::size_t sndbuf = 16384 * 4;       // Linux tcp_wmem default is 16 KiB; grows with cwnd (docs/buffers.md)
  std::size_t rcvbuf_max = 6u << 20;    // auto-tuning's ceiling: Linux tcp_rmem[2]
  std::size_t sndbuf_max = 4u << 20;    // auto-sizing's ceiling: Linux tcp_wmem[2]
  bool rcvbuf_locked = false;           // SO_RCVBUF was set: no receive auto-tuning (Linux SOCK_RCVBUF_LOCK)
  bool sndbuf_locked = false;           // SO_SNDBUF was set: no send auto-sizing (Linux SOCK_SNDBUF_LOCK)
  std::uint8_t window_shift = 7;        // what we offer (Linux: 7, from tcp_rmem[2] = 6 MiB); caps the window at 65535 << shift
  bool sack = true;
  bool rack = true;                     // RACK loss detection with SACK (Linux net.ipv4.tcp_recovery=1); else RFC 6675 IsLost
  bool tlp = true;                      // tail loss probes (Linux net.ipv4.tcp_early_retrans=3)
  bool timestamps = true;
  bool window_scaling = true;
  bool nodelay = false;                 // TCP_NODELAY
  std::uint16_t user_mss = 0;           // TCP_MAXSEG; 0: from the route
  base::Duration msl = std::chrono::seconds(30);          // TIME-WAIT lasts 2*MSL (Linux: 60 s)
  base::Duration delayed_ack = std::chrono::milliseconds(40);  // Linux TCP_DELACK_MIN; RFC 9293: < 0.5 s
  base::Duration fin_wait_2_timeout = std::chrono::seconds(60);  // Linux tcp_fin_timeout (orphans)
  unsigned syn_retries = 6;             // Linux tcp_syn_retries
  unsigned synack_retries = 5;          // Linux tcp_synack_retries
  unsigned retries = 15;                // Linux tcp_retries2
  base::Duration user_timeout{0};       // TCP_USER_TIMEOUT: 0, or how long data may stay unacknowledged (R2, MUST-21)
  bool keepalive = false;               // SO_KEEPALIVE
  base::Duration keepalive_idle = std::chrono::seconds(7200);
  base::Duration keepalive_interval = std::chrono::seconds(75);
  unsigned keepalive_count = 9;
  std::uint32_t initial_cwnd_segments = 10;  // RFC 6928, Linux
  std::string congestion_control = "cubic";  // TCP_CONGESTION: "cubic" (Linux's default), "reno" or "bbr"
  /// Pace data segments at the algorithm's pacing_rate() (Linux: internal pacing,
  /// or the fq qdisc), in bursts of at most max(2 segments, 1 ms at the rate).
  bool pacing = true;
  /// Explicit Congestion Notification (RFC 3168), as Linux's net.ipv4.tcp_ecn:
  /// 0 off; 1 asked for on connections we open and accepted on those we accept;
  /// 2 (Linux's default) accepted when the peer asks, never asked for.
  int ecn = 2;
  int ip_ttl = -1;                      // IP_TTL; -1: the stack's default (MUST-49)
  int ip_tos = 0;                       // IP_TOS (MUST-47: the application may set it)
  RtoConfig rto;
};

/// A Config shared, copy on write, by the sockets and connections that have not
/// changed it (base/cow.h): one heap copy for all of a stack's defaults instead
/// of ~200 bytes in every socket and every connection.
using SharedConfig = base::Cow<Config>;

/// Counters in the manner of Linux's struct tcp_info.
struct Info {
  std::uint64_t segs_in = 0, segs_out = 0, data_segs_in = 0, data_segs_out = 0;
  std::uint64_t bytes_acked = 0, bytes_received = 0, bytes_sent = 0, bytes_retrans = 0;
  std::uint64_t retransmits_total = 0, fast_retransmits = 0, timeouts = 0;
  std::uint64_t dup_acks_in = 0, ooo_segments = 0, challenge_acks = 0, paws_drops = 0;
  std::uint64_t zero_window_probes = 0, keepalive_probes = 0;
  // Loss recovery (Linux's names where it has them: tcpi_dsack_dups, tcpi_reord_seen,
  // TCPSackRecovery, TCPLossProbes, TCPLossProbeRecovery, TCPSpuriousRTOs, TCPDSACKUndo).
  std::uint64_t sack_recoveries = 0, dsack_dups = 0, reord_seen = 0, sack_blocks_invalid = 0;
  std::uint64_t rack_marked_lost = 0, tlp_probes = 0, tlp_recoveries = 0, spurious_rtos = 0, dsack_undos = 0;
  // ECN (RFC 3168): data segments that arrived marked CE; windows reduced for an
  // ECN-Echo (Linux has no per-connection counters for these).
  std::uint64_t ecn_ce_in = 0, ecn_reductions = 0;
};

/// A connection's internals at one instant, in the units of Linux's struct
/// tcp_info (microseconds, segments), for TCP_INFO and for ss.
struct Snapshot {
  State state = State::closed;
  bool in_recovery = false;
  bool in_loss = false;            // RTO recovery (Linux TCP_CA_Loss)
  std::uint8_t retransmits = 0, backoff = 0;
  bool timestamps = false, sack = false, window_scaling = false;
  bool ecn = false, ecn_seen = false;  // TCPI_OPT_ECN, TCPI_OPT_ECN_SEEN (ss: "ecn", "ecnseen")
  std::uint8_t snd_wscale = 0, rcv_wscale = 0;
  std::uint32_t rto_us = 0, snd_mss = 0, rcv_mss = 0, unacked = 0, retrans = 0;
  std::uint32_t last_data_sent_ms = 0, last_data_recv_ms = 0, last_ack_recv_ms = 0;
  std::uint32_t rtt_us = 0, rttvar_us = 0, snd_ssthresh = 0, snd_cwnd = 0, advmss = 0;
  std::uint32_t snd_wnd = 0, rcv_wnd = 0, send_queued = 0, recv_queued = 0;
  std::uint32_t lost = 0, sacked = 0, reordering = 3;  // segments, as tcpi_lost, tcpi_sacked, tcpi_reordering
  std::string congestion_control;       // the algorithm's name (Linux INET_DIAG_CONG)
  std::uint64_t pacing_rate = 0;        // bytes per second (tcpi_pacing_rate); 0: none yet
  std::uint64_t delivery_rate = 0;   // bytes per second, the latest sample (tcpi_delivery_rate); 0: none yet
  Info info;
};

/// Receive-side refusals and reneging for memory since the owner last took them
/// (the stack's TcpExt counters; docs/hardening.md "Memory limits").
/// 32 bits: the owner takes them after every event (the stack's counters are 64).
struct MemDrops {
  std::uint32_t rcvq_drop = 0;     // in-order data refused: no memory even after pruning (Linux TCPRcvQDrop)
  std::uint32_t ofo_drop = 0;      // out-of-order data refused for memory (Linux TCPOFODrop)
  std::uint32_t ofo_ranges = 0;    // out-of-order data refused: every hole slot taken (ustack)
  std::uint32_t ofo_queue = 0;     // out-of-order segments kept (Linux TCPOFOQueue)
  std::uint32_t prune_called = 0;  // memory ran short for in-order data (Linux PruneCalled)
  std::uint32_t ofo_pruned = 0;    // ... and out-of-order data was given up for it (Linux OfoPruned)
  std::uint32_t ofo_pruned_bytes = 0;
  std::uint32_t rcv_pruned = 0;    // ... and even that was not enough (Linux RcvPruned)
};

/// What the connection reports to its owner after an event.
struct Events {
  bool established = false;   // the handshake completed
  bool readable = false;      // data or end of stream became readable
  bool writable = false;      // send space grew
  bool error = false;         // a socket error was set (reset, timeout)
  bool closed = false;        // the connection reached CLOSED and may be freed
};

/// A segment ready to leave: the TCP header and payload, and the ECN codepoint
/// its IP header is to carry (RFC 3168 5, wire::ip_ecn). Its checksum is partial
/// (wire::TcpRepr::emit): whoever sends it finishes it, or its device does.
struct OutSegment {
  base::PacketBuf packet;
  std::uint8_t ecn = 0;
};

class Connection {
 public:
  /// An active open: connect() sends a SYN.
  Connection(SharedConfig config, base::Endpoint local, base::Endpoint remote, Seq iss,
             std::uint16_t route_mss, std::uint32_t ts_offset);

  // --- Opening -----------------------------------------------------------------
  void connect(base::Instant now);
  /// A passive open from a SYN that a listener accepted: enters SYN-RECEIVED and
  /// sends the SYN-ACK (RFC 9293 3.10.7.2).
  void accept_syn(const wire::TcpRepr& syn, base::Instant now);
  /// A passive open rebuilt from a SYN cookie (tcp/syncookie.h): `syn` is the SYN
  /// as the cookie remembers it (sequence number, MSS, window scale, SACK, and the
  /// timestamp of the ACK that carried the cookie); our SYN-ACK (ISS, window
  /// `synack_window`) counts as sent. Enters SYN-RECEIVED without sending: the
  /// cookie's ACK, given to on_segment() next, completes the handshake.
  void accept_cookie(const wire::TcpRepr& syn, std::uint16_t synack_window, base::Instant now);

  // --- Events ----------------------------------------------------------------------
  /// RFC 9293 3.10.7: SEGMENT ARRIVES, for a segment of this connection.
  /// `ip_ecn` is the ECN field of the IP header that carried it (wire::ip_ecn).
  void on_segment(const wire::TcpRepr& seg, base::ByteSpan payload, base::Instant now, std::uint8_t ip_ecn = 0);
  /// An ICMP error about a segment of ours whose sequence number was `quoted`
  /// (RFC 9293 MUST-54; RFC 1122 4.2.3.9; RFC 5927). While opening, it aborts the
  /// connection with err; once synchronized it is a soft error, reported only if
  /// the connection later times out (as Linux's sk_err_soft).
  void on_icmp_error(int err, Seq quoted, base::Instant now);
  /// ICMP "fragmentation needed" with the next hop's MTU (RFC 1191 path MTU
  /// discovery; our segments carry DF): the MSS shrinks to fit and what is in
  /// flight is sent again at once, as Linux's tcp_v4_mtu_reduced does.
  void on_path_mtu(std::uint32_t next_hop_mtu, Seq quoted, base::Instant now);
  /// Fires what is due: retransmission, delayed ACK, persist, keepalive, TIME-WAIT.
  void on_timer(base::Instant now);
  std::optional<base::Instant> next_deadline() const;

  // --- User calls (RFC 9293 3.10.2 - 3.10.6) ---------------------------------------
  /// Queues data; returns how much fit (0: the buffer is full).
  std::size_t send(base::ByteSpan data, base::Instant now);
  /// Sends what may be sent now (after TCP_NODELAY is set, say).
  void push(base::Instant now) { output(now); }
  /// Copies received data out; with peek, leaves it.
  std::size_t receive(base::MutByteSpan out, bool peek, base::Instant now);
  /// No more data will be sent: a FIN follows what is queued (half-close).
  void shutdown_write(base::Instant now);
  /// The application will read no more (SHUT_RD): data that arrives is discarded.
  void shutdown_read() { read_closed_ = true; }
  /// close(): unread data or linger-zero resets (as Linux); otherwise FIN after the
  /// queued data, and the connection finishes on its own (orphaned).
  void close(bool linger_zero, base::Instant now);
  /// RFC 9293 3.10.5 ABORT: sends a RST when synchronized, and becomes CLOSED.
  void abort(base::Instant now);

  // --- State for the socket layer ------------------------------------------------
  State state() const { return state_; }
  const base::Endpoint& local() const { return local_; }
  const base::Endpoint& remote() const { return remote_; }
  bool synchronized() const;
  std::size_t readable_bytes() const { return rcv_buf_.size(); }
  /// The peer sent FIN and all data before it has been read.
  bool at_eof() const { return fin_received_ && rcv_buf_.empty(); }
  bool fin_received() const { return fin_received_; }
  /// Room to queue data now: the send buffer's free space, at most what the
  /// stack's memory account can still charge.
  std::size_t send_space() const;
  /// The send buffer's free space alone.
  std::size_t send_space_unlimited() const { return snd_buf_.free(); }
  /// The last send() queued less than the buffer had room for: the memory account
  /// refused. The owner wakes the sender when memory is given back.
  bool send_blocked_on_memory() const { return send_mem_blocked_; }
  /// Charge the bytes this connection holds (received and unread, out of order,
  /// queued to send) to the stack's account (docs/hardening.md). Call before any
  /// data moves; without it nothing is charged or refused.
  void set_memory(base::MemoryAccount* account);
  /// Bytes charged now: receive side (in order + out of order) and send side.
  std::size_t rcv_mem() const { return rcv_mem_.bytes(); }
  std::size_t snd_mem() const { return snd_mem_.bytes(); }
  /// Out-of-order data held: bytes and ranges (the ranges are at most
  /// ooo_range_limit(); the bytes, within SO_RCVBUF).
  std::size_t ooo_bytes() const { return ooo_.bytes(); }
  std::size_t ooo_ranges() const { return ooo_.ranges().size(); }
  /// Separate out-of-order ranges tracked at most: one per kOooBytesPerRange of
  /// receive buffer, at least kMinOooRanges. Linux has no count of its own: each
  /// out-of-order skb is charged its truesize (about 2 KiB for a 1448-byte
  /// segment) to sk_rcvbuf, so the buffer bounds the count in much the same way.
  /// A fixed 32 refused data on any fast path with 2% loss (a 4 MB window holds
  /// ~60 holes): the peer resent it up to 21 times (interop test 20).
  std::size_t ooo_range_limit() const;
  static constexpr std::size_t kMinOooRanges = 32;
  static constexpr std::size_t kOooBytesPerRange = 2048;
  MemDrops take_mem_drops() { return std::exchange(mem_drops_, MemDrops{}); }
  /// Gives up all out-of-order data (RFC 2018 8 allows a receiver to renege on
  /// SACKed data): the stack does this to other connections when in-order data
  /// found no memory. Returns the bytes given up (counted as OfoPruned).
  std::size_t prune_ooo();
  /// The buffers' sizes now (SO_RCVBUF, SO_SNDBUF): what the user set, or what
  /// auto-tuning has grown them to.
  std::size_t rcvbuf() const { return rcvbuf_; }
  std::size_t sndbuf() const { return sndbuf_; }
  /// Buffer storage held now: the rings allocate on their first byte and give
  /// it back once read or acknowledged, or kIdleRelease later for rings that
  /// auto-tuning made large (an idle connection holds none).
  std::size_t buffer_memory() const { return snd_buf_.allocated() + rcv_buf_.allocated(); }
  /// How long a drained ring past RingBuffer::kReleaseMax is kept (Linux frees
  /// each skb once read or acknowledged; a ring is one allocation, reused while
  /// the flow is busy).
  static constexpr base::Duration kIdleRelease = std::chrono::seconds(1);
  /// SO_RCVBUF / SO_SNDBUF on an open connection: the size is the user's from now
  /// on (auto-tuning stops, Linux SOCK_*BUF_LOCK). A buffer grows at once; it
  /// never shrinks below what it holds.
  void set_rcvbuf(std::size_t bytes);
  void set_sndbuf(std::size_t bytes);
  std::size_t send_queued() const { return snd_buf_.size(); }
  bool write_closed() const { return fin_queued_; }
  /// errno to report once (ECONNRESET, ECONNREFUSED, ETIMEDOUT, EPIPE...); 0 if none.
  int take_error();
  int peek_error() const { return error_; }
  /// The connection was reset or timed out (sends give EPIPE, receives 0/error).
  bool dead() const { return dead_; }
  Events take_events();
  /// The handshake completed at some time (a socket that was connected cannot
  /// connect again, as Linux's: EISCONN even after a reset).
  bool was_established() const { return was_established_; }
  /// Segments retransmitted since the last call (for the stack's TcpRetransSegs).
  std::uint64_t take_retransmits() { return std::exchange(unreported_retransmits_, 0); }
  std::uint16_t mss() const { return snd_mss_; }
  const Info& info() const { return info_; }
  const RttEstimator& rtt() const { return rtt_; }
  std::uint32_t cwnd() const { return cc_->cwnd(); }
  std::uint32_t ssthresh() const { return cc_->ssthresh(); }
  /// The congestion-control algorithm's name (TCP_CONGESTION).
  const char* congestion_control() const { return cc_->name(); }
  /// TCP_CONGESTION: switches algorithm, keeping the window (as Linux); false if
  /// the name is unknown.
  bool set_congestion_control(std::string_view name, base::Instant now);
  std::uint32_t snd_wnd() const { return snd_wnd_; }
  std::uint32_t rcv_wnd() const;
  /// Send sequence variables (RFC 9293 3.3.1), for traces and diagnostics.
  Seq iss() const { return iss_; }
  Seq snd_una() const { return snd_una_; }
  Seq snd_nxt() const { return snd_nxt_; }
  /// Bytes sent and not yet acknowledged (SND.NXT - SND.UNA).
  std::uint32_t bytes_in_flight() const { return flight_size(); }
  bool in_recovery() const { return in_recovery_; }
  /// RFC 6191: may a SYN for this connection's pair, now in TIME-WAIT, open a new
  /// incarnation? Yes when its timestamp is newer than TS.Recent, or (without
  /// timestamps) when its sequence number is beyond RCV.NXT.
  bool syn_may_reuse(const wire::TcpRepr& syn) const;
  Snapshot snapshot(base::Instant now) const;
  /// One line of internals (sequence variables, windows, timers), for diagnostics.
  std::string describe(base::Instant now) const;
  /// The options (as the connection began, or as set_config() last gave them;
  /// rcvbuf and sndbuf there are the initial sizes: rcvbuf() and sndbuf() say
  /// what they are now).
  const Config& config() const { return *config_; }
  const SharedConfig& shared_config() const { return config_; }
  /// Options changed on the socket (TCP_NODELAY, keep-alive, IP_TTL, ...): read
  /// from now on. The buffer sizes and the congestion control in use stay the
  /// connection's (set_rcvbuf(), set_sndbuf(), set_congestion_control()).
  void set_config(SharedConfig config) { config_ = std::move(config); }

  /// Segments ready to send (TCP header and payload, checksummed for local/remote).
  std::vector<OutSegment>& outbox() { return outbox_; }
  /// The owner's spare outbox: an outbox with no capacity (its owner took it back
  /// when the connection went idle) swaps with it before its first segment, so
  /// that a burst after idling does not grow a vector from nothing, segment by
  /// segment. The swap leaves the spare empty: no two connections ever hold one
  /// vector, however sends nest. Null: none (the outbox grows by itself).
  void set_outbox_spare(std::vector<OutSegment>* spare) { outbox_spare_ = spare; }
  /// ECN was negotiated (RFC 3168 6.1.1).
  bool ecn_ok() const { return ecn_ok_; }

  /// The owner's handle (the stack's socket id; -1 once orphaned by close()).
  std::int32_t owner = -1;
  /// Where the owner has filed this connection in its timer queue (owner-managed).
  base::OptInstant filed_deadline;

 private:
  // connection_input.cc
  bool acceptable(const wire::TcpRepr& seg, std::size_t len) const;
  void on_syn_sent(const wire::TcpRepr& seg, base::ByteSpan payload, base::Instant now);
  bool process_ack(const wire::TcpRepr& seg, std::size_t len, base::Instant now);
  void process_data(const wire::TcpRepr& seg, base::ByteSpan payload, base::Instant now);
  void process_fin(base::Instant now);
  void update_timestamps(const wire::TcpRepr& seg, std::size_t len);
  void negotiate(const wire::TcpRepr& syn);
  void enter_time_wait(base::Instant now);
  void reset_by_peer(int err);

  // connection_output.cc
  void output(base::Instant now);
  void emit(std::uint8_t flags, Seq seq, std::size_t offset, std::size_t len, base::Instant now);
  void send_ack(base::Instant now);
  void send_challenge_ack(base::Instant now);
  void send_rst(Seq seq);
  /// Appends to the outbox, borrowing the owner's spare first if it has no capacity.
  void push_out(OutSegment seg);
  void retransmit_first(base::Instant now);
  void on_retransmit_timeout(base::Instant now);
  void arm_retransmit(base::Instant now);

  // connection_recovery.cc: which segments are lost, which are sent again, and
  // how many per ACK (RFC 6675, RFC 6937, RFC 8985, RFC 2883, RFC 3522).
  /// After SND.UNA moved from prior_una (or a duplicate ACK): the scoreboard,
  /// RACK, undo, TLP and recovery states.
  void recovery_on_ack(const wire::TcpRepr& seg, Seq prior_una, bool dupack, base::Instant now);
  void enter_fast_recovery(base::Instant now);
  void exit_fast_recovery(base::Instant now);
  /// RTO: RFC 8985 6.3 marking, the loss window; the caller retransmits the first.
  void enter_loss_recovery(base::Instant now);
  /// Undo a reduction found spurious (RFC 3522 Eifel; RFC 2883 D-SACK).
  void undo_recovery(base::Instant now);
  /// Sends [start, end) again, at most one MSS of it; returns the sequence space sent.
  std::uint32_t retransmit(Seq start, Seq end, base::Instant now);
  /// Sends the lost segments (NextSeg rule 1) while the window or PRR allows.
  bool send_lost(base::Instant now);
  /// What may be sent now beyond what is in flight: cwnd less pipe (in fast
  /// recovery PRR has set cwnd to pipe + sndcnt).
  std::uint32_t send_room() const;
  /// RFC 6675 pipe: bytes in flight (without SACK, less the duplicate ACKs seen).
  std::uint32_t in_flight() const;
  void on_sent_new(Seq start, Seq end, base::Instant now);
  void arm_tlp(base::Instant now);
  bool tlp_allowed() const;
  void send_loss_probe(base::Instant now);
  void on_rack_timer(base::Instant now);
  bool rack_enabled() const { return sack_ok_ && config_->rack; }
  void schedule_ack(bool quick, base::Instant now);
  std::uint16_t window_to_advertise();
  std::uint32_t ts_now(base::Instant now) const;
  std::uint32_t flight_size() const { return static_cast<std::uint32_t>(snd_nxt_ - snd_una_); }
  /// Bytes of data queued but not yet sent.
  std::size_t unsent() const;
  void enter_closed();
  /// Buffers are allocated when the connection is established (a SYN costs none)
  /// and given back when an orphan no longer needs them.
  void allocate_buffers();
  void release_buffers_if_orphan();
  /// After a read or an ACK: rings with nothing left in them give their storage
  /// back, the large ones when still empty kIdleRelease later.
  void release_drained(base::Instant now);
  base::OptInstant idle_release_deadline_;
  // connection_buffers.cc: auto-tuning (docs/buffers.md).
  /// After the application read: Linux tcp_rcv_space_adjust.
  void tune_rcvbuf(base::Instant now);
  /// A data segment arrived (in order or not): the receiver's RTT.
  void measure_rcv_rtt(const wire::TcpRepr& seg, std::size_t len, base::Instant now);
  /// After an ACK freed send space: Linux tcp_sndbuf_expand.
  void tune_sndbuf();
  bool fin_sent() const { return fin_queued_ && snd_nxt_ > fin_seq_; }
  /// Our FIN has gone out at least once (SND.MAX passed it).
  bool fin_sent_before() const { return fin_queued_ && snd_max_ > fin_seq_; }
  /// The sequence number of data byte 0 of snd_buf_.
  /// The sequence number of the send buffer's first byte: ISS+1 until our SYN is
  /// acknowledged, then SND.UNA. Decided by the state, not by SND.UNA > ISS:
  /// sequence numbers compare modulo 2^32, so once 2^31 bytes were acknowledged
  /// SND.UNA is no longer "after" ISS, and the buffer offsets (and the data sent)
  /// went wrong: duplicated bytes and a stalled connection past 2 GiB.
  Seq data_start() const {
    const bool syn_unacked = state_ == State::syn_sent || state_ == State::syn_received ||
                             state_ == State::listen || (state_ == State::closed && snd_una_ == iss_);
    return syn_unacked ? iss_ + 1 : snd_una_;
  }
  /// Data bytes a segment may carry now: the MSS less the options it will carry
  /// (RFC 9293 3.7.1: "the TCP option length ... must be subtracted"; Linux
  /// tcp_current_mss): timestamps, and SACK blocks while data is out of order.
  std::uint16_t effective_mss() const;
  /// SMSS for congestion control (RFC 5681): the MSS less the options every segment carries.
  std::uint32_t smss() const { return snd_mss_ - (ts_ok_ ? 12u : 0u); }
  std::size_t sack_blocks_to_send() const;

  SharedConfig config_;
  // The buffers' sizes now (SO_RCVBUF, SO_SNDBUF, auto-tuning) and whether the
  // user fixed them: the connection's own, not the shared config's.
  std::size_t rcvbuf_ = 0, sndbuf_ = 0;
  bool rcvbuf_locked_ = false, sndbuf_locked_ = false;
  base::Endpoint local_, remote_;
  State state_ = State::closed;

  // Send sequence space (RFC 9293 3.3.1).
  Seq iss_, snd_una_, snd_nxt_, snd_max_, snd_wl1_, snd_wl2_;
  std::uint32_t snd_wnd_ = 0;
  std::uint32_t max_snd_wnd_ = 0;
  std::uint8_t snd_shift_ = 0;       // the peer's window scale
  std::uint16_t snd_mss_ = 536;      // RFC 9293 3.7.1 default
  std::uint16_t route_mss_;
  base::RingBuffer snd_buf_;         // bytes from snd_una (data only)
  bool fin_queued_ = false;          // user asked for FIN
  Seq fin_seq_;                      // its sequence number, fixed when queued
  bool fin_acked_ = false;

  // Receive sequence space.
  Seq irs_, rcv_nxt_;
  Seq rcv_adv_;                      // right edge advertised
  std::uint8_t rcv_shift_ = 0;       // our window scale, once agreed
  base::RingBuffer rcv_buf_;
  base::Assembler ooo_{kMinOooRanges};
  // Memory charged to the stack's account (docs/hardening.md): the receive side
  // holds rcv_buf_.size() + ooo_.bytes(), the send side snd_buf_.size().
  base::MemCharge rcv_mem_, snd_mem_;
  bool send_mem_blocked_ = false;
  MemDrops mem_drops_;
  /// Charges `len` more receive bytes for data at `offset` past RCV.NXT; for
  /// in-order data, gives up out-of-order data first when memory is short.
  bool charge_receive(std::size_t offset, std::size_t len);
  /// After data moved: the receive charge becomes exactly what is held.
  void settle_receive_charge() { rcv_mem_.set(rcv_buf_.size() + ooo_.bytes()); }
  RcvRtt rcv_rtt_;                   // the receiver's RTT estimate (auto-tuning)
  RcvSpace rcvq_space_;              // bytes read per RTT (auto-tuning)
  std::uint64_t copied_ = 0;         // bytes the application has read
  bool fin_received_ = false;
  std::optional<Seq> ooo_fin_;       // a FIN seen beyond a hole
  bool read_closed_ = false;

  // Options agreed.
  bool sack_ok_ = false;
  bool ts_ok_ = false;
  bool from_cookie_ = false;         // rebuilt from a SYN cookie: its ACK gives no RTT sample
  std::uint32_t ts_offset_;
  std::uint32_t ts_recent_ = 0;
  Seq last_ack_sent_;

  // Retransmission and congestion control.
  RttEstimator rtt_;
  base::OptInstant retransmit_deadline_;
  unsigned retries_ = 0;
  base::OptInstant retrans_stamp_;  // when SND.UNA was first retransmitted
  std::optional<std::pair<Seq, base::Instant>> rtt_probe_;  // timing one segment (no TS)
  std::unique_ptr<CongestionControl> cc_;  // owns cwnd and ssthresh
  // Was the window what limited sending? As Linux's tcp_cwnd_validate: the most
  // in flight over the last window of data, and whether cwnd held data back then.
  bool cwnd_blocked_ = false;        // in this output(), data waited for cwnd (not the peer's window)
  bool cwnd_limited_ = false;
  std::uint32_t max_flight_ = 0;
  Seq cwnd_usage_seq_;
  void note_cwnd_usage();
  bool is_cwnd_limited() const;

  // Pacing (connection_pacing.cc): release_ is when every paced byte so far
  // would have left at the pacing rate; a segment may go while it is no more
  // than one burst ahead of now.
  base::OptInstant pacing_release_;
  base::OptInstant pacing_deadline_;  // output() waits for pacing until then
  /// May a data segment leave now? If not, pacing_deadline_ says when.
  bool pacing_allows(base::Instant now);
  /// A data segment of `len` bytes left (new or retransmitted): the release time moves.
  void paced(std::size_t len, base::Instant now);
  std::uint64_t current_pacing_rate() const;
  unsigned dup_acks_ = 0;
  bool in_recovery_ = false;
  Seq recover_;
  Scoreboard board_;                 // what is in flight (RFC 6675)
  Rack rack_;                        // RFC 8985
  DeliveryRate rate_;                // delivery-rate samples (tcpi_delivery_rate)
  Prr prr_;                          // RFC 6937
  bool loss_recovery_ = false;       // after an RTO until SND.UNA passes recover_ (Linux TCP_CA_Loss)
  base::OptInstant rack_deadline_;  // RACK reordering timer (RFC 8985 6.2 step 5)
  base::OptInstant tlp_deadline_;   // probe timeout (RFC 8985 7.2)
  std::optional<Seq> tlp_end_;       // TLP.end_seq: a probe is out
  bool tlp_is_retrans_ = false;
  bool tlp_new_data_ = false;        // output() may send one new segment past cwnd (the probe)
  bool tlp_rearm_ = false;           // new data sent or acknowledged: restart the PTO
  // Undo (RFC 3522, RFC 2883; Linux tp->undo_marker, undo_retrans, prior_cwnd).
  std::optional<Seq> undo_marker_;
  int undo_retrans_ = 0;             // retransmissions of the episode not yet D-SACKed
  bool undo_any_retrans_ = false;
  std::optional<std::uint32_t> retrans_tsval_;  // TSval of the episode's first retransmission

  // ECN (RFC 3168; connection_ecn.cc), with Linux's names for the states.
  bool ecn_ok_ = false;              // negotiated (TCP_ECN_OK)
  bool ecn_requested_ = false;       // our SYN is an ECN-setup SYN
  bool ecn_seen_ = false;            // a segment arrived with ECT or CE (TCP_ECN_SEEN)
  bool ecn_demand_cwr_ = false;      // CE arrived: ECE on what we send until a CWR (TCP_ECN_DEMAND_CWR)
  bool ecn_queue_cwr_ = false;       // the window fell for an ECE: CWR on the next new data (TCP_ECN_QUEUE_CWR)
  std::optional<Seq> cwr_high_;      // that reduction holds until SND.UNA passes this (TCP_CA_CWR's high_seq)
  /// The flags ECN adds to a segment of ours with `flags`.
  std::uint8_t ecn_flags(std::uint8_t flags) const;
  /// The ECN codepoint for a segment: ECT(0) on new data only.
  std::uint8_t ecn_codepoint(std::uint8_t flags, Seq seq, std::size_t len) const;
  /// The SYN or SYN-ACK from the peer: was ECN agreed?
  void ecn_negotiate(const wire::TcpRepr& syn, bool answering);
  /// An acceptable segment arrived: CWR and CE (the receiver's part, RFC 3168 6.1.3).
  void ecn_on_receive(const wire::TcpRepr& seg, std::size_t payload_len, std::uint8_t ip_ecn);
  /// An ACK arrived (after SND.UNA moved): ECE (the sender's part, 6.1.2). True
  /// while a reduction for ECE holds (no window growth).
  bool ecn_on_ack(const wire::TcpRepr& seg, base::Instant now);

  // Acknowledgments.
  base::OptInstant delack_deadline_;
  unsigned segs_since_ack_ = 0;
  bool ack_now_ = false;
  unsigned quick_acks_ = 16;         // ACK at once at the start of a connection (as Linux)
  bool was_established_ = false;
  bool ack_pushed_ = false;          // a full-sized PSH segment awaits its ACK (Linux ICSK_ACK_PUSHED)
  std::uint32_t rcv_mss_ = 536;      // the peer's segment size as seen (Linux icsk_ack.rcv_mss)

  // Other timers.
  base::OptInstant persist_deadline_;
  unsigned persist_backoff_ = 0;
  unsigned persist_unanswered_ = 0;
  bool force_send_ = false;          // the override timeout fired (RFC 9293 3.8.6.2.1 (d))
  Seq snd_sml_;                      // end of the last sub-MSS segment sent (Minshall's Nagle)
  // SACK blocks to send. RFC 2018 4: the first names the block holding the segment
  // that triggered the ACK; the others SHOULD repeat "the most recently reported
  // SACK blocks", so that each is reported in several ACKs and survives one lost.
  static constexpr std::size_t kSackRecent = 4;
  std::array<Seq, kSackRecent> sack_recent_{};  // out-of-order arrivals, the most recent first
  std::size_t sack_recent_n_ = 0;
  std::optional<wire::SackBlock> dsack_;  // RFC 2883: a duplicate, reported once in the next ACK
  void note_sack_trigger(Seq seq);
  /// A duplicate [start, end) arrived: report it in the next ACK (RFC 2883 4).
  void note_duplicate(Seq start, Seq end);
  /// Writes the SACK blocks of the next ACK, at most out.size(); returns how many.
  std::size_t fill_sack_blocks(std::span<wire::SackBlock> out) const;
  base::OptInstant keepalive_deadline_;
  /// When the next keep-alive probe is due; none while data is outstanding.
  std::optional<base::Instant> keepalive_due() const;
  unsigned keepalive_sent_ = 0;
  base::OptInstant time_wait_deadline_;
  base::OptInstant fin_wait_2_deadline_;
  base::Instant last_received_{};
  base::Instant last_data_sent_{};
  base::Instant last_data_received_{};
  base::OptInstant challenge_window_start_;
  unsigned challenge_acks_in_window_ = 0;

  std::uint64_t unreported_retransmits_ = 0;
  int soft_error_ = 0;
  int error_ = 0;
  bool dead_ = false;
  bool orphan_ = false;
  Events events_;
  Info info_;
  std::vector<OutSegment> outbox_;
  std::vector<OutSegment>* outbox_spare_ = nullptr;
};

}  // namespace ustack::tcp
