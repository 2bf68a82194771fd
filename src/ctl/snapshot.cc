// The Snapshot of a running stack and its JSON form, version 1 (field names and
// meanings in docs/ctl-protocol.md). Keys keep the order written here, so that
// the text is stable from one release to the next and diffs stay readable.
#include "ctl/snapshot.h"

#include <sys/socket.h>

#include <string_view>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "ctl/json.h"

namespace ustack::ctl {

using Json = nlohmann::ordered_json;

Snapshot take_snapshot(const stack::Stack& stack, std::string program, int pid) {
  Snapshot s;
  s.program = std::move(program);
  s.pid = pid;
  s.now = stack.now();
  s.sockets = stack.socket_infos();
  stack.counters().for_each([&](std::string_view name, std::uint64_t v) { s.counters.emplace_back(name, v); });
  s.neighbours = stack.arp_entries();
  s.routes = stack.routes().routes();
  s.interfaces = stack.interfaces();
  std::tie(s.frag_datagrams, s.frag_bytes) = stack.reassembly_in_progress();
  const base::MemoryAccount& m = stack.memory();
  s.memory = {m.usage(), m.peak(), m.limits().min, m.limits().pressure, m.limits().max,
              m.usage(base::MemKind::tcp), m.usage(base::MemKind::udp), m.usage(base::MemKind::frag),
              m.under_pressure(), m.pressure_entries(), m.refusals()};
  return s;
}

namespace {

constexpr std::pair<tcp::State, const char*> kStateNames[] = {
    {tcp::State::closed, "closed"},           {tcp::State::listen, "listen"},
    {tcp::State::syn_sent, "syn_sent"},       {tcp::State::syn_received, "syn_received"},
    {tcp::State::established, "established"}, {tcp::State::fin_wait_1, "fin_wait_1"},
    {tcp::State::fin_wait_2, "fin_wait_2"},   {tcp::State::close_wait, "close_wait"},
    {tcp::State::closing, "closing"},         {tcp::State::last_ack, "last_ack"},
    {tcp::State::time_wait, "time_wait"},
};

constexpr std::pair<int, const char*> kTypeNames[] = {
    {SOCK_STREAM, "stream"}, {SOCK_DGRAM, "dgram"}, {SOCK_RAW, "raw"}};

using ArpState = ip::ArpEntryInfo::State;
constexpr std::pair<ArpState, const char*> kArpStateNames[] = {
    {ArpState::incomplete, "incomplete"}, {ArpState::reachable, "reachable"},
    {ArpState::failed, "failed"}, {ArpState::permanent, "permanent"}};

template <class E, std::size_t N>
const char* name_of(const std::pair<E, const char*> (&table)[N], E v) {
  for (const auto& [value, name] : table)
    if (value == v) return name;
  return "unknown";
}

/// Thrown inside from_json only, and caught there: a field's value is not one it may hold.
struct BadValue {
  std::string what;
};

/// A number read as T. nlohmann's get<T>() converts any number with a
/// static_cast: a float out of T's range is undefined behaviour (found by
/// tests/fuzz/fuzz_ctl.cc: "version": 1.1e55), a wider integer silently wraps
/// (a port of 65616 read as 80). Only an integer within T's range reads here.
template <class T>
T value_as(const Json& v, std::string_view name) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (v.is_number_unsigned()) {
      if (const auto u = v.get<std::uint64_t>(); std::in_range<T>(u)) return static_cast<T>(u);
    } else if (v.is_number_integer()) {
      if (const auto i = v.get<std::int64_t>(); std::in_range<T>(i)) return static_cast<T>(i);
    }
    throw BadValue{"'" + std::string(name) + "': not an integer within range: " + v.dump()};
  } else {
    return v.get<T>();
  }
}

template <class T>
T read_field(const Json& j, const char* name) {
  return value_as<T>(j.at(name), name);
}

template <class E, std::size_t N>
E value_of(const std::pair<E, const char*> (&table)[N], const Json& j, const char* field) {
  const auto text = j.at(field).get<std::string>();
  for (const auto& [value, name] : table)
    if (text == name) return value;
  throw BadValue{std::string("'") + field + "': unknown value '" + text + "'"};
}

std::int64_t ns_of(base::Instant t) { return t.time_since_epoch().count(); }
base::Instant instant_of(std::int64_t ns) { return base::Instant(base::Duration(ns)); }

Json endpoint_json(const base::Endpoint& e) { return Json{{"addr", e.addr.to_string()}, {"port", e.port}}; }

base::Ipv4Addr addr_of(const Json& j, const char* field) {
  const auto text = j.at(field).get<std::string>();
  auto a = base::Ipv4Addr::parse(text);
  if (!a) throw BadValue{std::string("'") + field + "': not an IPv4 address: '" + text + "'"};
  return *a;
}

