// RACK-TLP loss detection (RFC 8985 6 and 7.2).
#include "tcp/rack.h"

#include <algorithm>

namespace ustack::tcp {

using namespace std::chrono_literals;

std::uint32_t Rack::on_delivered(const SentSegment& s, base::Instant now) {
  const base::Duration rtt = now - s.sent;
  // Step 1: RACK.min_RTT (a plain minimum here; Linux keeps a windowed one).
  if (!s.ever_retransmitted && (!min_rtt_ || rtt < *min_rtt_)) min_rtt_ = rtt;
  // Step 2: "If Segment.retransmitted is TRUE: ... If rtt < RACK.min_RTT: Return"
  // (the ACK is for the original, not the retransmission).
  bool take = true;
  if (s.ever_retransmitted && min_rtt_ && rtt < *min_rtt_) take = false;
  if (take) {
    rtt_ = rtt;
    if (!xmit_order_ || sent_after(s.sent, s.order, xmit_ts_, *xmit_order_)) {
      xmit_ts_ = s.sent;
      xmit_order_ = s.order;
    }
  }
  // Step 3: "If Segment.end_seq > RACK.fack: RACK.fack = Segment.end_seq; Else if
  // Segment.end_seq < RACK.fack AND Segment.retransmitted is FALSE:
  // RACK.reordering_seen = TRUE".
  if (!fack_ || s.end > *fack_) {
    fack_ = s.end;
  } else if (s.end < *fack_ && !s.ever_retransmitted) {
    reordering_seen_ = true;
    return static_cast<std::uint32_t>(*fack_ - s.end);
  }
  return 0;
}

void Rack::update_reo_wnd(bool dsack, Seq snd_una, Seq snd_nxt, bool in_recovery, unsigned sacked_segments,
                          std::optional<base::Duration> srtt) {
  // "If RACK.dsack_round is not None AND SND.UNA >= RACK.dsack_round:
  //  RACK.dsack_round = None"
  if (dsack_round_ && snd_una >= *dsack_round_) dsack_round_.reset();
  // "If RACK.dsack_round is None AND any DSACK option is present on latest
  //  received ACK: RACK.dsack_round = SND.NXT; RACK.reo_wnd_mult += 1;
  //  RACK.reo_wnd_persist = 16"
  if (!dsack_round_ && dsack) {
    dsack_round_ = snd_nxt;
    ++reo_wnd_mult_;
    reo_wnd_persist_ = 16;
  }
  // "If RACK.reordering_seen is FALSE: If in Fast or RTO recovery: Return 0;
  //  Else if RACK.segs_sacked >= DupThresh: Return 0"
  if (!reordering_seen_ && (in_recovery || sacked_segments >= Scoreboard::kDupThresh)) {
    reo_wnd_ = base::Duration::zero();
    return;
  }
  // "Return min(RACK.min_RTT / 4 * RACK.reo_wnd_mult, SRTT)"
  base::Duration w = min_rtt_ ? *min_rtt_ / 4 * reo_wnd_mult_ : base::Duration::zero();
  if (srtt) w = std::min(w, *srtt);
  reo_wnd_ = w;
}

void Rack::on_recovery_exit() {
  // "Else if exiting Fast or RTO recovery: RACK.reo_wnd_persist -= 1; If
  //  RACK.reo_wnd_persist <= 0: RACK.reo_wnd_mult = 1"
  if (--reo_wnd_persist_ <= 0) {
    reo_wnd_persist_ = 0;
    reo_wnd_mult_ = 1;
  }
}

std::optional<base::Instant> Rack::detect_loss(Scoreboard& board, base::Instant now, unsigned& marked) const {
  marked = 0;
  if (!xmit_order_) return std::nullopt;
  std::optional<base::Instant> timer;
  // RFC 8985 6.2 step 5 walks "each segment, Segment, not acknowledged yet";
  // Linux walks them in transmission order and stops at the first one sent after
  // RACK.xmit_ts, since none after it can be. The board is in sequence order,
  // which is transmission order until something is sent twice: then the walk
  // stops early too (on a clean flow, at the first segment).
  const bool ordered = board.in_transmission_order();
  for (SentSegment& s : board.segments_mut()) {
    // "If RACK_sent_after(RACK.xmit_ts, RACK.end_seq, Segment.xmit_ts,
    //  Segment.end_seq): remaining = Segment.xmit_ts + RACK.rtt + RACK.reo_wnd - Now()"
    // (With the transmission order for the tie-break: see sent_after.)
    if (!sent_after(xmit_ts_, *xmit_order_, s.sent, s.order)) {
      if (ordered) break;
      continue;
    }
    if (s.sacked) continue;
    if (s.lost && !s.retransmitted) continue;  // already waiting to be sent again
    const base::Instant deadline = s.sent + rtt_ + reo_wnd_;
    if (deadline <= now) {
      board.mark_lost(s);
      ++marked;
    } else if (!timer || deadline > *timer) {
      timer = deadline;  // "timeout = max(remaining, timeout)"
    }
  }
  return timer;
}

void Rack::mark_losses_on_rto(Scoreboard& board, base::Instant now) const {
  // "For each segment, Segment, not acknowledged yet: If SEG.seq == SND.UNA OR
  //  Segment.xmit_ts + RACK.rtt + RACK.reo_wnd - Now() <= 0: Segment.lost = TRUE"
  auto& segs = board.segments_mut();
  for (std::size_t i = 0; i < segs.size(); ++i) {
    SentSegment& s = segs[i];
    if (s.sacked) continue;
    if (i == 0 || s.sent + rtt_ + reo_wnd_ <= now) board.mark_lost(s);
  }
}

base::Duration tlp_pto(std::optional<base::Duration> srtt, bool one_segment_in_flight,
                       std::optional<base::Duration> until_rto) {
  base::Duration pto = 1s;
  if (srtt) pto = 2 * *srtt + (one_segment_in_flight ? base::Duration(200ms) : base::Duration(2ms));
  // "If Now() + PTO > TCP_RTO_expiration(): PTO = TCP_RTO_expiration() - Now()"
  if (until_rto && pto > *until_rto) pto = *until_rto;
  return pto;
}

}  // namespace ustack::tcp
