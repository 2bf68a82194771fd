// Parser for packetdrill scripts: one statement a line (a line continues while
// a bracket is open), each a time followed by a packet or a system call.
#include "script/parser.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "script/lexer.h"
#include "script/symbols.h"
#include "wire/tcp.h"

namespace ustack::script {
namespace {

struct Arity {
  std::size_t min, max;
};
// The calls a script may make, with how many arguments each takes.
const std::map<std::string, Arity, std::less<>> kSyscalls = {
    {"socket", {3, 3}},   {"bind", {3, 3}},       {"listen", {2, 2}},     {"accept", {3, 3}},
    {"connect", {3, 3}},  {"write", {3, 3}},      {"read", {3, 3}},       {"send", {4, 4}},
    {"recv", {4, 4}},     {"sendto", {6, 6}},     {"recvfrom", {6, 6}},   {"close", {1, 1}},
    {"shutdown", {2, 2}}, {"fcntl", {2, 3}},      {"poll", {3, 3}},       {"setsockopt", {5, 5}},
    {"getsockopt", {5, 5}},
};

/// A fatal parse problem, carried out of the recursive descent as a value.
struct Fail {
  SyntaxError error;
};

class Parser {
 public:
  Parser(const std::vector<Token>& toks, std::size_t begin, std::size_t end)
      : toks_(toks), pos_(begin), end_(end) {}

  bool at_end() const { return pos_ >= end_; }
  const Token& peek(std::size_t ahead = 0) const {
    static const Token kEnd{Token::Kind::newline, "end of line", 0, true};
    return pos_ + ahead < end_ ? toks_[pos_ + ahead] : kEnd;
  }
  int line() const { return at_end() ? (end_ > 0 ? toks_[end_ - 1].line : 0) : peek().line; }
  Token next() {
    if (at_end()) fail("unexpected end of line");
    return toks_[pos_++];
  }
  bool is(std::string_view punct) const {
    return !at_end() && peek().kind == Token::Kind::punct && peek().text == punct;
  }
  bool is_word(std::string_view w) const {
    return !at_end() && peek().kind == Token::Kind::word && peek().text == w;
  }
  bool accept(std::string_view punct) {
    if (!is(punct)) return false;
    ++pos_;
    return true;
  }
  void expect(std::string_view punct) {
    if (!accept(punct)) fail("expected '" + std::string(punct) + "' but found '" + describe(peek()) + "'");
  }
  [[noreturn]] void fail(std::string message) const { throw Fail{{line(), std::move(message)}}; }
  static std::string describe(const Token& t) { return t.kind == Token::Kind::newline ? "end of line" : t.text; }

  std::uint64_t number(std::uint64_t max = 0xffffffffu) {
    const Token t = next();
    if (t.kind != Token::Kind::number || t.text.find('.') != std::string::npos)
      fail("expected an integer but found '" + describe(t) + "'");
    std::uint64_t v = 0;
    const bool hex = t.text.size() > 2 && (t.text[1] == 'x' || t.text[1] == 'X');
    const char* b = t.text.data() + (hex ? 2 : 0);
    auto r = std::from_chars(b, t.text.data() + t.text.size(), v, hex ? 16 : 10);
    if (r.ec != std::errc() || v > max) fail("number out of range: " + t.text);
    return v;
  }

  Micros seconds() {
    const Token t = next();
    if (t.kind != Token::Kind::number) fail("expected a time but found '" + describe(t) + "'");
    const double s = std::strtod(t.text.c_str(), nullptr);
    if (!(s >= 0) || s > 1e9) fail("bad time: " + t.text);
    return static_cast<Micros>(std::llround(s * 1e6));
  }

  EventTime time() {
    EventTime et;
    if (accept("*")) {
      et.kind = EventTime::Kind::any;
      return et;
    }
    if (accept("+")) et.kind = EventTime::Kind::relative;
    et.start = seconds();
    if (is("...") || is("~")) {
      et.end_is_return = next().text == "...";
      accept("+");
      et.end = seconds();
      if (et.kind == EventTime::Kind::absolute && *et.end < et.start) fail("time range ends before it starts");
    }
    return et;
  }