base::Endpoint endpoint_of(const Json& j) {
  return {addr_of(j, "addr"), read_field<std::uint16_t>(j, "port")};
}

base::MacAddr mac_of(const Json& j, const char* field) {
  const auto text = j.at(field).get<std::string>();
  auto m = base::MacAddr::parse(text);
  if (!m) throw BadValue{std::string("'") + field + "': not a MAC address: '" + text + "'"};
  return *m;
}

base::Ipv4Cidr cidr_of(const Json& j, const char* field) {
  const auto text = j.at(field).get<std::string>();
  auto c = base::Ipv4Cidr::parse(text);
  if (!c) throw BadValue{std::string("'") + field + "': not an address/prefix: '" + text + "'"};
  return *c;
}

// The TCP_INFO-like fields, in one list for both directions.
#define USTACK_TCP_SNAPSHOT_FIELDS(X)                                                          \
  X(in_recovery) X(retransmits) X(backoff) X(timestamps) X(sack) X(window_scaling)             \
  X(snd_wscale) X(rcv_wscale) X(rto_us) X(snd_mss) X(rcv_mss) X(unacked) X(retrans)            \
  X(last_data_sent_ms) X(last_data_recv_ms) X(last_ack_recv_ms) X(rtt_us) X(rttvar_us)         \
  X(snd_ssthresh) X(snd_cwnd) X(advmss) X(snd_wnd) X(rcv_wnd) X(send_queued) X(recv_queued)   \
  X(in_loss) X(lost) X(sacked) X(reordering)                                                  \
  X(congestion_control) X(pacing_rate) X(delivery_rate) X(ecn) X(ecn_seen)
#define USTACK_TCP_INFO_FIELDS(X)                                                              \
  X(segs_in) X(segs_out) X(data_segs_in) X(data_segs_out) X(bytes_acked) X(bytes_received)     \
  X(bytes_sent) X(bytes_retrans) X(retransmits_total) X(fast_retransmits) X(timeouts)          \
  X(dup_acks_in) X(ooo_segments) X(challenge_acks) X(paws_drops) X(zero_window_probes)         \
  X(keepalive_probes) X(sack_recoveries) X(dsack_dups) X(reord_seen) X(sack_blocks_invalid)      \
  X(rack_marked_lost) X(tlp_probes) X(tlp_recoveries) X(spurious_rtos) X(dsack_undos)          \
  X(ecn_ce_in) X(ecn_reductions)
#define USTACK_DEVICE_STATS_FIELDS(X) \
  X(rx_frames) X(rx_bytes) X(tx_frames) X(tx_bytes) X(rx_dropped) X(tx_dropped) \
  X(rx_gso_frames) X(tx_gso_frames) X(tx_gso_segments) X(rx_bad_vnet) X(tx_submits) X(tx_batch_max)

#define USTACK_PUT(f) j[#f] = v.f;
#define USTACK_GET(f) v.f = read_field<decltype(v.f)>(j, #f);

Json tcp_json(const tcp::Snapshot& v) {
  Json j;
  j["state"] = name_of(kStateNames, v.state);
  USTACK_TCP_SNAPSHOT_FIELDS(USTACK_PUT)
  Json info;
  {
    const tcp::Info& w = v.info;
    auto& jj = info;
#define USTACK_PUT_INFO(f) jj[#f] = w.f;
    USTACK_TCP_INFO_FIELDS(USTACK_PUT_INFO)
#undef USTACK_PUT_INFO
  }
  j["info"] = std::move(info);
  return j;
}

tcp::Snapshot tcp_of(const Json& j) {
  tcp::Snapshot v;
  v.state = value_of(kStateNames, j, "state");
  USTACK_TCP_SNAPSHOT_FIELDS(USTACK_GET)
  const Json& info = j.at("info");
  tcp::Info& w = v.info;
#define USTACK_GET_INFO(f) w.f = read_field<decltype(w.f)>(info, #f);
  USTACK_TCP_INFO_FIELDS(USTACK_GET_INFO)
#undef USTACK_GET_INFO
  return v;
}

}  // namespace

Json socket_json(const stack::SocketInfo& s) {
  Json j;
  j["id"] = s.id;
  j["type"] = name_of(kTypeNames, s.type);
  j["protocol"] = s.protocol;
  j["listening"] = s.listening;
  j["state"] = s.tcp_state ? Json(name_of(kStateNames, *s.tcp_state)) : Json(nullptr);
  j["local"] = endpoint_json(s.local);
  j["peer"] = s.peer ? endpoint_json(*s.peer) : Json(nullptr);
  j["recv_q"] = s.recv_q;
  j["send_q"] = s.send_q;
  j["rcvbuf"] = s.rcvbuf;
  j["sndbuf"] = s.sndbuf;
  j["drops"] = s.drops;
  j["tcp"] = s.tcp ? tcp_json(*s.tcp) : Json(nullptr);
  return j;
}

