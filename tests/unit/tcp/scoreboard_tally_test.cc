// The scoreboard keeps its tallies (pipe, SACKed bytes and segments, segments
// waiting to be resent, segments ever sent twice) as segments change, so that an
// ACK on a clean flow costs O(1) instead of walks of the whole window; and
// RACK's loss detection stops at the first segment sent after RACK.xmit_ts when
// the board is in transmission order. Both are checked here against a recount
// and against a full walk, over random sequences of sends, ACKs, SACKs,
// losses, retransmissions and undos.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tcp/rack.h"
#include "tcp/scoreboard.h"

namespace ustack::tcp {
namespace {

using namespace std::chrono_literals;
constexpr std::uint32_t kMss = 1000;

/// RFC 8985 6.2 step 5 as written: every unacknowledged segment is looked at.
std::optional<base::Instant> detect_loss_full_walk(Scoreboard& board, base::Instant xmit_ts, std::uint32_t xmit_order,
                                                   base::Duration rtt, base::Duration reo_wnd, base::Instant now,
                                                   unsigned& marked) {
  marked = 0;
  std::optional<base::Instant> timer;
  for (SentSegment& s : board.segments_mut()) {
    if (s.sacked || (s.lost && !s.retransmitted)) continue;
    const bool before = xmit_ts > s.sent || (xmit_ts == s.sent && static_cast<std::int32_t>(xmit_order - s.order) > 0);
    if (!before) continue;
    const base::Instant deadline = s.sent + rtt + reo_wnd;
    if (deadline <= now) {
      board.mark_lost(s);
      ++marked;
    } else if (!timer || deadline > *timer) {
      timer = deadline;
    }
  }
  return timer;
}

struct Flight {
  Scoreboard board;
  Rack rack;
  std::uint32_t una = 1000, max = 1000;
  base::Instant now{};
};

TEST(ScoreboardTally, KeptTalliesEqualARecountAfterEveryChange) {
  std::mt19937 rng(42);
  for (int run = 0; run < 40; ++run) {
    Flight f;
    for (int step = 0; step < 400; ++step) {
      f.now += std::chrono::microseconds(rng() % 50);
      switch (rng() % 9) {
        case 0: case 1: case 2: {  // new data, sometimes a short segment
          const std::uint32_t len = rng() % 4 == 0 ? 1 + rng() % kMss : kMss;
          f.board.on_send_new(Seq(f.max), Seq(f.max + len), f.now);
          f.max += len;
          break;
        }
        case 3: {  // a cumulative ACK to somewhere in flight
          if (f.max == f.una) break;
          f.una += rng() % (f.max - f.una + 1);
          f.board.on_cumulative_ack(Seq(f.una), [](const SentSegment&) {});
          break;
        }
        case 4: {  // up to three SACK blocks, some invalid
          std::vector<wire::SackBlock> blocks;
          for (unsigned b = rng() % 4; b > 0; --b) {
            const std::uint32_t span = f.max - f.una + 2000;
            const std::uint32_t left = f.una - 1000 + rng() % span;
            blocks.push_back({left, left + 1 + static_cast<std::uint32_t>(rng() % 3000)});
          }
          (void)f.board.on_sack(blocks, Seq(f.una), Seq(f.max), [](const SentSegment&) {});
          break;
        }
        case 5: (void)f.board.mark_lost_by_sack(kMss); break;
        case 6:
          if (const SentSegment* s = f.board.next_lost()) f.board.on_retransmit(s->start, s->end, f.now);
          break;
        case 7: {
          const unsigned what = rng() % 10;
          if (what == 0) f.board.mark_all_lost();
          else if (what == 1) f.board.clear_lost();
          else if (what == 2) f.board.forget_sacks();
          else if (!f.board.empty()) f.board.mark_lost(f.board.segments_mut()[rng() % f.board.segments().size()]);
          break;
        }
        case 8: {  // an arbitrary range sent again, splitting segments
          if (f.max == f.una) break;
          const std::uint32_t start = f.una + rng() % (f.max - f.una);
          f.board.on_retransmit(Seq(start), Seq(std::min(f.max, start + 1 + static_cast<std::uint32_t>(rng() % 2500))),
                                f.now);
          break;
        }
      }
      ASSERT_TRUE(f.board.tally_consistent()) << "run " << run << " step " << step;
      ASSERT_EQ(f.board.pipe(), f.board.pipe_recounted());
      // NextSeg's shortcut: none waiting means no segment is lost, unSACKed and unsent.
      const SentSegment* walked = nullptr;
      for (const SentSegment& s : f.board.segments())
        if (s.lost && !s.retransmitted && !s.sacked) { walked = &s; break; }
      ASSERT_EQ(f.board.next_lost(), walked);
    }
  }
}

TEST(ScoreboardTally, RackStopsEarlyOnlyWhereAFullWalkWouldMarkNothingMore) {
  std::mt19937 rng(7);
  for (int run = 0; run < 300; ++run) {
    Flight f;
    const unsigned n = 2 + rng() % 40;
    for (unsigned i = 0; i < n; ++i) {
      f.now += std::chrono::microseconds(rng() % 3 == 0 ? 0 : rng() % 100);  // ties within a poll
      f.board.on_send_new(Seq(f.max), Seq(f.max + kMss), f.now);
      f.max += kMss;
      if (rng() % 8 == 0 && i > 0) {  // sometimes resend an earlier one after new data
        const std::uint32_t k = rng() % i;
        f.board.on_retransmit(Seq(1000 + k * kMss), Seq(2000 + k * kMss), f.now);
      }
    }
    // Deliver a random segment by SACK: RACK learns its transmission.
    const std::size_t pick = rng() % f.board.segments().size();
    const Seq left = f.board.segments()[pick].start, right = f.board.segments()[pick].end;
    f.now += std::chrono::microseconds(50 + rng() % 400);
    std::vector<wire::SackBlock> block{{left.value(), right.value()}};
    (void)f.board.on_sack(block, Seq(f.una), Seq(f.max), [&](const SentSegment& s) { (void)f.rack.on_delivered(s, f.now); });
    f.rack.update_reo_wnd(false, Seq(f.una), Seq(f.max), false, f.board.sacked_segments(), 200us);

    Scoreboard reference = f.board;
    unsigned marked = 0, marked_ref = 0;
    const auto timer = f.rack.detect_loss(f.board, f.now, marked);
    // The RACK state the fast walk used, recovered from the delivered segment.
    const SentSegment& d = *std::find_if(reference.segments().begin(), reference.segments().end(),
                                         [&](const SentSegment& s) { return s.start == left; });
    const auto timer_ref = detect_loss_full_walk(reference, d.sent, d.order, f.now - d.sent, f.rack.reo_wnd(), f.now,
                                                 marked_ref);
    ASSERT_EQ(marked, marked_ref) << "run " << run;
    ASSERT_EQ(timer, timer_ref) << "run " << run;
    for (std::size_t i = 0; i < f.board.segments().size(); ++i)
      ASSERT_EQ(f.board.segments()[i].lost, reference.segments()[i].lost) << "run " << run << " segment " << i;
  }
}

TEST(ScoreboardTally, ACleanFlightIsInTransmissionOrderUntilSomethingIsSentTwice) {
  Scoreboard b;
  for (std::uint32_t i = 0; i < 5; ++i) b.on_send_new(Seq(1000 + i * kMss), Seq(2000 + i * kMss), base::Instant{});
  EXPECT_TRUE(b.in_transmission_order());
  b.on_retransmit(Seq(2000), Seq(3000), base::Instant{} + 1ms);
  EXPECT_FALSE(b.in_transmission_order());
  b.on_cumulative_ack(Seq(3000), [](const SentSegment&) {});  // the resent one is gone
  EXPECT_TRUE(b.in_transmission_order());
}

}  // namespace
}  // namespace ustack::tcp
