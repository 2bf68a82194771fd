// A connection's send and receive buffers hold storage only while they hold
// bytes (docs/performance.md, "Memory per connection"): none once established,
// the send ring's from the first send until everything is acknowledged, the
// receive ring's from the first segment until the application read it all and
// no out-of-order data waits. The window offered is the same before and after.
#include <gtest/gtest.h>

#include <vector>

#include "tcp/connection.h"

namespace ustack::tcp {
namespace {

using namespace std::chrono_literals;
namespace flag = wire::tcp_flag;

const base::Ipv4Addr kLocal(198, 18, 0, 1), kRemote(198, 18, 0, 2);
constexpr std::uint32_t kIss = 1000;   // ours: data starts at 1001
constexpr std::uint32_t kIrs = 50000;  // the peer's: data starts at 50001

Config test_config() {
  Config c;
  c.pacing = false;
  c.rcvbuf = 65536;
  c.sndbuf = 65536;
  c.delayed_ack = base::Duration{0};
  return c;
}

class Harness {
 public:
  Harness() : conn_(test_config(), {kLocal, 40000}, {kRemote, 80}, Seq(kIss), 1460, 0) {
    conn_.connect(now_);
    conn_.outbox().clear();
    wire::TcpRepr synack = seg(kIss + 1, kIrs);
    synack.flags = flag::syn | flag::ack;
    synack.options.mss = 1000;
    now_ += 10ms;
    conn_.on_segment(synack, {}, now_);
  }
  wire::TcpRepr seg(std::uint32_t ack, std::uint32_t seq) const {
    wire::TcpRepr r;
    r.src_port = 80;
    r.dst_port = 40000;
    r.seq = seq;
    r.ack = ack;
    r.flags = flag::ack;
    r.window = 65535;
    return r;
  }
  /// A data segment from the peer at its stream offset `off` (0: the first byte).
  void peer_data(std::uint32_t off, std::size_t len) {
    std::vector<base::Byte> payload(len, base::Byte{0x61});
    conn_.on_segment(seg(kIss + 1 + sent_acked_, kIrs + 1 + off), payload, now_);
  }
  void peer_ack(std::uint32_t bytes) {
    sent_acked_ = bytes;
    conn_.on_segment(seg(kIss + 1 + bytes, kIrs + 1 + rcv_so_far_), {}, now_);
  }
  /// The window field of the last segment we sent (and clears the outbox).
  std::uint16_t last_window() {
    std::uint16_t w = 0;
    for (const auto& p : conn_.outbox())
      if (auto v = wire::TcpView::parse(p.packet.data())) w = v->window();
    conn_.outbox().clear();
    return w;
  }
  std::size_t read_all() {
    std::vector<base::Byte> buf(1 << 17);
    const std::size_t n = conn_.receive(buf, false, now_);
    rcv_so_far_ += static_cast<std::uint32_t>(n);
    return n;
  }
  Connection conn_;
  base::Instant now_ = base::kEpoch + 1s;
  std::uint32_t sent_acked_ = 0, rcv_so_far_ = 0;
};

TEST(LazyBuffers, EstablishedConnectionHoldsNoBufferStorage) {
  Harness h;
  ASSERT_EQ(h.conn_.state(), State::established);
  EXPECT_EQ(h.conn_.buffer_memory(), 0u);
  EXPECT_EQ(h.conn_.rcvbuf(), 65536u);  // the sizes are unchanged: only storage is lazy
  EXPECT_EQ(h.conn_.sndbuf(), 65536u);
  EXPECT_EQ(h.conn_.send_space(), 65536u);
}

TEST(LazyBuffers, SendRingIsHeldUntilEverythingIsAcked) {
  Harness h;
  std::vector<base::Byte> data(3000, base::Byte{0x62});
  ASSERT_EQ(h.conn_.send(data, h.now_), 3000u);
  EXPECT_EQ(h.conn_.buffer_memory(), 65536u);
  h.peer_ack(2000);
  EXPECT_EQ(h.conn_.buffer_memory(), 65536u);  // 1000 bytes still unacknowledged
  h.peer_ack(3000);
  EXPECT_EQ(h.conn_.buffer_memory(), 0u);
  EXPECT_EQ(h.conn_.send_space(), 65536u);
  // And it comes back for the next send.
  ASSERT_EQ(h.conn_.send(data, h.now_), 3000u);
  EXPECT_EQ(h.conn_.buffer_memory(), 65536u);
}

TEST(LazyBuffers, ReceiveRingIsReturnedOnceReadAndTheWindowStaysTheSame) {
  Harness h;
  h.peer_data(0, 1000);
  EXPECT_EQ(h.conn_.buffer_memory(), 65536u);
  // The right edge offered in the SYN (65535, no window scale) does not move back.
  EXPECT_EQ(h.last_window(), 65535 - 1000);
  EXPECT_EQ(h.read_all(), 1000u);
  EXPECT_EQ(h.conn_.buffer_memory(), 0u);
  h.peer_data(1000, 1000);
  // The free space of the whole capacity, as if the storage had stayed.
  EXPECT_EQ(h.last_window(), 65536 - 1000);
  EXPECT_EQ(h.read_all(), 1000u);
  EXPECT_EQ(h.conn_.buffer_memory(), 0u);
}

TEST(LazyBuffers, OutOfOrderDataKeepsTheReceiveRing) {
  Harness h;
  h.peer_data(0, 1000);
  h.peer_data(2000, 1000);  // a hole at [1000, 2000)
  EXPECT_EQ(h.read_all(), 1000u);
  // The readable part is drained, but the out-of-order bytes live past it.
  EXPECT_EQ(h.conn_.buffer_memory(), 65536u);
  h.peer_data(1000, 1000);  // fills the hole: 2000 bytes readable
  EXPECT_EQ(h.read_all(), 2000u);
  EXPECT_EQ(h.conn_.buffer_memory(), 0u);
}

// Rings past RingBuffer::kReleaseMax (auto-tuned, or sized by the user) are
// reused while the flow is busy, and given back once they stayed empty for
// Connection::kIdleRelease: an idle connection holds no storage whatever its
// buffers' sizes.
TEST(LazyBuffers, LargeRingsGoBackOnceIdle) {
  Harness h;
  h.conn_.set_rcvbuf(1 << 20);
  h.conn_.set_sndbuf(1 << 20);
  h.peer_data(0, 1000);
  EXPECT_EQ(h.read_all(), 1000u);
  EXPECT_EQ(h.conn_.buffer_memory(), std::size_t{1} << 20);  // drained, kept for now
  std::vector<base::Byte> data(3000, base::Byte{0x62});
  ASSERT_EQ(h.conn_.send(data, h.now_), 3000u);
  h.peer_ack(3000);
  EXPECT_EQ(h.conn_.buffer_memory(), std::size_t{2} << 20);
  const auto due = h.conn_.next_deadline();
  ASSERT_TRUE(due);
  EXPECT_EQ(*due, h.now_ + Connection::kIdleRelease);
  h.conn_.on_timer(*due - 1ms);
  EXPECT_EQ(h.conn_.buffer_memory(), std::size_t{2} << 20);
  h.conn_.on_timer(*due);
  EXPECT_EQ(h.conn_.buffer_memory(), 0u);
  EXPECT_EQ(h.conn_.rcvbuf(), std::size_t{1} << 20);  // the sizes stay
  EXPECT_EQ(h.conn_.sndbuf(), std::size_t{1} << 20);
  EXPECT_FALSE(h.conn_.next_deadline());
  // Busy again: the storage comes back, and a ring that holds bytes when the
  // timer fires keeps them.
  h.now_ += 5s;
  h.peer_data(1000, 2000);
  ASSERT_EQ(h.conn_.send(data, h.now_), 3000u);
  h.rcv_so_far_ = 3000;  // the peer's ACK carries its next sequence number
  h.peer_ack(6000);      // the send ring is drained: the timer is armed
  EXPECT_EQ(h.conn_.buffer_memory(), std::size_t{2} << 20);
  h.conn_.on_timer(h.now_ + Connection::kIdleRelease);
  EXPECT_EQ(h.conn_.buffer_memory(), std::size_t{1} << 20);  // the unread 2000 bytes' ring stays
  std::vector<base::Byte> buf(4096);
  EXPECT_EQ(h.conn_.receive(buf, false, h.now_), 2000u);
  EXPECT_EQ(buf[0], base::Byte{0x61});
}

}  // namespace
}  // namespace ustack::tcp
