// Loss recovery for one connection: the SACK scoreboard (RFC 6675), loss
// detection by RACK (RFC 8985 6) or, without it, RFC 6675's IsLost or NewReno's
// three duplicate ACKs (RFC 6582), Proportional Rate Reduction during fast
// recovery (RFC 6937), tail loss probes (RFC 8985 7), D-SACK (RFC 2883) and
// undo of spurious reductions (RFC 3522 Eifel with timestamps; D-SACK).
// This file decides which segments are lost, which are sent again and how many
// per ACK; cwnd and ssthresh are the congestion-control algorithm's (tcp/cc.h),
// told of each event through its hooks (on_loss, on_recovery_end, on_rto, undo).
// During fast recovery PRR sets cwnd to pipe + sndcnt, as Linux does.
#include <algorithm>

#include "tcp/connection.h"

namespace ustack::tcp {

namespace flag = wire::tcp_flag;

std::uint32_t Connection::in_flight() const {
  std::uint32_t pipe = board_.pipe();
  // Without SACK each duplicate ACK stands for a segment that left the network
  // (Linux counts them as sacked_out for Reno).
  if (!sack_ok_) {
    const std::uint32_t gone = dup_acks_ * smss();
    pipe = pipe > gone ? pipe - gone : 0;
  }
  return pipe;
}

std::uint32_t Connection::send_room() const {
  // RFC 6675 5 (C): send while "cwnd - pipe >= 1 SMSS"; in fast recovery PRR
  // has set cwnd to pipe + sndcnt (Linux tcp_cwnd_reduction), so this is sndcnt.
  const std::uint32_t pipe = in_flight();
  return cwnd() > pipe ? cwnd() - pipe : 0;
}

void Connection::on_sent_new(Seq start, Seq end, base::Instant now) {
  const RateStamp stamp = rate_.on_send(now, board_.empty());
  board_.on_send_new(start, end, now);
  if (!board_.empty() && board_.segments().back().end == end) board_.segments_mut().back().rate = stamp;
  if (in_recovery_) prr_.on_sent(static_cast<std::uint32_t>(end - start));
  // RFC 8985 7.2: restart the PTO "after transmitting new data (that was not
  // itself a loss probe)".
  if (!tlp_new_data_) tlp_rearm_ = true;
}

std::uint32_t Connection::retransmit(Seq start, Seq end, base::Instant now) {
  const bool has_fin = fin_sent_before() && end == fin_seq_ + 1;
  const Seq data_end = has_fin ? fin_seq_ : end;
  std::uint32_t len = data_end > start ? static_cast<std::uint32_t>(data_end - start) : 0;
  len = std::min<std::uint32_t>(len, effective_mss());
  const bool fin = has_fin && start + len == fin_seq_;
  if (len == 0 && !fin) return 0;
  const Seq buffer_end = data_start() + static_cast<std::uint32_t>(snd_buf_.size());
  const std::uint8_t flags = flag::ack | (fin ? flag::fin : 0) | (len > 0 && start + len == buffer_end ? flag::psh : 0);
  emit(flags, start, static_cast<std::size_t>(start - data_start()), len, now);
  paced(len, now);  // sent at once, but it uses the pacing rate
  const std::uint32_t sent = len + (fin ? 1u : 0u);
  const RateStamp stamp = rate_.on_send(now, false);
  board_.on_retransmit(start, start + sent, now);
  for (SentSegment& s : board_.segments_mut()) {
    if (s.start >= start + sent) break;
    if (s.end > start) s.rate = stamp;
  }
  rtt_probe_.reset();  // Karn
  // RFC 3522 (Eifel): remember the timestamp of the episode's first retransmission.
  if (ts_ok_ && !retrans_tsval_) retrans_tsval_ = ts_now(now);
  if (undo_marker_) {
    ++undo_retrans_;
    undo_any_retrans_ = true;
  }
  return sent;
}

bool Connection::send_lost(base::Instant now) {
  bool sent = false;
  // RFC 6675 5 (C): "the TCP MAY transmit one or more segments as follows ...
  // (C.1) The scoreboard MUST be queried via NextSeg ()" while cwnd - pipe >= 1 SMSS
  // (in fast recovery cwnd is PRR's).
  while (const SentSegment* s = board_.next_lost()) {
    if (send_room() == 0) break;
    const std::uint32_t n = retransmit(s->start, s->end, now);
    if (n == 0) break;
    if (in_recovery_) prr_.on_sent(n);
    sent = true;
  }
  return sent;
}

void Connection::recovery_on_ack(const wire::TcpRepr& seg, Seq prior_una, bool dupack, base::Instant now) {
  const std::uint32_t mss = smss();
  const bool advanced = snd_una_ > prior_una;
  const std::uint32_t sacked_before = board_.sacked_bytes();
  const std::uint32_t prior_pipe = in_flight();
  // The RTT of the most recently sent segment this ACK delivered that was sent
  // once (Karn), for an algorithm that controls_window() (Linux rs->rtt_us).
  std::optional<base::Duration> ack_rtt;
  // Each delivery teaches RACK; one overtaken by later data is reordering (Linux
  // counts the events in tcpi_reord_seen and keeps the distance in tcpi_reordering).
  bool reordered = false;
  auto delivered_one = [&](const SentSegment& s) {
    rate_.on_delivered(s.len(), s.rate, s.sent, now);
    if (!s.ever_retransmitted && (!ack_rtt || now - s.sent < *ack_rtt)) ack_rtt = now - s.sent;
    if (const std::uint32_t by = rack_.on_delivered(s, now)) {
      reordered = true;
      rack_.note_reordering_distance(by / std::max<std::uint32_t>(mss, 1) + 1);
    }
  };
  board_.on_cumulative_ack(snd_una_, delivered_one);
  SackResult sack;
  if (sack_ok_ && seg.options.sack_count > 0) {
    std::span<const wire::SackBlock> blocks(seg.options.sack_blocks.data(), seg.options.sack_count);
    sack = board_.on_sack(blocks, snd_una_, snd_max_, delivered_one);
    info_.sack_blocks_invalid += sack.invalid;
  }
  const std::optional<RateSample> rate_sample = rate_.on_ack_done(rack_.min_rtt());
  // RFC 6937: "DeliveredData = change_in(snd.una) + change_in(SACKd)".
  const std::int64_t delivered_signed = static_cast<std::int64_t>(snd_una_ - prior_una) +
                                        static_cast<std::int64_t>(board_.sacked_bytes()) - sacked_before;
  std::uint32_t delivered = static_cast<std::uint32_t>(std::max<std::int64_t>(delivered_signed, 0));
  if (reordered) ++info_.reord_seen;
  if (advanced) dup_acks_ = 0;
  else if (!sack_ok_ && dupack) delivered = mss;  // a duplicate ACK: one segment left the network

  if (sack.dsack) {
    // RFC 2883: the receiver got [dsack_start, dsack_end) twice. If we had sent it
    // again in this episode, one retransmission was needless (Linux undo_retrans).
    ++info_.dsack_dups;
    if (undo_marker_ && sack.dsack_start >= *undo_marker_ && undo_retrans_ > 0) --undo_retrans_;
  }

  // Spurious retransmission detection.
  if (undo_marker_ && loss_recovery_ && advanced && ts_ok_ && retrans_tsval_ && seg.options.timestamps &&
      seg.options.timestamps->echo_reply != 0 &&
      static_cast<std::int32_t>(seg.options.timestamps->echo_reply - *retrans_tsval_) < 0) {
    // RFC 3522 2: "if the value of the Timestamp Echo Reply field of the acceptable
    // ACK's Timestamps option is smaller than the value of RetransmitTS, then ...
    // the retransmit was spurious": the ACK is for the original, sent before the RTO.
    ++info_.spurious_rtos;
    undo_recovery(now);
  } else if (undo_marker_ && undo_any_retrans_ && undo_retrans_ == 0 && !loss_recovery_) {
    // Every retransmission of the fast recovery was D-SACKed: none was needed
    // (Linux tcp_try_undo_dsack).
    ++info_.dsack_undos;
    undo_recovery(now);
  }

  // RFC 8985 7.4 (as Linux's tcp_process_tlp_ack): did the probe repair a loss?
  if (tlp_end_ && snd_una_ >= *tlp_end_) {
    if (!tlp_is_retrans_) {
      tlp_end_.reset();  // "TLP of new data delivered"
    } else if (sack.dsack && sack.dsack_start < *tlp_end_ && sack.dsack_end >= *tlp_end_) {
      tlp_end_.reset();  // the original and the probe both arrived: no loss
    } else if (snd_una_ > *tlp_end_) {
      // "Repaired the single loss": the reduction a fast recovery would have made.
      tlp_end_.reset();
      ++info_.tlp_recoveries;
      cc_->on_loss(flight_size(), now);
      if (!cc_->controls_window()) cc_->set_cwnd(std::min(cwnd(), ssthresh()));
    } else if (!advanced && seg.options.sack_count == 0) {
      tlp_end_.reset();  // a pure duplicate ACK: both copies arrived
    }
  }

  // Loss detection.
  unsigned marked = 0;
  if (rack_enabled()) {
    rack_.update_reo_wnd(sack.dsack, snd_una_, snd_max_, in_recovery_ || loss_recovery_,
                         board_.sacked_segments(), rtt_.srtt());
    rack_deadline_ = rack_.detect_loss(board_, now, marked);
    info_.rack_marked_lost += marked;
  } else if (sack_ok_) {
    marked = board_.mark_lost_by_sack(mss);
  } else if (dupack && dup_acks_ == 3 && !in_recovery_ && !loss_recovery_ && !board_.empty() &&
             (snd_una_ - 1 >= recover_ || recover_ == iss_)) {
    // RFC 6582 3.2 step 2 (RFC 5681 3.2): the third duplicate ACK; the first
    // unacknowledged segment is lost. The recover_ test ("the Cumulative
    // Acknowledgment field covers more than recover") keeps an RTO's go-back from
    // starting a fast recovery of its own.
    board_.mark_lost(board_.segments_mut().front());
    marked = 1;
  }

  // Recovery states.
  if (in_recovery_ && snd_una_ >= recover_) exit_fast_recovery(now);
  if (loss_recovery_ && snd_una_ >= recover_) {
    loss_recovery_ = false;
    if (rack_enabled()) rack_.on_recovery_exit();
  }
  if (!in_recovery_ && !loss_recovery_ && board_.next_lost()) enter_fast_recovery(now);
  if (in_recovery_) {
    // RFC 6582 3.2 step 4 (without SACK): a partial ACK means the next segment is
    // lost too: "retransmit the first unacknowledged segment".
    if (!sack_ok_ && advanced && !board_.empty() && !board_.segments().front().lost)
      board_.mark_lost(board_.segments_mut().front());
    // RFC 6937: sndcnt for this ACK; cwnd = pipe + sndcnt (Linux tcp_cwnd_reduction).
    const std::uint32_t pipe = in_flight();
    if (!cc_->controls_window()) cc_->set_cwnd(pipe + prr_.on_ack(delivered, pipe, mss));
  }
  if (cc_->controls_window()) {
    // Linux tcp_cong_control: an algorithm with cong_control() sees every ACK,
    // with the rate sample, and sets cwnd itself (BBR), recovery or not.
    AckEvent ev;
    ev.now = now;
    ev.bytes_acked = delivered;
    ev.prior_in_flight = prior_pipe;
    ev.in_flight = in_flight();
    ev.rtt = ack_rtt;
    ev.srtt = rtt_.srtt();
    ev.rate = rate_sample;
    ev.delivered_total = rate_.delivered();
    ev.lost = marked * mss;
    ev.in_recovery = in_recovery_;
    ev.in_loss = loss_recovery_;
    cc_->on_ack(ev);
    if (cc_->restrains_sending()) rate_.on_app_limited(in_flight());
  }
  // RFC 8985 7.2: restart the PTO on an ACK that acknowledges new data. An ACK
  // that leaves no probe allowed (a SACK arrived, recovery began) cancels it, as
  // Linux's tcp_set_xmit_timer puts the RTO back in its place.
  if (advanced) tlp_rearm_ = true;
  if (!tlp_allowed()) tlp_deadline_.reset();
}

void Connection::enter_fast_recovery(base::Instant now) {
  // RFC 6675 5 (4.1) "RecoveryPoint = HighData"; (4.2) ssthresh and cwnd; RFC 6937
  // 3: "prr_delivered = 0; prr_out = 0; RecoverFS = snd.nxt - snd.una".
  in_recovery_ = true;
  recover_ = snd_max_;
  ++info_.fast_retransmits;
  if (sack_ok_) ++info_.sack_recoveries;
  // Undo state (Linux tcp_init_undo).
  undo_marker_ = snd_una_;
  undo_retrans_ = 0;
  undo_any_retrans_ = false;
  retrans_tsval_.reset();
  // The algorithm's multiplicative decrease (it keeps the prior window for undo),
  // unless an ECN-Echo has reduced it within this window: RFC 3168 6.1.2, "the
  // TCP sender SHOULD NOT decrease the slow-start threshold ... if it has been
  // decreased within the last round trip time" (Linux tcp_enter_recovery from CWR).
  if (cwr_high_ && snd_una_ < *cwr_high_) undo_marker_.reset();
  else cc_->on_loss(flight_size(), now);
  cwr_high_.reset();
  // RFC 3168 6.1.2: after a reduction "for any reason ... the TCP sender sets the
  // CWR flag in the TCP header of the first new data packet sent" (Linux
  // tcp_init_cwnd_reduction queues it).
  if (ecn_ok_) ecn_queue_cwr_ = true;
  prr_.start(flight_size(), ssthresh());
  tlp_deadline_.reset();
  tlp_end_.reset();
}

void Connection::exit_fast_recovery(base::Instant now) {
  in_recovery_ = false;
  // The algorithm sets the window after recovery (Reno: RFC 6582 3.2 step 3).
  cc_->on_recovery_end(flight_size(), now);
  if (rack_enabled()) rack_.on_recovery_exit();
}

void Connection::enter_loss_recovery(base::Instant now) {
  // RFC 5681 3.1: "when a TCP sender detects segment loss using the retransmission
  // timer and the given segment has already been retransmitted by way of the
  // retransmission timer at least once, the value of ssthresh is held constant".
  const bool first_timeout = !loss_recovery_ || retries_ <= 1;
  if (first_timeout) {
    if (!in_recovery_) {
      // A new episode: what to restore if it proves spurious (Linux tcp_enter_loss).
      undo_marker_ = snd_una_;
      undo_retrans_ = 0;
      undo_any_retrans_ = false;
    }
    retrans_tsval_.reset();
    cc_->on_rto(flight_size(), now);  // ssthresh down, cwnd = 1 SMSS (RFC 5681 eq. 4)
    if (ecn_ok_) ecn_queue_cwr_ = true;  // RFC 3168 6.1.2, as for fast retransmit
    cwr_high_.reset();
  } else {
    cc_->set_cwnd(smss());  // the loss window again; ssthresh held
  }
  in_recovery_ = false;
  loss_recovery_ = true;
  recover_ = snd_max_;  // RFC 6582 4: no fast retransmit for what was in flight
  dup_acks_ = 0;
  tlp_deadline_.reset();
  tlp_end_.reset();
  rack_deadline_.reset();
  // Reneging (RFC 2018 8): SND.UNA's segment SACKed yet unacknowledged at the
  // timeout means the receiver dropped it; forget what it SACKed.
  if (!board_.empty() && board_.segments().front().sacked) board_.forget_sacks();
  // RFC 8985 6.3: the first segment and those whose RACK deadline passed are
  // lost; without RACK, everything unSACKed (RFC 6675 5.1).
  if (rack_enabled()) rack_.mark_losses_on_rto(board_, now);
  else board_.mark_all_lost();
}

void Connection::undo_recovery(base::Instant now) {
  // The window and threshold return to what they were (Linux
  // tcp_undo_cwnd_reduction, through the algorithm's undo()).
  cc_->undo(now);
  board_.clear_lost();  // nothing was lost
  undo_marker_.reset();
  undo_any_retrans_ = false;
  in_recovery_ = false;
  loss_recovery_ = false;
  recover_ = snd_una_;
}

bool Connection::tlp_allowed() const {
  // RFC 8985 7.2: not in recovery, no probe already out, with SACK (RACK-TLP needs
  // it; Linux schedules probes only in the Open state: nothing SACKed or lost).
  return sack_ok_ && config_->tlp && !in_recovery_ && !loss_recovery_ && !tlp_end_ && !board_.empty() &&
         board_.sacked_bytes() == 0 && retransmit_deadline_;
}

void Connection::arm_tlp(base::Instant now) {
  tlp_deadline_.reset();
  if (!tlp_allowed()) return;
  const bool one_segment = flight_size() <= smss();
  const base::Duration until_rto = *retransmit_deadline_ > now ? *retransmit_deadline_ - now : base::Duration::zero();
  tlp_deadline_ = now + tlp_pto(rtt_.srtt(), one_segment, until_rto);
}

void Connection::send_loss_probe(base::Instant now) {
  if (board_.empty() || in_recovery_ || loss_recovery_) return;
  // RFC 8985 7.3: "If an unsent segment exists AND the receive window allows new
  // data to be sent: Transmit the lowest-sequence unsent segment of up to SMSS.
  // Else: Retransmit the highest-sequence segment sent so far".
  const std::uint32_t flight = flight_size();
  const bool window_allows = snd_wnd_ > flight && snd_wnd_ - flight >= std::min<std::size_t>(unsent(), effective_mss());
  const Seq before = snd_max_;
  if (unsent() > 0 && window_allows) {
    tlp_new_data_ = true;
    output(now);
  }
  if (snd_max_ != before) {
    tlp_is_retrans_ = false;
  } else {
    const SentSegment& last = board_.segments().back();
    const bool has_fin = fin_sent_before() && last.end == fin_seq_ + 1;
    const Seq data_end = has_fin ? fin_seq_ : last.end;
    Seq start = last.start;
    if (data_end > start && static_cast<std::uint32_t>(data_end - start) > effective_mss())
      start = data_end - effective_mss();  // the last MSS (Linux fragments the last skb)
    if (retransmit(start, last.end, now) == 0) return;
    tlp_is_retrans_ = true;
  }
  ++info_.tlp_probes;
  // "TLP.end_seq = SND.NXT"; the RTO timer is restarted (Linux tcp_rearm_rto).
  tlp_end_ = snd_max_;
  arm_retransmit(now);
}

void Connection::on_rack_timer(base::Instant now) {
  if (!rack_enabled()) return;
  // RFC 8985 6.2 step 5, from the timer: "RACK_detect_loss_and_arm_timer()".
  unsigned marked = 0;
  rack_deadline_ = rack_.detect_loss(board_, now, marked);
  info_.rack_marked_lost += marked;
  if (marked == 0) return;
  if (!in_recovery_ && !loss_recovery_) enter_fast_recovery(now);
  if (in_recovery_) {
    const std::uint32_t pipe = in_flight();
    if (!cc_->controls_window()) cc_->set_cwnd(std::max(cwnd(), pipe + prr_.on_ack(0, pipe, smss())));
  }
}

}  // namespace ustack::tcp