  // --- Packets ---------------------------------------------------------------
  std::uint8_t flags() {
    std::string text;
    while (!at_end() && (text.empty() || !peek().space_before) &&
           (peek().kind == Token::Kind::word || is(".")))
      text += next().text;
    if (text.empty()) fail("expected TCP flags but found '" + describe(peek()) + "'");
    std::uint8_t f = 0;
    for (char c : text) {
      switch (c) {
        case 'S': f |= wire::tcp_flag::syn; break;
        case 'F': f |= wire::tcp_flag::fin; break;
        case 'R': f |= wire::tcp_flag::rst; break;
        case 'P': f |= wire::tcp_flag::psh; break;
        case '.': f |= wire::tcp_flag::ack; break;
        case 'U': f |= wire::tcp_flag::urg; break;
        case 'E': f |= wire::tcp_flag::ece; break;
        case 'W': f |= wire::tcp_flag::cwr; break;
        default: fail("bad TCP flags '" + text + "'");
      }
    }
    return f;
  }

  TcpOption option() {
    const Token t = next();
    if (t.kind != Token::Kind::word) fail("expected a TCP option but found '" + describe(t) + "'");
    TcpOption o;
    if (t.text == "nop") {
      o.kind = TcpOption::Kind::nop;
    } else if (t.text == "eol") {
      o.kind = TcpOption::Kind::eol;
    } else if (t.text == "sackOK") {
      o.kind = TcpOption::Kind::sack_permitted;
    } else if (t.text == "mss") {
      o.kind = TcpOption::Kind::mss;
      o.a = static_cast<std::uint32_t>(number(0xffff));
    } else if (t.text == "wscale") {
      o.kind = TcpOption::Kind::wscale;
      o.a = static_cast<std::uint32_t>(number(0xff));
    } else if (t.text == "TS") {
      o.kind = TcpOption::Kind::timestamp;
      if (!is_word("val")) fail("expected 'val' after TS");
      next();
      o.a = static_cast<std::uint32_t>(number());
      if (!is_word("ecr")) fail("expected 'ecr' after TS val");
      next();
      o.b = static_cast<std::uint32_t>(number());
    } else if (t.text == "sack") {
      o.kind = TcpOption::Kind::sack;
      while (!at_end() && peek().kind == Token::Kind::number) {
        const auto left = static_cast<std::uint32_t>(number());
        expect(":");
        const auto right = static_cast<std::uint32_t>(number());
        o.blocks.emplace_back(left, right);
      }
      if (o.blocks.empty() || o.blocks.size() > 4) fail("sack takes 1 to 4 blocks L:R");
    } else {
      fail("unsupported TCP option '" + t.text + "'");
    }
    return o;
  }

  Packet packet() {
    Packet p;
    p.inbound = next().text == "<";
    if (accept("[")) {
      // packetdrill's IP ECN field: `[noecn]`, `[ect0]`, `[ect1]`, `[ect01]`, `[ce]`.
      const Token t = next();
      if (t.kind != Token::Kind::word) fail("expected an ECN codepoint but found '" + describe(t) + "'");
      if (t.text == "noecn") p.ecn = IpEcn::noecn;
      else if (t.text == "ect0") p.ecn = IpEcn::ect0;
      else if (t.text == "ect1") p.ecn = IpEcn::ect1;
      else if (t.text == "ce") p.ecn = IpEcn::ce;
      else if (t.text == "ect01") p.ecn = IpEcn::ect01;
      else fail("unknown ECN codepoint '" + t.text + "' (noecn, ect0, ect1, ect01, ce)");
      if (p.inbound && p.ecn == IpEcn::ect01) fail("[ect01] matches either ECT codepoint: outbound packets only");
      expect("]");
    }
    p.flags = flags();
    const auto start = static_cast<std::uint32_t>(number());
    expect(":");
    const auto end = static_cast<std::uint32_t>(number());
    expect("(");
    const auto len = static_cast<std::uint32_t>(number());
    expect(")");
    if (end - start != len) fail("inconsistent sequence range: " + std::to_string(start) + ":" + std::to_string(end) + "(" + std::to_string(len) + ")");
    if (len > 65495) fail("payload longer than an IPv4 datagram can carry (65495 bytes)");
    p.seq = start;
    p.len = len;
    while (!at_end()) {
      if (is_word("ack")) {
        next();
        p.ack = static_cast<std::uint32_t>(number());
      } else if (is_word("win")) {
        next();
        p.window = static_cast<std::uint32_t>(number(0xffff));
      } else if (accept("<")) {
        if (p.options || p.any_options) fail("TCP options given twice");
        if (accept("...")) {
          if (p.inbound) fail("an inbound packet needs its options written out, not <...>");
          p.any_options = true;
        } else {
          std::vector<TcpOption> opts;
          do {
            opts.push_back(option());
          } while (accept(","));
          if (encoded_len(opts) > wire::TcpOptions::kMaxLen) fail("TCP options longer than 40 bytes");
          p.options = std::move(opts);
        }
        expect(">");
      } else {
        fail("unexpected '" + describe(peek()) + "' in a packet");
      }
    }
    return p;
  }

