// SEGMENT ARRIVES (RFC 9293 3.10.7) for an existing connection, with PAWS
// (RFC 7323 5), the RFC 5961 checks on RST, SYN and ACK, NewReno's reaction to
// duplicate and partial ACKs (RFC 5681 3.2, RFC 6582 3.2; the window's arithmetic
// is the congestion-control algorithm's, tcp/cc.h) and receiver SACK.
#include <algorithm>
#include <cerrno>

#include "tcp/connection.h"

namespace ustack::tcp {

using wire::TcpRepr;
namespace flag = wire::tcp_flag;

namespace {
std::size_t seg_len(const TcpRepr& seg, std::size_t payload) {
  return payload + ((seg.flags & flag::syn) ? 1 : 0) + ((seg.flags & flag::fin) ? 1 : 0);
}
}  // namespace

void Connection::negotiate(const TcpRepr& syn) {
  // RFC 9293 3.7.1: without an MSS option the sender assumes 536.
  std::uint16_t mss = syn.options.mss.value_or(536);
  mss = std::min(mss, route_mss_);
  if (config_->user_mss) mss = std::min(mss, config_->user_mss);
  snd_mss_ = std::max<std::uint16_t>(mss, 64);
  // RFC 7323 2.2: window scaling is in effect only if both sides sent the option;
  // a shift above 14 is used as 14.
  if (config_->window_scaling && syn.options.window_scale) {
    snd_shift_ = std::min<std::uint8_t>(*syn.options.window_scale, 14);
    rcv_shift_ = config_->window_shift;
  } else {
    snd_shift_ = rcv_shift_ = 0;
  }
  sack_ok_ = config_->sack && syn.options.sack_permitted;
  ts_ok_ = config_->timestamps && syn.options.timestamps.has_value();
  if (ts_ok_) ts_recent_ = syn.options.timestamps->value;
}

void Connection::accept_syn(const TcpRepr& syn, base::Instant now) {
  irs_ = Seq(syn.seq);
  rcv_nxt_ = irs_ + 1;
  rcv_adv_ = rcv_nxt_;
  negotiate(syn);
  ecn_negotiate(syn, true);
  // RFC 7323 2.2: "The window field in a segment where the SYN bit is set ... MUST NOT be scaled."
  snd_wnd_ = syn.window;
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = Seq(syn.seq);
  state_ = State::syn_received;
  last_received_ = now;
  emit(flag::syn | flag::ack, iss_, 0, 0, now);
  snd_nxt_ = snd_max_ = iss_ + 1;
  arm_retransmit(now);
}

void Connection::accept_cookie(const TcpRepr& syn, std::uint16_t synack_window, base::Instant now) {
  irs_ = Seq(syn.seq);
  rcv_nxt_ = irs_ + 1;
  negotiate(syn);
  // What our stateless SYN-ACK did: it offered `synack_window` (never scaled in a
  // SYN) and acknowledged the SYN; the peer's window comes with its ACK.
  rcv_adv_ = rcv_nxt_ + std::uint32_t{synack_window};
  last_ack_sent_ = rcv_nxt_;
  snd_wl1_ = Seq(syn.seq);
  state_ = State::syn_received;
  last_received_ = now;
  snd_nxt_ = snd_max_ = iss_ + 1;
  from_cookie_ = true;
}

bool Connection::acceptable(const TcpRepr& seg, std::size_t len) const {
  // RFC 9293 3.10.7.4, the four cases of the acceptance test.
  const Seq seq(seg.seq);
  const std::uint32_t wnd = rcv_adv_ > rcv_nxt_ ? static_cast<std::uint32_t>(rcv_adv_ - rcv_nxt_) : 0;
  if (len == 0) return wnd == 0 ? seq == rcv_nxt_ : in_window(seq, rcv_nxt_, rcv_nxt_ + wnd);
  // "If the RCV.WND is zero, no segments will be acceptable, but special allowance
  // should be made to accept valid ACKs, URGs, and RSTs": a segment at RCV.NXT has
  // its ACK processed and its data trimmed away.
  if (wnd == 0) return seq == rcv_nxt_;
  const Seq last = seq + static_cast<std::uint32_t>(len - 1);
  return in_window(seq, rcv_nxt_, rcv_nxt_ + wnd) || in_window(last, rcv_nxt_, rcv_nxt_ + wnd) ||
         (seq < rcv_nxt_ && last >= rcv_nxt_ + wnd);  // covers the window (a re-sent big segment)
}

void Connection::reset_by_peer(int err) {
  error_ = err;
  dead_ = true;
  events_.error = true;
  events_.readable = true;
  events_.writable = true;
  enter_closed();
}

void Connection::on_syn_sent(const TcpRepr& seg, base::ByteSpan payload, base::Instant now) {
  const bool ack = seg.flags & flag::ack;
  // RFC 9293 3.10.7.3, first: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset
  // (unless the RST bit is set, if so drop the segment and return)".
  if (ack && (Seq(seg.ack) <= iss_ || Seq(seg.ack) > snd_max_)) {
    if (!(seg.flags & flag::rst)) send_rst(Seq(seg.ack));
    return;
  }
  // second: "If the ACK was acceptable then signal to the user "error: connection
  // reset", drop the segment, enter CLOSED state". RFC 5961 3.2 adds nothing here.
  if (seg.flags & flag::rst) {
    if (ack) reset_by_peer(ECONNREFUSED);
    return;
  }
  if (!(seg.flags & flag::syn)) return;  // "fifth, if neither ... drop the segment and return"
  irs_ = Seq(seg.seq);
  rcv_nxt_ = irs_ + 1;
  rcv_adv_ = rcv_nxt_;
  negotiate(seg);
  ecn_negotiate(seg, false);
  if (ts_ok_) update_timestamps(seg, 1);
  if (ack) {
    snd_una_ = Seq(seg.ack);
    if (ts_ok_ && seg.options.timestamps && seg.options.timestamps->echo_reply)
      rtt_.sample(std::chrono::milliseconds(ts_now(now) - seg.options.timestamps->echo_reply));
    else if (retries_ == 0 && rtt_probe_)
      rtt_.sample(now - rtt_probe_->second);  // Karn: only if the SYN was not retransmitted
    rtt_probe_.reset();
  }
  if (snd_una_ > iss_) {
    // "If SND.UNA > ISS (our SYN has been ACKed), change the connection state to
    // ESTABLISHED, form an ACK segment <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it."
    state_ = State::established;
    allocate_buffers();
    snd_wnd_ = seg.window;  // unscaled in a SYN
    max_snd_wnd_ = snd_wnd_;
    snd_wl1_ = Seq(seg.seq);
    snd_wl2_ = Seq(seg.ack);
    cc_->init(config_->initial_cwnd_segments, smss(), now);
    retransmit_deadline_.reset();
    retries_ = 0;
    rtt_.reset_backoff();
    events_.established = true;
    was_established_ = true;
    events_.writable = true;
    ack_now_ = true;
    if (!payload.empty()) process_data(seg, payload, now);
    if (seg.flags & flag::fin) process_fin(now);
  } else {
    // Simultaneous open: "enter SYN-RECEIVED, form a SYN,ACK segment
    // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it."
    state_ = State::syn_received;
    snd_wnd_ = seg.window;
    snd_wl1_ = Seq(seg.seq);
    emit(flag::syn | flag::ack, iss_, 0, 0, now);
    arm_retransmit(now);
  }
}

void Connection::update_timestamps(const TcpRepr& seg, std::size_t) {
  // RFC 7323 4.3 (2): "If SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent then
  // SEG.TSval is copied to TS.Recent".
  if (!seg.options.timestamps) return;
  const std::uint32_t val = seg.options.timestamps->value;
  if (static_cast<std::int32_t>(val - ts_recent_) >= 0 && Seq(seg.seq) <= last_ack_sent_) ts_recent_ = val;
}

void Connection::on_segment(const TcpRepr& seg, base::ByteSpan payload, base::Instant now, std::uint8_t ip_ecn) {
  ++info_.segs_in;
  if (!payload.empty()) {
    ++info_.data_segs_in;
    last_data_received_ = now;
  }
  last_received_ = now;
  keepalive_sent_ = 0;
  persist_unanswered_ = 0;
  switch (state_) {
    case State::closed:
    case State::listen:
      return;  // the stack answers for CLOSED; LISTEN is not a connection here
    case State::syn_sent:
      on_syn_sent(seg, payload, now);
      output(now);
      return;
    default:
      break;
  }
  // Simultaneous open (RFC 9293 Figure 8): in SYN-RECEIVED the peer's SYN-ACK
  // repeats the SYN we have already taken; what is new in it is the ACK of ours.
  if (state_ == State::syn_received && (seg.flags & flag::syn) && (seg.flags & flag::ack) &&
      Seq(seg.seq) == irs_) {
    TcpRepr ack = seg;
    ack.flags = static_cast<std::uint8_t>(seg.flags & ~flag::syn);
    ack.seq = (irs_ + 1).value();
    on_segment(ack, payload, now);
    // The repeated SYN is old data: Linux (tcp_data_queue) acknowledges it at once.
    if (synchronized()) {
      ack_now_ = true;
      output(now);
    }
    return;
  }
  const std::size_t len = seg_len(seg, payload.size());
  // A retransmitted SYN in SYN-RECEIVED: the SYN-ACK was lost; send it again (as Linux).
  if (state_ == State::syn_received && (seg.flags & flag::syn) && !(seg.flags & flag::ack) &&
      Seq(seg.seq) == irs_) {
    emit(flag::syn | flag::ack, iss_, 0, 0, now);
    return;
  }
  // RFC 7323 5.3 R1, PAWS: "If there is a Timestamps option in the arriving segment,
  // SEG.TSval < TS.Recent, TS.Recent is valid, and if the RST bit is not set, then
  // treat the arriving segment as not acceptable".
  if (ts_ok_ && seg.options.timestamps && !(seg.flags & flag::rst) &&
      static_cast<std::int32_t>(seg.options.timestamps->value - ts_recent_) < 0) {
    ++info_.paws_drops;
    send_ack(now);
    return;
  }
  // TIME-WAIT: "The only thing that can arrive in this state is a retransmission
  // of the remote FIN. Acknowledge it, and restart the 2 MSL timeout." (3.10.7.4)
  if (state_ == State::time_wait && (seg.flags & flag::fin) && !(seg.flags & flag::rst) &&
      Seq(seg.seq) + static_cast<std::uint32_t>(payload.size()) + 1 == rcv_nxt_) {
    time_wait_deadline_ = now + 2 * config_->msl;
    send_ack(now);
    return;
  }
  // first: check sequence number. "If an incoming segment is not acceptable, an
  // acknowledgment should be sent in reply (unless the RST bit is set ...)".
  if (!acceptable(seg, len)) {
    if (!(seg.flags & flag::rst)) {
      // Data we already acknowledged: a D-SACK of it (as Linux's tcp_send_dupack).
      const Seq seq(seg.seq);
      if (!payload.empty() && seq < rcv_nxt_)
        note_duplicate(seq, std::min(seq + static_cast<std::uint32_t>(payload.size()), rcv_nxt_));
      send_ack(now);
    }
    return;
  }
  // second: check the RST bit, with RFC 5961 3.2: "If the RST bit is set and the
  // sequence number exactly matches the next expected sequence number (RCV.NXT),
  // then TCP MUST reset the connection ... Otherwise (the sequence number does not
  // exactly match RCV.NXT), TCP MUST send an ACK (challenge ACK)".
  if (seg.flags & flag::rst) {
    if (Seq(seg.seq) != rcv_nxt_) {
      send_challenge_ack(now);
      return;
    }
    switch (state_) {
      case State::syn_received:
        // A passive open returns to LISTEN (the stack drops this embryo); an active
        // one (simultaneous open) is refused.
        reset_by_peer(owner >= 0 && !orphan_ ? ECONNREFUSED : 0);
        return;
      case State::established: case State::fin_wait_1: case State::fin_wait_2: case State::close_wait:
        reset_by_peer(ECONNRESET);
        return;
      default:  // CLOSING, LAST-ACK, TIME-WAIT: "enter the CLOSED state, delete the TCB"
        enter_closed();
        return;
    }
  }
  // fourth: check the SYN bit. RFC 5961 4.2: in synchronized states, "the TCP MUST
  // send an ACK (challenge ACK) to the remote peer" and drop the segment.
  if (seg.flags & flag::syn) {
    send_challenge_ack(now);
    return;
  }
  // fifth: "if the ACK bit is off, drop the segment and return".
  if (!(seg.flags & flag::ack)) return;
  if (ts_ok_) update_timestamps(seg, len);
  ecn_on_receive(seg, payload.size(), ip_ecn);  // RFC 3168 6.1.3: CWR and CE
  if (state_ == State::syn_received) {
    // "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state ... If the
    // segment acknowledgment is not acceptable, form a reset segment
    // <SEQ=SEG.ACK><CTL=RST> and send it."
    if (!(snd_una_ < Seq(seg.ack) && Seq(seg.ack) <= snd_max_)) {
      send_rst(Seq(seg.ack));
      return;
    }
    state_ = State::established;
    allocate_buffers();
    snd_wnd_ = static_cast<std::uint32_t>(seg.window) << snd_shift_;
    max_snd_wnd_ = snd_wnd_;
    snd_wl1_ = Seq(seg.seq);
    snd_wl2_ = Seq(seg.ack);
    cc_->init(config_->initial_cwnd_segments, smss(), now);
    events_.established = true;
    was_established_ = true;
    events_.writable = true;
    if (fin_queued_) state_ = State::fin_wait_1;  // close() came before the handshake ended
  }
  if (!process_ack(seg, len, now)) return;
  tune_sndbuf();  // the window may have grown past what the buffer holds (docs/buffers.md)
  // seventh: process the segment text in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2.
  if (!payload.empty()) {
    if (state_ == State::established || state_ == State::fin_wait_1 || state_ == State::fin_wait_2) {
      process_data(seg, payload, now);
      if (state_ == State::closed) return;  // data on an orphan: reset
    }
  }
  // eighth: check the FIN bit (at its place in the sequence).
  if (seg.flags & flag::fin) {
    const Seq fin_at = Seq(seg.seq) + static_cast<std::uint32_t>(payload.size());
    if (fin_at == rcv_nxt_) process_fin(now);
    else if (fin_at > rcv_nxt_) ooo_fin_ = fin_at;
    else if (state_ == State::time_wait || fin_received_) {
      // A retransmitted FIN: acknowledge it; in TIME-WAIT restart the 2 MSL timeout.
      ack_now_ = true;
      if (state_ == State::time_wait) time_wait_deadline_ = now + 2 * config_->msl;
    }
  }
  output(now);
}

bool Connection::process_ack(const TcpRepr& seg, std::size_t len, base::Instant now) {
  const Seq ack(seg.ack);
  // RFC 5961 5.2: acceptable only if SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT;
  // otherwise discard and send an ACK. (RFC 9293: an ACK for something not yet
  // sent gets an ACK and is dropped.)
  if (ack > snd_max_ || ack < snd_una_ - std::max<std::uint32_t>(max_snd_wnd_, 1)) {
    send_ack(now);
    return false;
  }
  const std::uint32_t wnd = static_cast<std::uint32_t>(seg.window) << snd_shift_;
  const Seq prior_una = snd_una_;
  bool dupack = false;
  if (ack > snd_una_) {
    std::uint32_t acked = static_cast<std::uint32_t>(ack - snd_una_);
    // The data bytes acked: the sequence space counts our SYN and FIN too.
    std::uint32_t data_acked = acked;
    if (snd_una_ == iss_) --data_acked;  // SYN
    if (fin_queued_ && ack > fin_seq_) {
      --data_acked;  // FIN
      fin_acked_ = true;
    }
    snd_buf_.discard(data_acked);
    release_drained(now);  // all acked: no storage until the next send
    snd_mem_.release(data_acked);
    info_.bytes_acked += data_acked;
    // RTT: timestamps give an unambiguous sample (RFC 7323 4.1); otherwise the
    // timed segment, which Karn's rule voids on retransmission (RFC 6298 3).
    std::optional<base::Duration> rtt_sample;
    if (from_cookie_ && snd_una_ == iss_) {
      // The cookie's SYN-ACK left no send time, and its TSval was moved back by up
      // to 63 ms to carry the options: no sample (Linux: snt_synack = 0).
    } else if (ts_ok_ && seg.options.timestamps && seg.options.timestamps->echo_reply) {
      const auto ms = static_cast<std::int32_t>(ts_now(now) - seg.options.timestamps->echo_reply);
      if (ms >= 0) rtt_sample = std::chrono::milliseconds(ms);
    } else if (rtt_probe_ && ack > rtt_probe_->first) {
      rtt_sample = now - rtt_probe_->second;
      rtt_probe_.reset();
    }
    if (rtt_sample) rtt_.sample(*rtt_sample);
    const std::uint32_t prior_in_flight = flight_size();
    snd_una_ = ack;
    if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;
    retries_ = 0;
    retrans_stamp_.reset();
    rtt_.reset_backoff();
    // Congestion control (RFC 5681 3.1): no growth during fast recovery, where
    // PRR decides what is sent (connection_recovery.cc), nor while a reduction
    // for an ECN-Echo holds (RFC 3168 6.1.2; Linux's CWR state).
    const bool ecn_reduced = ecn_on_ack(seg, now);
    // An algorithm that controls_window() is told of every ACK later, after loss
    // detection (recovery_on_ack).
    if (!in_recovery_ && !ecn_reduced && !cc_->controls_window()) {
      // Slow start or congestion avoidance: the algorithm's growth.
      AckEvent ev;
      ev.now = now;
      ev.bytes_acked = acked;
      ev.prior_in_flight = prior_in_flight;
      ev.in_flight = flight_size();
      ev.rtt = rtt_sample;
      ev.srtt = rtt_.srtt();
      ev.cwnd_limited = is_cwnd_limited();
      cc_->on_ack(ev);
    }
    // RFC 6298 5.2 and 5.3: stop the timer when all is acked, else restart it.
    if (snd_una_ == snd_max_) retransmit_deadline_.reset();
    else arm_retransmit(now);
    events_.writable = true;
  } else if (ack == snd_una_ && len == 0 && wnd == snd_wnd_ && snd_max_ > snd_una_ &&
             !(seg.flags & (flag::syn | flag::fin))) {
    // RFC 5681 2: a duplicate acknowledgment.
    ++info_.dup_acks_in;
    ++dup_acks_;
    dupack = true;
  }
  if (ack == prior_una && synchronized()) (void)ecn_on_ack(seg, now);  // an ECE on an ACK of nothing new
  if (synchronized()) recovery_on_ack(seg, prior_una, dupack, now);
  // RFC 9293 3.10.7.4: "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be
  // updated. If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)),
  // set SND.WND <- SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK."
  if (snd_wl1_ < Seq(seg.seq) || (snd_wl1_ == Seq(seg.seq) && snd_wl2_ <= ack)) {
    const bool opened = snd_wnd_ == 0 && wnd > 0;
    snd_wnd_ = wnd;
    max_snd_wnd_ = std::max(max_snd_wnd_, wnd);
    snd_wl1_ = Seq(seg.seq);
    snd_wl2_ = ack;
    if (opened) {
      persist_deadline_.reset();
      persist_backoff_ = 0;
      events_.writable = true;
    }
  }
  // Our FIN acknowledged: the state moves on.
  if (fin_acked_) {
    switch (state_) {
      case State::fin_wait_1:
        state_ = State::fin_wait_2;
        if (orphan_) fin_wait_2_deadline_ = now + config_->fin_wait_2_timeout;
        break;
      case State::closing:
        enter_time_wait(now);
        ack_now_ = false;  // the ACK of our FIN needs no answer
        return false;
      case State::last_ack:
        enter_closed();
        return false;
      default:
        break;
    }
  }
  return true;
}

void Connection::process_data(const TcpRepr& seg, base::ByteSpan payload, base::Instant now) {
  if (orphan_) {
    // Data for a socket the application closed: Linux answers with a reset.
    send_rst(snd_max_);
    reset_by_peer(0);
    return;
  }
  Seq seq = Seq(seg.seq) + ((seg.flags & flag::syn) ? 1u : 0u);
  // Trim what we already have (the segment may straddle RCV.NXT).
  if (seq < rcv_nxt_) {
    const auto skip = static_cast<std::size_t>(rcv_nxt_ - seq);
    if (skip >= payload.size()) {
      note_duplicate(seq, seq + static_cast<std::uint32_t>(payload.size()));
      ack_now_ = true;  // a pure duplicate: acknowledge at once (RFC 5681 4.2)
      return;
    }
    note_duplicate(seq, rcv_nxt_);  // the part we had (Linux tcp_data_queue)
    payload = payload.subspan(skip);
    seq = rcv_nxt_;
  }
  const auto offset = static_cast<std::size_t>(seq - rcv_nxt_);
  if (read_closed_) {
    // SHUT_RD: accepted and acknowledged, but nobody will read it.
    if (offset == 0) {
      rcv_nxt_ += static_cast<std::uint32_t>(payload.size());
      info_.bytes_received += payload.size();
    }
    schedule_ack(false, now);
    return;
  }
  // SO_RCVBUF bounds all that is held, out-of-order data included (as Linux
  // counts its OFO queue in sk_rmem_alloc): write_at() keeps to the free space.
  const std::size_t room = rcv_buf_.free();
  if (offset >= room) {
    ack_now_ = true;  // beyond our buffer: tell the peer where we are
    return;
  }
  const std::size_t len = std::min(payload.size(), room - offset);
  if (!charge_receive(offset, len)) {
    ack_now_ = true;  // dropped for memory, not acknowledged: the peer will resend
    return;
  }
  const std::size_t written = rcv_buf_.write_at(offset, payload);
  const bool had_holes = !ooo_.empty();
  // Out-of-order data we already hold: the first part held is a duplicate (RFC 2883).
  const auto& held = ooo_.ranges();
  if (const auto it = std::lower_bound(held.begin(), held.end(), offset,
                                       [](const auto& range, std::size_t v) { return range.second <= v; });
      it != held.end() && it->first < offset + written) {
    note_duplicate(rcv_nxt_ + static_cast<std::uint32_t>(std::max(it->first, offset)),
                   rcv_nxt_ + static_cast<std::uint32_t>(std::min(it->second, offset + written)));
  }
  ooo_.set_max_ranges(ooo_range_limit());  // the buffer may have grown (auto-tuning)
  // In order with no holes, the common case, goes straight to the readable part:
  // the assembler (and its memory) is for out-of-order data.
  const bool in_order = offset == 0 && !had_holes;
  if (!in_order && !ooo_.add(offset, written)) {
    // Too many holes to track (only out-of-order data can be refused here: the
    // assembler always takes the front): drop it, the peer will resend.
    ++mem_drops_.ofo_ranges;
    settle_receive_charge();
    ack_now_ = true;
    return;
  }
  const std::size_t ready = in_order ? written : ooo_.remove_front();
  if (ready > 0) {
    rcv_buf_.commit(ready);
    rcv_nxt_ += static_cast<std::uint32_t>(ready);
    info_.bytes_received += ready;
    events_.readable = true;
  }
  settle_receive_charge();
  measure_rcv_rtt(seg, written, now);  // for receive-buffer auto-tuning (docs/buffers.md)
  if (offset > 0) {
    // Out of order: "an immediate duplicate ACK" (RFC 5681 4.2), with SACK blocks.
    ++info_.ooo_segments;
    ++mem_drops_.ofo_queue;
    note_sack_trigger(seq);
    ack_now_ = true;
  } else {
    // A segment longer than one full-sized segment (a GRO or TSO super-frame from
    // a TAP with offloads, up to 64 KB) is at least two full-sized segments'
    // worth: acknowledged at once, as Linux's __tcp_ack_snd_check() does when
    // more than one full frame (rcv_mss) arrived.
    segs_since_ack_ += written > route_mss_ ? 2 : 1;
    // Linux tcp_measure_rcv_mss: a segment of at least the MSS with PSH "is likely
    // the end of an application write ... the data sender may be waiting for an
    // ACK if cwnd-bound": receive() acknowledges it once the application has read
    // everything. (Linux also marks shorter segments; its ping-pong mode then keeps
    // request/response traffic from paying a pure ACK per request, which ustack,
    // without that mode, would pay: shorter segments are left to the timer.)
    if (written >= rcv_mss_) {
      rcv_mss_ = static_cast<std::uint32_t>(std::min<std::size_t>(written, route_mss_));
      if (seg.flags & flag::psh) ack_pushed_ = true;
    }
    // RFC 5681 4.2: an ACK at once when a segment fills a hole; otherwise at least
    // every second full-sized segment (RFC 9293 3.8.6.3), else within the delay.
    schedule_ack(had_holes, now);
  }
  if (ooo_fin_ && *ooo_fin_ == rcv_nxt_) process_fin(now);
}

std::size_t Connection::ooo_range_limit() const {
  return std::max(kMinOooRanges, rcv_buf_.capacity() / kOooBytesPerRange);
}

bool Connection::charge_receive(std::size_t offset, std::size_t len) {
  if (rcv_mem_.try_add(len)) return true;
  if (offset > 0) {
    ++mem_drops_.ofo_drop;  // Linux tcp_data_queue_ofo: tcp_try_rmem_schedule failed
    return false;
  }
  // In-order data and no memory: as Linux's tcp_prune_queue / tcp_prune_ofo_queue,
  // give up out-of-order data, the furthest first, until this segment fits. RFC
  // 2018 8: "the data receiver is permitted to later discard data which have been
  // reported in a SACK option"; the sender keeps SACKed data until it is
  // cumulatively acknowledged, and the SACK blocks we send stop naming it. Data
  // already acknowledged (below RCV.NXT) is never given up.
  ++mem_drops_.prune_called;
  bool pruned = false;
  bool charged = false;
  while (!(charged = rcv_mem_.try_add(len)) && !ooo_.empty()) {
    mem_drops_.ofo_pruned_bytes += ooo_.remove_back();
    settle_receive_charge();
    pruned = true;
  }
  if (pruned) ++mem_drops_.ofo_pruned;  // (a FIN seen beyond the hole keeps its place: its sequence number is fixed)
  if (charged) return true;
  ++mem_drops_.rcv_pruned;
  ++mem_drops_.rcvq_drop;  // Linux tcp_data_queue: tcp_try_rmem_schedule failed
  return false;
}

std::size_t Connection::prune_ooo() {
  const std::size_t bytes = ooo_.bytes();
  if (bytes == 0) return 0;
  ooo_.clear();
  rcv_buf_.release_if_empty();  // nothing unread and no out-of-order data: the storage goes back
  settle_receive_charge();
  ++mem_drops_.ofo_pruned;
  mem_drops_.ofo_pruned_bytes += bytes;
  return bytes;
}

void Connection::process_fin(base::Instant now) {
  // RFC 9293 3.10.7.4 eighth: "advance RCV.NXT over the FIN, and send an
  // acknowledgment for the FIN".
  if (fin_received_) return;
  fin_received_ = true;
  ooo_fin_.reset();
  rcv_nxt_ += 1;
  ack_now_ = true;
  events_.readable = true;
  switch (state_) {
    case State::syn_received:
    case State::established:
      state_ = State::close_wait;
      break;
    case State::fin_wait_1:
      // "If our FIN has been ACKed ... enter TIME-WAIT ... otherwise, enter CLOSING".
      if (fin_acked_) enter_time_wait(now);
      else state_ = State::closing;
      break;
    case State::fin_wait_2:
      enter_time_wait(now);
      break;
    default:
      break;
  }
}

void Connection::on_icmp_error(int err, Seq quoted, base::Instant now) {
  (void)now;
  // RFC 5927 4.1: act only on errors that quote a sequence number we have sent and
  // not yet had acknowledged (SND.UNA =< SEG.SEQ < SND.MAX); others are forged or stale.
  if (!(snd_una_ <= quoted && quoted < snd_max_)) return;
  if (state_ == State::syn_sent || state_ == State::syn_received) {
    // RFC 1122 4.2.3.9: hard errors (protocol, port unreachable) SHOULD abort a
    // connection; Linux (tcp_v4_err) aborts any connection still opening.
    reset_by_peer(err);
    return;
  }
  soft_error_ = err;  // RFC 5461: never abort an established connection on ICMP
}

void Connection::on_path_mtu(std::uint32_t next_hop_mtu, Seq quoted, base::Instant now) {
  // RFC 5927 4.1: only for a sequence number in flight.
  if (!(snd_una_ <= quoted && quoted < snd_max_) || !synchronized()) return;
  // RFC 1191 does not trust an MTU below 68; Linux floors it at net.ipv4.route.min_pmtu (552).
  if (next_hop_mtu < 68) return;
  const std::uint32_t mtu = std::max<std::uint32_t>(next_hop_mtu, 552);
  const auto mss = static_cast<std::uint16_t>(mtu - 40);
  if (mss >= snd_mss_) return;
  snd_mss_ = mss;
  cc_->set_smss(smss());
  // Everything in flight was too big: send it again in the new size now
  // (tcp_simple_retransmit), without treating it as congestion.
  rtt_probe_.reset();
  board_.mark_all_lost();
  output(now);
}

bool Connection::syn_may_reuse(const TcpRepr& syn) const {
  if (ts_ok_ && syn.options.timestamps)
    return static_cast<std::int32_t>(syn.options.timestamps->value - ts_recent_) > 0;
  return Seq(syn.seq) > rcv_nxt_;
}

void Connection::enter_time_wait(base::Instant now) {
  state_ = State::time_wait;
  release_buffers_if_orphan();  // TIME-WAIT needs only the sequence numbers
  time_wait_deadline_ = now + 2 * config_->msl;
  retransmit_deadline_.reset();
  rack_deadline_.reset();
  tlp_deadline_.reset();
  persist_deadline_.reset();
  keepalive_deadline_.reset();
  fin_wait_2_deadline_.reset();
  ack_now_ = true;
}

}  // namespace ustack::tcp
