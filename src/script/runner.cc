// The runner's clock and packets: the virtual clock advances event by event
// (the stack's deadlines), inbound lines are injected at their time, outbound
// lines are matched, in order, against what the stack sent, within tolerance.
#include "script/runner.h"

#include <limits>
#include <ostream>

#include "script/format.h"
#include "script/parser.h"
#include "script/runner_impl.h"
#include "wire/checksum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/udp.h"

namespace ustack::script {
namespace {

constexpr Micros kForever = std::numeric_limits<Micros>::max() / 2;
constexpr int kMaxStepsAtOneInstant = 100000;

IpEcn ecn_of(std::uint8_t field) {
  switch (field & wire::ip_ecn::mask) {
    case wire::ip_ecn::ect1: return IpEcn::ect1;
    case wire::ip_ecn::ect0: return IpEcn::ect0;
    case wire::ip_ecn::ce: return IpEcn::ce;
    default: return IpEcn::noecn;
  }
}

std::uint8_t field_of(IpEcn e) {
  switch (e) {
    case IpEcn::ect1: return wire::ip_ecn::ect1;
    case IpEcn::ect0: return wire::ip_ecn::ect0;
    case IpEcn::ce: return wire::ip_ecn::ce;
    default: return wire::ip_ecn::not_ect;
  }
}

std::string number_field(std::uint64_t expected, std::uint64_t actual) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "expected: %llu (0x%llx) vs actual: %llu (0x%llx)",
                static_cast<unsigned long long>(expected), static_cast<unsigned long long>(expected),
                static_cast<unsigned long long>(actual), static_cast<unsigned long long>(actual));
  return buf;
}

}  // namespace

stack::StackConfig Runner::stack_config(const RunOptions& options, const Script& script) {
  stack::StackConfig c;
  if (script.congestion_control) c.tcp.congestion_control = *script.congestion_control;
  if (script.tcp_ecn) c.tcp.ecn = *script.tcp_ecn;
  c.tcp.window_shift = static_cast<std::uint8_t>(options.window_shift);
  c.tcp.pacing = options.pacing;
  return c;
}

Runner::Runner(const Script& script, const RunOptions& options)
    : script_(script),
      tolerance_(script.tolerance_usecs.value_or(options.tolerance_usecs)),
      trace_(options.trace),
      stack_(stack_config(options, script)) {
  stack_.add_interface(tun_, {"tun0", {}, {kLocalAddr, 24}, 1500});
  (void)stack_.add_route({kRemoteAddr, 24}, std::nullopt);
}

Micros Runner::micros(base::Instant t) const {
  return std::chrono::duration_cast<std::chrono::microseconds>(t - base::kEpoch).count();
}

bool Runner::fail_at_line(int line, const std::string& message) {
  if (!failed_) {
    failed_ = true;
    error_ = script_.filename + ":" + std::to_string(line) + ": " + message;
  }
  return false;
}

bool Runner::fail(const Event& e, const std::string& message) { return fail_at_line(e.line, message); }

void Runner::trace(const std::string& line) const {
  if (trace_) *trace_ << line << '\n';
}

void Runner::collect() {
  while (!tun_.out.empty()) {
    sent_.push_back(std::move(tun_.out.front()));
    tun_.out.pop_front();
  }
}

bool Runner::step() {
  if (now_ == last_step_) {
    if (++steps_at_same_time_ > kMaxStepsAtOneInstant)
      return fail_at_line(current_ ? current_->line : 0,
                          "the stack keeps asking to be polled at " + format_seconds(micros(now_)));
  } else {
    last_step_ = now_;
    steps_at_same_time_ = 0;
  }
  stack_.poll(now_);
  collect();
  return retry_pending() && check_pending_overdue();
}

std::optional<base::Instant> Runner::next_wakeup() const {
  std::optional<base::Instant> d = stack_.next_deadline();
  if (pending_ && pending_->timeout && (!d || *pending_->timeout < *d)) d = pending_->timeout;
  return d;
}

bool Runner::advance_to(base::Instant target) {
  while (!failed_) {
    const auto d = next_wakeup();
    if (!d || *d > target) break;
    if (*d > now_) now_ = *d;
    if (!step()) return false;
  }
  if (failed_) return false;
  if (target > now_) now_ = target;
  return step();
}

bool Runner::check_pending_overdue() {
  if (!pending_ || micros(now_) <= pending_->latest) return !failed_;
  const Syscall& c = std::get<Syscall>(pending_->event->what);
  return fail(*pending_->event, "timing error: expected " + c.name + "() to return by " +
                                    format_seconds(pending_->latest) + " sec (tolerance " +
                                    format_seconds(tolerance_) + " sec) but it was still blocked at " +
                                    format_seconds(micros(now_)) + " sec: " + c.text);
}

