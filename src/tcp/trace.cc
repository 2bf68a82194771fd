// The per-connection trace recorder: samples, change detection, CSV rows, size cap.
#include "tcp/trace.h"

#include <fmt/format.h>

namespace ustack::tcp {

const char* const TraceRecorder::kHeader =
    "time,conn,state,snd_una,snd_nxt,delivered,cwnd,ssthresh,in_flight,srtt_us,rttvar_us,rto_us,"
    "retrans_segs,retrans_bytes,fast_retrans,timeouts,in_recovery,snd_wnd,rcv_wnd,mss\n";

TraceRecorder::TraceRecorder(Sink sink, std::size_t max_bytes, Flush flush)
    : sink_(std::move(sink)), max_bytes_(max_bytes), flush_(std::move(flush)) {
  write(kHeader);
}

TraceRecorder::~TraceRecorder() {
  if (rows_dropped_ > 0 && sink_) {
    // Past the cap on purpose: one short line, so a reader knows the trace is cut.
    const std::string note = fmt::format("# truncated: {} rows dropped at the size cap of {} bytes\n",
                                         rows_dropped_, max_bytes_);
    if (!sink_(note)) ++write_errors_;
  }
}

void TraceRecorder::write(std::string_view text) {
  if (!sink_) return;
  if (!sink_(text)) ++write_errors_;
  bytes_written_ += text.size();
}

TraceSample TraceRecorder::take(const Connection& c, std::uint64_t last_una, std::uint64_t last_nxt) {
  TraceSample s;
  s.conn = c.local().to_string() + "-" + c.remote().to_string();
  s.state = c.state();
  // Unwrap: SND.UNA and SND.NXT only move forward (by less than 2^31 per event),
  // except SND.NXT, which a retransmission timeout pulls back to SND.UNA.
  auto unwrap = [](std::uint64_t last, std::uint32_t rel) {
    const std::uint32_t delta = rel - static_cast<std::uint32_t>(last);
    return static_cast<std::int32_t>(delta) >= 0 ? last + delta : last - (0u - delta);
  };
  s.snd_una = unwrap(last_una, static_cast<std::uint32_t>(c.snd_una() - c.iss()));
  s.snd_nxt = unwrap(last_nxt, static_cast<std::uint32_t>(c.snd_nxt() - c.iss()));
  s.delivered = c.info().bytes_acked;
  s.cwnd = c.cwnd();
  if (c.ssthresh() != 0xffffffffu) s.ssthresh = c.ssthresh();
  s.in_flight = c.bytes_in_flight();
  auto us = [](std::optional<base::Duration> d) {
    return d ? static_cast<std::uint32_t>(std::max<std::int64_t>(0, base::to_micros(*d))) : 0u;
  };
  s.srtt_us = us(c.rtt().srtt());
  s.rttvar_us = us(c.rtt().rttvar());
  s.rto_us = us(c.rtt().rto());
  s.retrans_segs = c.info().retransmits_total;
  s.retrans_bytes = c.info().bytes_retrans;
  s.fast_retrans = c.info().fast_retransmits;
  s.timeouts = c.info().timeouts;
  s.in_recovery = c.in_recovery();
  s.snd_wnd = c.snd_wnd();
  s.rcv_wnd = c.rcv_wnd();
  s.mss = c.mss();
  return s;
}

std::string TraceRecorder::format(double seconds, const TraceSample& s) {
  return fmt::format("{:.6f},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", seconds, s.conn,
                     to_string(s.state), s.snd_una, s.snd_nxt, s.delivered, s.cwnd,
                     s.ssthresh ? std::to_string(*s.ssthresh) : std::string(), s.in_flight, s.srtt_us,
                     s.rttvar_us, s.rto_us, s.retrans_segs, s.retrans_bytes, s.fast_retrans, s.timeouts,
                     s.in_recovery ? 1 : 0, s.snd_wnd, s.rcv_wnd, s.mss);
}

void TraceRecorder::sample(const Connection& c, base::Instant now) {
  if (!start_) start_ = now;
  const auto key = std::make_pair(&c, c.iss().value());
  auto it = seen_.find(key);
  TraceSample s = it == seen_.end() ? take(c, 0, 0) : take(c, it->second.last.snd_una, it->second.last.snd_nxt);
  const bool changed = it == seen_.end() || !(it->second.last == s);
  if (changed) {
    const std::string row = format(base::to_seconds(now - *start_), s);
    if (bytes_written_ + row.size() > max_bytes_) {
      ++rows_dropped_;
    } else {
      write(row);
      ++rows_written_;
    }
  }
  if (c.state() == State::closed) {
    if (it != seen_.end()) seen_.erase(it);
    return;
  }
  if (it == seen_.end())
    seen_.emplace(key, Seen{std::move(s)});
  else
    it->second.last = std::move(s);
}

}  // namespace ustack::tcp
