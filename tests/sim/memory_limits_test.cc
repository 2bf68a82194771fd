// Memory stays bounded under abuse (issue 7; docs/hardening.md "Memory limits"):
// a server stack with a 1 MiB limit serves 16 zero-window readers (its sends to
// them wait at the pressure threshold), while a hand-driven attacker on the raw
// port opens connections and fills them with out-of-order data that never
// becomes contiguous, and floods it with fragments that never complete and
// fragments that overlap. Meanwhile a legitimate client uploads 512 KiB. The
// accounted memory never passes the limit, the upload and every zero-window
// reader's stream arrive byte-exact, and the counters (as netstat -s shows them)
// account for what was dropped.
#include <algorithm>
#include <string>

#include "ctl/render.h"
#include "ctl/snapshot.h"
#include "helpers.h"
#include "wire/tcp.h"

namespace ustack::simtest {
namespace {

namespace flag = wire::tcp_flag;

constexpr std::size_t kLimit = 1u << 20;
constexpr std::size_t kZeroWindowReaders = 16;
constexpr std::size_t kPerReader = 192u << 10;  // what the server writes to each
constexpr std::size_t kUpload = 512u << 10;
constexpr std::size_t kAttackConns = 8;

/// A TCP peer the test drives by hand from the raw port.
class RawTcp {
 public:
  RawTcp(Lan& lan, std::uint16_t sport) : lan_(lan), sport_(sport) {}

  /// The three-way handshake with B:dport (SACK and window scaling offered).
  bool open(std::uint16_t dport) {
    dport_ = dport;
    wire::TcpRepr syn = header(flag::syn);
    syn.seq = iss_;
    syn.options.mss = 1460;
    syn.options.window_scale = 7;
    syn.options.sack_permitted = true;
    lan_.inject(frame(syn, {}));
    lan_.world.run_for(5ms);
    for (const auto& p : ipv4_packets(lan_.drain_raw())) {
      auto ip = wire::Ipv4View::parse(p);
      if (!ip || ip->protocol() != wire::ip_proto::tcp) continue;
      auto t = wire::TcpRepr::parse(ip->payload(), ip->src(), ip->dst());
      if (!t || t->dst_port != sport_ || t->flags != (flag::syn | flag::ack)) continue;
      peer_next_ = t->seq + 1;
      lan_.inject(frame(header(flag::ack), {}));
      return true;
    }
    return false;
  }
  /// Data at `offset` bytes past our first data byte.
  void send_at(std::uint32_t offset, base::ByteSpan data) {
    lan_.inject(frame(header(flag::ack | flag::psh, offset), data));
  }