  static std::size_t encoded_len(const std::vector<TcpOption>& opts) {
    std::size_t n = 0;
    for (const auto& o : opts) {
      switch (o.kind) {
        case TcpOption::Kind::eol:
        case TcpOption::Kind::nop: n += 1; break;
        case TcpOption::Kind::mss: n += 4; break;
        case TcpOption::Kind::wscale: n += 3; break;
        case TcpOption::Kind::sack_permitted: n += 2; break;
        case TcpOption::Kind::timestamp: n += 10; break;
        case TcpOption::Kind::sack: n += 2 + 8 * o.blocks.size(); break;
        case TcpOption::Kind::other: n += o.b; break;
      }
    }
    return n;
  }

  // --- System calls -------------------------------------------------------------
  Expr primary() {
    Expr e;
    const Token t = next();
    if (t.kind == Token::Kind::punct && t.text == "...") {
      e.kind = Expr::Kind::ellipsis;
      e.text = "...";
    } else if (t.kind == Token::Kind::number) {
      --pos_;
      e.value = static_cast<std::int64_t>(number(0x7fffffffffffffffu));
      e.text = t.text;
    } else if (t.kind == Token::Kind::punct && t.text == "-") {
      e.value = -static_cast<std::int64_t>(number(0x7fffffffffffffffu));
      e.text = "-" + std::to_string(-e.value);
    } else if (t.kind == Token::Kind::word) {
      auto v = symbol_value(t.text);
      if (!v) fail("unknown symbol '" + t.text + "'");
      e.value = *v;
      e.text = t.text;
    } else if (t.kind == Token::Kind::string) {
      e.kind = Expr::Kind::string;
      e.text = t.text;
    } else if (t.kind == Token::Kind::punct && t.text == "[") {
      e.kind = Expr::Kind::list;
      if (!is("]")) {
        do {
          e.items.push_back(expr());
        } while (accept(","));
      }
      expect("]");
    } else if (t.kind == Token::Kind::punct && t.text == "{") {
      e.kind = Expr::Kind::fields;
      if (!is("}")) {
        do {
          if (accept("...")) continue;
          const Token name = next();
          if (name.kind != Token::Kind::word) fail("expected a field name but found '" + describe(name) + "'");
          expect("=");
          e.names.push_back(name.text);
          e.items.push_back(expr());
        } while (accept(","));
      }
      expect("}");
    } else {
      fail("unexpected '" + describe(t) + "' in an argument");
    }
    return e;
  }

  Expr expr() {
    Expr e = primary();
    while (accept("|")) {
      Expr rhs = primary();
      if (e.kind != Expr::Kind::integer || rhs.kind != Expr::Kind::integer) fail("'|' joins integers only");
      e.value |= rhs.value;
      e.text += "|" + rhs.text;
    }
    return e;
  }

  Syscall syscall() {
    Syscall call;
    const std::size_t first = pos_;
    call.name = next().text;
    const auto arity = kSyscalls.find(call.name);
    if (arity == kSyscalls.end()) fail("unsupported system call '" + call.name + "'");
    expect("(");
    if (!is(")")) {
      do {
        call.args.push_back(expr());
      } while (accept(","));
    }
    expect(")");
    if (call.args.size() < arity->second.min || call.args.size() > arity->second.max)
      fail(call.name + "() takes " + std::to_string(arity->second.min) +
           (arity->second.max != arity->second.min ? " or " + std::to_string(arity->second.max) : "") +
           " arguments, not " + std::to_string(call.args.size()));
    for (std::size_t i = first; i < pos_; ++i)
      call.text += (toks_[i].space_before && i != first ? " " : "") + toks_[i].text;
    expect("=");
    const bool negative = accept("-");
    call.expected = static_cast<std::int64_t>(number(0x7fffffff)) * (negative ? -1 : 1);
    if (!at_end() && peek().kind == Token::Kind::word) {
      const Token t = next();
      auto e = errno_value(t.text);
      if (!e) fail("unknown errno '" + t.text + "'");
      if (call.expected != -1) fail("an errno goes with a result of -1");
      call.expected_errno = *e;
    }
    if (accept("(")) {  // (Operation now in progress), (flags O_RDWR): a comment
      int depth = 1;
      while (depth > 0) {
        const Token t = next();
        if (t.kind == Token::Kind::punct && t.text == "(") ++depth;
        if (t.kind == Token::Kind::punct && t.text == ")") --depth;
      }
    }
    if (!at_end()) fail("unexpected '" + describe(peek()) + "' after the system call");
    return call;
  }

