// Proportional Rate Reduction (RFC 6937), the PRR-SSRB variant Linux uses: how
// much may be sent on each ACK during loss recovery, so that the reduction to
// ssthresh is spread over the round trip instead of a silence then a burst.
#pragma once

#include <cstdint>

namespace ustack::tcp {

class Prr {
 public:
  /// Entering recovery (RFC 6937 3: "prr_delivered = 0, prr_out = 0,
  /// RecoverFS = snd.nxt - snd.una"), with the ssthresh just chosen.
  void start(std::uint32_t recover_fs, std::uint32_t ssthresh);
  /// On an ACK in recovery: `delivered` is DeliveredData (change in SND.UNA plus
  /// change in SACKed bytes), `pipe` the RFC 6675 pipe after it. Returns sndcnt,
  /// the bytes that may be sent now.
  std::uint32_t on_ack(std::uint32_t delivered, std::uint32_t pipe, std::uint32_t smss);
  /// "On any data transmission or retransmission: prr_out += (data sent)".
  void on_sent(std::uint32_t bytes) { prr_out_ += bytes; }
  std::uint32_t delivered() const { return prr_delivered_; }
  std::uint32_t out() const { return prr_out_; }

 private:
  std::uint64_t prr_delivered_ = 0, prr_out_ = 0, recover_fs_ = 1, ssthresh_ = 0;
};

}  // namespace ustack::tcp
