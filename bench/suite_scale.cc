// Memory per connection at scale: N established connections between client
// stacks and one server stack on the simulated network, each having carried
// one small request that the server read, then idle. The heap (malloc's own
// count of bytes in use) is read before and after; the difference over 2N is
// what one stack holds per idle connection endpoint, beyond buffered data
// (there is none left).
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "bench/suite.h"
#include "bench/suite_util.h"
#include "host/sim_world.h"

namespace ustack::bench {

namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;

constexpr std::size_t kPerClient = 25000;  // within one address's ephemeral range (28,232 ports)
constexpr std::size_t kBatch = 2000;       // connects in flight at once (under the backlog)
constexpr std::size_t kRequest = 100;

std::size_t heap_in_use() {
  const struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

struct ScaleResult {
  std::size_t established = 0;
  double bytes_per_endpoint = 0;
  std::size_t heap_delta = 0;
  double seconds = 0;
  std::string error;
};

ScaleResult measure(std::size_t n) {
  ScaleResult res;
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
  std::vector<base::Byte> req(kRequest, base::Byte{0x47}), buf(4096);
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
      if (got != kRequest) {
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

}  // namespace

std::vector<Measurement> run_scale_suite(const SuiteOptions& o) {
  std::vector<Measurement> out;
  // A probe first: eagerly allocated buffers would need gigabytes at 100,000.
  const ScaleResult probe = measure(1000);
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
      const ScaleResult r = measure(n);
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
