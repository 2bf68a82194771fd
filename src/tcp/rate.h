// Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation-02, as
// Linux's net/ipv4/tcp_rate.c): each transmission of a segment records how much
// had been delivered by then and when; when that segment is delivered
// (cumulatively or by SACK) the bytes delivered in between over the time in
// between is a rate sample. The latest sample is TCP_INFO's tcpi_delivery_rate
// and what `ss -i` prints as delivery_rate. Pure: told the time.
#pragma once

#include <cstdint>
#include <optional>

#include "base/time.h"
#include "tcp/cc.h"

namespace ustack::tcp {

/// What a transmission records ("P.delivered, P.delivered_time, P.first_sent_time").
struct RateStamp {
  std::uint64_t delivered = 0;
  base::Instant delivered_time{};
  base::Instant first_sent{};
  bool app_limited = false;            // "P.is_app_limited"
};

class DeliveryRate {
 public:
  /// A segment (new or again) leaves at `now`; `nothing_in_flight` before it.
  /// Draft 3.2: "If there are no packets in flight yet, then we can start the
  /// delivery rate interval at the current time".
  RateStamp on_send(base::Instant now, bool nothing_in_flight);
  /// A segment of `bytes` last sent at `sent` with `stamp` is delivered at `now`.
  void on_delivered(std::uint32_t bytes, const RateStamp& stamp, base::Instant sent, base::Instant now);
  /// The ACK's deliveries are done: its sample, if one of them gave a usable
  /// one. Draft 3.3: the interval is max(send_elapsed, ack_elapsed), and a
  /// sample over less than min_rtt is discarded (Linux tcp_rate_gen).
  std::optional<RateSample> on_ack_done(std::optional<base::Duration> min_rtt);

  /// The sender has less than a segment to send and room in cwnd, with every loss
  /// retransmitted (draft 3.4, Linux tcp_rate_check_app_limited): samples of what
  /// is sent from now until `in_flight` more bytes are delivered are app-limited.
  /// "C.app_limited = (C.delivered + C.inflight) ? : 1".
  void on_app_limited(std::uint32_t in_flight);
  bool app_limited() const { return app_limited_ != 0; }

  std::uint64_t delivered() const { return delivered_; }
  /// The latest sample in bytes per second; 0 before the first.
  std::uint64_t rate_bytes_per_sec() const { return rate_; }

 private:
  std::uint64_t delivered_ = 0;        // C.delivered
  std::uint64_t app_limited_ = 0;      // C.app_limited: 0, or the delivered count that ends it
  base::Instant delivered_time_{};     // C.delivered_time
  base::Instant first_sent_{};         // C.first_sent_time
  // The sample being built for this ACK (rs.*), from the most recently sent
  // segment it delivered.
  bool have_prior_ = false;
  std::uint64_t prior_delivered_ = 0;
  bool prior_app_limited_ = false;
  base::Duration send_elapsed_{}, ack_elapsed_{};
  std::uint64_t rate_ = 0;
};

}  // namespace ustack::tcp
