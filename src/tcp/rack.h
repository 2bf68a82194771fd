// RACK-TLP (RFC 8985): time-based loss detection. A segment is deemed lost when
// a segment sent sufficiently later (a reordering window later) has been
// delivered; the window starts at min_RTT/4 and grows on D-SACK (6.2 step 4).
// Tail loss probes' timeout (7.2) is here too. Pure: told the time.
#pragma once

#include <cstdint>
#include <optional>

#include "base/compact_optional.h"
#include "base/time.h"
#include "tcp/scoreboard.h"
#include "tcp/seq.h"

namespace ustack::tcp {

class Rack {
 public:
  /// RFC 8985 6.2 steps 1-3, for one segment newly acknowledged (cumulatively or
  /// selectively), taken in ascending order of sequence. Returns how far (in
  /// sequence) it was overtaken when this delivery shows reordering, else 0.
  std::uint32_t on_delivered(const SentSegment& s, base::Instant now);
  /// Step 4: the reordering window for this ACK. `dsack`: the ACK carried a
  /// D-SACK; `sacked_segments`: RACK.segs_sacked.
  void update_reo_wnd(bool dsack, Seq snd_una, Seq snd_nxt, bool in_recovery, unsigned sacked_segments,
                      std::optional<base::Duration> srtt);
  /// Step 4's "exiting Fast or RTO recovery" branch.
  void on_recovery_exit();
  /// Step 5: marks lost the segments sent before RACK.xmit_ts by more than
  /// RACK.rtt + RACK.reo_wnd; returns when the next one would be (the RACK
  /// timer), if any is waiting. Counts what it marked in `marked`.
  std::optional<base::Instant> detect_loss(Scoreboard& board, base::Instant now, unsigned& marked) const;
  /// RFC 8985 6.3, on RTO: the first segment, and those whose RACK deadline has
  /// passed, are lost.
  void mark_losses_on_rto(Scoreboard& board, base::Instant now) const;

  bool has_sample() const { return xmit_order_.has_value(); }
  std::optional<Seq> fack() const { return fack_; }
  bool reordering_seen() const { return reordering_seen_; }
  base::Duration reo_wnd() const { return reo_wnd_; }
  unsigned reo_wnd_mult() const { return reo_wnd_mult_; }
  std::optional<base::Duration> min_rtt() const { return min_rtt_; }
  /// Linux's tp->reordering analogue for TCP_INFO: the largest displacement
  /// seen, in segments (at least 3, the default).
  unsigned reordering() const { return reordering_; }
  void note_reordering_distance(unsigned segments) { reordering_ = std::max(reordering_, segments); }

 private:
  /// RFC 8985 6.2 RACK_sent_after: "If t1 > t2: Return true; Else if t1 == t2
  /// AND seq1 > seq2: Return true". The sequence number stands in for the order
  /// of transmission when clocks tie, which holds for new data but not for a
  /// retransmission sent after new data at the same timestamp. Ties are common
  /// here: the stack is told the time once per poll, and over a TAP the kernel
  /// answers a segment within the same write(2), so one poll can send new data,
  /// retransmit a hole, and read the SACK of that new data. Ordered by sequence,
  /// the retransmission looked older than the SACKed data and was marked lost at
  /// once, again on every ACK (interop test 20: one hole resent five times in
  /// 50 us, each copy answered by a D-SACK). The transmission counter is the
  /// order the RFC means.
  static bool sent_after(base::Instant t1, std::uint32_t order1, base::Instant t2, std::uint32_t order2) {
    return t1 > t2 || (t1 == t2 && static_cast<std::int32_t>(order1 - order2) > 0);
  }
  base::Instant xmit_ts_{};
  std::optional<std::uint32_t> xmit_order_;  // the order of RACK.xmit_ts's transmission (RACK.end_seq's part)
  base::Duration rtt_{};
  std::optional<Seq> fack_;
  base::OptDuration min_rtt_;
  base::Duration reo_wnd_{};
  unsigned reo_wnd_mult_ = 1;
  int reo_wnd_persist_ = 0;
  std::optional<Seq> dsack_round_;
  unsigned reordering_ = 3;
  bool reordering_seen_ = false;
};

/// RFC 8985 7.2 TLP_calc_PTO: 2*SRTT, plus the worst-case delayed-ACK time
/// (Linux: TCP_RTO_MIN, 200 ms) when one segment is in flight, else Linux's
/// TCP_TIMEOUT_MIN (2 ms); 1 s without an RTT sample; never past the RTO.
base::Duration tlp_pto(std::optional<base::Duration> srtt, bool one_segment_in_flight,
                       std::optional<base::Duration> until_rto);

}  // namespace ustack::tcp
