// RingBuffer: FIFO order across the wrap point, out-of-order writes past the end
// made readable by commit(), resize; and a randomized check against a std::deque.
#include "base/ring_buffer.h"

#include <gtest/gtest.h>

#include <deque>
#include <numeric>
#include <vector>

#include "base/random.h"

namespace ustack::base {
namespace {

std::vector<Byte> seq_bytes(std::size_t n, Byte first = 0) {
  std::vector<Byte> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

std::vector<Byte> concat(std::pair<ByteSpan, ByteSpan> parts) {
  std::vector<Byte> v(parts.first.begin(), parts.first.end());
  v.insert(v.end(), parts.second.begin(), parts.second.end());
  return v;
}

TEST(RingBuffer, EmptyRing) {
  RingBuffer r(8);
  EXPECT_EQ(r.capacity(), 8u);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.free(), 8u);
  EXPECT_TRUE(r.empty());
  std::vector<Byte> out(4, 0xee);
  EXPECT_EQ(r.dequeue(out), 0u);
  EXPECT_EQ(r.peek(0, out), 0u);
  EXPECT_EQ(r.discard(3), 0u);
  EXPECT_TRUE(r.readable().first.empty());
  EXPECT_TRUE(r.readable().second.empty());
}

TEST(RingBuffer, ZeroCapacityAcceptsNothing) {
  RingBuffer r;
  EXPECT_EQ(r.capacity(), 0u);
  const auto data = seq_bytes(3);
  EXPECT_EQ(r.enqueue(data), 0u);
  EXPECT_EQ(r.write_at(0, data), 0u);
  EXPECT_EQ(r.discard(1), 0u);
  std::vector<Byte> out(2);
  EXPECT_EQ(r.dequeue(out), 0u);
  r.resize(4);
  EXPECT_EQ(r.enqueue(data), 3u);
  EXPECT_EQ(r.dequeue(out), 2u);
  EXPECT_EQ(out, (std::vector<Byte>{0, 1}));
}

TEST(RingBuffer, EnqueueClipsToFreeSpace) {
  RingBuffer r(5);
  EXPECT_EQ(r.enqueue(seq_bytes(3)), 3u);
  EXPECT_EQ(r.enqueue(seq_bytes(4, 10)), 2u);
  EXPECT_EQ(r.size(), 5u);
  EXPECT_EQ(r.free(), 0u);
  EXPECT_EQ(r.enqueue(seq_bytes(1)), 0u);
  EXPECT_EQ(concat(r.readable()), (std::vector<Byte>{0, 1, 2, 10, 11}));
}

TEST(RingBuffer, DequeueInOrderAcrossWrap) {
  RingBuffer r(8);
  ASSERT_EQ(r.enqueue(seq_bytes(6)), 6u);
  std::vector<Byte> out(5);
  ASSERT_EQ(r.dequeue(out), 5u);
  EXPECT_EQ(out, (std::vector<Byte>{0, 1, 2, 3, 4}));
  // head is at 5; 6 more bytes run from index 6 to 7 and wrap to 0..3.
  ASSERT_EQ(r.enqueue(seq_bytes(6, 100)), 6u);
  EXPECT_EQ(r.size(), 7u);
  const auto [a, b] = r.readable();
  EXPECT_EQ(std::vector<Byte>(a.begin(), a.end()), (std::vector<Byte>{5, 100, 101}));
  EXPECT_EQ(std::vector<Byte>(b.begin(), b.end()), (std::vector<Byte>{102, 103, 104, 105}));
  std::vector<Byte> all(10, 0xee);
  EXPECT_EQ(r.dequeue(all), 7u);
  EXPECT_EQ(std::vector<Byte>(all.begin(), all.begin() + 7),
            (std::vector<Byte>{5, 100, 101, 102, 103, 104, 105}));
  EXPECT_EQ(all[7], 0xee);  // untouched past what was dequeued
  EXPECT_TRUE(r.empty());
}

TEST(RingBuffer, PeekAtOffsetDoesNotConsume) {
  RingBuffer r(6);
  r.enqueue(seq_bytes(4));
  r.discard(3);
  r.enqueue(seq_bytes(5, 20));  // readable: 3 20 21 22 23 24, wrapping
  std::vector<Byte> out(3);
  EXPECT_EQ(r.peek(2, out), 3u);
  EXPECT_EQ(out, (std::vector<Byte>{21, 22, 23}));
  EXPECT_EQ(r.peek(4, out), 2u);
  EXPECT_EQ(out[0], 23);
  EXPECT_EQ(out[1], 24);
  EXPECT_EQ(r.peek(6, out), 0u);
  EXPECT_EQ(r.peek(100, out), 0u);
  EXPECT_EQ(r.size(), 6u);
}

TEST(RingBuffer, DiscardClipsToSize) {
  RingBuffer r(4);
  r.enqueue(seq_bytes(3));
  EXPECT_EQ(r.discard(2), 2u);
  EXPECT_EQ(r.discard(5), 1u);
  EXPECT_TRUE(r.empty());
}

TEST(RingBuffer, WriteAtThenCommitMakesBytesReadable) {
  RingBuffer r(10);
  r.enqueue(seq_bytes(2));  // 0 1
  // A segment 3 bytes past the end arrives first, then the gap is filled.
  EXPECT_EQ(r.write_at(3, seq_bytes(4, 50)), 4u);
  EXPECT_EQ(r.size(), 2u);  // not readable yet
  EXPECT_EQ(r.write_at(0, seq_bytes(3, 40)), 3u);
  r.commit(7);
  EXPECT_EQ(concat(r.readable()), (std::vector<Byte>{0, 1, 40, 41, 42, 50, 51, 52, 53}));
}

TEST(RingBuffer, WriteAtClipsToFreeSpace) {
  RingBuffer r(8);
  r.enqueue(seq_bytes(3));  // free 5
  EXPECT_EQ(r.write_at(3, seq_bytes(4, 10)), 2u);  // offset + written <= free
  EXPECT_EQ(r.write_at(5, seq_bytes(1)), 0u);
  EXPECT_EQ(r.write_at(9, seq_bytes(1)), 0u);
  r.commit(5);
  EXPECT_EQ(r.size(), 8u);
  std::vector<Byte> out(2);
  r.peek(6, out);
  EXPECT_EQ(out, (std::vector<Byte>{10, 11}));
}

TEST(RingBuffer, WriteAtWrapsAndSurvivesDrainingTheRing) {
  RingBuffer r(6);
  r.enqueue(seq_bytes(5));
  r.discard(4);  // head 4, one readable byte (4) at index 4
  // Out-of-order bytes at offset 2: indexes 1..3 after wrapping.
  EXPECT_EQ(r.write_at(2, seq_bytes(3, 30)), 3u);
  // Reading everything must not move the bytes written past the end.
  std::vector<Byte> one(1);
  EXPECT_EQ(r.dequeue(one), 1u);
  EXPECT_EQ(one[0], 4);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.write_at(0, seq_bytes(2, 20)), 2u);
  r.commit(5);
  EXPECT_EQ(concat(r.readable()), (std::vector<Byte>{20, 21, 30, 31, 32}));
  const auto [a, b] = r.readable();
  EXPECT_EQ(a.size(), 1u);  // index 5, then 0..3
  EXPECT_EQ(b.size(), 4u);
}

TEST(RingBuffer, ResizeKeepsReadableBytesInOrder) {
  RingBuffer r(5);
  r.enqueue(seq_bytes(4));
  r.discard(3);
  r.enqueue(seq_bytes(4, 10));  // readable 3 10 11 12 13, wrapped
  r.resize(9);
  EXPECT_EQ(r.capacity(), 9u);
  EXPECT_EQ(r.size(), 5u);
  EXPECT_EQ(r.free(), 4u);
  EXPECT_EQ(concat(r.readable()), (std::vector<Byte>{3, 10, 11, 12, 13}));
  EXPECT_EQ(r.enqueue(seq_bytes(6, 90)), 4u);
  EXPECT_EQ(concat(r.readable()), (std::vector<Byte>{3, 10, 11, 12, 13, 90, 91, 92, 93}));
  r.discard(4);
  r.resize(5);  // shrink to exactly size()
  EXPECT_EQ(r.free(), 0u);
  EXPECT_EQ(concat(r.readable()), (std::vector<Byte>{13, 90, 91, 92, 93}));
}

// Growing a TCP receive buffer (auto-tuning, docs/buffers.md) while out-of-order
// data sits past the readable bytes: the bytes written with write_at() survive,
// at the same offsets, and a later commit() makes them readable.
TEST(RingBuffer, GrowKeepsBytesWrittenPastTheEnd) {
  RingBuffer r(8);
  r.enqueue(seq_bytes(6));
  r.discard(5);                        // head at 5: the free space wraps
  r.write_at(2, seq_bytes(4, 40));     // a hole of 2, then 40..43 (wrapping)
  r.resize(32);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.write_at(0, seq_bytes(2, 20)), 2u);  // the hole is filled
  r.commit(6);
  EXPECT_EQ(concat(r.readable()), (std::vector<Byte>{5, 20, 21, 40, 41, 42, 43}));
}

