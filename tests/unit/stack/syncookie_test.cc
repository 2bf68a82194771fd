// SYN cookies in the stack (RFC 4987 3.6, as Linux tcp_syncookies=1): a full SYN
// queue answers with a stateless SYN-ACK; the ACK that returns the cookie makes an
// accepted, working connection with the MSS, window scale, SACK and timestamps the
// SYN asked for; forged ACKs, and cookie ACKs meeting a full accept queue, are
// dropped and counted. Driven over an IP-medium device the test feeds by hand.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "support/hand_fed_device.h"

#include <vector>

#include "stack/stack.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

namespace ustack::stack {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;
using Bytes = std::vector<base::Byte>;
namespace flag = wire::tcp_flag;

const Ipv4Addr kUs(10, 0, 0, 1);
const Ipv4Addr kPeer(10, 0, 0, 2);
constexpr std::uint16_t kPort = 80;

StackConfig config_with(int syncookies) {
  StackConfig c;
  c.tcp_syncookies = syncookies;
  return c;
}

struct Cookies : ::testing::Test {
  explicit Cookies(int syncookies = 1) : s(config_with(syncookies)) {
    s.add_interface(dev, {"hand0", base::MacAddr(), {kUs, 24}, std::nullopt});
    listener = *s.socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_TRUE(s.bind(listener, {Ipv4Addr::any(), kPort}).ok());
    // Backlog 0: the SYN queue holds one embryo (Linux: full when its length
    // exceeds the backlog), the accept queue one connection.
    EXPECT_TRUE(s.listen(listener, 0).ok());
  }

  /// Sends a segment from the peer's `port` and returns the stack's answers.
  std::vector<wire::TcpRepr> send(wire::TcpRepr seg, std::size_t payload = 0) {
    seg.dst_port = kPort;
    Bytes tcp(seg.header_len() + payload, 0x61);
    seg.emit(tcp, kPeer, kUs);
    Bytes ip(20 + tcp.size());
    wire::Ipv4Repr h{kPeer, kUs, wire::ip_proto::tcp, 64};
    h.payload_len = static_cast<std::uint16_t>(tcp.size());
    h.emit(ip);
    std::copy(tcp.begin(), tcp.end(), ip.begin() + 20);
    dev.in.push_back(ip);
    return poll();
  }
  std::vector<wire::TcpRepr> poll() {
    s.poll(now);
    now += 1ms;
    std::vector<wire::TcpRepr> answers;
    for (const auto& p : dev.out) {
      auto v = wire::Ipv4View::parse(p);
      if (!v || v->protocol() != wire::ip_proto::tcp) continue;
      auto r = wire::TcpRepr::parse(v->payload(), v->src(), v->dst());  // checksum verified
      EXPECT_TRUE(r.ok());
      if (r) answers.push_back(*r);
      last_payload = v->payload().size() - (r ? r->header_len() : 0);
    }
    dev.out.clear();
    return answers;
  }

  static wire::TcpRepr syn(std::uint16_t port, std::uint32_t seq, bool ts = true) {
    wire::TcpRepr r{.src_port = port, .seq = seq, .flags = flag::syn, .window = 65535};
    r.options.mss = 1400;
    if (ts) {
      r.options.window_scale = 5;
      r.options.sack_permitted = true;
      r.options.timestamps = wire::TcpTimestamps{777000, 0};
    }
    return r;
  }
  static wire::TcpRepr ack_of(const wire::TcpRepr& synack, std::uint32_t seq, std::uint32_t tsval = 777010) {
    wire::TcpRepr r{.src_port = synack.dst_port, .seq = seq, .ack = synack.seq + 1, .flags = flag::ack,
                    .window = 1000};
    if (synack.options.timestamps) r.options.timestamps = wire::TcpTimestamps{tsval, synack.options.timestamps->value};
    return r;
  }
  /// Fills the SYN queue with one embryo (port 1000) and returns its SYN-ACK.
  wire::TcpRepr fill_syn_queue() {
    auto a = send(syn(1000, 5000));
    EXPECT_EQ(a.size(), 1u);
    EXPECT_EQ(s.counters().TcpExtSyncookiesSent, 0u);
    return a.empty() ? wire::TcpRepr{} : a[0];
  }

