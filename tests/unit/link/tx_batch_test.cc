// Batched TUN/TAP writes: the TxBatch queue's rules, UringTx on a pipe, and an
// FdDevice over a SOCK_SEQPACKET pair (message boundaries, as a TAP's frames)
// that holds frames until flush_tx() and writes a round's frames with one
// submission, in order. The io_uring cases skip themselves where the kernel or
// the build has none.
#include "link/tx_batch.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "link/fd_device.h"
#include "link/uring_tx.h"

namespace ustack::link {
namespace {

std::vector<base::Byte> bytes_of(std::size_t n, base::Byte seed) {
  std::vector<base::Byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<base::Byte>(seed + i * 7);
  return v;
}

TEST(TxBatch, CopiesPrefixAndFrameSoTheCallerMayReuseItsBuffer) {
  TxBatch b(4);
  std::vector<base::Byte> hdr{1, 2, 3};
  auto frame = bytes_of(100, 9);
  ASSERT_TRUE(b.add(hdr, frame, 5));
  const auto want_frame = frame;
  std::fill(frame.begin(), frame.end(), 0);  // the stack reuses its buffer
  hdr[0] = 0;
  ASSERT_EQ(b.size(), 1u);
  const base::ByteSpan got = b.bytes(0);
  ASSERT_EQ(got.size(), 103u);
  EXPECT_EQ(got[0], 1);
  EXPECT_EQ(got[2], 3);
  EXPECT_TRUE(std::equal(got.begin() + 3, got.end(), want_frame.begin()));
  EXPECT_EQ(b.tag(0), 5u);
}

TEST(TxBatch, RefusesBeyondItsDepthAndKeepsOrder) {
  TxBatch b(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(b.add({}, bytes_of(10 + i, static_cast<base::Byte>(i))));
  EXPECT_TRUE(b.full());
  EXPECT_FALSE(b.add({}, bytes_of(5, 0)));
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(b.bytes(i).size(), 10 + i);
    EXPECT_EQ(b.bytes(i)[0], static_cast<base::Byte>(i));
  }
}

TEST(TxBatch, SlotsAreRecycledAcrossBatches) {
  // A steady flow allocates nothing per frame: after the first batch of
  // full-size frames, later batches (of any frames no larger) reuse the slots.
  TxBatch b(8);
  const auto big = bytes_of(1514, 1), small = bytes_of(60, 2);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(b.add({}, big));
  const std::size_t cap = b.capacity_bytes();
  EXPECT_GE(cap, 8u * 1514);
  for (int round = 0; round < 100; ++round) {
    b.clear();
    EXPECT_TRUE(b.empty());
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(b.add({}, (i % 2) ? big : small));
    EXPECT_EQ(b.bytes(0).size(), 60u);  // a short frame in a large slot is its own length
  }
  EXPECT_EQ(b.capacity_bytes(), cap);
}

TEST(UringTx, WritesABatchInOrderToAPipe) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  std::string why;
  auto u = UringTx::open(p[1], 16, &why);
  if (!u) {
    ::close(p[0]);
    ::close(p[1]);
    GTEST_SKIP() << "io_uring unavailable: " << why;
  }
  TxBatch b(16);
  std::vector<base::Byte> want;
  for (int i = 0; i < 16; ++i) {
    auto f = bytes_of(100 + i, static_cast<base::Byte>(i));
    ASSERT_TRUE(b.add({}, f));
    want.insert(want.end(), f.begin(), f.end());
  }
  std::size_t oks = 0;
  const auto d = u->submit(b, [&](std::size_t, bool ok) { oks += ok; });
  EXPECT_EQ(d.written, 16u);
  EXPECT_EQ(d.failed, 0u);
  EXPECT_EQ(d.enters, 1u);
  EXPECT_EQ(oks, 16u);
  std::vector<base::Byte> got(want.size() + 1);
  const ssize_t n = ::read(p[0], got.data(), got.size());
  ASSERT_EQ(n, static_cast<ssize_t>(want.size()));
  got.resize(want.size());
  EXPECT_EQ(got, want);  // in order, byte for byte
  u.reset();
  ::close(p[0]);
  ::close(p[1]);
}

// An FdDevice over one end of a SOCK_SEQPACKET pair: each write is one message,
// as each write to a TAP is one frame.
class PairDevice : public FdDevice {
 public:
  static std::unique_ptr<PairDevice> make(int fd, TxIo io) {
    Opened o;
    o.fd = fd;
    auto d = std::unique_ptr<PairDevice>(new PairDevice(o));
    d->start_tx(io);
    return d;
  }

