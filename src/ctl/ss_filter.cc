// ss's filter language, the useful subset: state sets (ss.c parse_state) and
// expressions over ports and addresses (ssfilter.y): sport, dport, src, dst with
// and, or, not and parentheses.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "ctl/render.h"

namespace ustack::ctl {

namespace {

constexpr unsigned bit(SsState s) { return 1u << static_cast<unsigned>(s); }
constexpr unsigned kAll = (1u << 12) - 2;  // every state but unknown

/// ss.c parse_state(): one name or group to a state mask; 0 if unknown.
unsigned parse_state(std::string_view name) {
  if (name == "close" || name == "closed" || name == "unconnected") return bit(SsState::unconnected);
  if (name == "syn-rcv") return bit(SsState::syn_recv);
  if (name == "all") return kAll;
  if (name == "connected") return kAll & ~(bit(SsState::unconnected) | bit(SsState::listen));
  if (name == "synchronized")
    return kAll & ~(bit(SsState::unconnected) | bit(SsState::listen) | bit(SsState::syn_sent));
  if (name == "bucket") return bit(SsState::syn_recv) | bit(SsState::time_wait);
  if (name == "big") return kAll & ~(bit(SsState::syn_recv) | bit(SsState::time_wait));
  static constexpr std::pair<const char*, SsState> kNames[] = {
      {"established", SsState::established}, {"syn-sent", SsState::syn_sent},
      {"syn-recv", SsState::syn_recv},       {"fin-wait-1", SsState::fin_wait_1},
      {"fin-wait-2", SsState::fin_wait_2},   {"time-wait", SsState::time_wait},
      {"close-wait", SsState::close_wait},   {"last-ack", SsState::last_ack},
      {"listening", SsState::listen},        {"listen", SsState::listen},
      {"closing", SsState::closing}};
  for (const auto& [n, s] : kNames)
    if (name == n) return bit(s);
  return 0;
}

enum class Op { eq, ne, lt, gt, le, ge };

std::optional<Op> op_of(std::string_view t) {
  if (t == "=" || t == "==" || t == "eq") return Op::eq;
  if (t == "!=" || t == "ne" || t == "neq") return Op::ne;
  if (t == "<" || t == "lt") return Op::lt;
  if (t == ">" || t == "gt") return Op::gt;
  if (t == "<=" || t == "le" || t == "leq") return Op::le;
  if (t == ">=" || t == "ge" || t == "geq") return Op::ge;
  return std::nullopt;
}

bool compare(unsigned a, Op op, unsigned b) {
  switch (op) {
    case Op::eq: return a == b;
    case Op::ne: return a != b;
    case Op::lt: return a < b;
    case Op::gt: return a > b;
    case Op::le: return a <= b;
    case Op::ge: return a >= b;
  }
  return false;
}

std::optional<std::uint16_t> parse_port(std::string_view t) {
  if (!t.empty() && t.front() == ':') t.remove_prefix(1);
  unsigned v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

/// Splits argv words into tokens: ss accepts "dport=:80" as well as "dport = :80".
std::vector<std::string> lex(std::span<const std::string> args) {
  std::vector<std::string> out;
  for (const auto& a : args) {
    std::size_t i = 0;
    while (i < a.size()) {
      const char c = a[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (c == '(' || c == ')') {
        out.emplace_back(1, c);
        ++i;
      } else if (c == '=' || c == '!' || c == '<' || c == '>' || c == '&' || c == '|') {
        std::string op(1, c);
        if (i + 1 < a.size() && (a[i + 1] == '=' || (c == '&' && a[i + 1] == '&') || (c == '|' && a[i + 1] == '|')))
          op += a[++i];
        out.push_back(op);
        ++i;
      } else {
        std::size_t j = i;
        while (j < a.size() && !std::isspace(static_cast<unsigned char>(a[j])) &&
               std::string_view("()=!<>&|").find(a[j]) == std::string_view::npos)
          ++j;
        out.push_back(a.substr(i, j - i));
        i = j;
      }
    }
  }
  return out;
}

}  // namespace

struct SsFilter::Node {
  enum class Kind { and_, or_, not_, sport, dport, src, dst } kind;
  std::shared_ptr<const Node> left, right;
  Op op = Op::eq;
  std::optional<std::uint16_t> port;
  std::optional<base::Ipv4Cidr> net;

  bool eval(const stack::SocketInfo& s) const {
    const base::Endpoint peer = s.peer.value_or(base::Endpoint{});
    switch (kind) {
      case Kind::and_: return left->eval(s) && right->eval(s);
      case Kind::or_: return left->eval(s) || right->eval(s);
      case Kind::not_: return !left->eval(s);
      case Kind::sport: return compare(s.local.port, op, *port);
      case Kind::dport: return compare(peer.port, op, *port);
      case Kind::src:
      case Kind::dst: {
        const base::Endpoint& e = kind == Kind::src ? s.local : peer;
        if (net && !net->contains(e.addr.v4())) return false;
        return !port || e.port == *port;
      }
    }
    return false;
  }
};

namespace {

using Node = SsFilter::Node;
using NodePtr = std::shared_ptr<const Node>;

constexpr std::size_t kMaxFilterTokens = 1024;  // a left-deep chain of at most ~500 nodes
constexpr unsigned kMaxFilterNesting = 64;      // "(" and "not" inside one another

class Parser {
 public:
  explicit Parser(std::vector<std::string> t) : t_(std::move(t)) {}

  base::Result<NodePtr, std::string> parse() {
    auto e = expr();
    if (!e) return e;
    if (i_ < t_.size()) return "unexpected '" + t_[i_] + "'";
    return e;
  }

 private:
  unsigned depth_ = 0;
  bool at(std::string_view w) const { return i_ < t_.size() && t_[i_] == w; }
  bool at_end_of_factor() const { return i_ >= t_.size() || at(")") || at("or") || at("||"); }

  base::Result<NodePtr, std::string> expr() {
    auto l = term();
    if (!l) return l;
    NodePtr left = *l;
    while (at("or") || at("||")) {
      ++i_;
      auto r = term();
      if (!r) return r;
      left = std::make_shared<Node>(Node{Node::Kind::or_, left, *r});
    }
    return left;
  }

  base::Result<NodePtr, std::string> term() {
    auto l = factor();
    if (!l) return l;
    NodePtr left = *l;
    while (!at_end_of_factor()) {
      if (at("and") || at("&&")) ++i_;
      auto r = factor();
      if (!r) return r;
      left = std::make_shared<Node>(Node{Node::Kind::and_, left, *r});
    }
    return left;
  }

  /// Counts one level of "(" or "not" for the life of a scope.
  struct Nested {
    explicit Nested(unsigned& d) : depth(++d) {}
    ~Nested() { --depth; }
    unsigned& depth;
  };

  base::Result<NodePtr, std::string> factor() {
    if (i_ >= t_.size()) return std::string("an expression ends too early");
    const std::string w = t_[i_++];
    if ((w == "not" || w == "!" || w == "(") && depth_ >= kMaxFilterNesting)
      return "the filter nests '(' and 'not' more than " + std::to_string(kMaxFilterNesting) + " deep";
    if (w == "not" || w == "!") {
      Nested n(depth_);
      auto f = factor();
      if (!f) return f;
      return NodePtr(std::make_shared<Node>(Node{Node::Kind::not_, *f, nullptr}));
    }
    if (w == "(") {
      Nested n(depth_);
      auto e = expr();
      if (!e) return e;
      if (!at(")")) return std::string("')' expected");
      ++i_;
      return e;
    }
    if (w == "sport" || w == "dport") {
      Node n{w == "sport" ? Node::Kind::sport : Node::Kind::dport, nullptr, nullptr};
      if (i_ < t_.size()) {
        if (auto op = op_of(t_[i_])) {
          n.op = *op;
          ++i_;
        }
      }
      if (i_ >= t_.size()) return w + ": a port expected";
      n.port = parse_port(t_[i_]);
      if (!n.port) return w + ": not a port: '" + t_[i_] + "' (expected :80 or 80)";
      ++i_;
      return NodePtr(std::make_shared<Node>(n));
    }
    if (w == "src" || w == "dst") {
      Node n{w == "src" ? Node::Kind::src : Node::Kind::dst, nullptr, nullptr};
      if (at("=") || at("==") || at("eq")) ++i_;
      if (i_ >= t_.size()) return w + ": an address expected";
      std::string_view a = t_[i_];
      if (auto colon = a.rfind(':'); colon != std::string_view::npos) {
        const std::string_view p = a.substr(colon + 1);
        if (p != "*") {
          n.port = parse_port(p);
          if (!n.port) return w + ": not a port: '" + std::string(p) + "'";
        }
        a = a.substr(0, colon);
      }
      if (!a.empty() && a != "*") {
        std::optional<base::Ipv4Cidr> cidr;
        if (a.find('/') != std::string_view::npos) cidr = base::Ipv4Cidr::parse(a);
        else if (auto addr = base::Ipv4Addr::parse(a)) cidr = base::Ipv4Cidr{*addr, 32};
        if (!cidr) return w + ": not an IPv4 address or prefix: '" + std::string(a) + "'";
        n.net = cidr;
      }
      ++i_;
      return NodePtr(std::make_shared<Node>(n));
    }
    return "unknown filter word '" + w + "' (expected state, exclude, sport, dport, src, dst, and, or, not)";
  }

  std::vector<std::string> t_;
  std::size_t i_ = 0;
};

}  // namespace

SsFilter::SsFilter() = default;
SsFilter::~SsFilter() = default;
SsFilter::SsFilter(const SsFilter&) = default;
SsFilter& SsFilter::operator=(const SsFilter&) = default;

base::Result<SsFilter, std::string> SsFilter::parse(std::span<const std::string> args) {
  SsFilter f;
  std::vector<std::string> tokens = lex(args);
  std::vector<std::string> rest;
  bool any_state = false;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& w = tokens[i];
    if (w != "state" && w != "exclude" && w != "excl") {
      rest.push_back(w);
      continue;
    }
    if (i + 1 >= tokens.size()) return w + ": a state name expected";
    std::string name = tokens[++i];
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    const unsigned mask = parse_state(name);
    if (!mask) return "wrong state name: " + name;
    if (w == "state") {
      f.states_ |= mask;
    } else {
      // ss: `exclude` starts from every state when no `state` came first.
      if (!any_state && f.states_ == 0) f.states_ = kAll;
      f.states_ &= ~mask;
    }
    any_state = true;
  }
  if (any_state && f.states_ == 0) return std::string("no state is left to show");
  if (!rest.empty()) {
    // The tree is built, evaluated and freed by recursion: its size and depth are
    // bounded (the fuzzer found a stack overflow in 3,700 bytes of "(((...").
    if (rest.size() > kMaxFilterTokens)
      return "the filter has " + std::to_string(rest.size()) + " words; at most " + std::to_string(kMaxFilterTokens);
    auto e = Parser(std::move(rest)).parse();
    if (!e) return e.error();
    f.expr_ = *e;
  }
  return f;
}

bool SsFilter::matches(const stack::SocketInfo& s) const { return !expr_ || expr_->eval(s); }

}  // namespace ustack::ctl
