// `ustack ss`: the sockets of every running ustack host, as Linux's ss(8) shows
// the kernel's: the same options, states, columns and a subset of its filter
// language (state, sport, dport, src, dst).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cli.h"
#include "inspect.h"

namespace ustack::tools {
namespace {

struct SsOptions {
  InspectOptions inspect;
  bool tcp = false, udp = false, raw = false;
  bool listening = false, all = false, numeric = false;
  bool extended = false, info = false, memory = false, summary = false, processes = false, no_header = false;
  std::vector<std::string> filter;
};

/// ss's state names, in the order of its bit mask.
enum SsState {
  kUnknown, kEstab, kSynSent, kSynRecv, kFinWait1, kFinWait2, kTimeWait, kUnconn, kCloseWait, kLastAck, kListen, kClosing,
  kStateCount
};
constexpr const char* kStateNames[kStateCount] = {"UNKNOWN",   "ESTAB",     "SYN-SENT",   "SYN-RECV",
                                                  "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "UNCONN",
                                                  "CLOSE-WAIT", "LAST-ACK",  "LISTEN",     "CLOSING"};
constexpr unsigned bit(SsState s) { return 1u << s; }
constexpr unsigned kAllStates = (1u << kStateCount) - 2;
// ss's default: connected sockets, not listening, closed, TIME-WAIT or SYN-RECV.
constexpr unsigned kConnected = kAllStates & ~(bit(kListen) | bit(kUnconn) | bit(kTimeWait) | bit(kSynRecv));

SsState state_of(const stack::SocketInfo& s) {
  if (s.listening) return kListen;
  if (s.type == SOCK_STREAM) {
    if (!s.tcp_state) return kUnconn;
    switch (*s.tcp_state) {
      case tcp::State::closed: return kUnconn;
      case tcp::State::listen: return kListen;
      case tcp::State::syn_sent: return kSynSent;
      case tcp::State::syn_received: return kSynRecv;
      case tcp::State::established: return kEstab;
      case tcp::State::fin_wait_1: return kFinWait1;
      case tcp::State::fin_wait_2: return kFinWait2;
      case tcp::State::close_wait: return kCloseWait;
      case tcp::State::closing: return kClosing;
      case tcp::State::last_ack: return kLastAck;
      case tcp::State::time_wait: return kTimeWait;
    }
    return kUnknown;
  }
  return s.peer ? kEstab : kUnconn;
}

const char* netid_of(const stack::SocketInfo& s) {
  if (s.type == SOCK_STREAM) return "tcp";
  if (s.type == SOCK_DGRAM) return "udp";
  return "raw";
}

/// A compiled filter: states, then endpoint conditions that must all hold.
struct Filter {
  unsigned states = 0;  // 0: the default (or -l / -a)
  struct Cond {
    bool local;                      // sport/src or dport/dst
    std::optional<base::Ipv4Addr> addr;
    std::optional<std::uint16_t> port;
    enum class Op { eq, ne, lt, gt, le, ge } op = Op::eq;
  };
  std::vector<Cond> conds;
};

std::optional<unsigned> parse_state(const std::string& w) {
  static const std::map<std::string, unsigned> names = {
      {"established", bit(kEstab)},      {"syn-sent", bit(kSynSent)},     {"syn-recv", bit(kSynRecv)},
      {"fin-wait-1", bit(kFinWait1)},    {"fin-wait-2", bit(kFinWait2)},  {"time-wait", bit(kTimeWait)},
      {"closed", bit(kUnconn)},          {"close-wait", bit(kCloseWait)}, {"last-ack", bit(kLastAck)},
      {"listening", bit(kListen)},       {"closing", bit(kClosing)},      {"all", kAllStates},
      {"connected", kConnected | bit(kTimeWait) | bit(kSynRecv)},
      {"synchronized", (kConnected | bit(kTimeWait)) & ~bit(kSynSent)},
      {"bucket", bit(kSynRecv) | bit(kTimeWait)},
      {"big", kAllStates & ~(bit(kSynRecv) | bit(kTimeWait))},
  };
  auto it = names.find(w);
  if (it == names.end()) return std::nullopt;
  return it->second;
}

/// "[ADDR][:PORT]" or "*:PORT".
bool parse_endpoint(const std::string& w, Filter::Cond& c) {
  const auto colon = w.rfind(':');
  std::string host = colon == std::string::npos ? w : w.substr(0, colon);
  if (colon != std::string::npos) {
    const std::string p = w.substr(colon + 1);
    if (p != "*") {
      char* end = nullptr;
      const unsigned long v = std::strtoul(p.c_str(), &end, 10);
      if (p.empty() || *end || v > 65535) return false;
      c.port = static_cast<std::uint16_t>(v);
    }
  }
  if (!host.empty() && host != "*") {
    c.addr = base::Ipv4Addr::parse(host);
    if (!c.addr) return false;
  }
  return true;
}

base::Result<Filter, std::string> parse_filter(const std::vector<std::string>& words) {
  Filter f;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "and" || w == "&&") continue;
    if (w == "state" || w == "exclude") {
      if (i + 1 >= words.size()) return std::string("'" + w + "' wants a state name");
      auto st = parse_state(words[++i]);
      if (!st) return std::string("unknown state '" + words[i] + "'");
      if (w == "state") {
        f.states |= *st;
      } else {
        f.states = (f.states ? f.states : kAllStates) & ~*st;
      }
      continue;
    }
    if (w == "sport" || w == "dport" || w == "src" || w == "dst") {
      Filter::Cond c{.local = w == "sport" || w == "src"};
      std::string op = "=";
      if (i + 1 < words.size()) {
        static const std::map<std::string, Filter::Cond::Op> ops = {
            {"=", Filter::Cond::Op::eq}, {"==", Filter::Cond::Op::eq}, {"eq", Filter::Cond::Op::eq},
            {"!=", Filter::Cond::Op::ne}, {"ne", Filter::Cond::Op::ne}, {"neq", Filter::Cond::Op::ne},
            {"<", Filter::Cond::Op::lt}, {"lt", Filter::Cond::Op::lt}, {">", Filter::Cond::Op::gt},
            {"gt", Filter::Cond::Op::gt}, {"<=", Filter::Cond::Op::le}, {"le", Filter::Cond::Op::le},
            {">=", Filter::Cond::Op::ge}, {"ge", Filter::Cond::Op::ge}};
        if (auto it = ops.find(words[i + 1]); it != ops.end()) {
          c.op = it->second;
          op = words[++i];
        }
      }
      if (i + 1 >= words.size()) return std::string("'" + w + " " + op + "' wants an endpoint");
      std::string ep = words[++i];
      if ((w == "sport" || w == "dport") && !ep.starts_with(':')) ep = ":" + ep;
      if (!parse_endpoint(ep, c)) return std::string("bad endpoint '" + words[i] + "'");
      if (c.op != Filter::Cond::Op::eq && c.op != Filter::Cond::Op::ne && (c.addr || !c.port)) {
        return std::string("'" + op + "' compares ports only");
      }
      f.conds.push_back(c);
      continue;
    }
    return std::string("unsupported filter word '" + w + "' (this ss knows state, exclude, sport, dport, src, dst, and)");
  }
  return f;
}