 private:
  explicit PairDevice(const Opened& o) : FdDevice(o, Medium::ethernet, "pair0") {}
};

struct Pair {
  int ours = -1, theirs = -1;
  Pair() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0) {
      ours = sv[0];
      theirs = sv[1];
      int big = 4 << 20;
      (void)::setsockopt(ours, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
      (void)::setsockopt(theirs, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    }
  }
  ~Pair() {
    if (theirs >= 0) ::close(theirs);  // `ours` belongs to the device
  }
  std::vector<std::vector<base::Byte>> drain() const {
    std::vector<std::vector<base::Byte>> out;
    std::vector<base::Byte> buf(4096);
    while (true) {
      const ssize_t n = ::recv(theirs, buf.data(), buf.size(), 0);
      if (n < 0) break;
      out.emplace_back(buf.begin(), buf.begin() + n);
    }
    return out;
  }
};

TEST(FdDeviceBatch, HoldsARoundsFramesUntilFlushAndWritesThemWithOneSubmit) {
  Pair pair;
  ASSERT_GE(pair.ours, 0);
  auto dev = PairDevice::make(pair.ours, TxIo::uring);
  if (!dev->tx_batched()) GTEST_SKIP() << "io_uring unavailable: " << dev->offloads();
  EXPECT_NE(dev->offloads().find("io_uring"), std::string::npos) << dev->offloads();
  std::vector<std::vector<base::Byte>> sent;
  for (int i = 0; i < 20; ++i) {
    sent.push_back(bytes_of(60 + 50 * i, static_cast<base::Byte>(i)));
    EXPECT_TRUE(dev->transmit(base::kEpoch, sent.back()));
  }
  EXPECT_TRUE(pair.drain().empty()) << "frames left before flush_tx()";
  EXPECT_TRUE(dev->next_deadline().has_value()) << "queued frames make the device due at once";
  dev->flush_tx();
  EXPECT_FALSE(dev->next_deadline().has_value());
  EXPECT_EQ(pair.drain(), sent);
  EXPECT_EQ(dev->stats().tx_frames, 20u);
  EXPECT_EQ(dev->stats().tx_submits, 1u);
  EXPECT_EQ(dev->stats().tx_batch_max, 20u);
  EXPECT_EQ(dev->stats().tx_dropped, 0u);
}

TEST(FdDeviceBatch, AFullBatchIsWrittenBeforeTheNextFrameIsQueued) {
  Pair pair;
  ASSERT_GE(pair.ours, 0);
  auto dev = PairDevice::make(pair.ours, TxIo::uring);
  if (!dev->tx_batched()) GTEST_SKIP() << "io_uring unavailable: " << dev->offloads();
  const std::size_t n = FdDevice::kTxBatchDepth * 2 + 3;
  std::vector<std::vector<base::Byte>> sent;
  for (std::size_t i = 0; i < n; ++i) {
    sent.push_back(bytes_of(64, static_cast<base::Byte>(i)));
    ASSERT_TRUE(dev->transmit(base::kEpoch, sent.back()));
  }
  EXPECT_EQ(dev->stats().tx_submits, 2u);  // two full batches went out on their own
  dev->flush_tx();
  EXPECT_EQ(dev->stats().tx_submits, 3u);
  EXPECT_EQ(dev->stats().tx_batch_max, FdDevice::kTxBatchDepth);
  EXPECT_EQ(pair.drain(), sent);
}

TEST(FdDeviceBatch, PlainWritesEachFrameAtOnce) {
  Pair pair;
  ASSERT_GE(pair.ours, 0);
  auto dev = PairDevice::make(pair.ours, TxIo::plain);
  EXPECT_FALSE(dev->tx_batched());
  EXPECT_NE(dev->offloads().find("--tap-io plain"), std::string::npos) << dev->offloads();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(dev->transmit(base::kEpoch, bytes_of(100, static_cast<base::Byte>(i))));
  EXPECT_EQ(pair.drain().size(), 5u);
  EXPECT_EQ(dev->stats().tx_submits, 5u);
  EXPECT_EQ(dev->stats().tx_batch_max, 1u);
}

TEST(TxIoOption, Parses) {
  EXPECT_EQ(parse_tx_io("uring"), TxIo::uring);
  EXPECT_EQ(parse_tx_io("plain"), TxIo::plain);
  EXPECT_EQ(parse_tx_io("auto"), TxIo::automatic);
  EXPECT_FALSE(parse_tx_io("fast").has_value());
}

}  // namespace
}  // namespace ustack::link
