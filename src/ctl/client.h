// The client side of the control endpoint (docs/ctl-protocol.md): finds the
// running ustack processes by listing the control directory and fetches their
// snapshots.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "ctl/snapshot.h"

namespace ustack::ctl {

/// One running ustack host's control socket.
struct Endpoint {
  std::string path;
  int pid = 0;  // from the file name `<pid>.sock` or `<pid>-N.sock`
};

/// The live endpoints under `dir` (empty: control_dir()), by pid. A socket that
/// refuses connections is skipped, and removed if its pid no longer exists. A
/// missing directory is no error: nothing runs.
base::Result<std::vector<Endpoint>, std::string> discover(const std::string& dir = {});

/// The endpoint a command talks to: `ctl_path` if given, else the only one
/// running; an error naming them if several run, or saying that none does.
base::Result<Endpoint, std::string> pick_one(const std::string& ctl_path, const std::string& dir = {});

struct Reply {
  int version = 0;
  std::string body;  // everything after the greeting line
};
/// Sends one request line and reads the whole answer (bounded by `timeout_ms`).
/// An "error ..." answer comes back as the error.
base::Result<Reply, std::string> request(const std::string& path, const std::string& line, int timeout_ms = 5000);

base::Result<Snapshot, std::string> fetch_snapshot(const std::string& path, int timeout_ms = 5000);

/// A capture in progress: the connected socket the pcap stream comes from.
struct CaptureStream {
  int fd = -1;          // the caller closes it
  std::string already;  // stream bytes read along with the answer line (the start of the pcap)
};
/// Sends `capture FILTER` and reads the answer line: "ok pcap" gives the
/// stream; an "error ..." answer (a bad filter, no capture point) the error.
base::Result<CaptureStream, std::string> start_capture(const std::string& path, const std::string& filter,
                                                       int timeout_ms = 5000);

}  // namespace ustack::ctl
