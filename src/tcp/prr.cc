// Proportional Rate Reduction (RFC 6937 3), PRR-SSRB.
#include "tcp/prr.h"

#include <algorithm>

namespace ustack::tcp {

void Prr::start(std::uint32_t recover_fs, std::uint32_t ssthresh) {
  prr_delivered_ = 0;
  prr_out_ = 0;
  recover_fs_ = std::max<std::uint32_t>(recover_fs, 1);
  ssthresh_ = ssthresh;
}

std::uint32_t Prr::on_ack(std::uint32_t delivered, std::uint32_t pipe, std::uint32_t smss) {
  prr_delivered_ += delivered;
  std::int64_t sndcnt;
  if (pipe > ssthresh_) {
    // "Proportional Rate Reduction:
    //    sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out"
    // Linux counts in segments; in bytes the CEIL is to a whole segment, so that a
    // segment goes out for every RecoverFS/ssthresh delivered, not half segments.
    const std::uint64_t quota = (prr_delivered_ * ssthresh_ + recover_fs_ - 1) / recover_fs_;
    const std::uint64_t whole = (quota + smss - 1) / smss * smss;
    sndcnt = static_cast<std::int64_t>(whole) - static_cast<std::int64_t>(prr_out_);
  } else {
    // PRR-SSRB: "limit = MAX(prr_delivered - prr_out, DeliveredData) + MSS;
    //            sndcnt = MIN(ssthresh - pipe, limit)"
    const std::int64_t limit =
        std::max<std::int64_t>(static_cast<std::int64_t>(prr_delivered_) - static_cast<std::int64_t>(prr_out_),
                               delivered) + smss;
    sndcnt = std::min<std::int64_t>(static_cast<std::int64_t>(ssthresh_) - pipe, limit);
  }
  // Linux (tcp_cwnd_reduction): the fast retransmit itself always goes out,
  // "sndcnt = max(sndcnt, (tp->prr_out ? 0 : 1))".
  if (prr_out_ == 0) sndcnt = std::max<std::int64_t>(sndcnt, smss);
  return static_cast<std::uint32_t>(std::max<std::int64_t>(sndcnt, 0));
}

}  // namespace ustack::tcp