bool Runner::check_stale(const Event& e, base::Instant event_time) {
  for (const auto& s : sent_) {
    if (micros(s.at) + tolerance_ < micros(event_time))
      return fail(e, "unexpected outbound packet, sent at " + format_seconds(micros(s.at)) +
                         " sec before this line's time " + format_seconds(micros(event_time)) +
                         " sec\nactual packet:  " + actual_line(s));
  }
  return true;
}

std::string Runner::describe_datagram(base::ByteSpan bytes) const {
  auto ip = wire::Ipv4View::parse(bytes);
  if (!ip) return "malformed IPv4 datagram";
  std::string prefix;
  if (ip->src() != kLocalAddr || ip->dst() != kRemoteAddr)
    prefix = ip->src().to_string() + " > " + ip->dst().to_string() + " ";
  if (ip->protocol() == wire::ip_proto::tcp && !ip->is_fragment()) {
    auto tcp = wire::TcpView::parse(ip->payload());
    if (!tcp) return prefix + "malformed TCP segment";
    Packet p;
    p.inbound = false;
    if (ip->ecn() != wire::ip_ecn::not_ect) p.ecn = ecn_of(ip->ecn());  // shown only when set
    p.flags = tcp->flags();
    p.seq = tcp->seq() - local_isn_;
    p.len = static_cast<std::uint32_t>(tcp->payload().size());
    if (tcp->flags() & wire::tcp_flag::ack) p.ack = tcp->ack();
    p.window = tcp->window();
    p.options = decode_options(tcp->options());
    if (!p.options) return prefix + format_packet(p) + " <malformed options>";
    if (tcp->src_port() != local_port_ || tcp->dst_port() != remote_port_)
      prefix += std::to_string(tcp->src_port()) + " > " + std::to_string(tcp->dst_port()) + " ";
    return prefix + format_packet(p);
  }
  if (ip->protocol() == wire::ip_proto::icmp) {
    auto icmp = wire::IcmpView::parse(ip->payload());
    if (!icmp) return prefix + "malformed ICMP message";
    return prefix + "ICMP type " + std::to_string(icmp->type()) + " code " + std::to_string(icmp->code());
  }
  if (ip->protocol() == wire::ip_proto::udp && !ip->is_fragment()) {
    auto udp = wire::UdpView::parse(ip->payload());
    if (!udp) return prefix + "malformed UDP datagram";
    return prefix + "udp " + std::to_string(udp->src_port()) + " > " + std::to_string(udp->dst_port()) + " (" +
           std::to_string(udp->payload().size()) + ")";
  }
  return prefix + "IPv4 protocol " + std::to_string(ip->protocol()) + ", " + std::to_string(bytes.size()) + " bytes";
}

std::string Runner::actual_line(const ScriptTun::Sent& sent) const {
  return format_seconds(micros(sent.at)) + " " + describe_datagram(sent.bytes);
}

std::vector<base::Byte> Runner::build_inbound(const Packet& p) {
  std::vector<TcpOption> opts = p.options.value_or(std::vector<TcpOption>{});
  for (auto& o : opts) {
    if (o.kind == TcpOption::Kind::timestamp && o.b != 0) {
      // The script echoes the TS val it wrote on a `>` line; send the one the stack sent.
      if (auto it = ts_vals_.find(o.b); it != ts_vals_.end()) o.b = it->second;
      else if (last_ts_val_) o.b = *last_ts_val_;
    }
    if (o.kind == TcpOption::Kind::sack)
      for (auto& [l, r] : o.blocks) {
        l += local_isn_;
        r += local_isn_;
      }
  }
  const std::vector<base::Byte> opt_bytes = encode_options(opts);
  const std::size_t tcp_len = wire::TcpView::kMinHeaderLen + opt_bytes.size() + p.len;
  constexpr std::size_t kIp = wire::Ipv4Repr::header_len();
  std::vector<base::Byte> d(kIp + tcp_len, 0);
  base::MutByteSpan seg = base::MutByteSpan(d).subspan(kIp);
  base::store_be16(seg, 0, remote_port_);
  base::store_be16(seg, 2, local_port_);
  base::store_be32(seg, 4, p.seq);
  base::store_be32(seg, 8, p.ack ? *p.ack + local_isn_ : 0);
  seg[12] = static_cast<base::Byte>(((wire::TcpView::kMinHeaderLen + opt_bytes.size()) / 4) << 4);
  seg[13] = p.flags;
  base::store_be16(seg, 14, static_cast<std::uint16_t>(p.window.value_or(65535)));
  std::copy(opt_bytes.begin(), opt_bytes.end(), seg.begin() + wire::TcpView::kMinHeaderLen);
  wire::Checksum sum;
  sum.add_pseudo_header(kRemoteAddr, kLocalAddr, wire::ip_proto::tcp, static_cast<std::uint16_t>(tcp_len));
  sum.add(seg);
  base::store_be16(seg, 16, sum.finish());
  wire::Ipv4Repr ip{kRemoteAddr, kLocalAddr, wire::ip_proto::tcp, 64};
  if (p.ecn) ip.tos = field_of(*p.ecn);
  ip.dont_fragment = true;
  ip.payload_len = static_cast<std::uint16_t>(tcp_len);
  ip.emit(base::MutByteSpan(d).first(kIp));
  return d;
}