// A reference model: the readable bytes, and what is known of the free space past
// them (-1 where write_at() has not written since the space was last in use).
struct Model {
  std::size_t capacity;
  std::deque<Byte> readable;
  std::deque<int> ahead;  // one entry per free byte, index = offset past the end

  void sync_ahead() { ahead.resize(capacity - readable.size(), -1); }
};

// Storage on demand (docs/performance.md, "Memory per connection"): a ring holds
// no memory until its first byte, gives it back once drained, and its capacity
// (what TCP's window is computed from) never changes by it.
TEST(RingBuffer, StorageIsAllocatedByTheFirstWriteOnly) {
  RingBuffer r(64);
  EXPECT_EQ(r.allocated(), 0u);
  EXPECT_EQ(r.capacity(), 64u);
  EXPECT_EQ(r.free(), 64u);
  std::vector<Byte> out(8);
  EXPECT_EQ(r.dequeue(out), 0u);
  EXPECT_EQ(r.enqueue({}), 0u);  // nothing to hold: still nothing allocated
  EXPECT_EQ(r.allocated(), 0u);
  r.resize(128);                  // a resize of an empty ring allocates nothing either
  EXPECT_EQ(r.allocated(), 0u);
  EXPECT_EQ(r.capacity(), 128u);
  const auto data = seq_bytes(10);
  EXPECT_EQ(r.enqueue(data), 10u);
  EXPECT_EQ(r.allocated(), 128u);
}

