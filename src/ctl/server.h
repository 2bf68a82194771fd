// The control endpoint (issue "See inside"): a Unix stream socket of the host
// OS, one per running ustack host, through which `ustack ss`, `netstat`,
// `neigh`, `route` and `addr` read a Snapshot of the stack. The protocol is in
// docs/ctl-protocol.md: one request line in; "ustack-ctl 1", the answer, close.
//
// Where: $USTACK_CTL_DIR, else /run/ustack for root, else $XDG_RUNTIME_DIR/ustack,
// else /tmp/ustack-$UID; the directory is mode 0700, each socket `<pid>.sock`
// (a second host in the same process: `<pid>-N.sock`) mode 0600, removed when
// the server stops.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "base/result.h"
#include "ctl/snapshot.h"

namespace ustack::ctl {

inline constexpr std::string_view kGreeting = "ustack-ctl";  // first line: "ustack-ctl 1"
inline constexpr std::size_t kMaxRequestLen = 1024;

/// The control directory this process would use (see the file comment).
std::string control_dir();

/// Makes `dir` if missing (mode 0700); fails if it is not a directory owned by
/// this user or is writable by others.
base::Result<void, std::string> ensure_control_dir(const std::string& dir);

struct ServerOptions {
  std::string dir;         // empty: control_dir()
  std::string program;     // what the snapshot calls the process
  int pid = 0;             // 0: getpid()
};

class Server {
 public:
  /// Takes a snapshot of the stack, consistently (under the runtime's lock).
  using SnapshotFn = std::function<Snapshot()>;

  /// Binds `<dir>/<pid>.sock` and starts the serving thread; on failure, a message.
  static base::Result<std::unique_ptr<Server>, std::string> start(const ServerOptions& options, SnapshotFn snapshot);
  ~Server();  // stops the thread, closes and removes the socket
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t requests_served() const { return served_; }

  /// The answer to one request line (without the newline), greeting included.
  /// Exposed for tests; the thread calls it for each connection.
  std::string answer(std::string_view request) const;

 private:
  Server() = default;
  void run();
  void serve_one(int fd);

  std::string path_;
  std::string program_;
  int pid_ = 0;
  SnapshotFn snapshot_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: written to stop the thread
  std::thread thread_;
  std::atomic<std::uint64_t> served_{0};
};

}  // namespace ustack::ctl