 private:
  wire::TcpRepr header(std::uint8_t flags, std::uint32_t offset = 0) const {
    wire::TcpRepr r;
    r.src_port = sport_;
    r.dst_port = dport_;
    r.seq = iss_ + 1 + offset;
    r.ack = peer_next_;
    r.flags = flags;
    r.window = 512;  // << 7: 64 KiB
    return r;
  }
  Bytes frame(const wire::TcpRepr& r, base::ByteSpan data) const {
    Bytes seg(r.header_len() + data.size());
    std::copy(data.begin(), data.end(), seg.begin() + static_cast<std::ptrdiff_t>(r.header_len()));
    r.emit(seg, kIpRaw, kIpB);
    return raw_ip_frame(kMacB, ip_packet(kIpRaw, kIpB, wire::ip_proto::tcp, seg));
  }
  Lan& lan_;
  std::uint16_t sport_;
  std::uint16_t dport_ = 0;
  std::uint32_t iss_ = 0x10000000;
  std::uint32_t peer_next_ = 0;
};

SocketId listener(Stack& s, std::uint16_t port) {
  const SocketId l = *s.socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_TRUE(s.bind(l, Endpoint{kIpB, port}).ok());
  EXPECT_TRUE(s.listen(l, 64).ok());
  return l;
}

TEST(MemoryLimits, PeakStaysUnderTheLimitUnderAbuseAndDataStaysExact) {
  Lan lan;
  lan.know_raw();
  ASSERT_TRUE(lan.a.add_static_arp(kIpB, kMacB).ok());  // 16 SYNs at once need no ARP queue
  ASSERT_TRUE(lan.b.add_static_arp(kIpA, kMacA).ok());
  Stack& server = lan.b;  // the victim
  Stack& client = lan.a;  // the legitimate peer and the zero-window readers
  server.set_memory_limits(base::MemoryLimits::from_max(kLimit));
  std::size_t peak_seen = 0;
  auto step = [&](base::Duration d) {
    lan.world.run_for(d);
    peak_seen = std::max(peak_seen, server.memory().usage());
  };

  const SocketId sink_listener = listener(server, 5000);
  const SocketId source_listener = listener(server, 6000);

  // Zero-window readers: they connect and never read; the server writes to each.
  std::vector<SocketId> readers;
  for (std::size_t i = 0; i < kZeroWindowReaders; ++i) {
    const SocketId c = *client.socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(client.connect(c, Endpoint{kIpB, 6000}).error(), Errc::in_progress);
    readers.push_back(c);
  }
  // The attacker's connections to the sink.
  std::vector<RawTcp> attackers;
  for (std::size_t i = 0; i < kAttackConns; ++i) {
    attackers.emplace_back(lan, static_cast<std::uint16_t>(30000 + i));
    ASSERT_TRUE(attackers.back().open(5000)) << i;
  }
  step(20ms);

  // The server's side of each connection.
  struct Source {
    SocketId id;
    std::size_t written = 0;
  };
  std::vector<Source> sources;
  std::vector<SocketId> sinks;
  auto accept_all = [&] {
    while (auto r = server.accept(source_listener, nullptr)) sources.push_back({*r});
    while (auto r = server.accept(sink_listener, nullptr)) sinks.push_back(*r);
  };
  const Bytes reader_stream = pattern(kPerReader, 7);
  const Bytes upload = pattern(kUpload, 3);
  std::vector<Bytes> sunk;  // what the server read on each sink, by index
  Bytes buf(65536);
  auto serve = [&] {
    accept_all();
    for (auto& s : sources) {
      while (s.written < kPerReader) {
        auto n = server.send_to(s.id, base::ByteSpan(reader_stream).subspan(s.written), nullptr, 0);
        if (!n) break;
        s.written += *n;
      }
    }
    sunk.resize(sinks.size());
    for (std::size_t i = 0; i < sinks.size(); ++i) {
      while (auto r = server.recv_from(sinks[i], buf, 0)) {
        if (r->copied == 0) break;
        sunk[i].insert(sunk[i].end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r->copied));
      }
    }
  };

  // Attack: out-of-order data filling each attacker's window but its first 1000
  // bytes, in 31 islands of 4000 bytes (the tracker holds 32 ranges); fragments
  // that never complete; overlapping fragments.
  const Bytes garbage = pattern(1000, 99);
  std::uint16_t frag_id = 1;
  auto attack_fragments = [&] {
    for (int i = 0; i < 64; ++i, ++frag_id) {
      IpFields f;
      f.ident = frag_id;
      f.more_fragments = true;
      f.frag_offset = 8;
      lan.inject(raw_ip_frame(kMacB, ip_packet(kIpRaw, kIpB, wire::ip_proto::udp, base::ByteSpan(garbage).first(800), f)));
      if (i % 8 == 0) {  // and a fragment overlapping it: the whole datagram goes
        f.frag_offset = 16;
        lan.inject(raw_ip_frame(kMacB, ip_packet(kIpRaw, kIpB, wire::ip_proto::udp, base::ByteSpan(garbage).first(800), f)));
      }
    }
  };
  auto attack = [&] {
    for (auto& a : attackers)
      for (std::uint32_t island = 0; island < 31; ++island)
        for (std::uint32_t off = 1000 + island * 4200; off < 5000 + island * 4200; off += 1000) a.send_at(off, garbage);
    attack_fragments();
  };
  // The first flood of fragments finds memory free, so that its overlaps are seen
  // as such; later ones mostly find the fragments' share full: refused, counted
  // as ReasmFails all the same.
  attack_fragments();
  step(1ms);