  testing::HandFedDevice dev;
  Stack s;
  SocketId listener = -1;
  base::Instant now = base::kEpoch + 3600s;
  std::size_t last_payload = 0;
};

TEST_F(Cookies, FullSynQueueAnswersWithACookieAndItsAckMakesAWorkingConnection) {
  fill_syn_queue();
  auto a = send(syn(2000, 9000));
  ASSERT_EQ(a.size(), 1u);
  const wire::TcpRepr synack = a[0];
  EXPECT_EQ(synack.flags, flag::syn | flag::ack);
  EXPECT_EQ(synack.ack, 9001u);
  EXPECT_EQ(synack.options.mss, std::optional<std::uint16_t>(1460));  // our MSS (MTU 1500)
  EXPECT_EQ(synack.options.window_scale, std::optional<std::uint8_t>(7));
  EXPECT_TRUE(synack.options.sack_permitted);
  ASSERT_TRUE(synack.options.timestamps);
  EXPECT_EQ(synack.options.timestamps->echo_reply, 777000u);
  // TSval's low 6 bits: the peer's wscale (5) and SACK (bit 4).
  EXPECT_EQ(synack.options.timestamps->value & 0x3f, 5u | 0x10u);
  EXPECT_EQ(s.counters().TcpExtSyncookiesSent, 1u);
  EXPECT_EQ(s.counters().TcpExtTCPReqQFullDoCookies, 1u);
  // No state kept: only the first embryo.
  std::size_t embryos = 0;
  for (const auto& i : s.socket_infos()) embryos += !i.listening && i.tcp_state.has_value();
  EXPECT_EQ(embryos, 1u);

  // The ACK returns the cookie with 100 bytes of data.
  auto ack = ack_of(synack, 9001);
  ack.flags |= flag::psh;
  a = send(ack, 100);
  EXPECT_EQ(s.counters().TcpExtSyncookiesRecv, 1u);
  EXPECT_EQ(s.counters().TcpExtSyncookiesFailed, 0u);
  base::Endpoint peer;
  auto id = s.accept(listener, &peer);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(peer, (base::Endpoint{kPeer, 2000}));
  auto info = s.tcp_info(*id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state, tcp::State::established);
  EXPECT_EQ(info->snd_mss, 1300u - 12);  // 1400 rounded down to the table, less the timestamps (tcpi_snd_mss)
  EXPECT_TRUE(info->window_scaling);
  EXPECT_EQ(info->snd_wscale, 5);
  EXPECT_EQ(info->rcv_wscale, 7);
  EXPECT_TRUE(info->sack);
  EXPECT_TRUE(info->timestamps);
  // No RTT sample from the cookie's handshake (Linux: snt_synack = 0).
  EXPECT_EQ(info->rtt_us, 0u);
  Bytes buf(200);
  auto r = s.recv_from(*id, buf, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->copied, 100u);

  // It sends: data from ISS + 1, with the peer's scaled window in force.
  const Bytes reply(50, 0x42);
  ASSERT_TRUE(s.send_to(*id, reply, nullptr, 0).ok());
  a = poll();
  ASSERT_FALSE(a.empty());
  const wire::TcpRepr& out = a.back();
  EXPECT_EQ(out.seq, synack.seq + 1);
  EXPECT_EQ(out.ack, 9101u);
  EXPECT_EQ(last_payload, 50u);
  ASSERT_TRUE(out.options.timestamps);
  EXPECT_EQ(out.options.timestamps->echo_reply, 777010u);
  // Its clock goes on from the cookie's TSval, never back.
  EXPECT_GE(out.options.timestamps->value, synack.options.timestamps->value);
  EXPECT_LT(out.options.timestamps->value - synack.options.timestamps->value, 100u);
}

TEST_F(Cookies, WithoutTimestampsACookieCarriesOnlyTheMss) {
  fill_syn_queue();
  auto a = send(syn(2000, 9000, /*ts=*/false));
  ASSERT_EQ(a.size(), 1u);
  // Linux: "if (want_cookie && !tmp_opt.saw_tstamp) tcp_clear_options(&tmp_opt);"
  EXPECT_FALSE(a[0].options.window_scale);
  EXPECT_FALSE(a[0].options.sack_permitted);
  EXPECT_FALSE(a[0].options.timestamps);
  send(ack_of(a[0], 9001));
  auto id = s.accept(listener, nullptr);
  ASSERT_TRUE(id.ok());
  auto info = s.tcp_info(*id);
  EXPECT_EQ(info->snd_mss, 1300u);
  EXPECT_FALSE(info->window_scaling);
  EXPECT_FALSE(info->sack);
  EXPECT_FALSE(info->timestamps);
}

TEST_F(Cookies, ForgedAckIsRefusedCountedAndReset) {
  fill_syn_queue();
  auto a = send(syn(2000, 9000));
  ASSERT_EQ(a.size(), 1u);
  // A blind attacker's ACK: right pair, wrong cookie.
  auto forged = ack_of(a[0], 9001);
  forged.ack += 12345;
  a = send(forged);
  EXPECT_EQ(s.counters().TcpExtSyncookiesFailed, 1u);
  EXPECT_EQ(s.counters().TcpExtSyncookiesRecv, 0u);
  // Answered as any ACK to a listener (RFC 9293 3.10.7.2): <SEQ=SEG.ACK><CTL=RST>.
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].flags, flag::rst);
  EXPECT_EQ(a[0].seq, forged.ack);
  EXPECT_EQ(s.accept(listener, nullptr).error(), base::Errc::would_block);
  // Another pair's cookie is no good either.
  auto a2 = send(syn(3000, 100));
  auto moved = ack_of(a2[0], 101);
  moved.src_port = 3001;
  send(moved);
  EXPECT_EQ(s.counters().TcpExtSyncookiesFailed, 2u);
  EXPECT_EQ(s.accept(listener, nullptr).error(), base::Errc::would_block);
}

