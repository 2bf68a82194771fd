// Sending (RFC 9293 3.8.6: windows, Nagle and silly-window avoidance), timers
// (RFC 6298 retransmission, persist, keepalive, TIME-WAIT) and the user calls.
#include "tcp/connection.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace ustack::tcp {

namespace flag = wire::tcp_flag;

const char* to_string(State s) {
  switch (s) {
    case State::closed: return "CLOSED";
    case State::listen: return "LISTEN";
    case State::syn_sent: return "SYN-SENT";
    case State::syn_received: return "SYN-RECEIVED";
    case State::established: return "ESTABLISHED";
    case State::fin_wait_1: return "FIN-WAIT-1";
    case State::fin_wait_2: return "FIN-WAIT-2";
    case State::close_wait: return "CLOSE-WAIT";
    case State::closing: return "CLOSING";
    case State::last_ack: return "LAST-ACK";
    case State::time_wait: return "TIME-WAIT";
  }
  return "?";
}

Connection::Connection(SharedConfig config, base::Endpoint local, base::Endpoint remote, Seq iss,
                       std::uint16_t route_mss, std::uint32_t ts_offset)
    : config_(std::move(config)),
      local_(local),
      remote_(remote),
      iss_(iss),
      snd_una_(iss),
      snd_nxt_(iss),
      snd_max_(iss),
      route_mss_(route_mss),
      snd_buf_(0),
      rcv_buf_(0),
      ts_offset_(ts_offset),
      rtt_(config_->rto),
      recover_(iss) {
  snd_sml_ = iss;
  cwnd_usage_seq_ = iss;
  rcvbuf_ = config_->rcvbuf;
  sndbuf_ = config_->sndbuf;
  rcvbuf_locked_ = config_->rcvbuf_locked;
  sndbuf_locked_ = config_->sndbuf_locked;
  cc_ = make_congestion_control(config_->congestion_control);
  if (!cc_) cc_ = make_congestion_control("reno");  // the socket layer refuses unknown names
  cc_->seed(iss_.value() ^ ts_offset_);
}

bool Connection::set_congestion_control(std::string_view name, base::Instant now) {
  auto next = make_congestion_control(name);
  if (!next) return false;
  if (config_->congestion_control != name) config_.edit().congestion_control = std::string(name);
  next->seed(iss_.value() ^ ts_offset_);
  if (cc_->cwnd() > 0) next->adopt(cc_->cwnd(), cc_->ssthresh(), smss(), now);
  cc_ = std::move(next);
  return true;
}

Snapshot Connection::snapshot(base::Instant now) const {
  Snapshot s;
  auto us = [](base::Duration d) { return static_cast<std::uint32_t>(std::max<std::int64_t>(0, base::to_micros(d))); };
  auto ago = [&](base::Instant t) { return static_cast<std::uint32_t>(std::max<std::int64_t>(0, base::to_millis(now - t))); };
  s.state = state_;
  s.in_recovery = in_recovery_;
  s.in_loss = loss_recovery_;
  s.retransmits = static_cast<std::uint8_t>(std::min(retries_, 255u));
  s.backoff = static_cast<std::uint8_t>(std::min(rtt_.backoffs(), 255u));
  s.timestamps = ts_ok_;
  s.sack = sack_ok_;
  s.window_scaling = rcv_shift_ || snd_shift_;
  s.ecn = ecn_ok_;
  s.ecn_seen = ecn_seen_;
  s.snd_wscale = snd_shift_;
  s.rcv_wscale = rcv_shift_;
  s.rto_us = us(rtt_.rto());
  s.snd_mss = effective_mss();
  s.rcv_mss = snd_mss_;
  const std::uint32_t mss = std::max<std::uint32_t>(smss(), 1);
  s.unacked = (flight_size() + mss - 1) / mss;
  // tcpi_retrans, tcpi_lost, tcpi_sacked: segments retransmitted and still out,
  // deemed lost, SACKed (Linux retrans_out, lost_out, sacked_out).
  s.retrans = board_.retransmitted_segments();
  s.lost = (board_.lost_bytes() + mss - 1) / mss;
  s.sacked = (board_.sacked_bytes() + mss - 1) / mss;
  s.reordering = rack_.reordering();
  s.delivery_rate = rate_.rate_bytes_per_sec();
  s.last_data_sent_ms = ago(last_data_sent_);
  s.last_data_recv_ms = ago(last_data_received_);
  s.last_ack_recv_ms = ago(last_received_);
  s.rtt_us = rtt_.srtt() ? us(*rtt_.srtt()) : 0;
  s.rttvar_us = rtt_.rttvar() ? us(*rtt_.rttvar()) : 0;
  s.snd_ssthresh = ssthresh() == kInfiniteSsthresh ? 0x7fffffffu : ssthresh() / mss;  // Linux: TCP_INFINITE_SSTHRESH
  s.snd_cwnd = cwnd() / mss;
  s.advmss = route_mss_;
  s.snd_wnd = snd_wnd_;
  s.rcv_wnd = rcv_wnd();
  s.send_queued = static_cast<std::uint32_t>(snd_buf_.size());
  s.recv_queued = static_cast<std::uint32_t>(rcv_buf_.size());
  s.congestion_control = cc_->name();
  s.pacing_rate = current_pacing_rate();
  s.info = info_;
  return s;
}

