// A helper program the bench runs beside itself (the lwIP peer,
// bench/lwip_peer/): started with its standard output and error on a pipe,
// read line by line with time limits, and never left running.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ustack::bench {

class PeerProcess {
 public:
  /// Starts argv[0] (a path) with its arguments; nullptr and *why when it cannot.
  static std::unique_ptr<PeerProcess> start(const std::vector<std::string>& argv, std::string* why);
  ~PeerProcess();
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  /// The next line it prints that starts with `prefix`, within `seconds`;
  /// nullopt at end of output or when the time is up. Other lines are kept
  /// (output()) for error messages.
  std::optional<std::string> line_starting(const std::string& prefix, double seconds);
  /// Waits up to `seconds` for it to exit; kills it after that. Its exit status,
  /// or -1 when it was killed or died of a signal.
  int wait(double seconds);
  /// Everything it printed that line_starting() did not return (the last 500 bytes).
  std::string output() const;

 private:
  PeerProcess(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  pid_t pid_;
  int fd_;
  std::string buffer_;  // read, not yet split into lines
  std::string other_;   // lines not asked for
};

}  // namespace ustack::bench