 private:
  const std::vector<Token>& toks_;
  std::size_t pos_;
  std::size_t end_;
};

void parse_option(Script& s, const Token& t) {
  const std::string& text = t.text;
  const auto eq = text.find('=');
  const std::string name = text.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
  if (name == "tolerance_usecs") {
    if (eq == std::string::npos) throw Fail{{t.line, "--tolerance_usecs needs a value"}};
    Micros v = 0;
    const char* b = text.data() + eq + 1;
    const char* e = text.data() + text.size();
    auto r = std::from_chars(b, e, v);
    if (r.ec != std::errc() || r.ptr != e || v < 0) throw Fail{{t.line, "bad --tolerance_usecs value"}};
    s.tolerance_usecs = v;
    return;
  }
  if (name == "congestion_control") {
    // As net.ipv4.tcp_congestion_control: the algorithm new sockets start with.
    if (eq == std::string::npos || eq + 1 == text.size()) throw Fail{{t.line, "--congestion_control needs a name"}};
    s.congestion_control = text.substr(eq + 1);
    return;
  }
  if (name == "tcp_ecn") {
    // As net.ipv4.tcp_ecn: 0 off, 1 request and accept ECN, 2 accept only.
    if (eq == std::string::npos || text.substr(eq + 1).size() != 1 || text[eq + 1] < '0' || text[eq + 1] > '2')
      throw Fail{{t.line, "--tcp_ecn takes 0, 1 or 2"}};
    s.tcp_ecn = text[eq + 1] - '0';
    return;
  }
  s.notes.push_back("ignored option " + text + " at line " + std::to_string(t.line));
}

void parse_statement(Script& s, const std::vector<Token>& toks, std::size_t begin, std::size_t end) {
  const Token& first = toks[begin];
  if (first.kind == Token::Kind::option) {
    if (end - begin != 1) throw Fail{{first.line, "an option line holds one option"}};
    parse_option(s, first);
    return;
  }
  if (first.kind == Token::Kind::shell && end - begin == 1) {
    s.notes.push_back("ignored shell command at line " + std::to_string(first.line));
    return;
  }
  Parser p(toks, begin, end);
  Event ev;
  ev.line = first.line;
  ev.time = p.time();
  if (p.at_end()) p.fail("expected a packet or a system call after the time");
  const Token& t = p.peek();
  if (t.kind == Token::Kind::shell) {
    p.next();
    if (!p.at_end()) p.fail("unexpected '" + Parser::describe(p.peek()) + "' after a shell command");
    s.notes.push_back("ignored shell command at line " + std::to_string(t.line));
    return;
  }
  if (p.is("<") || p.is(">")) {
    ev.what = p.packet();
  } else if (t.kind == Token::Kind::word && p.peek(1).kind == Token::Kind::punct && p.peek(1).text == "(") {
    ev.what = p.syscall();
  } else {
    p.fail("expected a packet ('<' or '>') or a system call but found '" + Parser::describe(t) + "'");
  }
  if (ev.time.end && ev.time.end_is_return && std::holds_alternative<Packet>(ev.what))
    ev.time.end_is_return = false;  // a packet's `A...B` is a window, like `A~B`
  s.events.push_back(std::move(ev));
}

}  // namespace

std::string format_seconds(Micros us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%lld.%06lld", us < 0 ? "-" : "", static_cast<long long>(std::llabs(us) / 1000000),
                static_cast<long long>(std::llabs(us) % 1000000));
  return buf;
}

base::Result<Script, SyntaxError> parse(std::string_view text, std::string filename) {
  auto toks = tokenize(text);
  if (!toks) return toks.error();
  Script s;
  s.filename = std::move(filename);
  const auto& t = *toks;
  try {
    std::size_t begin = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i].kind != Token::Kind::newline) continue;
      if (i > begin) parse_statement(s, t, begin, i);
      begin = i + 1;
    }
  } catch (const Fail& f) {
    return f.error;
  }
  return s;
}

}  // namespace ustack::script
