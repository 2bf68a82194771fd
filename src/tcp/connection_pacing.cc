// Pacing, and whether the window limits sending (for the algorithms' growth).
// Pacing: data segments leave at the congestion-control algorithm's pacing rate
// (Linux's: 2 x cwnd / SRTT in slow start, 1.2 x in congestion avoidance), so
// that a window opened at once -- the initial window, a window after idle, a
// burst of ACKs -- does not reach a small bottleneck queue as one burst. As
// Linux's internal pacing (tcp_pacing_check, tcp_tso_autosize), segments leave
// in bursts of max(2 segments, 1 ms at the rate), at most 64 KiB.
#include <algorithm>

#include "tcp/connection.h"

namespace ustack::tcp {

namespace {
/// Time to send `bytes` at `rate` bytes per second.
base::Duration at_rate(std::uint64_t bytes, std::uint64_t rate) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(bytes * 1'000'000'000ull / rate));
}
constexpr std::uint64_t kHeaderBytes = 40;  // IP and TCP headers: the rate counts what the wire carries
}  // namespace

std::uint64_t Connection::current_pacing_rate() const { return cc_->pacing_rate(rtt_.srtt(), flight_size()); }

bool Connection::pacing_allows(base::Instant now) {
  if (!config_->pacing || !pacing_release_) return true;
  const std::uint64_t rate = current_pacing_rate();
  if (rate == 0) return true;
  const std::uint64_t segment = snd_mss_ + kHeaderBytes;
  const std::uint64_t burst = std::clamp<std::uint64_t>(rate / 1000, 2 * segment, 65536);
  // A segment may leave while the release time is at most one burst (less this
  // segment) ahead of now.
  const base::Duration allowance = at_rate(burst - std::min(burst, segment), rate);
  const base::Instant earliest = *pacing_release_ - allowance;
  if (now >= earliest) {
    pacing_deadline_.reset();
    return true;
  }
  pacing_deadline_ = earliest;
  return false;
}

void Connection::paced(std::size_t len, base::Instant now) {
  if (!config_->pacing) return;
  const std::uint64_t rate = current_pacing_rate();
  if (rate == 0) {
    pacing_release_.reset();
    return;
  }
  // Credit never accrues: after idle the release time starts from now.
  const base::Instant from = pacing_release_ ? std::max(*pacing_release_, now) : now;
  pacing_release_ = from + at_rate(len + kHeaderBytes, rate);
}

void Connection::note_cwnd_usage() {
  // Linux tcp_cwnd_validate: a new window of observation once SND.UNA passes the
  // end of the last, or when more is in flight than before, or cwnd held data back.
  const std::uint32_t flight = flight_size();
  if (snd_una_ >= cwnd_usage_seq_ || cwnd_blocked_ || flight > max_flight_) {
    max_flight_ = flight;
    cwnd_usage_seq_ = snd_nxt_;
    cwnd_limited_ = cwnd_blocked_;
  }
}

bool Connection::is_cwnd_limited() const {
  // Linux tcp_is_cwnd_limited: "If in slow start, ensure cwnd grows to twice
  // what was ACKed" -- cwnd < 2 * max_packets_out; else the flag.
  if (cc_->in_slow_start()) return cc_->cwnd() < 2u * max_flight_;
  return cwnd_limited_;
}

}  // namespace ustack::tcp
