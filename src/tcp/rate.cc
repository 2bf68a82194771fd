// Delivery-rate estimation: see rate.h.
#include "tcp/rate.h"

#include <algorithm>

namespace ustack::tcp {

RateStamp DeliveryRate::on_send(base::Instant now, bool nothing_in_flight) {
  if (nothing_in_flight) {
    first_sent_ = now;
    delivered_time_ = now;
  }
  return {delivered_, delivered_time_, first_sent_, app_limited_ != 0};
}

void DeliveryRate::on_app_limited(std::uint32_t in_flight) {
  app_limited_ = std::max<std::uint64_t>(delivered_ + in_flight, 1);
}

void DeliveryRate::on_delivered(std::uint32_t bytes, const RateStamp& stamp, base::Instant sent, base::Instant now) {
  delivered_ += bytes;
  delivered_time_ = now;
  // Draft 3.3 UpdateRateSample: "Update info using the newest packet" (the one
  // whose transmission saw the most delivered).
  if (!have_prior_ || stamp.delivered >= prior_delivered_) {
    have_prior_ = true;
    prior_delivered_ = stamp.delivered;
    prior_app_limited_ = stamp.app_limited;
    send_elapsed_ = sent - stamp.first_sent;
    ack_elapsed_ = delivered_time_ - stamp.delivered_time;
    first_sent_ = sent;
  }
}

std::optional<RateSample> DeliveryRate::on_ack_done(std::optional<base::Duration> min_rtt) {
  // Draft 3.3: "Clear app-limited field if bubble is ACKed and gone".
  if (app_limited_ != 0 && delivered_ > app_limited_) app_limited_ = 0;
  if (!have_prior_) return std::nullopt;
  have_prior_ = false;
  RateSample rs;
  rs.delivered = delivered_ - prior_delivered_;
  rs.prior_delivered = prior_delivered_;
  rs.app_limited = prior_app_limited_;
  rs.interval = std::max(send_elapsed_, ack_elapsed_);
  // "Normally we expect interval >= min_rtt. ... we discard rate samples with
  // interval < min_rtt" (ACK compression, stretched ACKs).
  if (rs.interval <= base::Duration::zero() || rs.delivered == 0) return std::nullopt;
  if (min_rtt && rs.interval < *min_rtt) return std::nullopt;
  rate_ = static_cast<std::uint64_t>(static_cast<double>(rs.delivered) * 1e9 /
                                     static_cast<double>(std::chrono::nanoseconds(rs.interval).count()));
  return rs;
}

}  // namespace ustack::tcp