Json counters_json(const Snapshot& s) {
  Json j = Json::object();
  for (const auto& [name, value] : s.counters) j[name] = value;
  return j;
}

Json neighbour_json(const ip::ArpEntryInfo& n) {
  return Json{{"ip", n.ip.to_string()},
              {"mac", n.mac ? Json(n.mac->to_string()) : Json(nullptr)},
              {"state", name_of(kArpStateNames, n.state)},
              {"expires_ns", ns_of(n.expires)}};
}

Json route_json(const ip::Route& r) {
  return Json{{"dest", r.dest.to_string()},
              {"gateway", r.gateway ? Json(r.gateway->to_string()) : Json(nullptr)},
              {"iface", r.iface},
              {"metric", r.metric},
              {"kind", r.kind == ip::Route::Kind::connected ? "connected" : "static"}};
}

Json interface_json(const stack::InterfaceInfo& i) {
  Json stats;
  {
    const link::DeviceStats& v = i.device_stats;
    auto& j = stats;
    USTACK_DEVICE_STATS_FIELDS(USTACK_PUT)
  }
  return Json{{"id", i.id},           {"name", i.name}, {"mac", i.mac.to_string()},
              {"addr", i.addr.to_string()}, {"mtu", i.mtu}, {"loopback", i.loopback},
              {"offloads", i.offloads}, {"stats", std::move(stats)}};
}

Json snapshot_json(const Snapshot& s) {
  Json j;
  j["version"] = s.version;
  j["program"] = s.program;
  j["pid"] = s.pid;
  j["now_ns"] = ns_of(s.now);
  j["sockets"] = Json::array();
  for (const auto& x : s.sockets) j["sockets"].push_back(socket_json(x));
  j["counters"] = counters_json(s);
  j["neighbours"] = Json::array();
  for (const auto& x : s.neighbours) j["neighbours"].push_back(neighbour_json(x));
  j["routes"] = Json::array();
  for (const auto& x : s.routes) j["routes"].push_back(route_json(x));
  j["interfaces"] = Json::array();
  for (const auto& x : s.interfaces) j["interfaces"].push_back(interface_json(x));
  j["reassembly"] = {{"datagrams", s.frag_datagrams}, {"bytes", s.frag_bytes}};
  const MemoryInfo& m = s.memory;
  j["memory"] = {{"usage", m.usage}, {"peak", m.peak}, {"min", m.min}, {"pressure", m.pressure},
                 {"max", m.max}, {"tcp", m.tcp}, {"udp", m.udp}, {"frag", m.frag},
                 {"under_pressure", m.under_pressure}, {"pressure_entries", m.pressure_entries},
                 {"refusals", m.refusals}};
  return j;
}

std::string to_json(const Snapshot& s, int indent) { return snapshot_json(s).dump(indent); }