TEST_F(Cookies, AcksAreNotCheckedForCookiesWithoutARecentOverflow) {
  // No cookie was ever sent: an ACK to the listener is not a cookie candidate
  // (Linux tcp_synq_no_recent_overflow), only reset.
  wire::TcpRepr ack{.src_port = 2000, .seq = 1, .ack = 2, .flags = flag::ack, .window = 100};
  auto a = send(ack);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].flags, flag::rst);
  EXPECT_EQ(s.counters().TcpExtSyncookiesFailed, 0u);
}

TEST_F(Cookies, ACookieExpiresAfterTwoMinutes) {
  fill_syn_queue();
  auto a = send(syn(2000, 9000));
  ASSERT_EQ(a.size(), 1u);
  now += 125s;  // past TCP_SYNCOOKIE_VALID: the listener no longer looks for cookies
  auto r = send(ack_of(a[0], 9001));
  std::erase_if(r, [](const wire::TcpRepr& x) { return x.dst_port != 2000; });  // the embryo's SYN-ACKs
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].flags, flag::rst);
  EXPECT_EQ(s.accept(listener, nullptr).error(), base::Errc::would_block);
}

TEST_F(Cookies, CookieAckMeetingAFullAcceptQueueIsDroppedAndCounted) {
  const wire::TcpRepr first = fill_syn_queue();
  auto a = send(syn(2000, 9000));  // a cookie: the SYN queue is full
  ASSERT_EQ(a.size(), 1u);
  const wire::TcpRepr cookie = a[0];
  send(ack_of(first, 5001));  // the embryo completes: the accept queue (backlog 0) is full
  EXPECT_EQ(s.counters().TcpExtListenOverflows, 0u);
  auto r = send(ack_of(cookie, 9001));
  EXPECT_TRUE(r.empty());  // dropped, no reset: the peer will send it again
  EXPECT_EQ(s.counters().TcpExtSyncookiesRecv, 1u);
  EXPECT_EQ(s.counters().TcpExtListenOverflows, 1u);
  EXPECT_EQ(s.counters().TcpExtListenDrops, 1u);
  // Once the application accepts, the peer's retransmitted ACK gets in.
  ASSERT_TRUE(s.accept(listener, nullptr).ok());
  send(ack_of(cookie, 9001));
  auto id = s.accept(listener, nullptr);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(s.tcp_info(*id)->state, tcp::State::established);
}

struct CookiesOff : Cookies {
  CookiesOff() : Cookies(0) {}
};

TEST_F(CookiesOff, FullSynQueueDropsTheSyn) {
  fill_syn_queue();
  auto a = send(syn(2000, 9000));
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(s.counters().TcpExtSyncookiesSent, 0u);
  EXPECT_EQ(s.counters().TcpExtTCPReqQFullDrop, 1u);
  EXPECT_EQ(s.counters().TcpExtListenDrops, 1u);
}

struct CookiesAlways : Cookies {
  CookiesAlways() : Cookies(2) {}
};

TEST_F(CookiesAlways, EverySynGetsACookieAndNoEmbryo) {
  auto a = send(syn(2000, 9000));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(s.counters().TcpExtSyncookiesSent, 1u);
  for (const auto& i : s.socket_infos()) EXPECT_TRUE(i.listening);
  send(ack_of(a[0], 9001));
  auto id = s.accept(listener, nullptr);
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(s.tcp_info(*id)->sack);
}

}  // namespace
}  // namespace ustack::stack