std::string Connection::describe(base::Instant now) const {
  auto ms = [&](const std::optional<base::Instant>& t) {
    return t ? std::to_string(base::to_millis(*t - now)) + "ms" : std::string("-");
  };
  return std::string(to_string(state_)) + " una=" + std::to_string(snd_una_ - iss_) +
         " nxt=" + std::to_string(snd_nxt_ - iss_) + " max=" + std::to_string(snd_max_ - iss_) +
         " sndbuf=" + std::to_string(snd_buf_.size()) + " snd_wnd=" + std::to_string(snd_wnd_) +
         " cwnd=" + std::to_string(cwnd()) + " ssthresh=" + std::to_string(ssthresh()) +
         " rcv_nxt=" + std::to_string(rcv_nxt_ - irs_) + " rcv_wnd=" + std::to_string(rcv_wnd()) +
         " rcvbuf=" + std::to_string(rcv_buf_.size()) + " ooo=" + std::to_string(ooo_.ranges().size()) +
         " rto=" + ms(retransmit_deadline_) + " persist=" + ms(persist_deadline_) +
         " delack=" + ms(delack_deadline_) + " recovery=" + std::to_string(in_recovery_) +
         " loss=" + std::to_string(loss_recovery_) + " pipe=" + std::to_string(in_flight()) +
         " sacked=" + std::to_string(board_.sacked_bytes()) + " lost=" + std::to_string(board_.lost_bytes()) +
         " rack=" + ms(rack_deadline_) + " tlp=" + ms(tlp_deadline_) +
         " dupacks=" + std::to_string(dup_acks_) + " retries=" + std::to_string(retries_) +
         " fin_queued=" + std::to_string(fin_queued_) + " ack_now=" + std::to_string(ack_now_);
}

bool Connection::synchronized() const {
  return state_ != State::closed && state_ != State::listen && state_ != State::syn_sent &&
         state_ != State::syn_received;
}

int Connection::take_error() { return std::exchange(error_, 0); }

Events Connection::take_events() { return std::exchange(events_, Events{}); }

std::uint32_t Connection::ts_now(base::Instant now) const {
  // RFC 7323 5.4: a clock of 1 ms, offset per connection (7.1) so that it tells
  // nothing of the host's uptime.
  return static_cast<std::uint32_t>(base::to_millis(now.time_since_epoch())) + ts_offset_;
}

std::size_t Connection::sack_blocks_to_send() const {
  if (!sack_ok_ || (ooo_.empty() && !dsack_)) return 0;
  return std::min<std::size_t>(ooo_.ranges().size() + (dsack_ ? 1 : 0), ts_ok_ ? 3 : 4);  // 40 bytes of options at most
}

void Connection::note_sack_trigger(Seq seq) {
  std::size_t n = std::min(sack_recent_n_, kSackRecent - 1);
  for (std::size_t i = n; i > 0; --i) sack_recent_[i] = sack_recent_[i - 1];
  sack_recent_[0] = seq;
  sack_recent_n_ = n + 1;
}

void Connection::note_duplicate(Seq start, Seq end) {
  // RFC 2883 4: "If the D-SACK block reports a duplicate contiguous sequence from
  // a (possibly larger) block of data in the receiver's data queue above the
  // cumulative acknowledgement, then the second SACK block in that SACK option
  // should specify that (possibly larger) block of data" (note_sack_trigger()
  // puts it second). Linux sends them (tcp_dsack_set); a sender learns from them
  // that a retransmission was spurious: it undoes the reduction and widens its
  // reordering window (RFC 8985 6.2).
  if (sack_ok_ && config_->sack && end > start) dsack_ = wire::SackBlock{start.value(), end.value()};
}

