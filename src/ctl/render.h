// Text (and --json) forms of a Snapshot that follow iproute2 and net-tools, so
// that what people and scripts know of ss, netstat -s, nstat, ip neigh, ip route
// and ip addr works on ustack: the same columns, state names and filter words.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "ctl/snapshot.h"

namespace ustack::ctl {

// --- ss ----------------------------------------------------------------------------

/// ss's options: -t -u -w -l -a -n -e -i -m -s -p.
struct SsOptions {
  bool tcp = false, udp = false, raw = false;  // none: all three
  bool listening = false;  // -l: listening (and unconnected datagram) sockets only
  bool all = false;        // -a: every state
  bool numeric = false;    // -n: ports as numbers (otherwise service names where /etc/services has one)
  bool extended = false;   // -e: ino:, sk: (the socket id); ts/sack in -i lines
  bool info = false;       // -i: TCP internals on a second line
  bool memory = false;     // -m: skmem:(...)
  bool summary = false;    // -s: the summary instead of the list
  bool processes = false;  // -p: users:(("program",pid=N,fd=ID))
  bool no_header = false;  // -H: no header line
};

/// ss's states, in the order of its bit mask (ss.c SS_*).
enum class SsState : unsigned {
  unknown, established, syn_sent, syn_recv, fin_wait_1, fin_wait_2, time_wait, unconnected,
  close_wait, last_ack, listen, closing,
};
/// As ss prints it: ESTAB, SYN-SENT, SYN-RECV, ..., UNCONN, LISTEN.
const char* ss_state_name(SsState s);
SsState ss_state_of(const stack::SocketInfo& s);
/// "tcp", "udp" or "raw".
const char* ss_netid(const stack::SocketInfo& s);

/// ss's filter: `state NAME` / `exclude NAME` (ss's names: established syn-sent
/// syn-recv fin-wait-1 fin-wait-2 time-wait closed close-wait last-ack listening
/// closing, and the groups all connected synchronized bucket big), then an
/// expression of `sport OP PORT`, `dport OP PORT` (OP: = == eq != ne neq < lt
/// > gt <= le >= ge; PORT :80 or 80), `src ADDR[/LEN][:PORT]`, `dst ...`, joined
/// by and/&&, or/||, not/!, and parentheses.
class SsFilter {
 public:
  SsFilter();
  ~SsFilter();
  SsFilter(const SsFilter&);
  SsFilter& operator=(const SsFilter&);
  /// From argv-style tokens; the error says what was expected where.
  static base::Result<SsFilter, std::string> parse(std::span<const std::string> tokens);
  /// State bits given by `state`/`exclude` (bit i: SsState i); 0 when none was given.
  unsigned states() const { return states_; }
  /// The expression alone (true when there is none).
  bool matches(const stack::SocketInfo& s) const;
  struct Node;

 private:
  unsigned states_ = 0;
  std::shared_ptr<const Node> expr_;
};

/// Whether ss would list the socket: protocol options, the state set (the
/// filter's, or -a / -l / the default: connected sockets only), the expression.
bool ss_selects(const SsOptions& o, const SsFilter& f, const stack::SocketInfo& s);

/// The table (or with summary, the summary) over the sockets of every snapshot.
std::string render_ss(std::span<const Snapshot> snaps, const SsOptions& o, const SsFilter& f = {});
/// {"version":1,"sockets":[...]}: the selected sockets as in the Snapshot, each with
/// "netid", "ss_state", "program" and "pid" added.
std::string render_ss_json(std::span<const Snapshot> snaps, const SsOptions& o, const SsFilter& f = {});

// --- Counters ------------------------------------------------------------------------

/// As `netstat -s`: "Ip:", "Icmp:", "Tcp:", "Udp:", "Arp:", "ustack drops:" with
/// "    Name: value" lines (netstat's form for fields it has no sentence for).
std::string render_netstat_s(const Snapshot& s);
/// As `nstat -az`: a "#ustack" line, then "Name value" per counter (MIB names).
std::string render_nstat(const Snapshot& s);
/// {"version":1,"program":..,"pid":..,"counters":{...}}
std::string render_counters_json(const Snapshot& s);

// --- ip ------------------------------------------------------------------------------

/// As `ip neigh`: "198.18.0.1 dev tap0 lladdr 02:00:00:00:00:01 REACHABLE"
/// (STALE once expired, FAILED, INCOMPLETE, PERMANENT).
std::string render_neigh(const Snapshot& s);
std::string render_neigh_json(const Snapshot& s);
/// As `ip route`: "default via G dev IF", "N/L dev IF proto kernel scope link src A".
std::string render_route(const Snapshot& s);
std::string render_route_json(const Snapshot& s);
/// As `ip addr`: index, name, flags, mtu, link/ether MAC, inet A/N.
std::string render_addr(const Snapshot& s);
std::string render_addr_json(const Snapshot& s);

}  // namespace ustack::ctl