TEST(RingBuffer, ReleaseGivesStorageBackOnlyWhenEmpty) {
  RingBuffer r(16);
  EXPECT_FALSE(r.release_if_empty());  // nothing to give back
  const auto data = seq_bytes(12, Byte{1});
  r.enqueue(data);
  EXPECT_FALSE(r.release_if_empty());  // bytes still readable
  EXPECT_EQ(r.allocated(), 16u);
  std::vector<Byte> out(12);
  EXPECT_EQ(r.dequeue(out), 12u);
  EXPECT_TRUE(r.release_if_empty());
  EXPECT_EQ(r.allocated(), 0u);
  EXPECT_EQ(r.capacity(), 16u);
  EXPECT_EQ(r.free(), 16u);
  // Used again, it wraps correctly from a fresh start.
  const auto more = seq_bytes(16, Byte{100});
  EXPECT_EQ(r.enqueue(more), 16u);
  EXPECT_EQ(concat(r.readable()), more);
  EXPECT_EQ(r.allocated(), 16u);
}

TEST(RingBuffer, ALargeRingKeepsItsStorageWhenDrained) {
  // A bulk flow's auto-tuned ring drains again and again: it keeps its storage
  // rather than being mapped and faulted in anew each time.
  RingBuffer small(RingBuffer::kReleaseMax), large(RingBuffer::kReleaseMax + 1);
  const auto data = seq_bytes(100, Byte{7});
  std::vector<Byte> out(100);
  for (RingBuffer* r : {&small, &large}) {
    r->enqueue(data);
    EXPECT_EQ(r->dequeue(out), 100u);
  }
  EXPECT_TRUE(small.release_if_empty());
  EXPECT_EQ(small.allocated(), 0u);
  EXPECT_FALSE(large.release_if_empty());
  EXPECT_EQ(large.allocated(), RingBuffer::kReleaseMax + 1);
}

