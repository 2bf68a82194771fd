// The script parser: times, packets, options, system calls and syntax errors
// with their line numbers (packetdrill's syntax, docs/script.md).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "script/format.h"
#include "script/parser.h"
#include "wire/tcp.h"

namespace ustack::script {
namespace {

Script ok(std::string_view text) {
  auto r = parse(text, "t.pkt");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : std::to_string(r.error().line) + ": " + r.error().message);
  return r.ok() ? std::move(r).value() : Script{};
}

SyntaxError bad(std::string_view text) {
  auto r = parse(text, "t.pkt");
  EXPECT_FALSE(r.ok());
  return r.ok() ? SyntaxError{} : r.error();
}

TEST(ScriptParser, Times) {
  const Script s = ok("0.100 < S 0:0(0) win 1\n+0.2 < S 0:0(0) win 1\n* > S 0:0(0)\n"
                      "0.1~0.2 > S 0:0(0)\n+0...0.3 read(3, ..., 10) = 10\n1 < S 0:0(0)\n");
  ASSERT_EQ(s.events.size(), 6u);
  EXPECT_EQ(s.events[0].time.kind, EventTime::Kind::absolute);
  EXPECT_EQ(s.events[0].time.start, 100000);
  EXPECT_EQ(s.events[1].time.kind, EventTime::Kind::relative);
  EXPECT_EQ(s.events[1].time.start, 200000);
  EXPECT_EQ(s.events[2].time.kind, EventTime::Kind::any);
  EXPECT_EQ(s.events[3].time.end, 200000);
  EXPECT_FALSE(s.events[3].time.end_is_return);
  EXPECT_EQ(s.events[4].time.kind, EventTime::Kind::relative);
  EXPECT_EQ(s.events[4].time.end, 300000);
  EXPECT_TRUE(s.events[4].time.end_is_return);
  EXPECT_EQ(s.events[5].time.start, 1000000);
  EXPECT_EQ(s.events[5].line, 6);
}

TEST(ScriptParser, PacketFlagsNumbersAndOptions) {
  const Script s = ok("0 < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>\n"
                      "+0 > S. 0:0(0) ack 1 <...>\n"
                      "+0 < P. 1:1001(1000) ack 1 win 257 <nop,nop,sack 1:1001 2001:3001>\n"
                      "+0 > . 1:1(0) ack 1001\n+0 > F. 1:1(0)\n+0 > R 0:0(0)\n+0 < SEW 0:0(0)\n");
  ASSERT_EQ(s.events.size(), 7u);
  const auto& syn = std::get<Packet>(s.events[0].what);
  EXPECT_TRUE(syn.inbound);
  EXPECT_EQ(syn.flags, wire::tcp_flag::syn);
  EXPECT_EQ(syn.window, 65535u);
  EXPECT_FALSE(syn.ack);
  ASSERT_TRUE(syn.options);
  EXPECT_EQ(format_options(*syn.options), "mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7");
  const auto& synack = std::get<Packet>(s.events[1].what);
  EXPECT_FALSE(synack.inbound);
  EXPECT_EQ(synack.flags, wire::tcp_flag::syn | wire::tcp_flag::ack);
  EXPECT_EQ(synack.ack, 1u);
  EXPECT_TRUE(synack.any_options);
  const auto& data = std::get<Packet>(s.events[2].what);
  EXPECT_EQ(data.flags, wire::tcp_flag::psh | wire::tcp_flag::ack);
  EXPECT_EQ(data.seq, 1u);
  EXPECT_EQ(data.len, 1000u);
  EXPECT_EQ(format_packet(data), "P. 1:1001(1000) ack 1 win 257 <nop,nop,sack 1:1001 2001:3001>");
  EXPECT_EQ(std::get<Packet>(s.events[3].what).flags, wire::tcp_flag::ack);
  EXPECT_EQ(std::get<Packet>(s.events[4].what).flags, wire::tcp_flag::fin | wire::tcp_flag::ack);
  EXPECT_EQ(std::get<Packet>(s.events[5].what).flags, wire::tcp_flag::rst);
  EXPECT_EQ(std::get<Packet>(s.events[6].what).flags,
            wire::tcp_flag::syn | wire::tcp_flag::ece | wire::tcp_flag::cwr);
}

TEST(ScriptParser, EcnCodepointsAndFlags) {
  // packetdrill's IP ECN annotation before the flags, and E (ECE) / W (CWR).
  const Script s = ok("0 < [ce] . 1:1001(1000) ack 1\n+0 > [ect0] .W 1:1001(1000) ack 1\n"
                      "+0 > [ect01] SEW 0:0(0)\n+0 < [noecn] S.E 0:0(0) ack 1\n+0 < [ect1] . 1:1(0)\n"
                      "+0 > . 1:1(0)\n--tcp_ecn=1\n");
  ASSERT_EQ(s.events.size(), 6u);
  auto pkt = [&](std::size_t i) { return std::get<Packet>(s.events[i].what); };
  EXPECT_EQ(pkt(0).ecn, IpEcn::ce);
  EXPECT_EQ(pkt(1).ecn, IpEcn::ect0);
  EXPECT_EQ(pkt(1).flags, wire::tcp_flag::ack | wire::tcp_flag::cwr);
  EXPECT_EQ(pkt(2).ecn, IpEcn::ect01);
  EXPECT_EQ(pkt(2).flags, wire::tcp_flag::syn | wire::tcp_flag::ece | wire::tcp_flag::cwr);
  EXPECT_EQ(pkt(3).ecn, IpEcn::noecn);
  EXPECT_EQ(pkt(4).ecn, IpEcn::ect1);
  EXPECT_FALSE(pkt(5).ecn.has_value());  // not written: not checked
  EXPECT_EQ(s.tcp_ecn, 1);
  EXPECT_EQ(format_packet(pkt(1)), "[ect0] .W 1:1001(1000) ack 1");
  EXPECT_NE(bad("0 < [ect2] . 1:1(0)\n").message.find("unknown ECN codepoint"), std::string::npos);
  EXPECT_NE(bad("0 < [ect01] . 1:1(0)\n").message.find("outbound packets only"), std::string::npos);
  EXPECT_NE(bad("--tcp_ecn=3\n").message.find("--tcp_ecn takes"), std::string::npos);
}

TEST(ScriptParser, SystemCalls) {
  const Script s = ok(
      "0 socket(..., SOCK_STREAM|SOCK_NONBLOCK, IPPROTO_TCP) = 3\n"
      "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
      "+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0\n"
      "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0\n"
      "+0 fcntl(3, F_GETFL) = 0x802 (flags O_RDWR|O_NONBLOCK)\n"
      "+0 poll([{fd=3, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 0) = 1\n");
  ASSERT_EQ(s.events.size(), 6u);
  const auto& sock = std::get<Syscall>(s.events[0].what);
  EXPECT_EQ(sock.name, "socket");
  ASSERT_EQ(sock.args.size(), 3u);
  EXPECT_EQ(sock.args[0].kind, Expr::Kind::ellipsis);
  EXPECT_EQ(sock.args[1].value, SOCK_STREAM | SOCK_NONBLOCK);
  EXPECT_EQ(sock.expected, 3);
  EXPECT_EQ(sock.text, "socket(..., SOCK_STREAM|SOCK_NONBLOCK, IPPROTO_TCP)");
  const auto& conn = std::get<Syscall>(s.events[1].what);
  EXPECT_EQ(conn.expected, -1);
  EXPECT_EQ(conn.expected_errno, EINPROGRESS);
  const auto& linger = std::get<Syscall>(s.events[2].what);
  ASSERT_EQ(linger.args[3].kind, Expr::Kind::fields);
  EXPECT_EQ(linger.args[3].names, (std::vector<std::string>{"l_onoff", "l_linger"}));
  EXPECT_EQ(linger.args[3].items[0].value, 1);
  const auto& so_error = std::get<Syscall>(s.events[3].what);
  ASSERT_EQ(so_error.args[3].kind, Expr::Kind::list);
  EXPECT_EQ(so_error.args[3].items[0].value, ECONNREFUSED);
  EXPECT_EQ(std::get<Syscall>(s.events[4].what).expected, 0x802);
  const auto& poll = std::get<Syscall>(s.events[5].what);
  EXPECT_EQ(poll.args[0].items[0].items[1].value, POLLIN | POLLOUT);
}

TEST(ScriptParser, CommentsShellAndOptionLines) {
  const Script s = ok("// comment\n--tolerance_usecs=10000\n`sysctl -q x=1`\n/* a\nb */ 0 `echo`\n"
                      "--ip_version=ipv4\n0.5 < S 0:0(0) // trailing\n");
  EXPECT_EQ(s.tolerance_usecs, 10000);
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].line, 7);
  EXPECT_EQ(s.notes, (std::vector<std::string>{"ignored shell command at line 3", "ignored shell command at line 5",
                                               "ignored option --ip_version=ipv4 at line 6"}));
}

