// Runs a parsed script against one Stack on a virtual clock: the script's peer is
// 192.0.2.1 behind a TUN-like interface of the stack at 192.168.0.1.
#pragma once

#include <iosfwd>
#include <string>

#include "script/script.h"

namespace ustack::script {

struct RunOptions {
  Micros tolerance_usecs = 4000;  // packetdrill's default; a script's option line wins
  std::ostream* trace = nullptr;  // when set, each event and packet is written here
  /// The window scale the stack offers: Linux derives it from tcp_rmem's maximum
  /// (7 for its default 6 MiB; 8 for the 15 MiB of packetdrill's defaults.sh).
  int window_shift = 7;
  /// Pace data (tcp::Config::pacing). Off: Linux paces only under the fq qdisc or
  /// with SO_MAX_PACING_RATE, and packetdrill scripts expect a window to leave at once.
  bool pacing = false;
};

struct RunResult {
  bool ok = true;
  /// On failure: "FILE:LINE: what was expected and what happened", possibly with
  /// further lines (the script's packet and the actual one).
  std::string message;
};

RunResult run(const Script& script, const RunOptions& options = {});

}  // namespace ustack::script
