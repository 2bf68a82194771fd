// The Snapshot's JSON (docs/ctl-protocol.md): a round trip keeps every field, and
// what is not a version-1 snapshot is refused with a message naming the fault.
#include <gtest/gtest.h>

#include "ctl/snapshot.h"
#include "ctl_world.h"

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

TEST(SnapshotJson, FieldNamesAreStable) {
  test::CtlWorld w;
  const std::string text = to_json(take_snapshot(*w.b, "server", 1));
  for (const char* key : {"\"version\":1", "\"program\":\"server\"", "\"sockets\":[", "\"recv_q\":", "\"send_q\":",
                          "\"state\":\"time_wait\"", "\"state\":\"listen\"", "\"counters\":{\"IpInReceives\":",
                          "\"neighbours\":[", "\"routes\":[", "\"interfaces\":[", "\"bytes_received\":"})
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

}  // namespace
}  // namespace ustack::ctl