  // The legitimate upload starts once the attack is under way.
  for (int round = 0; round < 5; ++round) {
    serve();
    attack();
    step(50ms);
  }
  const SocketId up = *client.socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(client.connect(up, Endpoint{kIpB, 5000}).error(), Errc::in_progress);
  std::size_t uploaded = 0;
  auto upload_done = [&] {
    for (const auto& s : sunk)
      if (s.size() == kUpload) return true;
    return false;
  };
  for (int round = 0; round < 1200 && !upload_done(); ++round) {  // at most 60 s of virtual time
    while (uploaded < kUpload) {
      auto n = client.send_to(up, base::ByteSpan(upload).subspan(uploaded), nullptr, 0);
      if (!n) break;
      uploaded += *n;
    }
    serve();
    if (round % 4 == 0) attack();  // every 200 ms
    step(50ms);
    ASSERT_LE(server.memory().usage(), kLimit);
  }
  ASSERT_TRUE(upload_done()) << "uploaded " << uploaded;
  const auto legit = std::find_if(sunk.begin(), sunk.end(), [](const Bytes& s) { return s.size() == kUpload; });
  EXPECT_TRUE(*legit == upload) << "the upload arrived altered";
  EXPECT_EQ(sources.size(), kZeroWindowReaders);

  // Now the readers read: every stream arrives whole and exact.
  std::vector<Bytes> got(readers.size());
  auto all_read = [&] {
    for (const auto& g : got)
      if (g.size() < kPerReader) return false;
    return true;
  };
  for (int round = 0; round < 2000 && !all_read(); ++round) {
    serve();
    for (std::size_t i = 0; i < readers.size(); ++i) {
      while (auto r = client.recv_from(readers[i], buf, 0)) {
        if (r->copied == 0) break;
        got[i].insert(got[i].end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r->copied));
      }
    }
    step(10ms);
  }
  for (std::size_t i = 0; i < readers.size(); ++i) EXPECT_TRUE(got[i] == reader_stream) << "reader " << i << " got " << got[i].size();

  // Memory: never past the limit, and it went to the limit (the test bit).
  const base::MemoryAccount& m = server.memory();
  EXPECT_LE(m.peak(), kLimit);
  EXPECT_LE(peak_seen, kLimit);
  EXPECT_GT(m.peak(), m.limits().pressure);
  EXPECT_GE(m.pressure_entries(), 1u);
  EXPECT_GT(m.refusals(), 0u);

  // The counters explain the drops, as netstat -s prints them.
  const auto c = counter_map(server);
  EXPECT_GT(c.at("TcpExtSndMemWaits"), 0u);     // sends to zero-window readers waited at pressure
  EXPECT_GT(c.at("TcpExtTCPOFOQueue"), 0u);     // the attacker's out-of-order data was kept...
  EXPECT_GT(c.at("TcpExtTCPOFODrop") + c.at("TcpExtOfoPruned"), 0u);  // ...until memory ran out
  EXPECT_GT(c.at("IpReasmFails"), 0u);          // fragments: limits and overlaps
  EXPECT_GT(c.at("IpExtReasmOverlaps"), 0u);
  EXPECT_GT(c.at("TcpExtTCPMemoryPressures"), 0u);
  const std::string netstat = ctl::render_netstat_s(ctl::take_snapshot(server, "victim", 1));
  for (const char* line : {"    SndMemWaits: ", "    TCPOFODrop: ", "    ReasmOverlaps: ", "    Peak: ", "    Refused: "})
    EXPECT_NE(netstat.find(line), std::string::npos) << line;
  std::printf("memory: limit %zu peak %zu refusals %llu; SndMemWaits %llu OFOQueue %llu OFODrop %llu OfoPruned %llu "
              "(%llu bytes) RcvQDrop %llu ReasmFails %llu ReasmOverlaps %llu\n",
              kLimit, m.peak(), static_cast<unsigned long long>(m.refusals()),
              static_cast<unsigned long long>(c.at("TcpExtSndMemWaits")),
              static_cast<unsigned long long>(c.at("TcpExtTCPOFOQueue")),
              static_cast<unsigned long long>(c.at("TcpExtTCPOFODrop")),
              static_cast<unsigned long long>(c.at("TcpExtOfoPruned")),
              static_cast<unsigned long long>(c.at("TcpExtOfoPrunedBytes")),
              static_cast<unsigned long long>(c.at("TcpExtTCPRcvQDrop")),
              static_cast<unsigned long long>(c.at("IpReasmFails")),
              static_cast<unsigned long long>(c.at("IpExtReasmOverlaps")));
}

}  // namespace
}  // namespace ustack::simtest