std::size_t Connection::fill_sack_blocks(std::span<wire::SackBlock> out) const {
  // Built on every ACK while data is out of order: no allocation, and the range
  // holding a recent arrival is found by binary search.
  std::size_t n = 0;
  if (dsack_ && n < out.size()) out[n++] = *dsack_;
  const auto& ranges = ooo_.ranges();
  auto block = [&](std::size_t i) {
    return wire::SackBlock{(rcv_nxt_ + static_cast<std::uint32_t>(ranges[i].first)).value(),
                           (rcv_nxt_ + static_cast<std::uint32_t>(ranges[i].second)).value()};
  };
  std::array<std::size_t, kSackRecent> taken{};
  std::size_t n_taken = 0;
  // RFC 2018 4: the block of the segment that triggered this ACK, then those of the
  // arrivals before it, most recent first; then the rest, lowest first.
  for (std::size_t r = 0; r < sack_recent_n_ && n < out.size(); ++r) {
    if (sack_recent_[r] < rcv_nxt_) continue;  // in order by now
    const auto off = static_cast<std::size_t>(sack_recent_[r] - rcv_nxt_);
    const auto it = std::lower_bound(ranges.begin(), ranges.end(), off,
                                     [](const auto& range, std::size_t v) { return range.second <= v; });
    if (it == ranges.end() || it->first > off) continue;
    const auto i = static_cast<std::size_t>(it - ranges.begin());
    if (std::find(taken.begin(), taken.begin() + n_taken, i) != taken.begin() + n_taken) continue;
    taken[n_taken++] = i;
    out[n++] = block(i);
  }
  for (std::size_t i = 0; i < ranges.size() && n < out.size(); ++i)
    if (std::find(taken.begin(), taken.begin() + n_taken, i) == taken.begin() + n_taken) out[n++] = block(i);
  return n;
}

std::uint16_t Connection::effective_mss() const {
  std::size_t options = ts_ok_ ? 12 : 0;  // NOP NOP TS
  if (const std::size_t n = sack_blocks_to_send()) options += 4 + 8 * n;  // NOP NOP SACK
  return static_cast<std::uint16_t>(snd_mss_ > options + 64 ? snd_mss_ - options : 64);
}

std::size_t Connection::unsent() const {
  const Seq start = data_start();
  const auto sent = snd_nxt_ > start ? static_cast<std::size_t>(snd_nxt_ - start) : 0;
  return sent >= snd_buf_.size() ? 0 : snd_buf_.size() - sent;
}

std::uint32_t Connection::rcv_wnd() const {
  return rcv_adv_ > rcv_nxt_ ? static_cast<std::uint32_t>(rcv_adv_ - rcv_nxt_) : 0;
}

std::uint16_t Connection::window_to_advertise() {
  // The free space, less what out-of-order data already holds at its far end
  // (write_at() keeps that in the free space).
  if (rcv_buf_.capacity() == 0) {
    // No buffer yet (SYN-RECEIVED) or any more (an orphan in TIME-WAIT): offer the
    // configured buffer before, and repeat the last window after.
    const std::size_t w = synchronized() ? rcv_wnd() : rcvbuf_;
    return static_cast<std::uint16_t>(std::min<std::size_t>(w >> rcv_shift_, 65535));
  }
  std::size_t free = rcv_buf_.free();
  // Under memory pressure the window stops growing (Linux tcp_select_window clamps
  // rcv_ssthresh to 4 * advmss while tcp_under_memory_pressure): a right edge
  // already offered stays (below), a new one moves at most 4 segments ahead.
  if (rcv_mem_.under_pressure()) free = std::min<std::size_t>(free, std::size_t{4} * snd_mss_);
  // RFC 9293 3.8.6.2.2 (receiver silly-window avoidance): keep the right edge where
  // it is until the window can move by min(buffer/2, MSS); never shrink it (3.8.6.2.2: "shrinking" is discouraged).
  const Seq current_edge = rcv_adv_ > rcv_nxt_ ? rcv_adv_ : rcv_nxt_;
  const Seq new_edge = rcv_nxt_ + static_cast<std::uint32_t>(free);
  const std::size_t threshold = std::min<std::size_t>(rcv_buf_.capacity() / 2, snd_mss_);
  if (new_edge > current_edge && static_cast<std::size_t>(new_edge - current_edge) < threshold &&
      rcv_adv_ > rcv_nxt_)
    free = static_cast<std::size_t>(current_edge - rcv_nxt_);
  if (new_edge < current_edge) free = static_cast<std::size_t>(current_edge - rcv_nxt_);
  const std::size_t scaled = std::min<std::size_t>(free >> rcv_shift_, 65535);
  return static_cast<std::uint16_t>(scaled);
}

