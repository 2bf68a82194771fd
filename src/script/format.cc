// Printing and option coding in packetdrill's terms (RFC 9293 3.1, RFC 7323, RFC 2018).
#include "script/format.h"

#include "wire/tcp.h"

namespace ustack::script {

std::string format_flags(std::uint8_t f) {
  std::string s;
  if (f & wire::tcp_flag::fin) s += 'F';
  if (f & wire::tcp_flag::syn) s += 'S';
  if (f & wire::tcp_flag::rst) s += 'R';
  if (f & wire::tcp_flag::psh) s += 'P';
  if (f & wire::tcp_flag::ack) s += '.';
  if (f & wire::tcp_flag::urg) s += 'U';
  if (f & wire::tcp_flag::ece) s += 'E';
  if (f & wire::tcp_flag::cwr) s += 'W';
  return s.empty() ? "none" : s;
}

std::string format_options(const std::vector<TcpOption>& opts) {
  std::string s;
  for (const auto& o : opts) {
    if (!s.empty()) s += ',';
    switch (o.kind) {
      case TcpOption::Kind::eol: s += "eol"; break;
      case TcpOption::Kind::nop: s += "nop"; break;
      case TcpOption::Kind::mss: s += "mss " + std::to_string(o.a); break;
      case TcpOption::Kind::wscale: s += "wscale " + std::to_string(o.a); break;
      case TcpOption::Kind::sack_permitted: s += "sackOK"; break;
      case TcpOption::Kind::timestamp: s += "TS val " + std::to_string(o.a) + " ecr " + std::to_string(o.b); break;
      case TcpOption::Kind::sack:
        s += "sack";
        for (auto [l, r] : o.blocks) s += " " + std::to_string(l) + ":" + std::to_string(r);
        break;
      case TcpOption::Kind::other: s += "kind " + std::to_string(o.a) + " len " + std::to_string(o.b); break;
    }
  }
  return s;
}

std::string format_ecn(IpEcn e) {
  switch (e) {
    case IpEcn::noecn: return "[noecn]";
    case IpEcn::ect0: return "[ect0]";
    case IpEcn::ect1: return "[ect1]";
    case IpEcn::ce: return "[ce]";
    case IpEcn::ect01: return "[ect01]";
  }
  return "";
}

std::string format_packet(const Packet& p) {
  std::string s = (p.ecn ? format_ecn(*p.ecn) + " " : std::string()) + format_flags(p.flags) + " " + std::to_string(p.seq) + ":" +
                  std::to_string(static_cast<std::uint32_t>(p.seq + p.len)) + "(" + std::to_string(p.len) + ")";
  if (p.ack) s += " ack " + std::to_string(*p.ack);
  if (p.window) s += " win " + std::to_string(*p.window);
  if (p.any_options) s += " <...>";
  else if (p.options && !p.options->empty()) s += " <" + format_options(*p.options) + ">";
  return s;
}

std::optional<std::vector<TcpOption>> decode_options(base::ByteSpan b) {
  std::vector<TcpOption> out;
  std::size_t i = 0;
  while (i < b.size()) {
    TcpOption o;
    const std::uint8_t kind = b[i];
    if (kind == 0) {
      o.kind = TcpOption::Kind::eol;
      out.push_back(o);
      break;  // the rest is padding
    }
    if (kind == 1) {
      o.kind = TcpOption::Kind::nop;
      out.push_back(o);
      ++i;
      continue;
    }
    if (i + 1 >= b.size()) return std::nullopt;
    const std::size_t len = b[i + 1];
    if (len < 2 || i + len > b.size()) return std::nullopt;
    const base::ByteSpan v = b.subspan(i + 2, len - 2);
    if (kind == 2 && len == 4) {
      o.kind = TcpOption::Kind::mss;
      o.a = base::load_be16(v, 0);
    } else if (kind == 3 && len == 3) {
      o.kind = TcpOption::Kind::wscale;
      o.a = v[0];
    } else if (kind == 4 && len == 2) {
      o.kind = TcpOption::Kind::sack_permitted;
    } else if (kind == 8 && len == 10) {
      o.kind = TcpOption::Kind::timestamp;
      o.a = base::load_be32(v, 0);
      o.b = base::load_be32(v, 4);
    } else if (kind == 5 && (len - 2) % 8 == 0 && len > 2) {
      o.kind = TcpOption::Kind::sack;
      for (std::size_t j = 0; j < v.size(); j += 8) o.blocks.emplace_back(base::load_be32(v, j), base::load_be32(v, j + 4));
    } else {
      o.kind = TcpOption::Kind::other;
      o.a = kind;
      o.b = static_cast<std::uint32_t>(len);
    }
    out.push_back(o);
    i += len;
  }
  return out;
}

std::vector<base::Byte> encode_options(const std::vector<TcpOption>& opts) {
  std::vector<base::Byte> b;
  auto be16 = [&](std::uint32_t v) {
    b.push_back(static_cast<base::Byte>(v >> 8));
    b.push_back(static_cast<base::Byte>(v));
  };
  auto be32 = [&](std::uint32_t v) {
    be16(v >> 16);
    be16(v & 0xffff);
  };
  for (const auto& o : opts) {
    switch (o.kind) {
      case TcpOption::Kind::eol: b.push_back(0); break;
      case TcpOption::Kind::nop: b.push_back(1); break;
      case TcpOption::Kind::mss: b.insert(b.end(), {2, 4}); be16(o.a); break;
      case TcpOption::Kind::wscale: b.insert(b.end(), {3, 3, static_cast<base::Byte>(o.a)}); break;
      case TcpOption::Kind::sack_permitted: b.insert(b.end(), {4, 2}); break;
      case TcpOption::Kind::timestamp: b.insert(b.end(), {8, 10}); be32(o.a); be32(o.b); break;
      case TcpOption::Kind::sack:
        b.push_back(5);
        b.push_back(static_cast<base::Byte>(2 + 8 * o.blocks.size()));
        for (auto [l, r] : o.blocks) { be32(l); be32(r); }
        break;
      case TcpOption::Kind::other:
        b.push_back(static_cast<base::Byte>(o.a));
        b.push_back(static_cast<base::Byte>(o.b));
        b.insert(b.end(), o.b > 2 ? o.b - 2 : 0, 0);
        break;
    }
  }
  while (b.size() % 4 != 0) b.push_back(0);
  return b;
}

}  // namespace ustack::script
