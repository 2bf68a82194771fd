// The per-connection TCP trace (docs/trace.md) of a known exchange on the
// simulated network: a bulk transfer with one data segment dropped on purpose.
// The CSV must show the handshake, the loss (a retransmission, recovery, cwnd
// cut below what it was), counts that agree with TCP_INFO, and nothing else:
// a row only when something changed, and no more bytes than the cap.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "host/sim_world.h"
#include "tcp/trace.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

namespace ustack {
namespace {

using namespace std::chrono_literals;
using base::Ipv4Addr;
using stack::SocketId;

/// Passes frames through, but drops the n-th TCP segment carrying data that the
/// host sends (counting from 1), once.
class DropNthDataSegment : public link::Device {
 public:
  DropNthDataSegment(link::Device& inner, int n) : inner_(inner), n_(n) {}
  link::Medium medium() const override { return inner_.medium(); }
  std::size_t mtu() const override { return inner_.mtu(); }
  std::string name() const override { return inner_.name(); }
  std::optional<std::size_t> receive(base::Instant now, base::MutByteSpan buf) override {
    return inner_.receive(now, buf);
  }
  bool transmit(base::Instant now, base::ByteSpan frame) override {
    auto eth = wire::EthernetView::parse(frame);
    auto ip = eth ? wire::Ipv4View::parse(eth->payload()) : wire::Parsed<wire::Ipv4View>(wire::ParseError::truncated);
    if (ip && ip->protocol() == wire::ip_proto::tcp) {
      auto tcp = wire::TcpView::parse(ip->payload());
      if (tcp && (tcp->flags() & wire::tcp_flag::syn)) iss_ = tcp->seq();
      if (tcp && !tcp->payload().empty() && ++data_segments_ == n_) {
        dropped_seq_ = tcp->seq();
        return true;  // lost on the wire
      }
    }
    return inner_.transmit(now, frame);
  }
  std::optional<base::Instant> next_deadline() const override { return inner_.next_deadline(); }
  const link::DeviceStats& stats() const override { return inner_.stats(); }
  std::optional<std::uint32_t> dropped_seq() const { return dropped_seq_; }
  std::uint32_t iss() const { return iss_; }

 private:
  link::Device& inner_;
  int n_;
  int data_segments_ = 0;
  std::optional<std::uint32_t> dropped_seq_;
  std::uint32_t iss_ = 0;
};

using Row = std::map<std::string, std::string>;

std::vector<Row> parse_csv(const std::string& text, std::string* header) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  if (header) *header = line + "\n";
  std::vector<std::string> names;
  {
    std::istringstream h(line);
    std::string f;
    while (std::getline(h, f, ',')) names.push_back(f);
  }
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream l(line);
    std::string f;
    Row r;
    std::size_t i = 0;
    while (std::getline(l, f, ',')) r[i < names.size() ? names[i] : "extra"] = f, ++i;
    if (!line.empty() && line.back() == ',') r[names[i]] = "", ++i;  // an empty last field
    EXPECT_EQ(i, names.size()) << line;
    rows.push_back(std::move(r));
  }
  return rows;
}

std::uint64_t num(const Row& r, const char* k) { return std::stoull(r.at(k)); }