bool Runner::run_inbound(const Event&, const Packet& p, base::Instant t) {
  trace(format_seconds(micros(t)) + " < " + format_packet(p));
  tun_.in.push_back(build_inbound(p));
  return step();
}

std::optional<std::string> Runner::mismatch(const Packet& p, const ScriptTun::Sent& sent) {
  auto ip = wire::Ipv4View::parse(sent.bytes);
  if (!ip || ip->protocol() != wire::ip_proto::tcp || ip->is_fragment())
    return "expected a TCP segment but the stack sent " + describe_datagram(sent.bytes);
  if (ip->src() != kLocalAddr || ip->dst() != kRemoteAddr)
    return "expected a segment from " + kLocalAddr.to_string() + " to " + kRemoteAddr.to_string() + " but it went from " +
           ip->src().to_string() + " to " + ip->dst().to_string();
  auto tcp = wire::TcpView::parse(ip->payload());
  if (!tcp) return std::string("malformed TCP header");
  if (!tcp->checksum_ok(ip->src(), ip->dst())) return std::string("bad TCP checksum");
  const bool syn = tcp->flags() & wire::tcp_flag::syn;
  if (syn && !isn_known_) {  // the stack's ISN: the script's numbers are offsets from it
    local_isn_ = tcp->seq() - p.seq;
    isn_known_ = true;
  }
  if (syn && !(tcp->flags() & wire::tcp_flag::ack)) local_port_ = tcp->src_port();  // active open
  if (tcp->src_port() != local_port_) return "live packet field tcp_source: " + number_field(local_port_, tcp->src_port());
  if (tcp->dst_port() != remote_port_) return "live packet field tcp_dest: " + number_field(remote_port_, tcp->dst_port());
  if (p.ecn) {
    // packetdrill's check of the IP ECN field (`[ect01]`: either ECT codepoint).
    const IpEcn got = ecn_of(ip->ecn());
    const bool ok = *p.ecn == IpEcn::ect01 ? (got == IpEcn::ect0 || got == IpEcn::ect1) : got == *p.ecn;
    if (!ok) return "live packet field ip_ecn: expected: " + format_ecn(*p.ecn) + " vs actual: " + format_ecn(got);
  }
  if (tcp->flags() != p.flags)
    return "live packet field tcp_flags: expected: " + format_flags(p.flags) + " vs actual: " + format_flags(tcp->flags());
  if (tcp->seq() - local_isn_ != p.seq) return "live packet field tcp_seq: " + number_field(p.seq, tcp->seq() - local_isn_);
  if (tcp->payload().size() != p.len) return "live packet payload: " + number_field(p.len, tcp->payload().size());
  if (p.ack && (p.flags & wire::tcp_flag::ack) && tcp->ack() != *p.ack)
    return "live packet field tcp_ack_seq: " + number_field(*p.ack, tcp->ack());
  if (p.window && tcp->window() != *p.window) return "live packet field tcp_window: " + number_field(*p.window, tcp->window());
  auto opts = decode_options(tcp->options());
  if (!opts) return std::string("malformed TCP options");
  if (p.options) {
    bool same = opts->size() == p.options->size();
    for (std::size_t i = 0; same && i < opts->size(); ++i) {
      TcpOption want = (*p.options)[i];
      if (want.kind == TcpOption::Kind::timestamp && (*opts)[i].kind == want.kind) want.a = (*opts)[i].a;  // the stack's clock
      same = want == (*opts)[i];
    }
    if (!same)
      return "live packet field tcp_options: expected: <" + format_options(*p.options) + "> vs actual: <" +
             format_options(*opts) + ">";
    for (std::size_t i = 0; i < opts->size(); ++i)
      if ((*opts)[i].kind == TcpOption::Kind::timestamp) ts_vals_[(*p.options)[i].a] = (*opts)[i].a;
  }
  for (const auto& o : *opts)
    if (o.kind == TcpOption::Kind::timestamp) last_ts_val_ = o.a;
  return std::nullopt;
}