void Connection::emit(std::uint8_t flags, Seq seq, std::size_t offset, std::size_t len, base::Instant now) {
  wire::TcpRepr r;
  r.src_port = local_.port;
  r.dst_port = remote_.port;
  r.seq = seq.value();
  r.flags = flags | ecn_flags(flags);
  if (flags & flag::ack) r.ack = rcv_nxt_.value();
  const bool syn = flags & flag::syn;
  if (syn) {
    // RFC 7323 2.2: the window of a SYN is never scaled. (The buffer itself is
    // allocated once the connection is established.)
    r.window = static_cast<std::uint16_t>(std::min<std::size_t>(rcvbuf_, 65535));
    std::uint16_t mss = route_mss_;
    if (config_->user_mss) mss = std::min(mss, config_->user_mss);
    r.options.mss = mss;
    const bool answering = flags & flag::ack;  // a SYN-ACK echoes only what the peer offered
    if (config_->window_scaling && (!answering || rcv_shift_ || snd_shift_)) r.options.window_scale = config_->window_shift;
    if (config_->sack && (!answering || sack_ok_)) r.options.sack_permitted = true;
    if (config_->timestamps && (!answering || ts_ok_))
      r.options.timestamps = wire::TcpTimestamps{ts_now(now), answering ? ts_recent_ : 0};
  } else {
    r.window = window_to_advertise();
    if (ts_ok_) r.options.timestamps = wire::TcpTimestamps{ts_now(now), ts_recent_};
    if (sack_ok_ && (flags & flag::ack) && (!ooo_.empty() || dsack_)) {
      // RFC 2018 4: "The first SACK block ... MUST specify the contiguous block of
      // data containing the segment which triggered this ACK"; then the most
      // recently reported others. A D-SACK block comes first of all (RFC 2883 4).
      r.options.sack_count = static_cast<std::uint8_t>(
          fill_sack_blocks(std::span(r.options.sack_blocks).first(sack_blocks_to_send())));
    }
  }
  const std::size_t hdr = r.header_len();
  base::PacketBuf buf = base::PacketBuf::uninitialized(hdr + len);
  if (len) snd_buf_.peek(offset, buf.data().subspan(hdr, len));
  // The checksum is left partial (the pseudo-header sum): the stack finishes it
  // when the interface cannot (Stack::tcp_after), and a TAP with offloads leaves
  // it to the kernel, so a segment's payload is read once, by the copy above.
  r.emit(buf.data(), local_.addr.v4(), remote_.addr.v4(), /*partial=*/true);
  push_out({std::move(buf), ecn_codepoint(flags, seq, len)});

  ++info_.segs_out;
  if (len == 0 && (flags & (flag::syn | flag::fin)) && seq < snd_max_) ++unreported_retransmits_;
  if (len) {
    last_data_sent_ = now;
    ++info_.data_segs_out;
    info_.bytes_sent += len;
    if (seq < snd_max_) {
      ++info_.retransmits_total;
      ++unreported_retransmits_;
      info_.bytes_retrans += len;
    }
  }
  if (flags & flag::ack) {
    last_ack_sent_ = rcv_nxt_;
    const Seq edge = rcv_nxt_ + (static_cast<std::uint32_t>(r.window) << (syn ? 0 : rcv_shift_));
    if (edge > rcv_adv_ || rcv_adv_ < rcv_nxt_) rcv_adv_ = edge;
    segs_since_ack_ = 0;
    ack_now_ = false;
    ack_pushed_ = false;
    dsack_.reset();  // reported once
    delack_deadline_.reset();
  }
}

void Connection::send_ack(base::Instant now) {
  // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>: RFC 9293's SND.NXT never moves back, but
  // ours does after a timeout (we go back to SND.UNA to resend), so an ACK carries
  // the highest sequence number sent. Otherwise it would fall before the peer's
  // RCV.NXT and be dropped as unacceptable, ACK field and all.
  emit(flag::ack, snd_max_, 0, 0, now);
}

void Connection::send_challenge_ack(base::Instant now) {
  // RFC 5961 7: challenge ACKs are rate-limited (Linux: tcp_challenge_ack_limit,
  // 1000 per second; we limit each connection to 10 per second).
  if (!challenge_window_start_ || now - *challenge_window_start_ >= std::chrono::seconds(1)) {
    challenge_window_start_ = now;
    challenge_acks_in_window_ = 0;
  }
  if (challenge_acks_in_window_ >= 10) return;
  ++challenge_acks_in_window_;
  ++info_.challenge_acks;
  send_ack(now);
}

void Connection::send_rst(Seq seq) {
  wire::TcpRepr r;
  r.src_port = local_.port;
  r.dst_port = remote_.port;
  r.seq = seq.value();
  r.flags = flag::rst;
  base::PacketBuf buf(r.header_len());
  r.emit(buf.data(), local_.addr.v4(), remote_.addr.v4(), /*partial=*/true);  // as every OutSegment
  push_out({std::move(buf), 0});
  ++info_.segs_out;
}

void Connection::push_out(OutSegment seg) {
  if (outbox_.capacity() == 0 && outbox_spare_ != nullptr) outbox_.swap(*outbox_spare_);
  outbox_.push_back(std::move(seg));
}

void Connection::schedule_ack(bool quick, base::Instant now) {
  if (quick || segs_since_ack_ >= 2 || quick_acks_ > 0) {
    if (quick_acks_ > 0) --quick_acks_;
    ack_now_ = true;
  } else if (!delack_deadline_) {
    delack_deadline_ = now + config_->delayed_ack;
  }
}

void Connection::arm_retransmit(base::Instant now) { retransmit_deadline_ = now + rtt_.rto(); }

