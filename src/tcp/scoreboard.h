// The sender's scoreboard (RFC 6675 2 and 4): what is in flight, segment by
// segment, with what SACK blocks (RFC 2018) said of it, which segments are
// deemed lost (IsLost, or RACK, RFC 8985) and which were retransmitted; pipe
// (SetPipe) and NextSeg () from it. Each segment also keeps its last send time,
// which RACK needs (RFC 8985 5.2). Pure: the caller says what it sent and when.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <utility>
#include <optional>
#include <span>

#include "base/ring_deque.h"
#include "base/time.h"
#include "tcp/rate.h"
#include "tcp/seq.h"
#include "wire/tcp.h"

namespace ustack::tcp {

/// One transmitted segment: [start, end) of sequence space (a FIN counts).
struct SentSegment {
  Seq start, end;
  base::Instant sent{};          // its latest transmission (RACK's Segment.xmit_ts)
  /// The order of that transmission among the connection's (a counter that
  /// wraps): RACK's tie-break when two transmissions share a timestamp, as they
  /// do within one poll of the stack (tcp/rack.h).
  std::uint32_t order = 0;
  bool sacked = false;           // covered by a SACK block
  bool lost = false;             // the original is deemed lost (IsLost, RACK, RTO)
  bool retransmitted = false;    // sent again since, and that copy deemed in flight (RFC 6675 HighRxt)
  bool ever_retransmitted = false;  // RACK's Segment.retransmitted
  RateStamp rate;                // delivery-rate state at its latest transmission (tcp/rate.h)
  std::uint32_t len() const { return static_cast<std::uint32_t>(end - start); }
};

/// What one ACK's SACK blocks did.
struct SackResult {
  unsigned valid = 0;             // blocks inside SND.UNA..SND.MAX
  unsigned invalid = 0;           // blocks ignored (RFC 6675 5.1: outside, or malformed)
  bool dsack = false;             // the first block was a D-SACK (RFC 2883 4)
  Seq dsack_start, dsack_end;
  std::uint32_t newly_sacked = 0; // bytes
};

class Scoreboard {
 public:
  /// DupThresh (RFC 6675 2).
  static constexpr unsigned kDupThresh = 3;

  void clear() {
    segs_.clear();
    tally_ = {};
  }
  bool empty() const { return segs_.empty(); }
  const base::RingDeque<SentSegment>& segments() const { return segs_; }

  /// New data [start, end) went out at `now` (start is SND.MAX).
  void on_send_new(Seq start, Seq end, base::Instant now);
  /// [start, end), already sent once, went out again: the segments it covers are
  /// split at its edges and marked retransmitted.
  void on_retransmit(Seq start, Seq end, base::Instant now);
  /// The cumulative ACK moved to `una`: what lies below is forgotten. `acked` is
  /// called for each segment (or part) newly acknowledged that was not SACKed.
  template <class F>
  void on_cumulative_ack(Seq una, F&& acked) {
    while (!segs_.empty() && segs_.front().start < una) {
      if (segs_.front().end > una) split(0, una);
      if (!segs_.front().sacked) acked(segs_.front());
      untally(segs_.front());
      segs_.pop_front();
    }
  }
  /// Applies the SACK blocks of an ACK (RFC 2018; RFC 6675 5 "update the
  /// scoreboard"; RFC 2883 4 for D-SACK). `una` is the ACK's cumulative point
  /// (already applied), `max` SND.MAX. `sacked` is called for each segment newly SACKed.
  template <class F>
  SackResult on_sack(std::span<const wire::SackBlock> blocks, Seq una, Seq max, F&& sacked);

  /// RFC 6675 IsLost (SeqNum): "DupThresh discontiguous SACKed sequences have
  /// arrived above 'SeqNum' or more than (DupThresh - 1) * SMSS bytes with
  /// sequence numbers greater than 'SeqNum' have been SACKed".
  bool is_lost(Seq seq, std::uint32_t smss) const;
  /// Marks lost every unSACKed segment IsLost() holds for; returns how many it
  /// newly marked.
  unsigned mark_lost_by_sack(std::uint32_t smss);
  /// RTO (RFC 6675 5.1; RFC 5681 3.1): every unSACKed segment is lost again.
  void mark_all_lost();
  /// Reneging (RFC 2018 8): the receiver dropped what it SACKed; forget all SACKs.
  void forget_sacks() {
    for (SentSegment& s : segs_) s.sacked = false;
    recount();
  }
  /// An undo: nothing was lost after all.
  void clear_lost() {
    for (SentSegment& s : segs_) s.lost = false;
    recount();
  }
  /// Marks one segment lost (NewReno's first unacknowledged, RACK, TLP).
  void mark_lost(SentSegment& s) {
    untally(s);
    s.lost = true;
    s.retransmitted = false;
    tally(s);
  }
  /// For RACK's walk: segments may be changed only through mark_lost().
  base::RingDeque<SentSegment>& segments_mut() { return segs_; }