bool matches(const Filter::Cond& c, const stack::SocketInfo& s) {
  const std::optional<base::Endpoint> ep = c.local ? std::optional(s.local) : s.peer;
  bool ok = true;
  if (c.addr) ok = ep && ep->addr == base::IpAddr(*c.addr);
  if (c.port && ok) {
    const int port = ep ? ep->port : 0;
    switch (c.op) {
      case Filter::Cond::Op::eq: case Filter::Cond::Op::ne: ok = port == *c.port; break;
      case Filter::Cond::Op::lt: return port < *c.port;
      case Filter::Cond::Op::gt: return port > *c.port;
      case Filter::Cond::Op::le: return port <= *c.port;
      case Filter::Cond::Op::ge: return port >= *c.port;
    }
  }
  return c.op == Filter::Cond::Op::ne ? !ok : ok;
}

std::string endpoint_text(const std::optional<base::Endpoint>& ep) {
  // As Linux's ss: the wildcard address is 0.0.0.0, an unset port is *.
  if (!ep) return "0.0.0.0:*";
  return ep->addr.to_string() + ":" + (ep->port ? std::to_string(ep->port) : "*");
}

std::string info_text(const tcp::Snapshot& t) {
  std::string s;
  if (t.timestamps) s += " ts";
  if (t.sack) s += " sack";
  if (t.window_scaling) s += " wscale:" + std::to_string(t.snd_wscale) + "," + std::to_string(t.rcv_wscale);
  char buf[256];
  std::snprintf(buf, sizeof buf, " rto:%g rtt:%g/%g mss:%u rcvmss:%u advmss:%u cwnd:%u", t.rto_us / 1000.0,
                t.rtt_us / 1000.0, t.rttvar_us / 1000.0, t.snd_mss, t.rcv_mss, t.advmss, t.snd_cwnd);
  s += buf;
  if (t.snd_ssthresh && t.snd_ssthresh < 0x7fffffff) s += " ssthresh:" + std::to_string(t.snd_ssthresh);
  std::snprintf(buf, sizeof buf, " lastsnd:%u lastrcv:%u lastack:%u snd_wnd:%u rcv_wnd:%u", t.last_data_sent_ms,
                t.last_data_recv_ms, t.last_ack_recv_ms, t.snd_wnd, t.rcv_wnd);
  s += buf;
  if (t.unacked) s += " unacked:" + std::to_string(t.unacked);
  if (t.retrans || t.retransmits) s += " retrans:" + std::to_string(t.retransmits) + "/" + std::to_string(t.retrans);
  if (t.backoff) s += " backoff:" + std::to_string(t.backoff);
  if (t.in_recovery) s += " recovery";
  return s;
}

