// Memory per idle connection at scale (bench/idle_scale.h).
#include "bench/idle_scale.h"

#include <malloc.h>
#include <netinet/in.h>
#if defined(__SANITIZE_ADDRESS__)
// From libasan (sanitizer/allocator_interface.h, which not every system installs).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "base/block_cache.h"
#include "bench/suite_util.h"
#include "host/sim_world.h"

namespace ustack::bench {

namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;

constexpr std::size_t kPerClient = 25000;  // within one address's ephemeral range (28,232 ports)
constexpr std::size_t kBatch = 2000;       // connects in flight at once (under the backlog)

}  // namespace

std::size_t heap_in_use() {
  // Blocks cached for reuse (base/block_cache.h: packet and ring storage) belong
  // to no connection and are bounded per thread: freed before counting.
  base::trim_block_cache();
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  const struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

IdleScaleResult measure_idle_connections(std::size_t n, std::size_t request) {
  IdleScaleResult res;
  Stopwatch sw;
  host::SimWorld world(11);
  world.host_config().max_sockets = n + 1000;  // the default (65,536) is one process's descriptor limit
  // and the server holds n connections, past the default cap on TCBs (65,536).
  world.host_config().tcp_max_connections = n + 1000;
  auto& sw_net = world.net().add_switch("lan");
  auto& sp = world.net().add_port("server");
  (void)world.net().attach(sw_net, sp);
  auto& server = world.add_host("server", sp, {Ipv4Addr(198, 18, 0, 1), 16});
  const std::size_t clients = (n + kPerClient - 1) / kPerClient;
  std::vector<stack::Stack*> cs;
  for (std::size_t i = 0; i < clients; ++i) {
    auto& p = world.net().add_port("client" + std::to_string(i));
    (void)world.net().attach(sw_net, p);
    cs.push_back(&world.add_host("client" + std::to_string(i), p,
                                 {Ipv4Addr(198, 18, 1, static_cast<std::uint8_t>(i + 1)), 16}));
  }
  auto l = *server.socket(AF_INET, SOCK_STREAM, 0);
  (void)server.bind(l, {Ipv4Addr::any(), 80});
  (void)server.listen(l, 4096);
  const base::Endpoint dst{Ipv4Addr(198, 18, 0, 1), 80};
  // Neighbours resolved before the heap is read, so the ARP cache is not counted.
  {
    std::vector<stack::SocketId> warm;
    for (auto* c : cs) {
      auto s = *c->socket(AF_INET, SOCK_STREAM, 0);
      (void)c->connect(s, dst);
      warm.push_back(s);
    }
    world.run_for(100ms);
    for (std::size_t i = 0; i < cs.size(); ++i) (void)cs[i]->close(warm[i]);
    while (auto a = server.accept(l, nullptr)) (void)server.close(*a);
    world.run_for(120s);  // past TIME-WAIT
  }
  std::vector<stack::SocketId> client_socks, server_socks;
  client_socks.reserve(n);
  server_socks.reserve(n);
  std::vector<base::Byte> req(request, base::Byte{0x47}), buf(4096);
  ::malloc_trim(0);
  const std::size_t before = heap_in_use();  // the id vectors above are reserved already
  std::size_t next = 0;
  while (next < n) {
    const std::size_t batch = std::min(kBatch, n - next);
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < batch; ++i) {
      auto* c = cs[(next + i) / kPerClient];
      auto s = c->socket(AF_INET, SOCK_STREAM, 0);
      if (!s) {
        res.error = "socket() failed at " + std::to_string(next + i);
        break;
      }
      (void)c->connect(*s, dst);
      client_socks.push_back(*s);
    }
    if (!res.error.empty()) break;
    world.run_until([&] {
      while (auto a = server.accept(l, nullptr)) {
        server_socks.push_back(*a);
        ++accepted;
      }
      return accepted == batch;
    }, 30s);
    if (accepted != batch) {
      res.error = "only " + std::to_string(next + accepted) + " of " + std::to_string(n) + " established";
      break;
    }
    // One request each, read by the server: buffers that were used, now empty.
    for (std::size_t i = 0; i < batch; ++i)
      (void)cs[(next + i) / kPerClient]->send_to(client_socks[next + i], req, nullptr, 0);
    world.run_for(1ms);
    for (std::size_t i = 0; i < batch; ++i) {
      std::size_t got = 0;
      while (auto r = server.recv_from(server_socks[next + i], buf, 0)) {
        if (r->copied == 0) break;
        got += r->copied;
      }
      if (got != request) {
        res.error = "a request did not arrive";
        break;
      }
    }
    next += batch;
    if (!res.error.empty()) break;
  }
  world.run_for(1s);  // delayed ACKs out, then idle
  res.established = server_socks.size();
  const std::size_t after = heap_in_use();
  res.heap_delta = after > before ? after - before : 0;
  if (res.established) res.bytes_per_endpoint = static_cast<double>(res.heap_delta) / (2.0 * res.established);
  res.seconds = sw.seconds();
  return res;
}

}  // namespace ustack::bench
