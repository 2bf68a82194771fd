// Issue 5, Build 1: "no heap allocation per packet in steady state". Two stacks
// on the simulated network move data over one TCP connection; once the flow has
// warmed up (buffers, scoreboard, rings, timer nodes and the block cache have
// reached their working size), further stretches of traffic may allocate only
// a few times in all, however many bytes they move: a vector that meets a new
// high-water mark (the most segments one output() has emitted, the most frames
// a link has held) doubles its capacity once, and the block cache meets a burst
// a few packets larger than any before. The bound is kHighWater, and it holds
// for stretches of different lengths (the longer one after the shorter, so
// mostly at zero); an allocation per packet (or per window, or per round trip)
// would count in the tens of thousands here.
// This binary replaces the global operator new with one that counts (all of the
// C++ library's allocations go through it; ustack's code calls malloc nowhere on
// the data path). Under a debugger, `break note_counted` shows each one.
// Under ASan (build/asan) this binary's operator new replaces the sanitizer's
// (CounterSeesAllocations checks that it counts); the memory still comes from
// ASan's malloc, so heap errors are caught, only new/delete mismatches are not.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>
#include <vector>

#include "base/block_cache.h"
#include "host/sim_world.h"

namespace {
std::atomic<std::uint64_t> g_news{0};
// Set while a stretch is counted: a debugger's breakpoint on note_counted()
// (`break note_counted`, then `bt`) shows where each allocation comes from.
std::atomic<bool> g_counting{false};

extern "C" __attribute__((noinline)) void note_counted(std::size_t n) { asm volatile("" ::"r"(n)); }

void* counted_new(std::size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (g_counting.load(std::memory_order_relaxed)) note_counted(n);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* counted_new_aligned(std::size_t n, std::align_val_t al) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  const std::size_t a = static_cast<std::size_t>(al);
  if (void* p = std::aligned_alloc(a, (n + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return counted_new(n); }
void* operator new[](std::size_t n) { return counted_new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_news.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  g_news.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new(std::size_t n, std::align_val_t al) { return counted_new_aligned(n, al); }
void* operator new[](std::size_t n, std::align_val_t al) { return counted_new_aligned(n, al); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace ustack {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;

struct Flow {
  host::SimWorld world{11};
  stack::Stack* a = nullptr;
  stack::Stack* b = nullptr;
  stack::SocketId c = -1, s = -1;
  std::vector<base::Byte> chunk, buf;
  std::uint64_t sent = 0, got = 0;

  /// `buffers`: SO_SNDBUF/SO_RCVBUF (locked) when non-zero, else auto-tuned.
  Flow(std::size_t buffers, base::Duration delay, std::size_t mtu) : chunk(65536, 0x5a), buf(65536) {
    auto& cfg = world.host_config();
    if (buffers) {
      cfg.tcp.rcvbuf = cfg.tcp.sndbuf = buffers;
      cfg.tcp.rcvbuf_locked = cfg.tcp.sndbuf_locked = true;
    }
    auto& pa = world.net().add_port("a", mtu);
    auto& pb = world.net().add_port("b", mtu);
    (void)world.net().connect(pa, pb, link::LinkParams{delay, 0, 0});
    a = &world.add_host("a", pa, {Ipv4Addr(198, 18, 0, 1), 24});
    b = &world.add_host("b", pb, {Ipv4Addr(198, 18, 0, 2), 24});
    auto l = *b->socket(AF_INET, SOCK_STREAM, 0);
    (void)b->bind(l, {Ipv4Addr::any(), 5001});
    (void)b->listen(l, 8);
    c = *a->socket(AF_INET, SOCK_STREAM, 0);
    (void)a->connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 5001});
    std::optional<stack::SocketId> acc;
    world.run_until([&] {
      if (!acc)
        if (auto x = b->accept(l, nullptr)) acc = *x;
      return acc && (a->readiness(c) & POLLOUT);
    }, 10s);
    s = acc.value_or(-1);
  }

  /// Moves `bytes` more from a to b; false if it stalled.
  bool move(std::uint64_t bytes) {
    const std::uint64_t target = got + bytes;
    // Built once, outside any counted stretch (a std::function may allocate).
    std::function<bool()> step = [this, target] {
      while (sent < target) {
        auto n = a->send_to(c, base::ByteSpan(chunk).first(std::min<std::uint64_t>(chunk.size(), target - sent)),
                            nullptr, 0);
        if (!n || *n == 0) break;
        sent += *n;
      }
      while (true) {
        auto r = b->recv_from(s, buf, 0);
        if (!r || r->copied == 0) break;
        got += r->copied;
      }
      return got >= target;
    };
    return world.run_until(step, 600s);
  }
};

/// Allocations a stretch of steady traffic may make, whatever its length.
constexpr std::uint64_t kHighWater = 32;

/// Allocations made while `f` runs.
template <class F>
std::uint64_t news_during(F&& f) {
  const std::uint64_t before = g_news.load();
  g_counting = true;
  f();
  g_counting = false;
  return g_news.load() - before;
}

TEST(SteadyState, CounterSeesAllocations) {
  // The test can fail: an allocation is counted.
  EXPECT_GE(news_during([] { delete new int(1); }), 1u);
  EXPECT_GE(news_during([] { std::vector<int> v(100); }), 1u);
}

/// Warms the flow up with `warm` bytes, then moves `first` and `second` bytes,
/// and expects each stretch to allocate at most kHighWater times.
void expect_steady(Flow& f, std::uint64_t warm, std::uint64_t first, std::uint64_t second) {
  ASSERT_GE(f.s, 0);
  ASSERT_TRUE(f.move(warm));
  for (const std::uint64_t bytes : {first, second}) {
    bool moved = false;
    const std::uint64_t news = news_during([&] { moved = f.move(bytes); });
    ASSERT_TRUE(moved);
    EXPECT_LE(news, kHighWater) << "heap allocations while moving " << (bytes >> 20) << " MiB in steady state";
  }
}

TEST(SteadyState, BulkTransferAllocatesNothingPerPacket) {
  // The benchmark's configuration (bench/suite_memory.cc): 64 KB locked
  // buffers, MTU 1536, a zero-delay link. 64 MiB is ~46,000 data segments.
  Flow f(64 * 1024, 0s, 1536);
  expect_steady(f, 32 << 20, 16 << 20, 64 << 20);
}

TEST(SteadyState, FlowOverADelayAllocatesNothingPerPacket) {
  // 256 KB buffers and a 1 ms link each way: ~180 segments in flight, held in
  // the link (the simulated network's frames are recycled blocks too). With
  // auto-tuned buffers of megabytes, a whole window in flight outgrows the
  // block cache (base/block_cache.h: kMaxCachedPerClass blocks a size): frames
  // beyond it come from the heap.
  Flow f(256 * 1024, 1ms, 1500);
  expect_steady(f, 32 << 20, 8 << 20, 32 << 20);
}

}  // namespace
}  // namespace ustack