struct Row {
  const ctl::Snapshot* snap;
  std::size_t index;  // into snap->sockets
};

void print_summary(const std::vector<ctl::Snapshot>& snaps) {
  std::size_t total = 0, tcp_total = 0, estab = 0, closed = 0, orphaned = 0, timewait = 0, udp = 0, raw = 0;
  for (const auto& snap : snaps) {
    for (const auto& s : snap.sockets) {
      ++total;
      if (s.type == SOCK_STREAM) {
        ++tcp_total;
        const SsState st = state_of(s);
        if (st == kEstab) ++estab;
        if (st == kUnconn) ++closed;
        if (st == kTimeWait) ++timewait;
        if (s.id < 0 && st != kTimeWait) ++orphaned;
      } else if (s.type == SOCK_DGRAM) {
        ++udp;
      } else {
        ++raw;
      }
    }
  }
  std::printf("Total: %zu (processes: %zu)\n", total, snaps.size());
  std::printf("TCP:   %zu (estab %zu, closed %zu, orphaned %zu, timewait %zu)\n\n", tcp_total, estab, closed, orphaned,
              timewait);
  std::printf("Transport Total     IP\n*         %-9zu -\nRAW       %-9zu %zu\nUDP       %-9zu %zu\nTCP       %-9zu %zu\n",
              total, raw, raw, udp, udp, tcp_total, tcp_total);
}

