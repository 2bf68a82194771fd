// The script's socket calls on the Stack: descriptors from 3 mapped to SocketIds,
// `...` arguments filled with the script's addresses and buffers, and blocking
// calls kept pending until the stack lets them finish as virtual time advances.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <ostream>

#include "script/parser.h"
#include "script/runner_impl.h"
#include "script/symbols.h"

namespace ustack::script {
namespace {

const Expr* field(const Expr& e, std::string_view name) {
  if (e.kind != Expr::Kind::fields) return nullptr;
  for (std::size_t i = 0; i < e.names.size(); ++i)
    if (e.names[i] == name) return &e.items[i];
  return nullptr;
}

std::string poll_events(std::int64_t ev) {
  static constexpr std::pair<short, const char*> kNames[] = {
      {POLLIN, "POLLIN"}, {POLLPRI, "POLLPRI"}, {POLLOUT, "POLLOUT"}, {POLLERR, "POLLERR"},
      {POLLHUP, "POLLHUP"}, {POLLNVAL, "POLLNVAL"}, {POLLRDHUP, "POLLRDHUP"}};
  std::string s;
  for (auto [bit, name] : kNames)
    if (ev & bit) s += (s.empty() ? "" : "|") + std::string(name);
  return s.empty() ? "0" : s;
}

}  // namespace

Runner::Fd* Runner::fd(std::int64_t n) {
  auto it = fds_.find(n);
  return it == fds_.end() ? nullptr : &it->second;
}

int Runner::allocate_fd(stack::SocketId id, int type, bool nonblocking) {
  int n = 3;
  while (fds_.contains(n)) ++n;
  fds_[n] = {id, type, nonblocking};
  return n;
}

bool Runner::blocking(const Fd& f, int flags) const { return !f.nonblocking && !(flags & MSG_DONTWAIT); }

bool Runner::run_syscall(const Event& e, base::Instant start, std::optional<Micros> end) {
  Pending st;
  st.event = &e;
  st.started = start;
  const Micros s = micros(start);
  if (!end) {
    st.earliest = s;
    st.latest = s + tolerance_;
  } else if (e.time.end_is_return) {
    st.earliest = *end - tolerance_;
    st.latest = *end + tolerance_;
  } else {
    st.earliest = s;
    st.latest = *end + tolerance_;
  }
  stack_.set_time(now_);
  const auto r = attempt(std::get<Syscall>(e.what), true, st);
  collect();
  if (failed_) return false;
  if (r) return finish_call(st, *r);
  trace(format_seconds(s) + " " + std::get<Syscall>(e.what).text + " blocks");
  pending_ = st;
  return true;
}

bool Runner::retry_pending() {
  if (!pending_ || failed_) return !failed_;
  stack_.set_time(now_);
  const auto r = attempt(std::get<Syscall>(pending_->event->what), false, *pending_);
  collect();
  if (failed_ || !r) return !failed_;
  const Pending p = *pending_;
  pending_.reset();
  return finish_call(p, *r);
}

bool Runner::finish_call(const Pending& p, const Returned& r) {
  const Event& e = *p.event;
  const Syscall& c = std::get<Syscall>(e.what);
  const Micros t = micros(now_);
  trace(format_seconds(t) + " " + c.text + " = " + std::to_string(r.value) +
        (r.value == -1 ? " " + errno_name(r.err) + " (" + std::strerror(r.err) + ")" : ""));
  if (t < p.earliest || t > p.latest)
    return fail(e, "timing error: expected " + c.name + "() to return at " +
                       format_seconds(e.time.end_is_return ? p.earliest + tolerance_ : p.earliest) +
                       " sec but it returned at " + format_seconds(t) + " sec; tolerance " + format_seconds(tolerance_) +
                       " sec");
  if (r.value != c.expected) {
    std::string got = std::to_string(r.value);
    if (r.value == -1) got += " with errno " + errno_name(r.err) + " (" + std::strerror(r.err) + ")";
    return fail(e, "runtime error in " + c.name + " call: Expected result " + std::to_string(c.expected) + " but got " + got);
  }
  if (c.expected == -1 && c.expected_errno && *c.expected_errno != r.err)
    return fail(e, "runtime error in " + c.name + " call: Expected errno " + errno_name(*c.expected_errno) + " (" +
                       std::strerror(*c.expected_errno) + ") but got " + errno_name(r.err) + " (" +
                       std::strerror(r.err) + ")");
  return true;
}

std::optional<Runner::Returned> Runner::attempt(const Syscall& c, bool first, Pending& st) {
  const Event& e = *st.event;
  const auto& a = c.args;
  auto error = [](base::Errc err) { return Returned{-1, base::to_errno(err)}; };
  auto status = [&](const base::Status& s) { return s ? Returned{0, 0} : error(s.error()); };
  // An integer argument: `5`, `[5]`, or `...` (the default).
  auto integer = [&](std::size_t i, std::int64_t dflt) -> std::int64_t {
    const Expr& x = a[i];
    if (x.kind == Expr::Kind::integer) return x.value;
    if (x.kind == Expr::Kind::list && x.items.size() == 1 && x.items[0].kind == Expr::Kind::integer)
      return x.items[0].value;
    if (x.kind != Expr::Kind::ellipsis)
      fail(e, c.name + "(): argument " + std::to_string(i + 1) + " ('" + x.text + "') must be an integer or ...");
    return dflt;
  };
  auto address = [&](std::size_t i, base::Ipv4Addr addr) -> std::optional<base::Endpoint> {
    if (a[i].kind != Expr::Kind::ellipsis) {
      fail(e, c.name + "(): only ... is supported for an address (argument " + std::to_string(i + 1) + ")");
      return std::nullopt;
    }
    return base::Endpoint{addr, kScriptPort};
  };

  if (c.name == "socket") {
    const auto type = integer(1, SOCK_STREAM);
    const auto base_type = static_cast<int>(type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC));
    auto r = stack_.socket(static_cast<int>(integer(0, AF_INET)), base_type, static_cast<int>(integer(2, 0)));
    if (failed_) return std::nullopt;
    if (!r) return error(r.error());
    return Returned{allocate_fd(*r, base_type, (type & SOCK_NONBLOCK) != 0), 0};
  }
  if (c.name == "poll") {
    if (a[0].kind != Expr::Kind::list) {
      fail(e, "poll(): the first argument must be a list of {fd=..., events=..., revents=...}");
      return std::nullopt;
    }
    const std::int64_t timeout = integer(2, 0);
    if (failed_) return std::nullopt;
    std::int64_t ready = 0;
    std::vector<std::int64_t> got;
    for (const Expr& x : a[0].items) {
      const Expr* f = field(x, "fd");
      const Expr* ev = field(x, "events");
      if (!f || f->kind != Expr::Kind::integer) {
        fail(e, "poll(): each entry needs fd=N");
        return std::nullopt;
      }
      const Fd* d = fd(f->value);
      const std::int64_t want = (ev ? ev->value : 0) | POLLERR | POLLHUP;
      const std::int64_t rev = d ? (stack_.readiness(d->id) & want) : POLLNVAL;
      got.push_back(rev);
      if (rev) ++ready;
    }
    const bool timed_out = !first && st.timeout && now_ >= *st.timeout;
    if (ready == 0 && timeout != 0 && !timed_out) {
      if (first && timeout > 0) st.timeout = now_ + std::chrono::milliseconds(timeout);
      return std::nullopt;
    }
    for (std::size_t i = 0; i < got.size(); ++i) {
      const Expr* rev = field(a[0].items[i], "revents");
      if (rev && rev->kind == Expr::Kind::integer && rev->value != got[i]) {
        fail(e, "poll(): fd " + std::to_string(field(a[0].items[i], "fd")->value) + ": expected revents " +
                    poll_events(rev->value) + " but got " + poll_events(got[i]));
        return std::nullopt;
      }
    }
    return Returned{ready, 0};
  }

