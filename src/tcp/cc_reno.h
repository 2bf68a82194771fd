// NewReno's window (RFC 5681 3.1, RFC 6582): slow start by at most one SMSS per
// ACK, congestion avoidance by one SMSS per window acknowledged (byte counting,
// RFC 3465), and the window halved on loss. Linux's "reno".
#pragma once

#include "tcp/cc.h"

namespace ustack::tcp {

class Reno : public CongestionControl {
 public:
  const char* name() const override { return "reno"; }
  void on_ack(const AckEvent& ack) override;
  void on_rto(std::uint32_t in_flight, base::Instant now) override;

 private:
  std::uint32_t bytes_acked_ca_ = 0;  // congestion avoidance byte counting
};

}  // namespace ustack::tcp