int run_ss(const SsOptions& o) {
  auto filter = parse_filter(o.filter);
  if (!filter) {
    std::fprintf(stderr, "ustack ss: %s\n", filter.error().c_str());
    return 2;
  }
  std::vector<ctl::Endpoint> endpoints;
  if (!o.inspect.ctl.empty()) {
    auto ep = ctl::pick_one(o.inspect.ctl);
    if (!ep) {
      std::fprintf(stderr, "ustack ss: %s\n", ep.error().c_str());
      return 1;
    }
    endpoints.push_back(*ep);
  } else {
    auto eps = ctl::discover();
    if (!eps) {
      std::fprintf(stderr, "ustack ss: %s\n", eps.error().c_str());
      return 1;
    }
    if (eps->empty()) {
      std::fprintf(stderr, "ustack ss: no ustack process is running (no control socket in %s)\n",
                   ctl::control_dir().c_str());
      return 1;
    }
    endpoints = std::move(*eps);
  }
  std::vector<ctl::Snapshot> snaps;
  int status = 0;
  for (const auto& ep : endpoints) {
    auto snap = ctl::fetch_snapshot(ep.path);
    if (!snap) {
      // A process that stopped between the listing and the request is no error.
      if (!o.inspect.ctl.empty() || ::access(ep.path.c_str(), F_OK) == 0) {
        std::fprintf(stderr, "ustack ss: %s\n", snap.error().c_str());
        status = 1;
      }
      continue;
    }
    snaps.push_back(std::move(*snap));
  }
  if (o.summary) {
    print_summary(snaps);
    return status;
  }

  const bool any_proto = o.tcp || o.udp || o.raw;
  const bool want_tcp = o.tcp || !any_proto, want_udp = o.udp || !any_proto, want_raw = o.raw || !any_proto;
  unsigned states = filter->states;
  if (!states) states = o.all ? kAllStates : o.listening ? bit(kListen) | bit(kUnconn) : kConnected;
  std::vector<Row> rows;
  for (const auto& snap : snaps) {
    for (std::size_t i = 0; i < snap.sockets.size(); ++i) {
      const auto& s = snap.sockets[i];
      const bool proto = s.type == SOCK_STREAM ? want_tcp : s.type == SOCK_DGRAM ? want_udp : want_raw;
      if (!proto || !(states & bit(state_of(s)))) continue;
      bool ok = true;
      for (const auto& c : filter->conds) ok = ok && matches(c, s);
      if (ok) rows.push_back({&snap, i});
    }
  }

  if (o.inspect.json) {
    nlohmann::json out = nlohmann::json::array();
    std::map<const ctl::Snapshot*, nlohmann::json> parsed;
    for (const auto& r : rows) {
      auto& j = parsed[r.snap];
      if (j.is_null()) j = nlohmann::json::parse(ctl::to_json(*r.snap));
      nlohmann::json sock = j.at("sockets").at(r.index);
      sock["netid"] = netid_of(r.snap->sockets[r.index]);
      sock["ss_state"] = kStateNames[state_of(r.snap->sockets[r.index])];
      sock["program"] = r.snap->program;
      sock["pid"] = r.snap->pid;
      out.push_back(std::move(sock));
    }
    std::printf("%s\n", out.dump(2).c_str());
    return status;
  }

  const bool netid = (want_tcp + want_udp + want_raw) > 1;
  if (netid && !o.no_header) std::printf("%-6s", "Netid");
  if (!o.no_header) std::printf("%-11s%7s %7s %-30s %-30s%s\n", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port",
              o.processes ? " Process" : "");
  for (const auto& r : rows) {
    const auto& s = r.snap->sockets[r.index];
    if (netid) std::printf("%-6s", netid_of(s));
    std::printf("%-11s%7zu %7zu %-30s %-30s", kStateNames[state_of(s)], s.recv_q, s.send_q,
                endpoint_text(s.local).c_str(), endpoint_text(s.peer).c_str());
    if (o.processes) {
      if (s.id >= 0) {
        std::printf(" users:((\"%s\",pid=%d,fd=%d))", r.snap->program.c_str(), r.snap->pid, static_cast<int>(s.id));
      } else {
        std::printf(" users:((\"%s\",pid=%d))", r.snap->program.c_str(), r.snap->pid);
      }
    }
    if (o.extended) std::printf(" sk:%d%s", static_cast<int>(s.id), s.id < 0 ? " orphan" : "");
    if (o.memory) std::printf("\n\t skmem:(r%zu,t%zu)", s.recv_q, s.send_q);
    if (o.info && s.tcp) std::printf("\n\t%s", info_text(*s.tcp).c_str());
    std::printf("\n");
  }
  return status;
}

}  // namespace

void register_ss(CLI::App& app) {
  auto o = std::make_shared<SsOptions>();
  auto* cmd = app.add_subcommand("ss", "Sockets of every running ustack process, as ss(8) shows the kernel's");
  cmd->add_flag("-t,--tcp", o->tcp, "TCP sockets");
  cmd->add_flag("-u,--udp", o->udp, "UDP sockets");
  cmd->add_flag("-w,--raw", o->raw, "Raw sockets");
  cmd->add_flag("-l,--listening", o->listening, "Only listening (and unconnected) sockets");
  cmd->add_flag("-a,--all", o->all, "Sockets in every state");
  cmd->add_flag("-n,--numeric", o->numeric, "Numeric addresses and ports (always: there is no name service)");
  cmd->add_flag("-e,--extended", o->extended, "Socket ids");
  cmd->add_flag("-i,--info", o->info, "TCP internals (RTT, window, congestion)");
  cmd->add_flag("-m,--memory", o->memory, "Buffer use");
  cmd->add_flag("-s,--summary", o->summary, "Counts by state and transport");
  cmd->add_flag("-p,--processes", o->processes, "The ustack process of each socket");
  cmd->add_flag("-H,--no-header", o->no_header, "No header line");
  add_inspect_options(*cmd, o->inspect);
  cmd->add_option("filter", o->filter, "state STATE | exclude STATE | sport|dport [OP] :PORT | src|dst ADDR[:PORT] ...");
  cmd->callback([o] { std::exit(run_ss(*o)); });
}

}  // namespace ustack::tools
