// `ustack bench` (bench/README.md): ustack measured side by side with a
// reference taken in the same run, so that every figure is read as a ratio
// (absolute times on the project's shared 2-core machines drift by ±20%).
//
//   in memory (no privileges): two ustack stacks in one thread on the simulated
//     network, against two Linux sockets in one thread over loopback;
//   over TAP (root): ustack on a TAP in a namespace the bench creates, against
//     Linux over a veth pair between two namespaces, and against an lwIP peer
//     (Debian's liblwip-dev) on a second TAP in the same namespace;
//   scale: bytes per idle established connection at 10,000 and 100,000.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ustack::bench {

/// One figure and, when there is one, the reference it is compared with.
struct Measurement {
  std::string group;        // "memory", "tap", "scale"
  std::string name;         // a stable identifier: "tcp_bulk", "udp_64", ...
  std::string what;         // what was measured, for a reader
  std::string unit;         // "Gbit/s", "req/s", "conn/s", "datagrams/s", "bytes"
  double value = 0;
  std::string reference;    // what the reference is ("" when none)
  double reference_value = 0;
  bool higher_is_better = true;
  std::string note;         // conditions (checksums, buffers, MTU, counts)
  std::string skipped;      // why it did not run ("" when it did)
  /// value / reference_value (0 when there is no reference).
  double ratio() const { return reference_value > 0 ? value / reference_value : 0; }
};

struct SuiteOptions {
  bool memory = true;
  bool tap = true;
  bool scale = true;
  /// Seconds each timed rate measurement runs (each side); bulk transfers are
  /// bounded by bytes and by bulk_seconds_max.
  double seconds = 2.0;
  double bulk_seconds_max = 10.0;
  std::uint64_t bulk_bytes = 1ull << 30;  // the in-memory bulk transfer (1 GiB)
  double tap_bulk_seconds = 3.0;          // each TAP/veth bulk transfer
  /// ustack's TAP with offloads (IFF_VNET_HDR: GRO in, TSO out, checksum
  /// offload); false: plain frames, as before offloads (`--tap-offload 0`).
  bool tap_offload = true;
  /// How ustack's TAP writes frames: "uring" (batched), "plain" or "auto" (`--tap-io`).
  std::string tap_io = "auto";
  std::vector<std::size_t> scale_counts{10000, 100000};
  std::string wrk = "wrk";  // found on PATH unless a path is given
  /// The lwIP peer (bench/lwip_peer/); empty: ustack-lwip-peer beside the
  /// running executable (where the build puts it when liblwip-dev is installed).
  std::string lwip_peer;
  /// Non-empty: only the measurement of this name (tcp_bulk, tcp_bulk_nocsum, tcp_rr, tcp_conn,
  /// udp_64, udp_1472; over TAP linux_to_ustack, ustack_to_linux, lwip_bulk_in,
  /// lwip_bulk_out, conn_serial, http_wrk), for profiling one path.
  std::string only;
  /// Called as each measurement finishes (progress on stderr, --json lines).
  std::function<void(const Measurement&)> on_result;
};

std::vector<Measurement> run_memory_suite(const SuiteOptions& o);
/// Needs root (namespaces, TAP, veth); each measurement says why when skipped.
std::vector<Measurement> run_tap_suite(const SuiteOptions& o);
std::vector<Measurement> run_scale_suite(const SuiteOptions& o);

/// A fixed-width table of figures and ratios.
std::string render_table(const std::vector<Measurement>& ms);
/// The same as a markdown table.
std::string render_markdown(const std::vector<Measurement>& ms);
/// One JSON object (one line) for a measurement.
std::string to_json(const Measurement& m);

}  // namespace ustack::bench
