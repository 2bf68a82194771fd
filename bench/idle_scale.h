// Memory per idle connection at scale (the bench's scale rows, and the sim test
// that holds them to their bound): N established connections between client
// stacks and one server stack on the simulated network, each having carried one
// small request that the server read, then idle. The heap is read before and
// after; the difference over 2N is what one stack holds per idle connection
// endpoint, beyond buffered data (there is none left).
#pragma once

#include <cstddef>
#include <string>

namespace ustack::bench {

struct IdleScaleResult {
  std::size_t established = 0;
  double bytes_per_endpoint = 0;
  std::size_t heap_delta = 0;     // bytes
  double seconds = 0;             // wall clock, the whole measurement
  std::string error;              // empty when all N were established and carried their request
};

/// Bytes of heap in use now: malloc's own count (mallinfo2: chunks in use,
/// their headers included, and mmapped blocks); under AddressSanitizer, its
/// allocator's count of bytes allocated (no headers: smaller than glibc's).
std::size_t heap_in_use();

/// Opens n connections (in batches of 2,000), sends `request` bytes on each,
/// lets them go idle (1 s), and measures.
IdleScaleResult measure_idle_connections(std::size_t n, std::size_t request = 100);

}  // namespace ustack::bench