  /// RFC 6675 SetPipe (): the bytes in flight — those not SACKed and not lost,
  /// plus those retransmitted (each retransmission still in flight counts again).
  std::uint32_t pipe() const { return tally_.pipe; }
  /// pipe() counted afresh (it is kept up to date as segments change; for tests).
  std::uint32_t pipe_recounted() const;
  /// NextSeg () rule 1: the first lost, unSACKed segment not sent again since.
  const SentSegment* next_lost() const;
  std::uint32_t sacked_bytes() const { return tally_.sacked_bytes; }
  std::uint32_t lost_bytes() const;
  unsigned sacked_segments() const { return tally_.sacked_segments; }
  unsigned lost_segments() const;
  unsigned retransmitted_segments() const;
  /// True when no segment on the board was ever sent twice: the board, in
  /// sequence order, is then also in transmission order (RACK's early exit).
  bool in_transmission_order() const { return tally_.ever_retransmitted == 0; }
  /// The tallies counted afresh equal the kept ones (for tests).
  bool tally_consistent() const;
  /// The highest sequence number SACKed (RFC 6675 HighSACK's end), if any.
  std::optional<Seq> high_sacked() const;

 private:
  /// RFC 2883 4: "If the first SACK block is below the cumulative ACK, or is
  /// contained within the second SACK block, it is a D-SACK".
  static bool is_dsack(std::span<const wire::SackBlock> blocks, Seq una);
  /// Splits segs_[i] at `at` (start < at < end); both halves keep its marks.
  void split(std::size_t i, Seq at);
  /// Index of the first segment with end > seq.
  std::size_t lower(Seq seq) const;

  /// A segment's share of pipe.
  static std::uint32_t in_pipe(const SentSegment& s) {
    if (s.sacked) return 0;
    // RFC 6675 SetPipe: "(a) If IsLost (S1) returns false: Pipe is incremented by
    // 1 octet. (b) If S1 <= HighRxt: Pipe is incremented by 1 octet."
    return (s.lost ? 0 : s.len()) + (s.retransmitted ? s.len() : 0);
  }
  /// What the board holds, kept as segments change so that an ACK that touches
  /// few of many segments costs little: every change of a segment is bracketed
  /// by untally() and tally().
  struct Tally {
    std::uint32_t pipe = 0;            // SetPipe
    std::uint32_t sacked_bytes = 0;
    unsigned sacked_segments = 0;
    unsigned waiting = 0;              // lost, not SACKed, not sent again: NextSeg's candidates
    unsigned ever_retransmitted = 0;   // segments sent more than once
    bool operator==(const Tally&) const = default;
  };
  static void count(Tally& t, const SentSegment& s, int sign) {
    const auto n = static_cast<std::uint32_t>(sign);  // +1 or -1 (wraps back)
    t.pipe += n * in_pipe(s);
    t.sacked_bytes += n * (s.sacked ? s.len() : 0u);
    t.sacked_segments += n * (s.sacked ? 1u : 0u);
    t.waiting += n * (s.lost && !s.retransmitted && !s.sacked ? 1u : 0u);
    t.ever_retransmitted += n * (s.ever_retransmitted ? 1u : 0u);
  }
  void tally(const SentSegment& s) { count(tally_, s, +1); }
  void untally(const SentSegment& s) { count(tally_, s, -1); }
  Tally recounted() const;
  void recount() { tally_ = recounted(); }
  std::uint32_t next_order_ = 0;  // SentSegment::order of the next transmission

  base::RingDeque<SentSegment> segs_;  // no memory while nothing is in flight
  Tally tally_;
};

template <class F>
SackResult Scoreboard::on_sack(std::span<const wire::SackBlock> blocks, Seq una, Seq max, F&& sacked) {
  SackResult r;
  // The valid blocks, in ascending order: the caller (RACK's fack, 6.2 step 3)
  // sees newly SACKed segments in sequence order, whatever order the blocks came in.
  std::array<std::pair<Seq, Seq>, wire::TcpOptions::kMaxSackBlocks> valid{};
  std::size_t n = 0;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const Seq left(blocks[b].left), right(blocks[b].right);
    if (b == 0 && is_dsack(blocks, una)) {
      r.dsack = true;
      r.dsack_start = left;
      r.dsack_end = right;
      continue;  // below SND.UNA: nothing to mark; inside the second: that one marks it
    }
    // RFC 6675 5.1 (and Linux tcp_is_sackblock_valid): a block must lie within
    // SND.UNA..SND.MAX; others are ignored.
    if (!(left < right) || left < una || right > max || n == valid.size()) {
      ++r.invalid;
      continue;
    }
    ++r.valid;
    valid[n++] = {left, right};
  }
  for (std::size_t i = 1; i < n; ++i)  // at most four: insertion sort
    for (std::size_t j = i; j > 0 && valid[j].first < valid[j - 1].first; --j) std::swap(valid[j], valid[j - 1]);
  for (std::size_t b = 0; b < n; ++b) {
    const auto [left, right] = valid[b];
    std::size_t i = lower(left);
    if (i < segs_.size() && segs_[i].start < left) {
      split(i, left);
      ++i;
    }
    for (; i < segs_.size() && segs_[i].start < right; ++i) {
      if (segs_[i].end > right) split(i, right);
      SentSegment& s = segs_[i];
      if (s.sacked) continue;
      untally(s);
      s.sacked = true;
      r.newly_sacked += s.len();
      sacked(s);
      s.lost = false;
      s.retransmitted = false;
      tally(s);
    }
  }
  return r;
}

}  // namespace ustack::tcp