TEST(TcpTrace, ABulkTransferWithOneLossShowsTheLossTheCutAndCountsThatMatchTcpInfo) {
  host::SimWorld world(5);
  auto text = std::make_shared<std::string>();
  auto trace = std::make_shared<tcp::TraceRecorder>([text](std::string_view s) {
    text->append(s);
    return true;
  });
  world.host_config().tcp_trace = trace;
  auto& pa = world.net().add_port("a");
  auto& pb = world.net().add_port("b");
  // 100 Mbit/s, 10 ms each way: slow start has grown cwnd well past its start
  // by the 60th data segment.
  ASSERT_TRUE(world.net().connect(pa, pb, {10ms, 100'000'000, 1000}).ok());
  DropNthDataSegment lossy(pa, 60);
  auto& a = world.add_host("a", lossy, {Ipv4Addr(198, 18, 0, 1), 24});
  auto& b = world.add_host("b", pb, {Ipv4Addr(198, 18, 0, 2), 24});
  auto l = *b.socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(b.bind(l, {Ipv4Addr::any(), 5001}).ok());
  ASSERT_TRUE(b.listen(l, 1).ok());
  auto c = *a.socket(AF_INET, SOCK_STREAM, 0);
  (void)a.connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 5001});
  std::optional<SocketId> s;
  constexpr std::size_t kTotal = 2u << 20;
  std::vector<base::Byte> data(kTotal, base::Byte{0x5a}), buf(65536);
  std::size_t sent = 0, received = 0;
  ASSERT_TRUE(world.run_until([&] {
    if (!s) if (auto r = b.accept(l, nullptr)) s = *r;
    while (sent < kTotal) {
      auto n = a.send_to(c, base::ByteSpan(data).subspan(sent), nullptr, 0);
      if (!n) break;
      sent += *n;
    }
    while (s) {
      auto r = b.recv_from(*s, buf, 0);
      if (!r || r->copied == 0) break;
      received += r->copied;
    }
    return received == kTotal && a.tcp_info(c)->info.bytes_acked == kTotal;
  }, 60s));
  ASSERT_TRUE(lossy.dropped_seq().has_value());
  const tcp::Snapshot info = *a.tcp_info(c);

  std::string header;
  const auto rows = parse_csv(*text, &header);
  EXPECT_EQ(header, tcp::TraceRecorder::kHeader);
  std::vector<Row> sender;
  for (const auto& r : rows)
    if (r.at("conn").rfind("198.18.0.1:", 0) == 0) sender.push_back(r);
  ASSERT_GT(sender.size(), 10u);
  EXPECT_EQ(sender.front().at("state"), "SYN-SENT");
  EXPECT_EQ(sender.front().at("snd_nxt"), "1");  // the SYN
  // Time runs forward, SND.UNA never goes back, and each row differs from the
  // one before in more than its time.
  for (std::size_t i = 1; i < sender.size(); ++i) {
    EXPECT_GE(std::stod(sender[i].at("time")), std::stod(sender[i - 1].at("time")));
    EXPECT_GE(num(sender[i], "snd_una"), num(sender[i - 1], "snd_una"));
    Row x = sender[i], y = sender[i - 1];
    x.erase("time");
    y.erase("time");
    EXPECT_NE(x, y) << "row " << i << " repeats the one before";
  }
  // The loss: the first row with a retransmission shows the cut.
  std::size_t first = 0;
  std::uint64_t cwnd_before = 0;
  for (std::size_t i = 0; i < sender.size() && !first; ++i) {
    if (num(sender[i], "retrans_segs") > 0) first = i;
    else cwnd_before = std::max(cwnd_before, num(sender[i], "cwnd"));
  }
  ASSERT_GT(first, 0u) << "no row shows the retransmission";
  const Row& cut = sender[first];
  EXPECT_EQ(cut.at("in_recovery"), "1");
  EXPECT_EQ(num(cut, "fast_retrans"), 1u);
  ASSERT_FALSE(cut.at("ssthresh").empty()) << "ssthresh still infinite after a loss";
  EXPECT_LT(num(cut, "ssthresh"), cwnd_before);
  EXPECT_GT(cwnd_before, 10u * num(cut, "mss")) << "slow start should have grown cwnd before the loss";
  // cwnd falls below what it was before the loss, and stays below for the rest of recovery.
  std::uint64_t lowest_in_recovery = num(cut, "cwnd");
  for (std::size_t i = first; i < sender.size() && sender[i].at("in_recovery") == "1"; ++i)
    lowest_in_recovery = std::min(lowest_in_recovery, num(sender[i], "cwnd"));
  EXPECT_LT(lowest_in_recovery, cwnd_before);
  // Recovery starts with SND.UNA at the dropped segment (sequence numbers are relative to the ISS).
  EXPECT_EQ(num(cut, "snd_una"), std::uint64_t{*lossy.dropped_seq() - lossy.iss()});
  // The last row agrees with TCP_INFO.
  const Row& last = sender.back();
  EXPECT_EQ(num(last, "retrans_segs"), info.info.retransmits_total);
  EXPECT_EQ(num(last, "retrans_bytes"), info.info.bytes_retrans);
  EXPECT_EQ(num(last, "fast_retrans"), info.info.fast_retransmits);
  EXPECT_EQ(num(last, "timeouts"), 0u);
  EXPECT_EQ(num(last, "delivered"), kTotal);
  EXPECT_EQ(num(last, "snd_una"), kTotal + 1);  // the SYN and every data byte
  EXPECT_EQ(num(last, "in_flight"), 0u);
  EXPECT_EQ(num(last, "srtt_us") > 20000 && num(last, "srtt_us") < 40000, true) << last.at("srtt_us");
  EXPECT_EQ(trace->rows_dropped(), 0u);
  EXPECT_EQ(trace->rows_written(), rows.size());
}

TEST(TcpTrace, TheSizeCapDropsAndCountsRowsAndSaysSoAtTheEnd) {
  auto text = std::make_shared<std::string>();
  std::uint64_t dropped = 0;
  {
    host::SimWorld world(6);
    auto trace = std::make_shared<tcp::TraceRecorder>(
        [text](std::string_view s) {
          text->append(s);
          return true;
        },
        1000);
    world.host_config().tcp_trace = trace;
    auto& pa = world.net().add_port("a");
    auto& pb = world.net().add_port("b");
    ASSERT_TRUE(world.net().connect(pa, pb, {1ms, 100'000'000, 1000}).ok());
    auto& a = world.add_host("a", pa, {Ipv4Addr(198, 18, 0, 1), 24});
    auto& b = world.add_host("b", pb, {Ipv4Addr(198, 18, 0, 2), 24});
    auto l = *b.socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_TRUE(b.bind(l, {Ipv4Addr::any(), 5001}).ok());
    ASSERT_TRUE(b.listen(l, 1).ok());
    auto c = *a.socket(AF_INET, SOCK_STREAM, 0);
    (void)a.connect(c, base::Endpoint{Ipv4Addr(198, 18, 0, 2), 5001});
    std::vector<base::Byte> data(100000);  // within the receive window: b never reads
    std::size_t sent = 0;
    ASSERT_TRUE(world.run_until([&] {
      (void)b.accept(l, nullptr);
      while (sent < data.size()) {
        auto n = a.send_to(c, base::ByteSpan(data).subspan(sent), nullptr, 0);
        if (!n) break;
        sent += *n;
      }
      return a.tcp_info(c)->info.bytes_acked == data.size();
    }, 10s)) << "sent " << sent << " acked " << a.tcp_info(c)->info.bytes_acked;
    EXPECT_LE(trace->bytes_written(), 1000u);
    EXPECT_EQ(text->size(), trace->bytes_written());
    dropped = trace->rows_dropped();
    EXPECT_GT(dropped, 0u);
    EXPECT_EQ(text->find("# truncated"), std::string::npos) << "the note comes when the recorder is freed";
    // The stacks hold the recorder too: it writes its note when the world goes.
  }
  EXPECT_NE(text->find("# truncated: " + std::to_string(dropped) + " rows dropped at the size cap of 1000 bytes\n"),
            std::string::npos)
      << *text;
}

}  // namespace
}  // namespace ustack
