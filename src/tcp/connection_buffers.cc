// Receive-buffer auto-tuning and send-buffer auto-sizing (docs/buffers.md), the
// way Linux does them: tcp_rcv_space_adjust, tcp_rcv_rtt_measure(_ts),
// tcp_sndbuf_expand. The arithmetic is in tcp/autotune.cc.
#include <algorithm>

#include "tcp/connection.h"

namespace ustack::tcp {

void Connection::tune_rcvbuf(base::Instant now) {
  if (rcv_buf_.capacity() == 0 || !synchronized()) return;
  // Linux: no growth while the stack is short of memory (tcp_rcv_space_adjust's
  // window growth goes through tcp_grow_window, which checks memory pressure).
  if (rcv_mem_.under_pressure()) return;
  // The window can never say more than 65535 << shift (RFC 7323 2.3): a larger
  // buffer would be memory the peer cannot be told about.
  const std::size_t limit =
      std::max(rcv_buf_.capacity(), std::min(config_->rcvbuf_max, max_window(rcv_shift_)));
  const auto want = rcvq_space_.adjust(copied_, now, rcv_rtt_.rtt(), snd_mss_, rcv_buf_.capacity(), limit,
                                       rcvbuf_locked_);
  if (!want) return;
  // The ring keeps the readable bytes and the out-of-order bytes written past them.
  rcv_buf_.resize(*want);
  rcvbuf_ = *want;
}

void Connection::measure_rcv_rtt(const wire::TcpRepr& seg, std::size_t len, base::Instant now) {
  if (ts_ok_) {
    // Linux tcp_rcv_rtt_measure_ts: only segments of at least a full MSS, which
    // the sender did not hold back.
    if (seg.options.timestamps && len >= std::min<std::size_t>(snd_mss_, 536))
      rcv_rtt_.on_timestamp(seg.options.timestamps->echo_reply, ts_now(now));
  } else {
    rcv_rtt_.on_data(rcv_nxt_, rcv_wnd(), now);
  }
}

void Connection::tune_sndbuf() {
  if (sndbuf_locked_ || snd_buf_.capacity() == 0) return;
  // Linux tcp_should_expand_sndbuf: "If we are under global TCP memory pressure, do not expand."
  if (snd_mem_.under_pressure()) return;
  // Linux tcp_should_expand_sndbuf: not when the congestion window is full (the
  // buffer is then not what limits the sender).
  if (in_flight() >= cc_->cwnd()) return;
  const std::size_t want = sndbuf_target(cc_->cwnd(), smss(), rack_.reordering(), config_->sndbuf_max);
  if (want <= snd_buf_.capacity()) return;
  const std::size_t grown = sndbuf_grow(snd_buf_.capacity(), want, config_->sndbuf_max);
  snd_buf_.resize(grown);
  sndbuf_ = grown;
  events_.writable = true;
}

void Connection::set_rcvbuf(std::size_t bytes) {
  rcvbuf_locked_ = true;
  if (rcv_buf_.capacity() != 0 && bytes > rcv_buf_.capacity()) rcv_buf_.resize(bytes);
  rcvbuf_ = std::max(bytes, rcv_buf_.capacity());
}

void Connection::set_sndbuf(std::size_t bytes) {
  sndbuf_locked_ = true;
  if (snd_buf_.capacity() != 0 && bytes > snd_buf_.capacity()) {
    snd_buf_.resize(bytes);
    events_.writable = true;
  }
  sndbuf_ = std::max(bytes, snd_buf_.capacity());
}

}  // namespace ustack::tcp