TEST(RingBuffer, WriteAtAllocatesAndResizeKeepsThoseBytes) {
  RingBuffer r(16);
  const auto late = seq_bytes(4, Byte{50});
  EXPECT_EQ(r.write_at(4, late), 4u);  // out-of-order bytes allocate too
  EXPECT_EQ(r.allocated(), 16u);
  r.resize(32);
  const auto early = seq_bytes(4, Byte{10});
  EXPECT_EQ(r.write_at(0, early), 4u);
  r.commit(8);
  auto want = early;
  want.insert(want.end(), late.begin(), late.end());
  EXPECT_EQ(concat(r.readable()), want);
}

TEST(RingBuffer, RandomizedAgainstDeque) {
  Random rng(20240607);
  RingBuffer r(16);
  Model m{16, {}, {}};
  m.sync_ahead();
  Byte next = 0;
  auto fresh = [&](std::size_t n) {
    std::vector<Byte> v(n);
    for (auto& b : v) b = next++;
    return v;
  };
  int wraps_seen = 0;
  for (int op = 0; op < 100000; ++op) {
    const std::size_t cap = m.capacity;
    switch (rng.below(8)) {
      case 0: {  // enqueue
        const auto data = fresh(rng.below(cap + 3));
        const std::size_t want = std::min(data.size(), cap - m.readable.size());
        ASSERT_EQ(r.enqueue(data), want);
        for (std::size_t i = 0; i < want; ++i) {
          m.readable.push_back(data[i]);
          m.ahead.pop_front();
        }
        break;
      }
      case 1: {  // dequeue
        std::vector<Byte> out(rng.below(cap + 3));
        const std::size_t want = std::min(out.size(), m.readable.size());
        ASSERT_EQ(r.dequeue(out), want);
        for (std::size_t i = 0; i < want; ++i) {
          ASSERT_EQ(out[i], m.readable.front());
          m.readable.pop_front();
        }
        m.sync_ahead();
        break;
      }
      case 2: {  // peek
        const std::size_t offset = rng.below(cap + 2);
        std::vector<Byte> out(rng.below(cap + 2));
        const std::size_t want =
            offset >= m.readable.size() ? 0 : std::min(out.size(), m.readable.size() - offset);
        ASSERT_EQ(r.peek(offset, out), want);
        for (std::size_t i = 0; i < want; ++i) ASSERT_EQ(out[i], m.readable[offset + i]);
        break;
      }
      case 3: {  // discard
        const std::size_t n = rng.below(cap + 2);
        const std::size_t want = std::min(n, m.readable.size());
        ASSERT_EQ(r.discard(n), want);
        m.readable.erase(m.readable.begin(), m.readable.begin() + static_cast<std::ptrdiff_t>(want));
        m.sync_ahead();
        break;
      }
      case 4:
      case 5: {  // write_at past the end
        const std::size_t offset = rng.below(cap + 2);
        const auto data = fresh(rng.below(cap + 2));
        const std::size_t space = m.ahead.size();
        const std::size_t want = offset >= space ? 0 : std::min(data.size(), space - offset);
        ASSERT_EQ(r.write_at(offset, data), want);
        for (std::size_t i = 0; i < want; ++i) m.ahead[offset + i] = data[i];
        break;
      }
      case 6: {  // commit the longest written run, or a random part of it
        std::size_t run = 0;
        while (run < m.ahead.size() && m.ahead[run] >= 0) ++run;
        const std::size_t n = rng.below(run + 1);
        r.commit(n);
        for (std::size_t i = 0; i < n; ++i) {
          m.readable.push_back(static_cast<Byte>(m.ahead.front()));
          m.ahead.pop_front();
        }
        break;
      }
      case 7: {  // rarely, resize (never below size())
        if (rng.below(50) != 0) break;
        const std::size_t size = m.readable.size();
        const std::size_t new_cap = size + rng.below(24);
        r.resize(new_cap);
        m.capacity = new_cap;
        m.ahead.resize(new_cap - size, -1);  // bytes written past the readable part are kept too
        break;
      }
    }
    ASSERT_EQ(r.capacity(), m.capacity);
    ASSERT_EQ(r.size(), m.readable.size());
    ASSERT_EQ(r.free(), m.capacity - m.readable.size());
    const auto parts = r.readable();
    if (!parts.second.empty()) ++wraps_seen;
    ASSERT_EQ(concat(parts), std::vector<Byte>(m.readable.begin(), m.readable.end())) << "op " << op;
  }
  EXPECT_GT(wraps_seen, 1000);  // the wrap point was exercised, often
}

}  // namespace
}  // namespace ustack::base
