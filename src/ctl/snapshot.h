// What a running ustack shows of itself (issue "See inside"): its sockets with
// their TCP internals, counters, neighbours, routes and interfaces, as one
// versioned value, with JSON both ways for the control endpoint and --json.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "ip/arp_cache.h"
#include "ip/route.h"
#include "stack/stack.h"

namespace ustack::ctl {

inline constexpr int kProtocolVersion = 1;

/// The stack's memory account (docs/hardening.md "Memory limits"), in bytes.
struct MemoryInfo {
  std::uint64_t usage = 0, peak = 0;
  std::uint64_t min = 0, pressure = 0, max = 0;   // the limits (Linux tcp_mem, in bytes)
  std::uint64_t tcp = 0, udp = 0, frag = 0;       // usage by what holds it
  bool under_pressure = false;
  std::uint64_t pressure_entries = 0, refusals = 0;
};

struct Snapshot {
  int version = kProtocolVersion;
  std::string program;  // the process's name (argv[0] basename)
  int pid = 0;
  base::Instant now{};  // the stack's clock when taken (neighbours' ages are read against it)
  std::vector<stack::SocketInfo> sockets;
  std::vector<std::pair<std::string, std::uint64_t>> counters;  // MIB name, value, in Counters' order
  std::vector<ip::ArpEntryInfo> neighbours;
  std::vector<ip::Route> routes;
  std::vector<stack::InterfaceInfo> interfaces;
  std::uint64_t frag_datagrams = 0, frag_bytes = 0;  // IP reassembly in progress (ss -s's FRAG row)
  MemoryInfo memory;
};

/// Reads the stack (the caller holds the runtime's lock, or owns the stack).
Snapshot take_snapshot(const stack::Stack& stack, std::string program, int pid);

/// The Snapshot as JSON (docs/ctl-protocol.md, version 1); indent < 0: one line.
std::string to_json(const Snapshot& s, int indent = -1);
/// Fails with a message naming what is wrong (not JSON, another version, a field missing).
base::Result<Snapshot, std::string> from_json(std::string_view text);

}  // namespace ustack::ctl