TEST(ScriptParser, ArgumentsMaySpanLines) {
  const Script s = ok("0 setsockopt(3, SOL_SOCKET,\n    SO_REUSEADDR, [1], 4) = 0\n+0 close(3) = 0\n");
  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[1].line, 3);
}

TEST(ScriptParser, SyntaxErrorsCarryTheirLine) {
  EXPECT_EQ(bad("0 < S 0:0(0)\n\n+0 frob(3) = 0\n").line, 3);
  EXPECT_EQ(bad("0 < Q 0:0(0)\n").message, "bad TCP flags 'Q'");
  EXPECT_EQ(bad("0 < P. 1:11(20)\n").message, "inconsistent sequence range: 1:11(20)");
  EXPECT_EQ(bad("0 setsockopt(3, SOL_SOCKET, SO_FROB, [1], 4) = 0\n").message, "unknown symbol 'SO_FROB'");
  EXPECT_EQ(bad("0 close(3) = -1 EFROB\n").message, "unknown errno 'EFROB'");
  EXPECT_EQ(bad("0 close(3, 4) = 0\n").message, "close() takes 1 arguments, not 2");
  EXPECT_EQ(bad("0 < S 0:0(0) <...>\n").message, "an inbound packet needs its options written out, not <...>");
  EXPECT_EQ(bad("0 < S 0:0(0) <frob 3>\n").message, "unsupported TCP option 'frob'");
  EXPECT_EQ(bad("/* never closed\n0 < S 0:0(0)\n").line, 1);
  EXPECT_EQ(bad("--tolerance_usecs=x\n").message, "bad --tolerance_usecs value");
  EXPECT_EQ(bad("hello\n").line, 1);
  EXPECT_EQ(bad("0 < S 0:0(0) win 70000\n").message, "number out of range: 70000");
}

TEST(ScriptFormat, OptionsRoundTripThroughBytesInOrder) {
  const Script s = ok("0 < S 0:0(0) <nop,mss 1460,wscale 7,sackOK,TS val 1 ecr 2,sack 5:9>\n");
  ASSERT_EQ(s.events.size(), 1u);
  const std::vector<TcpOption> opts = *std::get<Packet>(s.events[0].what).options;
  const auto bytes = encode_options(opts);
  EXPECT_EQ(bytes.size() % 4, 0u);
  const auto back = decode_options(bytes);
  ASSERT_TRUE(back);
  // 1+4+3+2+10+10 = 30 bytes: padded with an EOL, which ends the list.
  std::vector<TcpOption> expected = opts;
  expected.push_back({TcpOption::Kind::eol});
  EXPECT_EQ(*back, expected);
  EXPECT_EQ(format_flags(wire::tcp_flag::syn | wire::tcp_flag::ack), "S.");
  EXPECT_EQ(format_seconds(1500), "0.001500");
}

}  // namespace
}  // namespace ustack::script
