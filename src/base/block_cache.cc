// The per-thread block cache: size classes a quarter of a power of two apart
// (small requests rounded up to one; larger ones cached only when they are a
// class size, as TCP's default rings are), a free list per class threaded through the cached blocks
// themselves. Under AddressSanitizer a cached block is poisoned, so that a use
// after it was given back is still reported as one.
#include "base/block_cache.h"

#include <array>
#include <bit>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define USTACK_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define USTACK_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define USTACK_POISON(p, n) ((void)(p), (void)(n))
#define USTACK_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace ustack::base {
namespace {

constexpr unsigned kMinShift = 6;   // 64 bytes: room for the free-list link
constexpr unsigned kMaxShift = 18;  // 256 KiB: larger blocks are not cached
constexpr std::size_t kClasses = (kMaxShift - kMinShift) * 4 + 1;

constexpr std::size_t kRoundUpMax = 4096;  // larger requests are never rounded up

/// The capacity a request of n bytes gets, and its class (kClasses: not cached).
/// Requests up to kRoundUpMax are rounded up to their class; a larger one is
/// cached only when its size is a class size (TCP's default rings are powers of
/// two), else allocated exactly: a ring of an odd size wastes nothing.
std::pair<std::size_t, std::size_t> class_of(std::size_t n) {
  if (n <= (std::size_t{1} << kMinShift)) return {std::size_t{1} << kMinShift, 0};
  if (n > (std::size_t{1} << kMaxShift)) return {n, kClasses};
  // 2^(e-1) < n <= 2^e; steps of 2^(e-1) / 4 between.
  const unsigned e = static_cast<unsigned>(std::bit_width(n - 1));
  const std::size_t base = std::size_t{1} << (e - 1);
  const std::size_t step = base / 4;
  const std::size_t rounded = base + (n - base + step - 1) / step * step;
  if (rounded != n && n > kRoundUpMax) return {n, kClasses};
  const unsigned floor_log = static_cast<unsigned>(std::bit_width(rounded)) - 1;
  const std::size_t quarter = (rounded - (std::size_t{1} << floor_log)) / ((std::size_t{1} << floor_log) / 4);
  return {rounded, (floor_log - kMinShift) * 4 + quarter};
}

struct FreeBlock {
  FreeBlock* next;
};

// Set once the thread's cache is destroyed (thread exit; at program exit, before
// static objects that may still hold blocks): blocks then go straight to the heap.
thread_local bool t_cache_gone = false;

struct Cache {
  std::array<FreeBlock*, kClasses> heads{};
  std::array<std::size_t, kClasses> counts{};
  std::size_t bytes = 0;
  BlockCacheStats stats;

  ~Cache() {
    trim();
    t_cache_gone = true;
  }
  void trim() {
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (FreeBlock* b = heads[c]) {
        USTACK_UNPOISON(b, sizeof(FreeBlock));
        heads[c] = b->next;
        ::operator delete(static_cast<void*>(b));
      }
      counts[c] = 0;
    }
    bytes = 0;
    stats.cached_blocks = stats.cached_bytes = 0;
  }
};

Cache& cache() {
  thread_local Cache c;
  return c;
}

}  // namespace

Byte* take_block(std::size_t size, std::size_t* capacity) {
  if (size == 0) {
    *capacity = 0;
    return nullptr;
  }
  const auto [cap, cls] = class_of(size);
  *capacity = cap;
  if (t_cache_gone) return static_cast<Byte*>(::operator new(cap));
  Cache& c = cache();
  if (cls < kClasses && c.heads[cls] != nullptr) {
    FreeBlock* b = c.heads[cls];
    USTACK_UNPOISON(b, sizeof(FreeBlock));
    c.heads[cls] = b->next;
    --c.counts[cls];
    c.bytes -= cap;
    ++c.stats.hits;
    USTACK_UNPOISON(b, cap);
    return reinterpret_cast<Byte*>(b);
  }
  ++c.stats.misses;
  return static_cast<Byte*>(::operator new(cap));
}

void give_block(Byte* block, std::size_t capacity) {
  if (block == nullptr) return;
  const std::size_t cls = class_of(capacity).second;
  if (t_cache_gone) {
    ::operator delete(static_cast<void*>(block));
    return;
  }
  Cache& c = cache();
  if (cls >= kClasses || c.counts[cls] >= kMaxCachedPerClass || c.bytes + capacity > kMaxCachedBytes) {
    ::operator delete(static_cast<void*>(block));
    return;
  }
  auto* b = reinterpret_cast<FreeBlock*>(block);
  b->next = c.heads[cls];
  c.heads[cls] = b;
  ++c.counts[cls];
  c.bytes += capacity;
  USTACK_POISON(block, capacity);
}

std::size_t block_capacity(std::size_t size) { return size == 0 ? 0 : class_of(size).first; }

BlockCacheStats block_cache_stats() {
  if (t_cache_gone) return {};
  Cache& c = cache();
  BlockCacheStats s = c.stats;
  s.cached_bytes = c.bytes;
  s.cached_blocks = 0;
  for (std::size_t n : c.counts) s.cached_blocks += n;
  return s;
}

void trim_block_cache() {
  if (!t_cache_gone) cache().trim();
}

}  // namespace ustack::base
