// The control endpoint (issue "See inside"): a Unix stream socket of the host
// OS, one per running ustack host, through which `ustack ss`, `netstat`,
// `neigh`, `route` and `addr` read a Snapshot of the stack and `ustack capture`
// streams frames. The protocol is in docs/ctl-protocol.md: one request line in;
// "ustack-ctl 1", the answer, close (a capture streams until either side stops).
//
// One thread per server serves every client at once from a poll() loop on
// non-blocking sockets, so a capture in progress or a slow reader never holds up
// `ustack ss`.
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
#include "link/capture.h"

namespace ustack::ctl {

inline constexpr std::string_view kGreeting = "ustack-ctl";  // first line: "ustack-ctl 1"
inline constexpr std::size_t kMaxRequestLen = 1024;
inline constexpr std::size_t kMaxClients = 32;  // more at once are told "error busy"

/// What the bytes a client has sent so far make of its request: not yet a whole
/// line; the line (without its "\n" or "\r\n", at most kMaxRequestLen bytes); or
/// too long (no newline within the first kMaxRequestLen + 1 bytes). Bytes after
/// the line are ignored. Pure: the server's framing, fuzzed (tests/fuzz/fuzz_ctl.cc).
struct RequestLine {
  enum class Kind { incomplete, line, too_long };
  Kind kind = Kind::incomplete;
  std::string_view line;  // a view into the input, for Kind::line
};
RequestLine take_request_line(std::string_view received);

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
  /// Subscribes to the host's frames with a filter (tcpdump's language);
  /// `notify` is called from the data path when frames are waiting.
  using CaptureFn = std::function<base::Result<std::shared_ptr<link::CaptureSubscription>, std::string>(
      std::string_view filter, std::function<void()> notify)>;

  /// Binds `<dir>/<pid>.sock` and starts the serving thread; on failure, a message.
  /// `capture` may be empty: the host then answers capture requests with an error.
  static base::Result<std::unique_ptr<Server>, std::string> start(const ServerOptions& options, SnapshotFn snapshot,
                                                                  CaptureFn capture = {});
  ~Server();  // stops the thread, closes and removes the socket
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t requests_served() const { return served_; }
  /// Captures streaming now.
  std::size_t captures_active() const { return captures_active_; }

  /// The answer to one request line (without the newline), greeting included,
  /// for every request but capture. Exposed for tests.
  std::string answer(std::string_view request) const;

 private:
  struct Client;
  Server() = default;
  void run();
  void on_request(Client& c, std::string_view request);
  bool pump(Client& c);  // writes what it can; false when the client is finished or gone

  std::string path_;
  std::string program_;
  int pid_ = 0;
  SnapshotFn snapshot_;
  CaptureFn capture_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: written to stop the thread
  // eventfd written by the data path when capture frames wait; shared with the
  // subscriptions' notify so that a late notify never writes to a closed fd.
  std::shared_ptr<const int> wake_fd_;
  std::thread thread_;
  std::atomic<std::uint64_t> served_{0};
  std::atomic<std::size_t> captures_active_{0};
};

}  // namespace ustack::ctl
