// The runtime wakes a blocked caller once per batch of packets that changed its
// socket, never once per packet (../shared/PERF.md: a cross-core wakeup costs
// about 35 us, more than processing a packet).
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <thread>

#include "runtime/runtime.h"
#include "stack/stack.h"

namespace ustack::runtime {
namespace {

using base::Ipv4Addr;

TEST(RuntimeWakeups, ABurstOfDatagramsWakesABlockedReaderOncePerBatch) {
  stack::StackConfig cfg;
  cfg.rx_batch = 64;
  stack::Stack s(cfg);
  Runtime rt(s, Mode::threaded);
  auto [rx, tx] = rt.call([](stack::Stack& st) {
    auto a = *st.socket(AF_INET, SOCK_DGRAM, 0);
    auto b = *st.socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT_TRUE(st.bind(a, {Ipv4Addr::loopback(), 5000}).ok());
    return std::pair{a, b};
  });
  rt.start();
  const stack::SocketId ids[] = {rx};
  std::thread reader([&] {
    EXPECT_TRUE(rt.wait(ids, std::nullopt, [&](stack::Stack& st) { return (st.readiness(rx) & POLLIN) != 0; }));
  });
  // Let the reader block first.
  for (int i = 0; i < 200 && rt.stats().polls < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto before = rt.stats();
  // 200 datagrams queued in one call: the loopback delivers them in batches of 64.
  rt.call([&](stack::Stack& st) {
    const base::Endpoint to{Ipv4Addr::loopback(), 5000};
    for (int i = 0; i < 200; ++i) EXPECT_TRUE(st.send_to(tx, base::as_bytes("x", 1), &to, 0).ok());
    return 0;
  });
  reader.join();
  // Wait until all 200 have arrived, then look at what it cost.
  for (int i = 0; i < 2000; ++i) {
    if (rt.call([&](stack::Stack& st) { return st.counters().UdpInDatagrams; }) == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  rt.stop();
  const auto after = rt.stats();
  EXPECT_EQ(s.counters().UdpInDatagrams, 200u);
  EXPECT_EQ(after.waiter_wakeups - before.waiter_wakeups, 1u);   // one reader, woken once
  EXPECT_LE(after.runtime_wakeups - before.runtime_wakeups, 1u); // the sending call woke the runtime once
  EXPECT_LE(after.polls - before.polls, 10u);                    // a few batches, not 200 rounds
}

}  // namespace
}  // namespace ustack::runtime