void Connection::retransmit_first(base::Instant now) {
  rtt_probe_.reset();  // Karn: no RTT sample from a retransmitted segment
  if (state_ == State::syn_sent) {
    // RFC 3168 6.1.1.1: a SYN sent again goes without ECN, in case a middlebox
    // dropped the ECN-setup SYN (Linux tcp_ecn_clear_syn, tcp_ecn_fallback=1).
    ecn_requested_ = false;
    emit(flag::syn, iss_, 0, 0, now);
    return;
  }
  if (state_ == State::syn_received) {
    emit(flag::syn | flag::ack, iss_, 0, 0, now);
    return;
  }
  // RFC 6298 5.4: "Retransmit the earliest segment that has not been acknowledged".
  if (!board_.empty()) {
    retransmit(board_.segments().front().start, board_.segments().front().end, now);
  } else if (fin_sent_before() && !fin_acked_) {
    emit(flag::fin | flag::ack, fin_seq_, 0, 0, now);
  }
}

void Connection::output(base::Instant now) {
  if (state_ == State::closed || state_ == State::listen) return;
  const bool can_send = state_ == State::established || state_ == State::close_wait ||
                        state_ == State::fin_wait_1 || state_ == State::closing || state_ == State::last_ack;
  bool sent_any = false;
  cwnd_blocked_ = false;
  // RFC 6675 NextSeg: lost segments first (rule 1), then new data (rule 2).
  if (can_send) sent_any = send_lost(now);
  while (can_send) {
    const Seq start = data_start();
    const std::size_t sent = snd_nxt_ > start ? static_cast<std::size_t>(snd_nxt_ - start) : 0;
    const std::size_t pending = sent >= snd_buf_.size() ? 0 : snd_buf_.size() - sent;
    const std::uint32_t flight = flight_size();
    // The peer's window limits how far past SND.UNA we go; cwnd (or PRR in
    // recovery) how much is in flight (pipe, RFC 6675). A loss probe may pass cwnd.
    const std::uint32_t rwnd_room = snd_wnd_ > flight ? snd_wnd_ - flight : 0;
    const std::uint32_t cwnd_room = tlp_new_data_ ? 0xffffffffu : send_room();
    const std::uint32_t avail = std::min(rwnd_room, cwnd_room);
    const std::size_t mss = effective_mss();
    if (pending > 0) {
      // The window, not the application or the peer, holds data back (RFC 9438 5.8).
      if (avail < std::min<std::size_t>(pending, mss) && cwnd() <= snd_wnd_) cwnd_blocked_ = true;
      const std::size_t len = std::min<std::size_t>({pending, mss, avail});
      if (len == 0) {
        // RFC 9293 3.8.6.1: with a zero window, probe it (persist timer).
        if (snd_wnd_ == 0 && flight == 0 && !persist_deadline_)
          persist_deadline_ = now + std::min<base::Duration>(rtt_.rto(), std::chrono::seconds(60));
        break;
      }
      // RFC 1122 4.2.3.4 (Nagle) with RFC 9293 3.8.6.2.1 (sender SWS avoidance):
      // send a full segment; or all that is queued when nothing is in flight (or
      // with TCP_NODELAY); or at least half the largest window the peer offered.
      const bool all = len == pending;
      // Nagle as Linux applies it (Minshall's variant): a small segment waits only
      // while an earlier small segment is unacknowledged.
      const bool nagle_clear = config_->nodelay || flight == 0 || snd_sml_ <= snd_una_;
      const bool ok = len == mss || (all && nagle_clear) ||
                      (len >= max_snd_wnd_ / 2 && max_snd_wnd_ > 0 && nagle_clear) ||
                      (all && fin_queued_) || force_send_ || tlp_new_data_;
      if (!ok) {
        // Held back by the window with nothing in flight: the override timeout
        // (3.8.6.2.1 (d), 0.1 to 1 s; Linux's probe timer) sends what fits.
        if (flight == 0 && !persist_deadline_)
          persist_deadline_ = now + std::min<base::Duration>(rtt_.rto(), std::chrono::seconds(1));
        break;
      }
      if (!pacing_allows(now)) break;  // on_timer() sends it at pacing_deadline_
      const bool fin = fin_queued_ && all;
      // PSH on the segment that empties the queue, and on one the override timeout
      // forced out (Linux tcp_write_wakeup marks it so). Also on a loss probe of new
      // data: the probe exists to draw an ACK, and a receiver that delays ACKs
      // answers a full-sized PSH segment as soon as its application has read it
      // (Linux tcp_measure_rcv_mss: "the data sender may be waiting for an ACK if
      // cwnd-bound"), not 40 ms later when its delayed-ACK timer fires. RFC 1122
      // 4.2.2.2 leaves when to push, beyond the last buffered segment, to the sender.
      const bool push = all || force_send_ || tlp_new_data_;
      std::uint8_t flags = flag::ack | (push ? flag::psh : 0) | (fin ? flag::fin : 0);
      // RFC 3168 6.1.2: CWR on "the first new data packet sent after the window reduction".
      if (std::exchange(ecn_queue_cwr_, false)) flags |= flag::cwr;
      if (!rtt_probe_ && !ts_ok_ && snd_nxt_ >= snd_max_) rtt_probe_ = std::pair{snd_nxt_, now};
      // Sending resumes with nothing in flight (Linux CA_EVENT_TX_START).
      if (flight == 0 && snd_nxt_ >= snd_max_ && info_.data_segs_out > 0)
        cc_->on_send_after_idle(now - last_data_sent_, now);
      emit(flags, snd_nxt_, sent, len, now);
      paced(len, now);
      force_send_ = false;
      if (len < mss) snd_sml_ = snd_nxt_ + static_cast<std::uint32_t>(len);
      on_sent_new(snd_nxt_, snd_nxt_ + static_cast<std::uint32_t>(len + (fin ? 1 : 0)), now);
      snd_nxt_ += static_cast<std::uint32_t>(len + (fin ? 1 : 0));
      snd_max_ = max(snd_max_, snd_nxt_);
      if (!retransmit_deadline_) arm_retransmit(now);
      sent_any = true;
      if (std::exchange(tlp_new_data_, false)) break;  // the probe is one segment
      continue;
    }
    if (fin_queued_ && !fin_sent() && !fin_acked_) {
      emit(flag::fin | flag::ack, fin_seq_, 0, 0, now);
      on_sent_new(fin_seq_, fin_seq_ + 1, now);
      snd_nxt_ = fin_seq_ + 1;
      snd_max_ = max(snd_max_, snd_nxt_);
      if (!retransmit_deadline_) arm_retransmit(now);
      sent_any = true;
    }
    break;
  }
  tlp_new_data_ = false;
  // Draft-cheng-iccrg-delivery-rate-estimation 3.4 (Linux tcp_rate_check_app_limited):
  // less than a segment left to send, room in cwnd, every loss resent -- what is
  // sent next measures the application, not the path.
  if (can_send && unsent() < effective_mss() && in_flight() < cwnd() && !board_.next_lost())
    rate_.on_app_limited(in_flight());
  if (std::exchange(tlp_rearm_, false)) arm_tlp(now);
  if (can_send) note_cwnd_usage();
  if (ack_now_ && !sent_any && state_ != State::syn_sent) send_ack(now);
}

