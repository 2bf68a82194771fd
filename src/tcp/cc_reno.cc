// NewReno's window: RFC 5681 3.1 and RFC 6582.
#include "tcp/cc_reno.h"

#include <algorithm>

namespace ustack::tcp {

void Reno::on_ack(const AckEvent& ack) {
  if (cwnd_ < ssthresh_) {
    // RFC 5681 3.1: "During slow start, a TCP increments cwnd by at most SMSS bytes
    // for each ACK received that cumulatively acknowledges new data."
    cwnd_ += std::min(ack.bytes_acked, smss_);
    return;
  }
  // Congestion avoidance: "cwnd is incremented by 1 full-sized segment per
  // round-trip time", counted in bytes acknowledged (RFC 3465, RFC 5681 3.1).
  bytes_acked_ca_ += ack.bytes_acked;
  if (bytes_acked_ca_ >= cwnd_) {
    bytes_acked_ca_ -= cwnd_;
    cwnd_ += smss_;
  }
}

void Reno::on_rto(std::uint32_t in_flight, base::Instant now) {
  CongestionControl::on_rto(in_flight, now);
  bytes_acked_ca_ = 0;
}

}  // namespace ustack::tcp
