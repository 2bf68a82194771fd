// The Snapshot's JSON (docs/ctl-protocol.md): a round trip keeps every field, and
// what is not a version-1 snapshot is refused with a message naming the fault.
#include <gtest/gtest.h>

#include "ctl/render.h"
#include "ctl/snapshot.h"
#include "ctl_world.h"
#include "support/hand_fed_device.h"

namespace ustack::ctl {
namespace {

TEST(SnapshotJson, RoundTripKeepsEveryField) {
  test::CtlWorld w;
  const Snapshot s = take_snapshot(*w.b, "server", 4242);
  ASSERT_GE(s.sockets.size(), 5u);
  const std::string text = to_json(s);
  auto back = from_json(text);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(to_json(*back), text);
  EXPECT_EQ(back->program, "server");
  EXPECT_EQ(back->pid, 4242);
  EXPECT_EQ(back->now, s.now);
  ASSERT_EQ(back->sockets.size(), s.sockets.size());
  for (std::size_t i = 0; i < s.sockets.size(); ++i) {
    EXPECT_EQ(back->sockets[i].id, s.sockets[i].id);
    EXPECT_EQ(back->sockets[i].local, s.sockets[i].local);
    EXPECT_EQ(back->sockets[i].peer, s.sockets[i].peer);
    EXPECT_EQ(back->sockets[i].tcp_state, s.sockets[i].tcp_state);
    EXPECT_EQ(back->sockets[i].recv_q, s.sockets[i].recv_q);
    EXPECT_EQ(back->sockets[i].send_q, s.sockets[i].send_q);
    EXPECT_EQ(back->sockets[i].tcp.has_value(), s.sockets[i].tcp.has_value());
  }
  EXPECT_EQ(back->counters, s.counters);
  EXPECT_EQ(back->routes, s.routes);
  ASSERT_EQ(back->neighbours.size(), s.neighbours.size());
  ASSERT_EQ(back->interfaces.size(), s.interfaces.size());
  EXPECT_EQ(back->interfaces[1].mac, s.interfaces[1].mac);
  EXPECT_EQ(back->interfaces[1].device_stats.tx_frames, s.interfaces[1].device_stats.tx_frames);
}

TEST(SnapshotFrag, ADatagramAwaitingFragmentsIsCountedAndSsSummaryShowsIt) {
  stack::Stack st;
  ustack::testing::HandFedDevice dev;
  st.add_interface(dev, {"tun0", base::MacAddr{}, {base::Ipv4Addr(198, 18, 0, 2), 24}, std::nullopt});
  // The first fragment (MF, offset 0) of a UDP datagram whose rest never comes.
  std::vector<base::Byte> f(20 + 16, 0);
  f[0] = 0x45;
  base::store_be16(f, 2, static_cast<std::uint16_t>(f.size()));
  base::store_be16(f, 4, 0x4242);
  f[6] = 0x20;  // MF
  f[8] = 64;
  f[9] = 17;
  base::store_be32(f, 12, base::Ipv4Addr(198, 18, 0, 1).value());
  base::store_be32(f, 16, base::Ipv4Addr(198, 18, 0, 2).value());
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) sum += base::load_be16(f, i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  base::store_be16(f, 10, static_cast<std::uint16_t>(~sum));
  dev.in.push_back(f);
  st.poll(base::kEpoch + std::chrono::milliseconds(1));

  const Snapshot s = take_snapshot(st, "frag", 1);
  EXPECT_EQ(s.frag_datagrams, 1u);
  EXPECT_GE(s.frag_bytes, 16u);
  auto back = from_json(to_json(s));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->frag_datagrams, 1u);
  const std::string summary = render_ss(std::span(&s, 1), {.summary = true}, SsFilter{});
  EXPECT_NE(summary.find("FRAG\t  1         1         0\n"), std::string::npos) << summary;
}

TEST(SnapshotJson, FieldNamesAreStable) {
  test::CtlWorld w;
  const std::string text = to_json(take_snapshot(*w.b, "server", 1));
  for (const char* key : {"\"version\":1", "\"program\":\"server\"", "\"sockets\":[", "\"recv_q\":", "\"send_q\":",
                          "\"state\":\"time_wait\"", "\"state\":\"listen\"", "\"counters\":{\"IpInReceives\":",
                          "\"neighbours\":[", "\"routes\":[", "\"interfaces\":[", "\"bytes_received\":",
                          "\"reassembly\":{\"datagrams\":0,\"bytes\":0}"})
    EXPECT_NE(text.find(key), std::string::npos) << key;
}

TEST(SnapshotJson, RefusesWhatIsNotASnapshot) {
  auto not_json = from_json("{nope");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error(), "not JSON");
  auto other_version = from_json(R"({"version":2})");
  ASSERT_FALSE(other_version.ok());
  EXPECT_NE(other_version.error().find("version 2"), std::string::npos);
  auto missing = from_json(R"({"version":1,"program":"x"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("pid"), std::string::npos) << missing.error();
  test::CtlWorld w;
  std::string text = to_json(take_snapshot(*w.b, "server", 1));
  const auto at = text.find("\"listen\"");
  text.replace(at, 8, "\"bogus\"");
  auto bad_state = from_json(text);
  ASSERT_FALSE(bad_state.ok());
  EXPECT_NE(bad_state.error().find("sockets["), std::string::npos) << bad_state.error();
  EXPECT_NE(bad_state.error().find("bogus"), std::string::npos) << bad_state.error();
}

TEST(SnapshotJson, RefusesNumbersOutsideTheirFieldsRange) {
  // nlohmann's get<int>() of 1.1e55 is undefined behaviour, and get<uint16_t>()
  // of 65616 wraps to 80: found by tests/fuzz/fuzz_ctl.cc (the input is in
  // tests/fuzz/regressions/ctl/). A number must be an integer within its field's range.
  auto huge = from_json(R"({"version":1.1e55})");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().find("'version'"), std::string::npos) << huge.error();
  test::CtlWorld w;
  const std::string text = to_json(take_snapshot(*w.b, "server", 1));
  auto with = [&](std::string_view from, std::string_view to) {
    std::string t = text;
    const auto at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) t.replace(at, from.size(), to);
    return from_json(t);
  };
  ASSERT_TRUE(with("\"pid\":1,", "\"pid\":1,").ok());
  auto port = with("\"port\":80}", "\"port\":65616}");
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.error().find("'port'"), std::string::npos) << port.error();
  EXPECT_FALSE(with("\"pid\":1,", "\"pid\":-1e300,").ok());
  EXPECT_FALSE(with("\"pid\":1,", "\"pid\":1.5,").ok());
  EXPECT_FALSE(with("\"pid\":1,", "\"pid\":4294967296,").ok());
  EXPECT_FALSE(with("\"mtu\":", "\"mtu\":-").ok());
}

}  // namespace
}  // namespace ustack::ctl
