// The sender's SACK scoreboard (RFC 6675): splitting, loss marking, pipe.
#include "tcp/scoreboard.h"

namespace ustack::tcp {

void Scoreboard::on_send_new(Seq start, Seq end, base::Instant now) {
  if (!(start < end)) return;
  // Contiguous with the last segment by construction (start is SND.MAX).
  segs_.push_back(SentSegment{.start = start, .end = end, .sent = now, .order = next_order_++});
  tally(segs_.back());
}

void Scoreboard::on_retransmit(Seq start, Seq end, base::Instant now) {
  std::size_t i = lower(start);
  if (i < segs_.size() && segs_[i].start < start) {
    split(i, start);
    ++i;
  }
  const std::uint32_t order = next_order_++;  // one transmission, however many entries it covers
  for (; i < segs_.size() && segs_[i].start < end; ++i) {
    if (segs_[i].end > end) split(i, end);
    SentSegment& s = segs_[i];
    untally(s);
    s.sent = now;
    s.order = order;
    s.retransmitted = true;  // `lost` stays: the original is still deemed lost
    s.ever_retransmitted = true;
    tally(s);
  }
}

bool Scoreboard::is_dsack(std::span<const wire::SackBlock> blocks, Seq una) {
  if (blocks.empty()) return false;
  const Seq left(blocks[0].left), right(blocks[0].right);
  if (!(left < right)) return false;
  if (right <= una) return true;
  if (blocks.size() < 2) return false;
  const Seq left2(blocks[1].left), right2(blocks[1].right);
  return left2 < right2 && left2 <= left && right <= right2;
}

std::size_t Scoreboard::lower(Seq seq) const {
  std::size_t lo = 0, hi = segs_.size();
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (segs_[mid].end <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

void Scoreboard::split(std::size_t i, Seq at) {
  untally(segs_[i]);
  SentSegment tail = segs_[i];
  tail.start = at;
  segs_[i].end = at;
  tally(segs_[i]);
  tally(tail);
  segs_.insert_at(i + 1, tail);
}

bool Scoreboard::is_lost(Seq seq, std::uint32_t smss) const {
  std::uint32_t bytes = 0;
  unsigned runs = 0;
  bool in_run = false;
  for (std::size_t i = lower(seq + 1); i < segs_.size(); ++i) {
    const SentSegment& s = segs_[i];
    if (s.sacked) {
      bytes += s.end - max(s.start, seq + 1);
      if (!in_run) ++runs;
      in_run = true;
    } else {
      in_run = false;
    }
  }
  return runs >= kDupThresh || bytes > (kDupThresh - 1) * smss;
}

unsigned Scoreboard::mark_lost_by_sack(std::uint32_t smss) {
  // Walk down from the top, counting what is SACKed above each segment: once
  // IsLost holds for a segment's first byte it holds for all below.
  std::uint32_t bytes = 0;
  unsigned runs = 0, marked = 0;
  bool in_run = false, lost_below = false;
  for (std::size_t k = segs_.size(); k-- > 0;) {
    SentSegment& s = segs_[k];
    if (s.sacked) {
      bytes += s.len();
      if (!in_run) ++runs;
      in_run = true;
      continue;
    }
    in_run = false;
    if (!lost_below) lost_below = runs >= kDupThresh || bytes > (kDupThresh - 1) * smss;
    if (!lost_below) continue;
    if (!s.lost) {
      untally(s);
      s.lost = true;
      tally(s);
      ++marked;
    }
  }
  return marked;
}

void Scoreboard::mark_all_lost() {
  for (SentSegment& s : segs_)
    if (!s.sacked) mark_lost(s);
}

Scoreboard::Tally Scoreboard::recounted() const {
  Tally t;
  for (const SentSegment& s : segs_) count(t, s, +1);
  return t;
}

std::uint32_t Scoreboard::pipe_recounted() const { return recounted().pipe; }

bool Scoreboard::tally_consistent() const { return recounted() == tally_; }

const SentSegment* Scoreboard::next_lost() const {
  if (tally_.waiting == 0) return nullptr;  // the common case: nothing to resend
  for (const SentSegment& s : segs_)
    if (s.lost && !s.retransmitted && !s.sacked) return &s;
  return nullptr;
}

std::uint32_t Scoreboard::lost_bytes() const {
  std::uint32_t n = 0;
  for (const SentSegment& s : segs_) if (s.lost && !s.sacked) n += s.len();
  return n;
}

unsigned Scoreboard::lost_segments() const {
  unsigned n = 0;
  for (const SentSegment& s : segs_) n += s.lost && !s.sacked;
  return n;
}

unsigned Scoreboard::retransmitted_segments() const {
  unsigned n = 0;
  for (const SentSegment& s : segs_) n += s.retransmitted && !s.sacked;
  return n;
}

std::optional<Seq> Scoreboard::high_sacked() const {
  for (std::size_t k = segs_.size(); k-- > 0;)
    if (segs_[k].sacked) return segs_[k].end;
  return std::nullopt;
}

}  // namespace ustack::tcp
