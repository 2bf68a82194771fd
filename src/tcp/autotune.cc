// Buffer auto-tuning (Linux tcp_rcv_rtt_update, tcp_rcv_space_adjust,
// tcp_sndbuf_expand; docs/buffers.md).
#include "tcp/autotune.h"

#include <algorithm>

namespace ustack::tcp {

void RcvRtt::update(base::Duration sample, bool window_based) {
  if (sample <= base::Duration{0}) sample = std::chrono::microseconds(1);
  if (rtt_ == base::Duration{0}) {
    rtt_ = sample;
  } else if (window_based) {
    // "No previous measure ... or the measure is larger than what we have: take
    // the min" (Linux: a window-based sample only ever lowers the estimate, as the
    // sender may have been application- or cwnd-limited).
    rtt_ = std::min(rtt_, sample);
  } else {
    rtt_ += (sample - rtt_) / 8;
  }
}

void RcvRtt::on_timestamp(std::uint32_t tsecr, std::uint32_t ts_now) {
  if (tsecr == 0 || last_tsecr_ == tsecr) return;
  const auto ms = static_cast<std::int32_t>(ts_now - tsecr);
  if (ms < 0) return;
  last_tsecr_ = tsecr;
  update(std::chrono::milliseconds(std::max(ms, 1)), false);
}

void RcvRtt::on_data(Seq rcv_nxt, std::uint32_t rcv_wnd, base::Instant now) {
  if (window_start_) {
    if (rcv_nxt < window_end_) return;
    update(now - *window_start_, true);
  }
  window_end_ = rcv_nxt + rcv_wnd;
  window_start_ = now;
}

void RcvSpace::start(std::size_t rcvbuf, std::uint32_t mss, std::uint64_t copied, base::Instant now) {
  space_ = std::min<std::size_t>(rcvbuf, std::size_t{10} * mss);
  copied_at_ = copied;
  time_ = now;
  started_ = true;
}

std::optional<std::size_t> RcvSpace::adjust(std::uint64_t copied, base::Instant now, base::Duration rcv_rtt,
                                            std::uint32_t mss, std::size_t current, std::size_t max,
                                            bool locked) {
  if (!started_) {
    start(current, mss, copied, now);
    return std::nullopt;
  }
  // Once per receiver RTT, and only once there is an estimate.
  if (rcv_rtt == base::Duration{0} || now - time_ < rcv_rtt) return std::nullopt;
  const std::uint64_t read = copied - copied_at_;
  copied_at_ = copied;
  time_ = now;
  if (read <= space_) return std::nullopt;
  // Linux: rcvwin = 2 * copied + 16 * advmss (room for the sender's cwnd to grow
  // during slow start and for reordering), plus twice the growth ratio applied
  // to it: grow = rcvwin * (copied - space) / space; rcvwin += 2 * grow.
  std::uint64_t want = 2 * read + std::uint64_t{16} * mss;
  const std::uint64_t grow = want * (read - space_) / std::max<std::size_t>(space_, 1);
  want += 2 * grow;
  space_ = static_cast<std::size_t>(read);
  if (locked) return std::nullopt;
  const std::size_t target = static_cast<std::size_t>(std::min<std::uint64_t>(want, max));
  if (target <= current) return std::nullopt;
  return target;
}

std::size_t sndbuf_target(std::uint32_t cwnd_bytes, std::uint32_t mss, std::uint32_t reordering, std::size_t max) {
  if (mss == 0) return 0;
  std::uint64_t segs = std::max<std::uint64_t>(cwnd_bytes / mss, 10);  // TCP_INIT_CWND
  segs = std::max<std::uint64_t>(segs, std::uint64_t{reordering} + 1);
  return static_cast<std::size_t>(std::min<std::uint64_t>(2 * segs * mss, max));
}

std::size_t sndbuf_grow(std::size_t capacity, std::size_t want, std::size_t max) {
  if (want <= capacity) return capacity;
  return std::max(want, std::min(2 * capacity, max));
}

}  // namespace ustack::tcp
