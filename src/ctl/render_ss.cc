// `ss` over Snapshots, in the manner of iproute2's ss (6.1): the same columns,
// state names, default state set, Netid only when several protocols are shown,
// the State column dropped when the filter leaves one state, and -i/-e/-m/-p/-s.
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>

#include "ctl/json.h"
#include "ctl/render.h"

namespace ustack::ctl {

namespace {

constexpr unsigned bit(SsState s) { return 1u << static_cast<unsigned>(s); }
constexpr unsigned kAll = (1u << 12) - 2;
// ss.c SS_CONN: the default, connected sockets only.
constexpr unsigned kDefault =
    kAll & ~(bit(SsState::listen) | bit(SsState::unconnected) | bit(SsState::time_wait) | bit(SsState::syn_recv));

std::string rtrim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string pad_right(std::string_view s, std::size_t w) {
  std::string out(s);
  if (out.size() < w) out.append(w - out.size(), ' ');
  return out;
}
std::string pad_left(std::string_view s, std::size_t w) {
  std::string out;
  if (s.size() < w) out.append(w - s.size(), ' ');
  out += s;
  return out;
}

std::string fmt_g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// ss's sprint_bw(): bits per second, "%.0f" with -n, else three digits and a prefix.
std::string bandwidth(double bps, bool numeric) {
  char buf[32];
  if (numeric) std::snprintf(buf, sizeof buf, "%.0f", bps);
  else if (bps >= 1e12) std::snprintf(buf, sizeof buf, "%.3gT", bps / 1e12);
  else if (bps >= 1e9) std::snprintf(buf, sizeof buf, "%.3gG", bps / 1e9);
  else if (bps >= 1e6) std::snprintf(buf, sizeof buf, "%.3gM", bps / 1e6);
  else if (bps >= 1e3) std::snprintf(buf, sizeof buf, "%.3gk", bps / 1e3);
  else std::snprintf(buf, sizeof buf, "%g", bps);
  return buf;
}

std::string port_text(std::uint16_t port, const stack::SocketInfo& s, bool numeric) {
  if (port == 0) return "*";
  if (!numeric && s.type != SOCK_RAW) {
    servent ent{};
    servent* found = nullptr;
    char buf[1024];
    if (getservbyport_r(htons(port), s.type == SOCK_STREAM ? "tcp" : "udp", &ent, buf, sizeof buf, &found) == 0 &&
        found)
      return found->s_name;
  }
  return std::to_string(port);
}

struct Row {
  const Snapshot* snap;
  const stack::SocketInfo* sock;
};

std::vector<Row> select(std::span<const Snapshot> snaps, const SsOptions& o, const SsFilter& f) {
  std::vector<Row> rows;
  for (const auto& snap : snaps)
    for (const auto& s : snap.sockets)
      if (ss_selects(o, f, s)) rows.push_back({&snap, &s});
  return rows;
}

/// The second line of -i (and -m): ss's tcp_show_info() order, fields at zero left out.
std::string info_line(const stack::SocketInfo& s, const SsOptions& o) {
  std::string out;
  auto add = [&](const std::string& item) { out += " " + item; };
  if (o.memory && s.tcp_state != tcp::State::time_wait) {  // a TIME-WAIT minisock has no buffers
    add("skmem:(r" + std::to_string(s.recv_q) + ",rb" + std::to_string(s.rcvbuf) + ",t" +
        std::to_string(s.type == SOCK_STREAM ? s.send_q : 0) + ",tb" + std::to_string(s.sndbuf) +
        ",f0,w0,o0,bl0,d" + std::to_string(s.drops) + ")");
  }
  // TIME-WAIT keeps no tcp_info in Linux: ss shows none.
  if (o.info && s.tcp && s.tcp_state != tcp::State::time_wait) {
    const tcp::Snapshot& t = *s.tcp;
    const tcp::Info& i = t.info;
    auto num = [&](const char* name, std::uint64_t v) {
      if (v) add(std::string(name) + ":" + std::to_string(v));
    };
    if (o.extended) {
      if (t.timestamps) add("ts");
      if (t.sack) add("sack");
      // As ss: "ecn" when negotiated, "ecnseen" once ECT or CE arrived (tcpi_options).
      if (t.ecn) add("ecn");
      if (t.ecn_seen) add("ecnseen");
    }
    if (!t.congestion_control.empty()) add(t.congestion_control);
    if (t.window_scaling) add("wscale:" + std::to_string(t.snd_wscale) + "," + std::to_string(t.rcv_wscale));
    if (t.rto_us) add("rto:" + fmt_g(t.rto_us / 1000.0));
    num("backoff", t.backoff);
    if (t.rtt_us) add("rtt:" + fmt_g(t.rtt_us / 1000.0) + "/" + fmt_g(t.rttvar_us / 1000.0));
    num("mss", t.snd_mss);
    num("rcvmss", t.rcv_mss);
    num("advmss", t.advmss);
    num("cwnd", t.snd_cwnd);
    if (t.snd_ssthresh < 0xffff) num("ssthresh", t.snd_ssthresh);
    num("bytes_sent", i.bytes_sent);
    num("bytes_retrans", i.bytes_retrans);
    num("bytes_acked", i.bytes_acked);
    num("bytes_received", i.bytes_received);
    num("segs_out", i.segs_out);
    num("segs_in", i.segs_in);
    num("data_segs_out", i.data_segs_out);
    num("data_segs_in", i.data_segs_in);
    num("lastsnd", t.last_data_sent_ms);
    num("lastrcv", t.last_data_recv_ms);
    num("lastack", t.last_ack_recv_ms);
    if (t.pacing_rate) add("pacing_rate " + bandwidth(static_cast<double>(t.pacing_rate) * 8, o.numeric) + "bps");
    if (t.delivery_rate) add("delivery_rate " + bandwidth(static_cast<double>(t.delivery_rate) * 8, o.numeric) + "bps");
    num("unacked", t.unacked);
    if (t.retrans || i.retransmits_total)
      add("retrans:" + std::to_string(t.retrans) + "/" + std::to_string(i.retransmits_total));
    // As ss: "lost:", "sacked:", "reordering:" (when not the default 3),
    // "dsack_dups:", "reord_seen:".
    num("lost", t.lost);
    num("sacked", t.sacked);
    if (t.reordering != 3) num("reordering", t.reordering);
    num("dsack_dups", i.dsack_dups);
    num("reord_seen", i.reord_seen);
    num("rcv_wnd", t.rcv_wnd);
    num("snd_wnd", t.snd_wnd);
  }
  return out.empty() ? out : "\t" + out;
}

std::string render_summary(std::span<const Snapshot> snaps) {
  std::size_t total = 0, tcp_all = 0, estab = 0, closed = 0, orphaned = 0, timewait = 0;
  std::size_t raw = 0, udp = 0, tcp_hashed = 0, frag = 0;
  for (const auto& snap : snaps) {
    frag += snap.frag_datagrams;
    for (const auto& s : snap.sockets) {
      if (s.id >= 0) ++total;
      if (s.type == SOCK_DGRAM) ++udp;
      if (s.type == SOCK_RAW) ++raw;
      if (s.type != SOCK_STREAM) continue;
      ++tcp_all;
      const SsState st = ss_state_of(s);
      // TcpCurrEstab (RFC 4022): ESTABLISHED and CLOSE-WAIT.
      if (st == SsState::established || st == SsState::close_wait) ++estab;
      if (st == SsState::unconnected) ++closed;
      else if (st == SsState::time_wait) ++timewait;
      else ++tcp_hashed;
      if (s.id < 0 && st != SsState::time_wait) ++orphaned;
    }
  }
  char buf[512];
  std::string out;
  std::snprintf(buf, sizeof buf, "Total: %zu\nTCP:   %zu (estab %zu, closed %zu, orphaned %zu, timewait %zu)\n\n",
                total, tcp_all, estab, closed, orphaned, timewait);
  out += buf;
  out += "Transport Total     IP        IPv6\n";
  auto row = [&](const char* name, std::size_t n) {
    std::snprintf(buf, sizeof buf, "%s\t  %-9zu %-9zu %-9d", name, n, n, 0);
    out += rtrim(buf) + "\n";
  };
  row("RAW", raw);
  row("UDP", udp);
  row("TCP", tcp_hashed);
  row("INET", raw + udp + tcp_hashed);
  row("FRAG", frag);  // Linux: the IP fragment queues in use
  return out;
}

}  // namespace

const char* ss_state_name(SsState s) {
  static constexpr const char* kNames[] = {"UNKNOWN",    "ESTAB",      "SYN-SENT",  "SYN-RECV",
                                           "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "UNCONN",
                                           "CLOSE-WAIT", "LAST-ACK",   "LISTEN",    "CLOSING"};
  return kNames[static_cast<unsigned>(s)];
}

SsState ss_state_of(const stack::SocketInfo& s) {
  if (s.listening) return SsState::listen;
  if (s.type != SOCK_STREAM) return s.peer ? SsState::established : SsState::unconnected;
  if (!s.tcp_state) return SsState::unconnected;
  switch (*s.tcp_state) {
    case tcp::State::closed: return SsState::unconnected;
    case tcp::State::listen: return SsState::listen;
    case tcp::State::syn_sent: return SsState::syn_sent;
    case tcp::State::syn_received: return SsState::syn_recv;
    case tcp::State::established: return SsState::established;
    case tcp::State::fin_wait_1: return SsState::fin_wait_1;
    case tcp::State::fin_wait_2: return SsState::fin_wait_2;
    case tcp::State::close_wait: return SsState::close_wait;
    case tcp::State::closing: return SsState::closing;
    case tcp::State::last_ack: return SsState::last_ack;
    case tcp::State::time_wait: return SsState::time_wait;
  }
  return SsState::unknown;
}

const char* ss_netid(const stack::SocketInfo& s) {
  if (s.type == SOCK_STREAM) return "tcp";
  if (s.type == SOCK_DGRAM) return "udp";
  return "raw";
}

namespace {
unsigned effective_states(const SsOptions& o, const SsFilter& f) {
  if (f.states()) return f.states();
  if (o.all) return kAll;
  // ss -l: listening sockets, and unconnected ones (UDP, raw) which is how they listen.
  if (o.listening) return bit(SsState::listen) | bit(SsState::unconnected);
  return kDefault;
}
}  // namespace

bool ss_selects(const SsOptions& o, const SsFilter& f, const stack::SocketInfo& s) {
  const bool any = o.tcp || o.udp || o.raw;
  const bool proto = s.type == SOCK_STREAM ? (o.tcp || !any) : s.type == SOCK_DGRAM ? (o.udp || !any) : (o.raw || !any);
  if (!proto) return false;
  if (!(effective_states(o, f) & bit(ss_state_of(s)))) return false;
  return f.matches(s);
}

std::string render_ss(std::span<const Snapshot> snaps, const SsOptions& o, const SsFilter& f) {
  if (o.summary) return render_summary(snaps);
  const auto rows = select(snaps, o, f);
  const bool any = o.tcp || o.udp || o.raw;
  const int protocols = any ? int{o.tcp} + int{o.udp} + int{o.raw} : 3;
  const bool show_netid = protocols > 1;
  const unsigned states = effective_states(o, f);
  const bool show_state = (states & (states - 1)) != 0;  // ss drops the column when one state is asked for

  struct Cells {
    std::string netid, state, recv_q, send_q, laddr, lport, paddr, pport, process, details, info;
  };
  std::vector<Cells> cells;
  for (const Row& r : rows) {
    const stack::SocketInfo& s = *r.sock;
    Cells c;
    c.netid = ss_netid(s);
    c.state = ss_state_name(ss_state_of(s));
    c.recv_q = std::to_string(s.recv_q);
    c.send_q = std::to_string(s.send_q);
    c.laddr = s.local.addr.to_string();
    // A raw socket's "port" is its protocol, as ss shows it.
    c.lport = s.type == SOCK_RAW ? std::to_string(s.protocol) : port_text(s.local.port, s, o.numeric);
    const base::Endpoint peer = s.peer.value_or(base::Endpoint{});
    c.paddr = peer.addr.to_string();
    c.pport = port_text(peer.port, s, o.numeric);
    if (o.processes && s.id >= 0)
      c.process = "users:((\"" + r.snap->program + "\",pid=" + std::to_string(r.snap->pid) +
                  ",fd=" + std::to_string(s.id) + "))";
    if (o.extended) c.details = s.id >= 0 ? "ino:0 sk:" + std::to_string(s.id) : "ino:0";
    if (o.info || o.memory) c.info = info_line(s, o);
    cells.push_back(std::move(c));
  }
  auto width = [&](std::string Cells::*field, std::size_t header) {
    std::size_t w = header;
    for (const auto& c : cells) w = std::max(w, (c.*field).size());
    return w;
  };
  const std::size_t w_netid = width(&Cells::netid, 5), w_state = width(&Cells::state, 5);
  const std::size_t w_rq = width(&Cells::recv_q, 6), w_sq = width(&Cells::send_q, 6);
  const std::size_t w_la = width(&Cells::laddr, 13), w_lp = width(&Cells::lport, 4);
  const std::size_t w_pa = width(&Cells::paddr, 12), w_pp = width(&Cells::pport, 4);

  std::string out;
  auto line = [&](const std::string& netid, const std::string& state, const std::string& rq, const std::string& sq,
                  const std::string& la, const std::string& lp, const std::string& pa, const std::string& pp,
                  const std::string& tail) {
    std::string l;
    if (show_netid) l += pad_right(netid, w_netid) + " ";
    if (show_state) l += pad_right(state, w_state) + " ";
    l += pad_right(rq, w_rq) + " " + pad_right(sq, w_sq) + " " + pad_left(la, w_la) + ":" + pad_right(lp, w_lp) +
         " " + pad_left(pa, w_pa) + ":" + pad_right(pp, w_pp) + " " + tail;
    out += rtrim(std::move(l)) + "\n";
  };
  if (!o.no_header) line("Netid", "State", "Recv-Q", "Send-Q", "Local Address", "Port", "Peer Address", "Port", "Process");
  for (const auto& c : cells) {
    std::string tail = c.process;
    if (!c.details.empty()) tail += (tail.empty() ? "" : " ") + c.details;
    line(c.netid, c.state, c.recv_q, c.send_q, c.laddr, c.lport, c.paddr, c.pport, tail);
    if (!c.info.empty()) out += c.info + "\n";
  }
  return out;
}

std::string render_ss_json(std::span<const Snapshot> snaps, const SsOptions& o, const SsFilter& f) {
  nlohmann::ordered_json j;
  j["version"] = kProtocolVersion;
  j["sockets"] = nlohmann::ordered_json::array();
  for (const Row& r : select(snaps, o, f)) {
    auto s = socket_json(*r.sock);
    s["netid"] = ss_netid(*r.sock);
    s["ss_state"] = ss_state_name(ss_state_of(*r.sock));
    s["program"] = r.snap->program;
    s["pid"] = r.snap->pid;
    j["sockets"].push_back(std::move(s));
  }
  return j.dump(2) + "\n";
}

}  // namespace ustack::ctl