void Connection::on_retransmit_timeout(base::Instant now) {
  ++info_.timeouts;
  const unsigned limit = state_ == State::syn_sent       ? config_->syn_retries
                         : state_ == State::syn_received ? config_->synack_retries
                                                         : config_->retries;
  if (!retrans_stamp_) retrans_stamp_ = now;
  // TCP_USER_TIMEOUT (RFC 9293 MUST-21, RFC 5482): when set, it replaces the retry
  // count as R2 — the connection ends once data has gone unacknowledged that long.
  const bool user_timed_out = config_->user_timeout > base::Duration::zero() &&
                              now - *retrans_stamp_ >= config_->user_timeout;
  if (config_->user_timeout > base::Duration::zero() ? user_timed_out : retries_ >= limit) {
    // RFC 9293 3.8.3 (R2): the connection is closed after the retry limit; an
    // ICMP error seen meanwhile says why (Linux: sk_err_soft ?: ETIMEDOUT).
    error_ = soft_error_ ? soft_error_ : ETIMEDOUT;
    dead_ = true;
    events_.error = events_.readable = events_.writable = true;
    enter_closed();
    return;
  }
  ++retries_;
  rtt_.backoff();  // RFC 6298 5.5
  if (synchronized()) enter_loss_recovery(now);
  retransmit_first(now);
  arm_retransmit(now);
  // Never sleep past the user timeout.
  if (config_->user_timeout > base::Duration::zero() && retransmit_deadline_)
    retransmit_deadline_ = std::min(*retransmit_deadline_, *retrans_stamp_ + config_->user_timeout);
}

