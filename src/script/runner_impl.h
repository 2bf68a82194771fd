// The runner's state, shared by runner.cc (clock and packets) and syscalls.cc
// (socket calls). Internal to src/script/.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/addr.h"
#include "script/runner.h"
#include "script/tun.h"
#include "stack/stack.h"

namespace ustack::script {

inline constexpr base::Ipv4Addr kLocalAddr(192, 168, 0, 1);
inline constexpr base::Ipv4Addr kRemoteAddr(192, 0, 2, 1);
inline constexpr std::uint16_t kScriptPort = 8080;         // bind(..., ...) and connect(..., ...)
inline constexpr std::uint16_t kRemoteDefaultPort = 48000;  // the peer's port towards a listener

class Runner {
 public:
  Runner(const Script& script, const RunOptions& options);
  RunResult run();

 private:
  struct Fd {
    stack::SocketId id = -1;
    int type = 0;
    bool nonblocking = false;
  };
  /// What a system call returned: a value, or -1 and an errno.
  struct Returned {
    std::int64_t value = 0;
    int err = 0;
  };
  /// A blocking call waiting for the stack.
  struct Pending {
    const Event* event = nullptr;
    base::Instant started;
    Micros earliest = 0;                   // when the call may return: the line's window
    Micros latest = 0;
    std::optional<base::Instant> timeout;  // poll()'s own timeout
    std::size_t done = 0;                  // bytes written so far
  };

  // runner.cc
  base::Instant at(Micros us) const { return base::kEpoch + std::chrono::microseconds(us); }
  Micros micros(base::Instant t) const;
  bool fail(const Event& e, const std::string& message);
  bool fail_at_line(int line, const std::string& message);
  void collect();
  bool step();
  bool advance_to(base::Instant target);
  std::optional<base::Instant> next_wakeup() const;
  bool check_stale(const Event& e, base::Instant event_time);
  bool check_pending_overdue();
  bool run_inbound(const Event& e, const Packet& p, base::Instant t);
  bool run_outbound(const Event& e, const Packet& p, Micros lo, Micros hi);
  std::vector<base::Byte> build_inbound(const Packet& p);
  /// Compares a sent datagram with the line's packet: nullopt when they match,
  /// else what differs. Learns the stack's ISN and port from its first SYN.
  std::optional<std::string> mismatch(const Packet& p, const ScriptTun::Sent& sent);
  std::string actual_line(const ScriptTun::Sent& sent) const;
  std::string describe_datagram(base::ByteSpan bytes) const;
  void trace(const std::string& line) const;

  // syscalls.cc
  bool run_syscall(const Event& e, base::Instant start, std::optional<Micros> end);
  /// One attempt at the call; nullopt when it must wait (a blocking socket).
  std::optional<Returned> attempt(const Syscall& c, bool first, Pending& state);
  bool finish_call(const Pending& p, const Returned& r);
  bool retry_pending();
  Fd* fd(std::int64_t n);
  int allocate_fd(stack::SocketId id, int type, bool nonblocking);
  bool blocking(const Fd& f, int flags) const;

  const Script& script_;
  Micros tolerance_;
  std::ostream* trace_;
  ScriptTun tun_;
  stack::Stack stack_;
  static stack::StackConfig stack_config(const RunOptions& options, const Script& script);
  base::Instant now_{};
  Micros base_ = 0;  // what relative times count from: the previous event's time
  std::deque<ScriptTun::Sent> sent_;
  std::optional<Pending> pending_;
  const Event* current_ = nullptr;
  base::Instant last_step_{};
  int steps_at_same_time_ = 0;
  bool failed_ = false;
  std::string error_;

  std::uint32_t local_isn_ = 0;
  bool isn_known_ = false;
  std::uint16_t local_port_ = kScriptPort;
  std::uint16_t remote_port_ = kRemoteDefaultPort;
  std::map<std::uint32_t, std::uint32_t> ts_vals_;  // TS val as written -> as sent
  std::optional<std::uint32_t> last_ts_val_;
  std::map<std::int64_t, Fd> fds_;
};

}  // namespace ustack::script