namespace {

stack::SocketInfo socket_of(const Json& j) {
  stack::SocketInfo s;
  s.id = read_field<stack::SocketId>(j, "id");
  s.type = value_of(kTypeNames, j, "type");
  s.protocol = read_field<int>(j, "protocol");
  s.listening = read_field<bool>(j, "listening");
  if (!j.at("state").is_null()) s.tcp_state = value_of(kStateNames, j, "state");
  s.local = endpoint_of(j.at("local"));
  if (!j.at("peer").is_null()) s.peer = endpoint_of(j.at("peer"));
  s.recv_q = read_field<std::size_t>(j, "recv_q");
  s.send_q = read_field<std::size_t>(j, "send_q");
  s.rcvbuf = read_field<std::size_t>(j, "rcvbuf");
  if (const auto d = j.find("drops"); d != j.end()) s.drops = value_as<std::uint64_t>(*d, "drops");  // added in version 1
  s.sndbuf = read_field<std::size_t>(j, "sndbuf");
  if (!j.at("tcp").is_null()) s.tcp = tcp_of(j.at("tcp"));
  return s;
}

ip::ArpEntryInfo neighbour_of(const Json& j) {
  ip::ArpEntryInfo n{};
  n.ip = addr_of(j, "ip");
  if (!j.at("mac").is_null()) n.mac = mac_of(j, "mac");
  n.state = value_of(kArpStateNames, j, "state");
  n.expires = instant_of(read_field<std::int64_t>(j, "expires_ns"));
  return n;
}

ip::Route route_of(const Json& j) {
  ip::Route r;
  r.dest = cidr_of(j, "dest");
  if (!j.at("gateway").is_null()) r.gateway = addr_of(j, "gateway");
  r.iface = read_field<ip::InterfaceId>(j, "iface");
  r.metric = read_field<std::uint32_t>(j, "metric");
  const auto kind = j.at("kind").get<std::string>();
  if (kind == "connected") r.kind = ip::Route::Kind::connected;
  else if (kind == "static") r.kind = ip::Route::Kind::static_route;
  else throw BadValue{"'kind': unknown value '" + kind + "'"};
  return r;
}

stack::InterfaceInfo interface_of(const Json& j) {
  stack::InterfaceInfo i{};
  i.id = read_field<ip::InterfaceId>(j, "id");
  i.name = j.at("name").get<std::string>();
  i.mac = mac_of(j, "mac");
  i.addr = cidr_of(j, "addr");
  i.mtu = read_field<std::size_t>(j, "mtu");
  i.loopback = read_field<bool>(j, "loopback");
  i.offloads = j.value("offloads", std::string());
  link::DeviceStats& v = i.device_stats;
  const Json& stats = j.at("stats");
  {
    const Json& jj = stats;
#define USTACK_GET_STAT(f) v.f = read_field<decltype(v.f)>(jj, #f);
    USTACK_DEVICE_STATS_FIELDS(USTACK_GET_STAT)
#undef USTACK_GET_STAT
  }
  return i;
}

template <class F>
auto each_of(const Json& j, const char* field, F&& f) {
  std::vector<decltype(f(j))> out;
  const Json& arr = j.at(field);
  if (!arr.is_array()) throw BadValue{std::string("'") + field + "': not an array"};
  for (std::size_t k = 0; k < arr.size(); ++k) {
    try {
      out.push_back(f(arr[k]));
    } catch (BadValue& e) {
      throw BadValue{std::string(field) + "[" + std::to_string(k) + "]: " + e.what};
    } catch (const nlohmann::json::exception& e) {
      throw BadValue{std::string(field) + "[" + std::to_string(k) + "]: " + e.what()};
    }
  }
  return out;
}

}  // namespace

base::Result<Snapshot, std::string> from_json(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::string("not JSON");
  if (!j.is_object()) return std::string("not a JSON object");
  try {
    Snapshot s;
    s.version = read_field<int>(j, "version");
    if (s.version != kProtocolVersion)
      return "version " + std::to_string(s.version) + ", this ustack reads version " +
             std::to_string(kProtocolVersion);
    s.program = j.at("program").get<std::string>();
    s.pid = read_field<int>(j, "pid");
    s.now = instant_of(read_field<std::int64_t>(j, "now_ns"));
    s.sockets = each_of(j, "sockets", socket_of);
    const Json& counters = j.at("counters");
    if (!counters.is_object()) return std::string("'counters': not an object");
    for (const auto& [name, value] : counters.items()) s.counters.emplace_back(name, value_as<std::uint64_t>(value, name));
    s.neighbours = each_of(j, "neighbours", neighbour_of);
    s.routes = each_of(j, "routes", route_of);
    s.interfaces = each_of(j, "interfaces", interface_of);
    if (const auto r = j.find("reassembly"); r != j.end()) {  // added in version 1: older writers lack it
      s.frag_datagrams = read_field<std::uint64_t>(*r, "datagrams");
      s.frag_bytes = read_field<std::uint64_t>(*r, "bytes");
    }
    if (const auto r = j.find("memory"); r != j.end()) {  // added in version 1: older writers lack it
      MemoryInfo& m = s.memory;
      m.usage = read_field<std::uint64_t>(*r, "usage");
      m.peak = read_field<std::uint64_t>(*r, "peak");
      m.min = read_field<std::uint64_t>(*r, "min");
      m.pressure = read_field<std::uint64_t>(*r, "pressure");
      m.max = read_field<std::uint64_t>(*r, "max");
      m.tcp = read_field<std::uint64_t>(*r, "tcp");
      m.udp = read_field<std::uint64_t>(*r, "udp");
      m.frag = read_field<std::uint64_t>(*r, "frag");
      m.under_pressure = r->at("under_pressure").get<bool>();
      m.pressure_entries = read_field<std::uint64_t>(*r, "pressure_entries");
      m.refusals = read_field<std::uint64_t>(*r, "refusals");
    }
    return s;
  } catch (BadValue& e) {
    return std::move(e.what);
  } catch (const nlohmann::json::exception& e) {
    return std::string(e.what());
  }
}

}  // namespace ustack::ctl
