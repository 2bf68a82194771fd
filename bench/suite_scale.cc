// Memory per connection at scale: the scale rows of `ustack bench`, measured by
// bench/idle_scale.cc (tests/sim/idle_memory_test.cc holds the same measurement
// to the 2 KB target).
#include <cstdio>
#include <string>
#include <vector>

#include "bench/idle_scale.h"
#include "bench/suite.h"

namespace ustack::bench {

namespace {

constexpr std::size_t kRequest = 100;

}  // namespace

std::vector<Measurement> run_scale_suite(const SuiteOptions& o) {
  std::vector<Measurement> out;
  // A probe first: eagerly allocated buffers would need gigabytes at 100,000.
  const IdleScaleResult probe = measure_idle_connections(1000, kRequest);
  for (std::size_t n : o.scale_counts) {
    Measurement m;
    m.group = "scale";
    m.name = "idle_conn_" + std::to_string(n);
    m.what = "Heap per idle established connection, " + std::to_string(n) + " connections";
    m.unit = "bytes/endpoint";
    m.reference = "target 2048";
    m.higher_is_better = false;
    const double projected = probe.bytes_per_endpoint * 2.0 * static_cast<double>(n);
    if (!probe.error.empty()) {
      m.skipped = "probe failed: " + probe.error;
    } else if (projected > 2e9) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "would need %.1f GB of heap (%.0f bytes per endpoint at 1,000)",
                    projected / 1e9, probe.bytes_per_endpoint);
      m.skipped = buf;
    } else {
      const IdleScaleResult r = measure_idle_connections(n, kRequest);
      if (!r.error.empty()) {
        m.skipped = r.error;
      } else {
        m.value = r.bytes_per_endpoint;
        m.reference_value = 2048;
        char buf[200];
        std::snprintf(buf, sizeof buf,
                      "%zu connections, two endpoints each (clients and one server stack); heap grew %.1f MB; "
                      "each carried a %zu-byte request, then idle; %.1f s",
                      r.established, r.heap_delta / 1e6, kRequest, r.seconds);
        m.note = buf;
      }
    }
    if (o.on_result) o.on_result(m);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace ustack::bench
