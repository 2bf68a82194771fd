// Golden output of the renderers over a stack in a known state (ctl_world.h):
// the text follows ss, netstat -s, nstat, ip neigh, ip route and ip addr.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ctl/render.h"
#include "ctl_world.h"

namespace ustack::ctl {
namespace {

struct Rendered : ::testing::Test {
  test::CtlWorld w;
  Snapshot snap = take_snapshot(*w.b, "server", 4242);
  std::string ss(SsOptions o, std::vector<std::string> filter = {}) {
    auto f = SsFilter::parse(filter);
    EXPECT_TRUE(f.ok()) << f.error();
    return render_ss(std::span(&snap, 1), o, f.ok() ? *f : SsFilter{});
  }
};

TEST_F(Rendered, SsAllNumeric) {
  EXPECT_EQ(ss({.all = true, .numeric = true}),
            "Netid State     Recv-Q Send-Q Local Address:Port  Peer Address:Port  Process\n"
            "tcp   LISTEN    0      16           0.0.0.0:80         0.0.0.0:*\n"
            "tcp   ESTAB     100    3000      198.18.0.2:80      198.18.0.1:59964\n"
            "udp   UNCONN    0      0            0.0.0.0:7          0.0.0.0:*\n"
            "udp   ESTAB     0      0         198.18.0.2:54200   198.18.0.1:53\n"
            "tcp   TIME-WAIT 0      0         198.18.0.2:80      198.18.0.1:59963\n");
}

TEST_F(Rendered, SsDefaultShowsConnectedOnlyAndOneProtocolHasNoNetid) {
  // ss -tn: no listeners, no TIME-WAIT; no Netid column with one protocol.
  EXPECT_EQ(ss({.tcp = true, .numeric = true}),
            "State Recv-Q Send-Q Local Address:Port Peer Address:Port  Process\n"
            "ESTAB 100    3000      198.18.0.2:80     198.18.0.1:59964\n");
}

TEST_F(Rendered, SsWithoutHeader) {
  EXPECT_EQ(ss({.tcp = true, .numeric = true, .no_header = true}),
            "ESTAB 100    3000      198.18.0.2:80     198.18.0.1:59964\n");
}

TEST_F(Rendered, SsListening) {
  EXPECT_EQ(ss({.tcp = true, .udp = true, .listening = true, .numeric = true}),
            "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
            "tcp   LISTEN 0      16           0.0.0.0:80        0.0.0.0:*\n"
            "udp   UNCONN 0      0            0.0.0.0:7         0.0.0.0:*\n");
}

TEST_F(Rendered, SsServiceNamesWithoutNumeric) {
  const std::string out = ss({.udp = true, .listening = true});
  // /etc/services names port 7 "echo" where it is installed.
  EXPECT_TRUE(out.find("0.0.0.0:echo") != std::string::npos || out.find("0.0.0.0:7") != std::string::npos) << out;
}

TEST_F(Rendered, SsInfoExtendedMemoryProcesses) {
  EXPECT_EQ(ss({.tcp = true, .all = true, .numeric = true, .extended = true, .info = true, .memory = true,
                .processes = true}),
            "State     Recv-Q Send-Q Local Address:Port Peer Address:Port  Process\n"
            "LISTEN    0      16           0.0.0.0:80        0.0.0.0:*     users:((\"server\",pid=4242,fd=0)) ino:0 sk:0\n"
            "\t skmem:(r0,rb131072,t16,tb65536,f0,w0,o0,bl0,d0)\n"
            "ESTAB     100    3000      198.18.0.2:80     198.18.0.1:59964 users:((\"server\",pid=4242,fd=1)) ino:0 sk:1\n"
            "\t skmem:(r100,rb131072,t3000,tb65536,f0,w0,o0,bl0,d0) ts sack cubic wscale:7,7 rto:200 rtt:1/0.5 "
            "mss:1448 rcvmss:1460 advmss:1460 cwnd:10 bytes_sent:3000 bytes_received:100 segs_out:5 segs_in:2 "
            "data_segs_out:3 data_segs_in:1 lastrcv:9 lastack:9 pacing_rate 231680000bps unacked:3 "
            "rcv_wnd:130944 snd_wnd:131072\n"
            "TIME-WAIT 0      0         198.18.0.2:80     198.18.0.1:59963 ino:0\n");
}

TEST_F(Rendered, SsInfoShowsEcnAfterSackAsSs) {
  // ss prints "ecn" (TCPI_OPT_ECN) and "ecnseen" (TCPI_OPT_ECN_SEEN) after "sack".
  for (auto& s : snap.sockets)
    if (s.tcp && s.tcp_state == tcp::State::established) s.tcp->ecn = s.tcp->ecn_seen = true;
  const std::string out = ss({.tcp = true, .numeric = true, .extended = true, .info = true});
  EXPECT_NE(out.find(" ts sack ecn ecnseen cubic wscale:7,7 "), std::string::npos) << out;
  // And the JSON round trip keeps them.
  auto back = from_json(to_json(snap));
  ASSERT_TRUE(back.ok());
  bool found = false;
  for (const auto& s : back->sockets)
    if (s.tcp && s.tcp_state == tcp::State::established) found = s.tcp->ecn && s.tcp->ecn_seen;
  EXPECT_TRUE(found);
}

TEST_F(Rendered, SsInfoWithoutExtendedHasNoOptions) {
  const std::string out = ss({.tcp = true, .numeric = true, .info = true});
  EXPECT_NE(out.find("\n\t cubic wscale:7,7 rto:200 "), std::string::npos) << out;
  EXPECT_EQ(out.find(" ts "), std::string::npos) << out;
  // Without -n, ss's sprint_bw(): three significant digits and a prefix. The rate
  // is Linux's: 2 x cwnd / srtt in slow start = 2 x 14480 B / 1 ms.
  const std::string named = ss({.tcp = true, .info = true});
  EXPECT_NE(named.find(" lastack:9 pacing_rate 232Mbps "), std::string::npos) << named;
}

TEST(RenderedDrops, SsMemoryShowsDatagramsAFullQueueRefused) {
  test::CtlWorld w;
  // Shrink b's UDP echo socket's buffer to the minimum and flood it unread.
  ASSERT_TRUE(w.b->set_option(w.udp_echo, SOL_SOCKET, SO_RCVBUF, 1).ok());
  const std::vector<base::Byte> payload(1000, base::Byte{'d'});
  auto u = *w.a->socket(AF_INET, SOCK_DGRAM, 0);
  const base::Endpoint to{base::Ipv4Addr(198, 18, 0, 2), 7};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(w.a->send_to(u, payload, &to, 0).ok());
  w.world.run_for(std::chrono::milliseconds(20));
  const Snapshot snap = take_snapshot(*w.b, "server", 1);
  std::uint64_t drops = 0;
  for (const auto& s : snap.sockets)
    if (s.id == w.udp_echo) drops = s.drops;
  // An empty queue takes any datagram; the minimum buffer (2304) holds one more at most.
  EXPECT_GE(drops, 8u);
  EXPECT_LE(drops, 9u);
  auto back = from_json(to_json(snap));
  ASSERT_TRUE(back.ok()) << back.error();
  const std::vector<std::string> words{"sport", "=", ":7"};
  auto f = SsFilter::parse(words);
  ASSERT_TRUE(f.ok());
  const std::string out = render_ss(std::span(&*back, 1), {.udp = true, .all = true, .numeric = true, .memory = true}, *f);
  EXPECT_NE(out.find(",d" + std::to_string(drops) + ")"), std::string::npos) << out;
}

TEST_F(Rendered, SsSummary) {
  EXPECT_EQ(ss({.summary = true}),
            "Total: 4\n"
            "TCP:   3 (estab 1, closed 0, orphaned 0, timewait 1)\n"
            "\n"
            "Transport Total     IP        IPv6\n"
            "RAW\t  0         0         0\n"
            "UDP\t  2         2         0\n"
            "TCP\t  2         2         0\n"
            "INET\t  4         4         0\n"
            "FRAG\t  0         0         0\n");
}

TEST_F(Rendered, SsOneStateDropsTheStateColumn) {
  // ss -tan state time-wait
  EXPECT_EQ(ss({.tcp = true, .all = true, .numeric = true}, {"state", "time-wait"}),
            "Recv-Q Send-Q Local Address:Port Peer Address:Port  Process\n"
            "0      0         198.18.0.2:80     198.18.0.1:59963\n");
}

TEST_F(Rendered, SsFilters) {
  auto ports = [&](std::vector<std::string> f) {
    std::string out;
    for (const auto& s : snap.sockets) {
      auto filter = SsFilter::parse(f);
      EXPECT_TRUE(filter.ok()) << filter.error();
      if (filter.ok() && ss_selects({.all = true}, *filter, s)) out += std::to_string(s.local.port) + " ";
    }
    return out;
  };
  EXPECT_EQ(ports({}), "80 80 7 54200 80 ");
  EXPECT_EQ(ports({"state", "established"}), "80 54200 ");
  EXPECT_EQ(ports({"state", "listening"}), "80 ");
  EXPECT_EQ(ports({"state", "connected"}), "80 54200 80 ");
  EXPECT_EQ(ports({"state", "all"}), "80 80 7 54200 80 ");
  EXPECT_EQ(ports({"state", "closed"}), "7 ");
  EXPECT_EQ(ports({"state", "established", "state", "time-wait"}), "80 54200 80 ");
  EXPECT_EQ(ports({"exclude", "time-wait", "exclude", "listening"}), "80 7 54200 ");
  EXPECT_EQ(ports({"sport", "=", ":80"}), "80 80 80 ");
  EXPECT_EQ(ports({"sport = :7"}), "7 ");
  EXPECT_EQ(ports({"dport", "=", ":53"}), "54200 ");
  EXPECT_EQ(ports({"dport", ">", ":1024"}), "80 80 ");
  EXPECT_EQ(ports({"src", "198.18.0.2"}), "80 54200 80 ");
  EXPECT_EQ(ports({"src", "198.18.0.0/24:80"}), "80 80 ");
  EXPECT_EQ(ports({"dst", "198.18.0.1"}), "80 54200 80 ");
  EXPECT_EQ(ports({"dst", "198.18.0.1:53"}), "54200 ");
  EXPECT_EQ(ports({"state", "established", "sport", "=", ":80"}), "80 ");
  EXPECT_EQ(ports({"(", "sport", "=", ":7", "or", "dport", "=", ":53", ")"}), "7 54200 ");
  EXPECT_EQ(ports({"not", "sport", "=", ":80"}), "7 54200 ");
  EXPECT_EQ(ports({"sport", "=", ":80", "and", "!", "dst", "0.0.0.0"}), "80 80 ");
}

TEST_F(Rendered, SsBadFilterIsAClearError) {
  auto parse_error = [](std::vector<std::string> f) {
    auto r = SsFilter::parse(f);
    return r.ok() ? std::string("ok") : r.error();
  };
  EXPECT_EQ(parse_error({"state", "bogus"}), "wrong state name: bogus");
  EXPECT_EQ(parse_error({"state"}), "state: a state name expected");
  EXPECT_EQ(parse_error({"dport", "=", ":http-alt"}), "dport: not a port: ':http-alt' (expected :80 or 80)");
  EXPECT_EQ(parse_error({"src", "300.1.1.1"}), "src: not an IPv4 address or prefix: '300.1.1.1'");
  EXPECT_EQ(parse_error({"frobnicate"}),
            "unknown filter word 'frobnicate' (expected state, exclude, sport, dport, src, dst, and, or, not)");
  EXPECT_EQ(parse_error({"(", "sport", "=", ":80"}), "')' expected");
  EXPECT_EQ(parse_error({"sport", "=", ":80", ")"}), "unexpected ')'");
  // Bounded: the parser recurses on "(" and "not", and the tree it builds is
  // evaluated and freed by recursion (fuzz_ctl found a stack overflow here).
  std::vector<std::string> nested(64, "(");
  nested.push_back("sport");
  nested.push_back(":80");
  nested.insert(nested.end(), 64, ")");
  EXPECT_EQ(parse_error(nested), "ok");
  nested.insert(nested.begin(), "not");
  EXPECT_EQ(parse_error(nested), "the filter nests '(' and 'not' more than 64 deep");
  EXPECT_EQ(parse_error(std::vector<std::string>(100000, "(")), "the filter has 100000 words; at most 1024");
  std::vector<std::string> chain;
  for (int i = 0; i < 300; ++i) chain.insert(chain.end(), {"sport", ":80", "or"});
  chain.insert(chain.end(), {"sport", ":80"});
  EXPECT_EQ(parse_error(chain), "ok");
}

TEST_F(Rendered, SsJsonHoldsTheSelectedSockets) {
  const auto j = nlohmann::json::parse(render_ss_json(std::span(&snap, 1), {.tcp = true}, {}));
  EXPECT_EQ(j.at("version"), 1);
  ASSERT_EQ(j.at("sockets").size(), 1u);
  const auto& s = j.at("sockets")[0];
  EXPECT_EQ(s.at("ss_state"), "ESTAB");
  EXPECT_EQ(s.at("netid"), "tcp");
  EXPECT_EQ(s.at("program"), "server");
  EXPECT_EQ(s.at("recv_q"), 100);
  EXPECT_EQ(s.at("send_q"), 3000);
  EXPECT_EQ(s.at("local").at("port"), 80);
}

TEST_F(Rendered, NetstatGroupsByProtocol) {
  const std::string out = render_netstat_s(snap);
  // 7 datagrams on a lossless link (9 when the stacks were built at the epoch and
  // each handshake retransmitted its SYN once: SimWorld now sets their clocks).
  EXPECT_EQ(out.substr(0, out.find("    InHdrErrors")), "Ip:\n    InReceives: 7\n");
  for (const char* line : {"\nIcmp:\n    InMsgs: 0\n", "\nTcp:\n    ActiveOpens: 0\n    PassiveOpens: 2\n",
                           "\nUdp:\n    InDatagrams: 0\n", "\nArp:\n    InRequests: 2\n",  // the client's announcement and its who-has
                           "\nustack drops:\n    EthTruncated: 0\n", "    ArpNotForUs: 1\n",
                           "\nTcpExt:\n    SyncookiesSent: 0\n"})
    EXPECT_NE(out.find(line), std::string::npos) << line << "in:\n" << out;
  // The extended sections take their own counters (as /proc/net/netstat's IpExt
  // and TcpExt), and the memory account closes the list.
  for (const char* line : {"\nIpExt:\n    ReasmOverlaps: 0\n", "    TCPMemoryPressures: 0\n",
                           "    TCPRcvQDrop: 0\n", "    TCPOFODrop: 0\n", "\nustack memory:\n    InUse: ",
                           "    Limits: min 23040000 pressure 30720000 max 46080000\n"})
    EXPECT_NE(out.find(line), std::string::npos) << line << "in:\n" << out;
  // Every counter once: Ip does not take Icmp's or IpExt's, nor Tcp TcpExt's; 8
  // section titles and 7 lines of memory.
  std::size_t lines = 0;
  for (char c : out) lines += c == '\n';
  EXPECT_EQ(lines, snap.counters.size() + 8 + 7);
  EXPECT_EQ(out.find("    ExtSyncookiesSent"), std::string::npos);
  EXPECT_EQ(out.find("    ExtTCPRcvQDrop"), std::string::npos);
  EXPECT_EQ(out.find("    ExtReasmOverlaps"), std::string::npos);
}

TEST_F(Rendered, NstatIsFlat) {
  const std::string out = render_nstat(snap);
  const std::string head =
            "#ustack\n"
            "IpInReceives                    7\n"
            "IpInHdrErrors                   0\n";
  EXPECT_EQ(out.substr(0, head.size()), head);
  EXPECT_NE(out.find("\nTcpPassiveOpens                 2\n"), std::string::npos);
  const auto j = nlohmann::json::parse(render_counters_json(snap));
  EXPECT_EQ(j.at("counters").at("TcpPassiveOpens"), 2);
}

TEST_F(Rendered, Neigh) {
  EXPECT_EQ(render_neigh(snap), "198.18.0.1 dev tap0 lladdr 02:00:00:00:00:01 REACHABLE\n");
  Snapshot later = snap;
  later.now += std::chrono::hours(1);
  later.neighbours.push_back({base::Ipv4Addr(198, 18, 0, 9), std::nullopt, ip::ArpEntryInfo::State::incomplete, {}});
  later.neighbours.push_back({base::Ipv4Addr(198, 18, 0, 8), std::nullopt, ip::ArpEntryInfo::State::failed, {}});
  later.neighbours.push_back({base::Ipv4Addr(198, 18, 0, 7), base::MacAddr({2, 0, 0, 0, 0, 7}),
                              ip::ArpEntryInfo::State::permanent, {}});
  EXPECT_EQ(render_neigh(later),
            "198.18.0.1 dev tap0 lladdr 02:00:00:00:00:01 STALE\n"
            "198.18.0.9 dev tap0 INCOMPLETE\n"
            "198.18.0.8 dev tap0 FAILED\n"
            "198.18.0.7 dev tap0 lladdr 02:00:00:00:00:07 PERMANENT\n");
  const auto j = nlohmann::json::parse(render_neigh_json(snap));
  EXPECT_EQ(j.at("neighbours")[0].at("state"), "reachable");
}

TEST_F(Rendered, Route) {
  EXPECT_EQ(render_route(snap),
            "default via 198.18.0.1 dev tap0\n"
            "198.18.0.0/24 dev tap0 proto kernel scope link src 198.18.0.2\n");
  const auto j = nlohmann::json::parse(render_route_json(snap));
  EXPECT_EQ(j.at("routes").size(), snap.routes.size());
}

TEST_F(Rendered, Addr) {
  EXPECT_EQ(render_addr(snap),
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 state UNKNOWN\n"
            "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
            "    inet 127.0.0.1/8 scope host lo\n"
            "       valid_lft forever preferred_lft forever\n"
            "2: tap0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n"
            "    link/ether 02:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff\n"
            "    inet 198.18.0.2/24 brd 198.18.0.255 scope global tap0\n"
            "       valid_lft forever preferred_lft forever\n");
  const auto j = nlohmann::json::parse(render_addr_json(snap));
  EXPECT_EQ(j.at("interfaces")[1].at("name"), "tap0");
}

}  // namespace
}  // namespace ustack::ctl