  // The rest take a descriptor first.
  const std::int64_t n = integer(0, -1);
  if (failed_) return std::nullopt;
  Fd* f = fd(n);
  if (!f) return error(base::Errc::bad_descriptor);
  const stack::SocketId id = f->id;

  if (c.name == "bind") {
    auto ep = address(1, kLocalAddr);
    if (!ep) return std::nullopt;
    return status(stack_.bind(id, *ep));
  }
  if (c.name == "listen") return status(stack_.listen(id, static_cast<int>(integer(1, 128))));
  if (c.name == "accept") {
    base::Endpoint peer;
    auto r = stack_.accept(id, &peer);
    if (r) return Returned{allocate_fd(*r, f->type, false), 0};
    if (r.error() == base::Errc::would_block && blocking(*f, 0)) return std::nullopt;
    return error(r.error());
  }
  if (c.name == "connect") {
    if (first) {
      auto peer = address(1, kRemoteAddr);
      if (!peer) return std::nullopt;
      const bool stream = f->type == SOCK_STREAM;
      if (stream) remote_port_ = kScriptPort;
      auto s = stack_.connect(id, *peer);
      if (s || s.error() == base::Errc::in_progress) {
        if (auto local = stack_.local_endpoint(id); local && stream) local_port_ = local->port;
      }
      if (!s && s.error() == base::Errc::in_progress && blocking(*f, 0)) return std::nullopt;
      return status(s);
    }
    if (!(stack_.readiness(id) & (POLLOUT | POLLERR | POLLHUP))) return std::nullopt;
    auto err = stack_.get_option(id, SOL_SOCKET, SO_ERROR);
    if (!err) return error(err.error());
    return *err == 0 ? Returned{0, 0} : Returned{-1, *err};
  }
  if (c.name == "write" || c.name == "send" || c.name == "sendto") {
    const auto len = static_cast<std::size_t>(std::max<std::int64_t>(integer(2, 0), 0));
    const int flags = c.name == "write" ? 0 : static_cast<int>(integer(3, 0));
    if (failed_) return std::nullopt;
    std::optional<base::Endpoint> dest;
    if (c.name == "sendto" && f->type == SOCK_DGRAM) {
      dest = address(4, kRemoteAddr);
      if (!dest) return std::nullopt;
    }
    const std::vector<base::Byte> data(len, 0);
    do {
      auto r = stack_.send_to(id, base::ByteSpan(data).subspan(st.done), dest ? &*dest : nullptr, flags);
      if (r) {
        st.done += *r;
        if (f->type != SOCK_STREAM || !blocking(*f, flags)) break;
      } else if (r.error() == base::Errc::would_block) {
        if (blocking(*f, flags)) return std::nullopt;
        if (st.done > 0) break;
        return error(r.error());
      } else {
        if (st.done > 0) break;
        return error(r.error());
      }
    } while (st.done < len);
    return Returned{static_cast<std::int64_t>(st.done), 0};
  }
  if (c.name == "read" || c.name == "recv" || c.name == "recvfrom") {
    const auto len = static_cast<std::size_t>(std::max<std::int64_t>(integer(2, 0), 0));
    const int flags = c.name == "read" ? 0 : static_cast<int>(integer(3, 0));
    if (failed_) return std::nullopt;
    std::vector<base::Byte> buf(len);
    auto r = stack_.recv_from(id, buf, flags);
    if (r) return Returned{static_cast<std::int64_t>((flags & MSG_TRUNC) ? r->full_len : r->copied), 0};
    if (r.error() == base::Errc::would_block && blocking(*f, flags)) return std::nullopt;
    return error(r.error());
  }
  if (c.name == "close") {
    auto s = stack_.close(id);
    fds_.erase(n);
    return status(s);
  }
  if (c.name == "shutdown") return status(stack_.shutdown(id, static_cast<int>(integer(1, SHUT_RDWR))));
  if (c.name == "fcntl") {
    const auto cmd = integer(1, -1);
    if (cmd == F_GETFL) return Returned{O_RDWR | (f->nonblocking ? O_NONBLOCK : 0), 0};
    if (cmd == F_SETFL) {
      if (a.size() < 3) return error(base::Errc::invalid);
      f->nonblocking = (integer(2, 0) & O_NONBLOCK) != 0;
      return Returned{0, 0};
    }
    if (cmd == F_GETFD || cmd == F_SETFD) return Returned{0, 0};
    return error(base::Errc::invalid);
  }
  if (c.name == "setsockopt" || c.name == "getsockopt") {
    const int level = static_cast<int>(integer(1, 0));
    const int name = static_cast<int>(integer(2, 0));
    if (failed_) return std::nullopt;
    const Expr& v = a[3];
    const bool linger = level == SOL_SOCKET && name == SO_LINGER;
    if (c.name == "setsockopt") {
      if (linger) {
        const Expr* on = field(v, "l_onoff");
        const Expr* secs = field(v, "l_linger");
        if (!on || !secs) {
          fail(e, "setsockopt(SO_LINGER): the value is {l_onoff=N, l_linger=N}");
          return std::nullopt;
        }
        return status(stack_.set_linger(id, on->value != 0, static_cast<int>(secs->value)));
      }
      const auto value = integer(3, 1);
      if (failed_) return std::nullopt;
      return status(stack_.set_option(id, level, name, static_cast<int>(value)));
    }
    if (linger) {
      auto r = stack_.get_linger(id);
      if (!r) return error(r.error());
      const Expr* on = field(v, "l_onoff");
      const Expr* secs = field(v, "l_linger");
      if ((on && on->value != (r->first ? 1 : 0)) || (secs && secs->value != r->second)) {
        fail(e, "getsockopt(SO_LINGER): expected {l_onoff=" + (on ? on->text : "...") + ", l_linger=" +
                    (secs ? secs->text : "...") + "} but got {l_onoff=" + std::to_string(r->first ? 1 : 0) +
                    ", l_linger=" + std::to_string(r->second) + "}");
        return std::nullopt;
      }
      return Returned{0, 0};
    }
    auto r = stack_.get_option(id, level, name);
    if (!r) return error(r.error());
    if (v.kind != Expr::Kind::ellipsis) {
      const auto want = integer(3, 0);
      if (failed_) return std::nullopt;
      if (want != *r) {
        fail(e, "getsockopt(" + a[1].text + ", " + a[2].text + "): expected value " + std::to_string(want) +
                    " but got " + std::to_string(*r) +
                    (name == SO_ERROR && *r ? " (" + errno_name(*r) + ")" : ""));
        return std::nullopt;
      }
    }
    return Returned{0, 0};
  }
  fail(e, "unsupported system call " + c.name);
  return std::nullopt;
}

}  // namespace ustack::script
