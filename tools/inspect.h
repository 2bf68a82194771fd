// Shared by the commands that look inside running ustack hosts (ss, netstat,
// neigh, route, addr): the --json/--ctl options and fetching snapshots.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "ctl/client.h"
#include "ctl/server.h"
#include "ctl/snapshot.h"

namespace ustack::tools {

struct InspectOptions {
  bool json = false;
  std::string ctl;  // a control socket's path; empty: discover
};

inline void add_inspect_options(CLI::App& cmd, InspectOptions& o) {
  cmd.add_flag("--json", o.json, "Print JSON instead of text");
  cmd.add_option("--ctl", o.ctl, "Talk to the ustack process behind this control socket (see `ustack ss -p`)");
}

/// The snapshot of the one process these commands need; prints the error (as
/// `ustack NAME: ...`) and returns nullopt if none, several or a failure.
inline std::optional<ctl::Snapshot> fetch_one(const char* name, const InspectOptions& o) {
  auto ep = ctl::pick_one(o.ctl);
  if (!ep) {
    std::fprintf(stderr, "ustack %s: %s\n", name, ep.error().c_str());
    return std::nullopt;
  }
  auto snap = ctl::fetch_snapshot(ep->path);
  if (!snap) {
    std::fprintf(stderr, "ustack %s: %s\n", name, snap.error().c_str());
    return std::nullopt;
  }
  return std::move(*snap);
}

}  // namespace ustack::tools
