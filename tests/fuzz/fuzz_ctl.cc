// The control protocol's parsers (src/ctl, docs/ctl-protocol.md). The first
// byte picks what the rest of the input is:
//
//  0  bytes a client sends to the control server: framed as the server frames
//     them (take_request_line), then answered as the server answers (a real
//     Server on a socket in a temporary directory, answer()); a capture
//     request's filter is compiled by libpcap as the server would. The answer
//     is always "ustack-ctl 1\n" and one line; an unknown request is echoed
//     back printable only (no control bytes reach the client's terminal); a
//     snapshot answer reads back (from_json) to the same document.
//  1  an `ss` filter (src/ctl/ss_filter.cc), argv-style: tokens split at NUL,
//     space and newline. It parses or fails with a message; a parsed filter
//     gives the same verdict twice on each socket of a real snapshot (a TCP
//     listener, a connection both ways, UDP, raw), and when it has no
//     state/exclude part, `not ( FILTER )` gives the opposite verdict.
//  2  a Snapshot document as a client reads it (from_json): it reads or fails
//     with a message; what reads writes back (to_json) to a document that
//     reads to the same value; every renderer (ss, ss -s, netstat -s, nstat,
//     neigh, route, addr, and their --json forms) takes it.
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/render.h"
#include "ctl/server.h"
#include "ctl/snapshot.h"
#include "fuzz.h"
#include "link/capture.h"
#include "link/pcap.h"
#include "stack/stack.h"

using namespace ustack;

namespace {

constexpr std::string_view kGreetingLine = "ustack-ctl 1\n";

/// A stack with a TCP listener on 127.0.0.1:80, a connection to it (both ends),
/// a bound UDP socket and a raw ICMP socket, as a snapshot.
ctl::Snapshot make_snapshot() {
  stack::Stack st(stack::StackConfig{.seed = 5});
  base::Instant now = base::kEpoch + std::chrono::seconds(1);
  st.set_time(now);
  const base::Endpoint http{base::Ipv4Addr::loopback(), 80};
  auto l = st.socket(AF_INET, SOCK_STREAM, 0);
  FUZZ_CHECK(l.ok() && st.bind(*l, http).ok() && st.listen(*l, 8).ok());
  auto c = st.socket(AF_INET, SOCK_STREAM, 0);
  FUZZ_CHECK(c.ok());
  (void)st.connect(*c, http);
  for (int i = 0; i < 20; ++i) {
    now += std::chrono::milliseconds(1);
    st.poll(now);
  }
  base::Endpoint peer;
  FUZZ_CHECK(st.accept(*l, &peer).ok());
  auto u = st.socket(AF_INET, SOCK_DGRAM, 0);
  FUZZ_CHECK(u.ok() && st.bind(*u, {base::Ipv4Addr::any(), 7}).ok());
  FUZZ_CHECK(st.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP).ok());
  return ctl::take_snapshot(st, "fuzz", 4242);
}

const ctl::Snapshot& snapshot() {
  static const ctl::Snapshot s = make_snapshot();
  return s;
}

/// One control server for the whole run, in its own temporary directory.
ctl::Server& server() {
  static std::unique_ptr<ctl::Server> srv = [] {
    char dir[] = "/tmp/ustack-fuzz-ctl-XXXXXX";
    FUZZ_CHECK(::mkdtemp(dir) != nullptr);
    auto s = ctl::Server::start({.dir = dir, .program = "fuzz \"ctl\"\x01", .pid = 4242}, [] { return snapshot(); });
    FUZZ_CHECK(s.ok());
    ::rmdir(dir);  // fails while the socket is there: removed when it is
    return std::move(*s);
  }();
  return *srv;
}