bool Runner::run_outbound(const Event& e, const Packet& p, Micros lo, Micros hi) {
  const Micros lo_t = lo - tolerance_;
  const Micros hi_t = hi >= kForever ? kForever : hi + tolerance_;
  while (sent_.empty() && !failed_) {
    if (micros(now_) >= hi_t) break;
    const auto d = next_wakeup();
    if (!d || micros(*d) > hi_t) {
      if (hi_t < kForever) advance_to(at(hi_t));
      break;
    }
    advance_to(*d);
  }
  if (failed_) return false;
  const std::string script_line =
      "\nscript packet:  " + (lo <= -kForever ? std::string("*") : format_seconds(lo)) + " " + format_packet(p);
  if (sent_.empty()) {
    if (hi_t >= kForever)
      return fail(e, "error handling packet: timed out waiting for packet: nothing was sent and the stack has no "
                     "timer pending at " + format_seconds(micros(now_)) + " sec" + script_line);
    return fail(e, "error handling packet: timed out waiting for packet: expected at " + format_seconds(lo) +
                       " sec (tolerance " + format_seconds(tolerance_) + " sec), nothing sent by " +
                       format_seconds(hi_t) + " sec" + script_line);
  }
  const ScriptTun::Sent sent = std::move(sent_.front());
  sent_.pop_front();
  const Micros t = micros(sent.at);
  const std::string actual = "\nactual packet:  " + actual_line(sent);
  const auto diff = mismatch(p, sent);  // first: learns the ISN the trace needs
  trace(format_seconds(t) + " > " + describe_datagram(sent.bytes));
  if (diff && t < lo_t)
    return fail(e, "unexpected outbound packet, sent at " + format_seconds(t) + " sec before this line's time " +
                       format_seconds(lo) + " sec" + script_line + actual);
  if (diff) return fail(e, "error handling packet: " + *diff + script_line + actual);
  if (t < lo_t || t > hi_t)
    return fail(e, "timing error: expected outbound packet at " + format_seconds(lo) + " sec but happened at " +
                       format_seconds(t) + " sec; tolerance " + format_seconds(tolerance_) + " sec" + script_line + actual);
  base_ = t;
  return true;
}

RunResult Runner::run() {
  for (const Event& e : script_.events) {
    current_ = &e;
    const EventTime& et = e.time;
    Micros start = et.kind == EventTime::Kind::relative ? base_ + et.start : et.start;
    std::optional<Micros> end;
    if (et.end) end = et.kind == EventTime::Kind::relative ? base_ + *et.end : *et.end;
    if (et.kind == EventTime::Kind::any) start = micros(now_);
    if (const auto* p = std::get_if<Packet>(&e.what); p && !p->inbound) {
      const Micros hi = et.kind == EventTime::Kind::any ? kForever : end.value_or(start);
      if (!run_outbound(e, *p, et.kind == EventTime::Kind::any ? -kForever : start, hi)) break;
      continue;
    }
    const base::Instant t = std::max(at(start), now_);
    if (!advance_to(t) || !check_stale(e, t)) break;
    if (pending_ && std::holds_alternative<Syscall>(e.what)) {
      if (!failed_)
        fail(*pending_->event, std::get<Syscall>(pending_->event->what).name + "() is still blocked when line " +
                                   std::to_string(e.line) + " begins");
      break;
    }
    base_ = micros(t);
    if (const auto* p = std::get_if<Packet>(&e.what)) {
      if (!run_inbound(e, *p, t)) break;
    } else if (!run_syscall(e, t, end)) {
      break;
    }
  }
  if (!failed_ && pending_) {
    advance_to(at(pending_->latest));
    if (!failed_ && pending_) {
      now_ += std::chrono::microseconds(1);
      check_pending_overdue();
    }
  }
  // As packetdrill, the script ends with its last line: what the stack sends after
  // it (an ACK of the last data, say) is not checked; a note says what it was.
  if (!failed_ && !sent_.empty() && trace_)
    *trace_ << "note: " << sent_.size() << " packet(s) sent after the last line, not checked; the first: "
            << actual_line(sent_.front()) << "\n";
  return {!failed_, error_};
}

RunResult run(const Script& script, const RunOptions& options) {
  Runner r(script, options);
  return r.run();
}

}  // namespace ustack::script