void Connection::on_timer(base::Instant now) {
  // RFC 8985 7.3: the probe timeout, which (as Linux's) stands in for the RTO
  // when both are due.
  if (tlp_deadline_ && now >= *tlp_deadline_) {
    tlp_deadline_.reset();
    send_loss_probe(now);
  }
  if (rack_deadline_ && now >= *rack_deadline_) {
    rack_deadline_.reset();
    on_rack_timer(now);
  }
  if (retransmit_deadline_ && now >= *retransmit_deadline_) {
    retransmit_deadline_.reset();
    on_retransmit_timeout(now);
    if (state_ == State::closed) return;
  }
  if (delack_deadline_ && now >= *delack_deadline_) {
    delack_deadline_.reset();
    ack_now_ = true;
  }
  if (pacing_deadline_ && now >= *pacing_deadline_) pacing_deadline_.reset();  // output() below sends
  if (idle_release_deadline_ && now >= *idle_release_deadline_) {
    idle_release_deadline_.reset();
    if (ooo_.empty()) rcv_buf_.release_if_empty(SIZE_MAX);  // whatever their size, if still empty
    snd_buf_.release_if_empty(SIZE_MAX);
  }
  if (persist_deadline_ && now >= *persist_deadline_) {
    persist_deadline_.reset();
    if (snd_wnd_ > 0 && unsent() > 0) force_send_ = true;  // the override timeout
    if (snd_wnd_ == 0 && unsent() > 0) {
      // A probe with an old sequence number, which the receiver must answer with
      // its window (as Linux's tcp_send_probe0); unanswered probes end the connection.
      if (persist_unanswered_ >= config_->retries) {
        error_ = ETIMEDOUT;
        dead_ = true;
        events_.error = true;
        enter_closed();
        return;
      }
      ++persist_unanswered_;
      ++info_.zero_window_probes;
      emit(flag::ack, snd_una_ - 1, 0, 0, now);
      persist_backoff_ = std::min(persist_backoff_ + 1, 10u);
      persist_deadline_ = now + std::min<base::Duration>(rtt_.rto() * (1 << persist_backoff_), std::chrono::seconds(60));
    }
  }
  if (const auto due = keepalive_due()) {
    if (now >= *due) {
      if (keepalive_sent_ >= config_->keepalive_count) {
        // Linux (tcp_keepalive_timer) resets the connection when the probes go unanswered.
        send_rst(snd_max_);
        error_ = ETIMEDOUT;
        dead_ = true;
        events_.error = true;
        enter_closed();
        return;
      }
      ++keepalive_sent_;
      ++info_.keepalive_probes;
      emit(flag::ack, snd_una_ - 1, 0, 0, now);  // RFC 9293 3.8.4: SEG.SEQ = SND.NXT-1, no data
      keepalive_deadline_ = now + config_->keepalive_interval;
    }
  }
  if (time_wait_deadline_ && now >= *time_wait_deadline_) {
    enter_closed();
    return;
  }
  if (fin_wait_2_deadline_ && now >= *fin_wait_2_deadline_ && state_ == State::fin_wait_2) {
    enter_closed();
    return;
  }
  output(now);
}

std::optional<base::Instant> Connection::keepalive_due() const {
  // RFC 9293 3.8.4 (MUST-26): "Keep-alive packets MUST only be sent when no sent data
  // is outstanding, and no data or acknowledgment packets have been received for the
  // connection within an interval."
  if (!config_->keepalive || state_ != State::established) return std::nullopt;
  if (snd_max_ != snd_una_ || !snd_buf_.empty()) return std::nullopt;
  return keepalive_sent_ == 0 ? last_received_ + config_->keepalive_idle : keepalive_deadline_;
}

std::optional<base::Instant> Connection::next_deadline() const {
  std::optional<base::Instant> next;
  auto consider = [&](const std::optional<base::Instant>& t) {
    if (t && (!next || *t < *next)) next = t;
  };
  consider(retransmit_deadline_);
  consider(rack_deadline_);
  consider(tlp_deadline_);
  consider(delack_deadline_);
  consider(pacing_deadline_);
  consider(persist_deadline_);
  consider(time_wait_deadline_);
  consider(fin_wait_2_deadline_);
  consider(idle_release_deadline_);
  consider(keepalive_due());
  return next;
}

void Connection::allocate_buffers() {
  if (snd_buf_.capacity() == 0) snd_buf_.resize(sndbuf_);
  if (rcv_buf_.capacity() == 0) rcv_buf_.resize(rcvbuf_);
}

void Connection::release_drained(base::Instant now) {
  const bool rcv_drained = rcv_buf_.empty() && ooo_.empty();
  if (rcv_drained) rcv_buf_.release_if_empty();
  snd_buf_.release_if_empty();
  // A ring too large to free at once (auto-tuned past RingBuffer::kReleaseMax)
  // goes back when the timer finds it still empty: at most one free (and one
  // allocation when data comes back) per kIdleRelease, however busy the flow.
  const bool large_left = (rcv_drained && rcv_buf_.allocated() > 0) || (snd_buf_.empty() && snd_buf_.allocated() > 0);
  if (large_left && !idle_release_deadline_) idle_release_deadline_ = now + kIdleRelease;
}

void Connection::release_buffers_if_orphan() {
  if (!orphan_) return;
  snd_buf_ = base::RingBuffer(0);
  rcv_buf_ = base::RingBuffer(0);
  ooo_.clear();
  rcv_mem_.release_all();
  snd_mem_.release_all();
}

void Connection::enter_closed() {
  release_buffers_if_orphan();
  state_ = State::closed;
  retransmit_deadline_.reset();
  rack_deadline_.reset();
  tlp_deadline_.reset();
  delack_deadline_.reset();
  pacing_deadline_.reset();
  persist_deadline_.reset();
  keepalive_deadline_.reset();
  time_wait_deadline_.reset();
  fin_wait_2_deadline_.reset();
  idle_release_deadline_.reset();
  ack_now_ = false;
  events_.closed = true;
  events_.readable = true;
  events_.writable = true;
}

// --- User calls -------------------------------------------------------------------

void Connection::connect(base::Instant now) {
  state_ = State::syn_sent;
  ecn_requested_ = config_->ecn == 1;  // RFC 3168 6.1.1: an ECN-setup SYN (tcp_ecn=1)
  rtt_probe_ = std::pair{iss_, now};
  emit(flag::syn, iss_, 0, 0, now);
  snd_nxt_ = snd_max_ = iss_ + 1;
  arm_retransmit(now);
}