void fuzz_request(std::string_view in) {
  const ctl::RequestLine r = ctl::take_request_line(in);
  using Kind = ctl::RequestLine::Kind;
  if (r.kind == Kind::incomplete) {
    FUZZ_CHECK(in.size() <= ctl::kMaxRequestLen && in.find('\n') == std::string_view::npos);
    return;
  }
  if (r.kind == Kind::too_long) {
    FUZZ_CHECK(in.size() > ctl::kMaxRequestLen && in.substr(0, ctl::kMaxRequestLen + 1).find('\n') == std::string_view::npos);
    return;
  }
  const std::string_view line = r.line;
  FUZZ_CHECK(line.size() <= ctl::kMaxRequestLen && line.find('\n') == std::string_view::npos);
  FUZZ_CHECK(in.substr(0, line.size()) == line);
  if (line == "capture" || line.starts_with("capture ")) {
    // What the server hands to the host's capture point: compiled by libpcap.
    const std::string_view filter = line.substr(std::min(line.size(), std::string_view("capture ").size()));
    auto f = link::CaptureFilter::compile(filter, link::LinkType::ethernet);
    if (!f.ok()) FUZZ_CHECK(!f.error().empty());
  }
  const std::string answer = server().answer(line);
  FUZZ_CHECK(answer.starts_with(kGreetingLine));
  const std::string_view body = std::string_view(answer).substr(kGreetingLine.size());
  FUZZ_CHECK(!body.empty() && body.back() == '\n' && body.find('\n') == body.size() - 1);
  if (line == "snapshot") {
    auto s = ctl::from_json(body);
    FUZZ_CHECK(s.ok());
    FUZZ_CHECK(ctl::to_json(*s) + "\n" == body);
  } else if (line == "hello") {
    FUZZ_CHECK(body.starts_with("{\"version\":1,") && body.find("\"pid\":4242}") != std::string_view::npos);
    for (char ch : body.substr(0, body.size() - 1)) FUZZ_CHECK(static_cast<unsigned char>(ch) >= 0x20);
  } else {
    FUZZ_CHECK(body.starts_with("error "));
    for (char ch : body.substr(0, body.size() - 1)) {
      FUZZ_CHECK(static_cast<unsigned char>(ch) >= 0x20 && static_cast<unsigned char>(ch) < 0x7f);
    }
  }
}

std::vector<std::string> tokens_of(std::string_view in) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : in) {
    if (ch == '\0' || ch == ' ' || ch == '\n') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
      if (out.size() >= 64) return out;
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

void fuzz_ss_filter(std::string_view in) {
  const std::vector<std::string> tokens = tokens_of(in);
  auto f = ctl::SsFilter::parse(tokens);
  if (!f.ok()) {
    FUZZ_CHECK(!f.error().empty());
    return;
  }
  std::vector<std::string> negated{"not", "("};
  negated.insert(negated.end(), tokens.begin(), tokens.end());
  negated.push_back(")");
  auto nf = f->states() == 0 && !tokens.empty() ? ctl::SsFilter::parse(negated)
                                                : base::Result<ctl::SsFilter, std::string>(std::string("n/a"));
  const ctl::SsOptions all{.all = true};
  for (const auto& s : snapshot().sockets) {
    const bool m = f->matches(s);
    FUZZ_CHECK(f->matches(s) == m);
    (void)ctl::ss_selects(all, *f, s);
    if (nf.ok()) FUZZ_CHECK(nf->matches(s) == !m);
  }
  const ctl::Snapshot snaps[] = {snapshot()};
  (void)ctl::render_ss(snaps, ctl::SsOptions{.all = true, .numeric = true, .info = true, .memory = true}, *f);
  (void)ctl::render_ss_json(snaps, all, *f);
}

void fuzz_snapshot_json(std::string_view in) {
  auto s = ctl::from_json(in);
  if (!s.ok()) {
    FUZZ_CHECK(!s.error().empty());
    return;
  }
  const std::string once = ctl::to_json(*s);
  auto again = ctl::from_json(once);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(ctl::to_json(*again) == once);
  const ctl::Snapshot snaps[] = {*s};
  (void)ctl::render_ss(snaps, ctl::SsOptions{.all = true, .numeric = true, .extended = true, .info = true,
                                             .memory = true, .processes = true});
  (void)ctl::render_ss(snaps, ctl::SsOptions{.summary = true});
  (void)ctl::render_ss_json(snaps, ctl::SsOptions{.all = true});
  (void)ctl::render_netstat_s(*s);
  (void)ctl::render_nstat(*s);
  (void)ctl::render_counters_json(*s);
  (void)ctl::render_neigh(*s);
  (void)ctl::render_neigh_json(*s);
  (void)ctl::render_route(*s);
  (void)ctl::render_route_json(*s);
  (void)ctl::render_addr(*s);
  (void)ctl::render_addr_json(*s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: fuzz_request(rest); break;
    case 1: fuzz_ss_filter(rest); break;
    default: fuzz_snapshot_json(rest); break;
  }
  return 0;
}
