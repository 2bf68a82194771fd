// A per-connection trace: congestion and RTT state over time (cwnd, ssthresh,
// bytes in flight, SRTT, RTTVAR, RTO, retransmissions) and the send sequence
// variables for a tcptrace-style time-sequence view, as CSV rows (docs/trace.md).
// Pure: the owner samples a connection after each event that may have changed
// it and hands the recorder the time; rows go to a sink the owner chooses.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/time.h"
#include "tcp/connection.h"

namespace ustack::tcp {

/// One row of the trace: what a connection looked like after an event.
struct TraceSample {
  std::string conn;              // "local-remote", e.g. 198.18.0.1:40000-198.18.0.2:80
  State state = State::closed;
  std::uint64_t snd_una = 0;     // relative to the ISS, unwrapped to 64 bits
  std::uint64_t snd_nxt = 0;
  std::uint64_t delivered = 0;   // bytes acknowledged (tcpi_bytes_acked)
  std::uint32_t cwnd = 0;        // bytes
  std::optional<std::uint32_t> ssthresh;  // bytes; none while still infinite
  std::uint32_t in_flight = 0;   // bytes sent and not acknowledged
  std::uint32_t srtt_us = 0, rttvar_us = 0, rto_us = 0;
  std::uint64_t retrans_segs = 0, retrans_bytes = 0, fast_retrans = 0, timeouts = 0;
  bool in_recovery = false;
  std::uint32_t snd_wnd = 0, rcv_wnd = 0, mss = 0;
  bool operator==(const TraceSample&) const = default;
};

/// Samples connections and writes a CSV row whenever one has changed. Bounded:
/// once `max_bytes` have been written, further rows are counted and dropped, and
/// a final comment line (starting with '#') says how many.
class TraceRecorder {
 public:
  /// Receives text to append (the header, rows, the final comment); false on error.
  using Sink = std::function<bool(std::string_view)>;
  /// Pushes what the sink buffered to its file (optional).
  using Flush = std::function<void()>;
  static constexpr std::size_t kDefaultMaxBytes = 64u << 20;
  static const char* const kHeader;

  explicit TraceRecorder(Sink sink, std::size_t max_bytes = kDefaultMaxBytes, Flush flush = {});
  ~TraceRecorder();  // writes the truncation note, if rows were dropped
  TraceRecorder(const TraceRecorder&) = delete;
  TraceRecorder& operator=(const TraceRecorder&) = delete;

  /// Records `c` at `now` if anything but the time changed since its last row.
  /// A connection seen in CLOSED is forgotten after its last row.
  void sample(const Connection& c, base::Instant now);

  /// Pushes buffered rows out (Stack::flush_devices() calls it, before a quick exit).
  void flush() {
    if (flush_) flush_();
  }

  std::uint64_t rows_written() const { return rows_written_; }
  std::uint64_t rows_dropped() const { return rows_dropped_; }
  std::uint64_t bytes_written() const { return bytes_written_; }
  std::uint64_t write_errors() const { return write_errors_; }

  /// The sample for a connection (exposed for tests); `last_una` unwraps SND.UNA.
  static TraceSample take(const Connection& c, std::uint64_t last_una, std::uint64_t last_nxt);
  /// One CSV line (with '\n') for a sample at `seconds` since the trace began.
  static std::string format(double seconds, const TraceSample& s);

 private:
  struct Seen {
    TraceSample last;
  };
  void write(std::string_view text);

  Sink sink_;
  std::size_t max_bytes_;
  Flush flush_;
  std::optional<base::Instant> start_;
  // By connection address and ISS: an address may be reused by a later connection.
  std::map<std::pair<const Connection*, std::uint32_t>, Seen> seen_;
  std::uint64_t rows_written_ = 0, rows_dropped_ = 0, bytes_written_ = 0, write_errors_ = 0;
};

}  // namespace ustack::tcp