std::size_t Connection::send(base::ByteSpan data, base::Instant now) {
  if (fin_queued_ || dead_) return 0;
  // The stack's memory account may hold the sender back before the buffer is
  // full (Linux sk_stream_memory_free / sk_stream_wait_memory): it waits, with
  // EAGAIN, until acknowledged or read data gives memory back.
  const std::size_t fits = std::min(data.size(), snd_buf_.free());
  const std::size_t n = std::min(fits, send_space());
  send_mem_blocked_ = n < fits;
  if (n == 0 || !snd_mem_.try_add(n)) return 0;
  snd_buf_.enqueue(data.first(n));
  output(now);
  return n;
}

std::size_t Connection::send_space() const { return std::min(snd_buf_.free(), snd_mem_.room()); }

void Connection::set_memory(base::MemoryAccount* account) {
  rcv_mem_ = base::MemCharge(account, base::MemKind::tcp);
  // Queued sends stop at the pressure threshold: what applications send to peers
  // that do not read (zero-window readers) can then never take the memory that
  // data arriving from peers needs (docs/hardening.md).
  snd_mem_ = base::MemCharge(account, base::MemKind::tcp, /*below_pressure=*/true);
  settle_receive_charge();
  snd_mem_.set(snd_buf_.size());
}

std::size_t Connection::receive(base::MutByteSpan out, bool peek, base::Instant now) {
  const std::size_t n = peek ? rcv_buf_.peek(0, out) : rcv_buf_.dequeue(out);
  if (n > 0 && !peek) {
    copied_ += n;
    rcv_mem_.release(n);
    tune_rcvbuf(now);  // Linux tcp_rcv_space_adjust, from tcp_recvmsg (docs/buffers.md)
    // Read to the end with no out-of-order data past it: the storage goes back
    // until the next segment (the window, counted on capacity(), is unchanged).
    release_drained(now);
  }
  if (n > 0 && !peek && delack_deadline_ && ack_pushed_ && rcv_buf_.empty()) {
    // Linux tcp_cleanup_rbuf: a pushed full-sized segment, now read to the end,
    // is acknowledged at once rather than when the delayed-ACK timer fires.
    ack_now_ = true;
    output(now);
  }
  if (n > 0 && !peek && synchronized() && !fin_received_) {
    // A window update when the read freed "lots" of space: Linux (tcp_cleanup_rbuf)
    // sends one when the window it can now offer is at least twice what the peer
    // sees, which also reopens a zero window (RFC 9293 3.8.6.2.2 asks only that
    // the right edge moves in steps of at least min(buffer/2, MSS)).
    const std::size_t advertisable = std::min<std::size_t>(rcv_buf_.free(), std::size_t{65535} << rcv_shift_);
    const std::size_t seen = rcv_wnd();
    if (advertisable >= 2 * seen && advertisable >= std::min<std::size_t>(rcv_buf_.capacity() / 2, snd_mss_)) {
      ack_now_ = true;
      output(now);
    }
  }
  return n;
}

void Connection::shutdown_write(base::Instant now) {
  if (fin_queued_ || state_ == State::closed) return;
  fin_queued_ = true;
  fin_seq_ = data_start() + static_cast<std::uint32_t>(snd_buf_.size());
  // RFC 9293 3.10.4 CLOSE: ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT -> LAST-ACK; in
  // SYN-RECEIVED the FIN waits for ESTABLISHED.
  if (state_ == State::established) state_ = State::fin_wait_1;
  else if (state_ == State::close_wait) state_ = State::last_ack;
  output(now);
}

void Connection::close(bool linger_zero, base::Instant now) {
  read_closed_ = true;
  if (state_ == State::syn_sent || state_ == State::closed) {
    enter_closed();  // RFC 9293 3.10.4: "delete the TCB"
    return;
  }
  // Linux (tcp_close): unread data, or SO_LINGER with a zero timeout, aborts the
  // connection with a reset (RFC 9293 3.10.5 ABORT; RFC 2525 2.17).
  if (linger_zero || !rcv_buf_.empty()) {
    abort(now);
    return;
  }
  orphan_ = true;
  shutdown_write(now);
  if (state_ == State::fin_wait_2) fin_wait_2_deadline_ = now + config_->fin_wait_2_timeout;
}

void Connection::abort(base::Instant now) {
  (void)now;
  // RFC 9293 3.10.5: in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1/2 and CLOSE-WAIT "send
  // a reset segment: <SEQ=SND.NXT><CTL=RST>".
  if (state_ == State::syn_received || state_ == State::established || state_ == State::fin_wait_1 ||
      state_ == State::fin_wait_2 || state_ == State::close_wait)
    send_rst(snd_max_);
  dead_ = true;
  enter_closed();
}

}  // namespace ustack::tcp
