// The epoll instance: interest list, ready list, and the registry of instances.
#include "socket/epoll.h"

#include <cerrno>
#include <mutex>
#include <vector>

namespace ustack::socket {
namespace {

std::mutex g_registry_mu;
std::vector<Epoll*>& registry() {
  static std::vector<Epoll*> r;
  return r;
}

// poll(2) and epoll(7) share their bit values (EPOLLIN == POLLIN, ...).
static_assert(EPOLLIN == POLLIN && EPOLLOUT == POLLOUT && EPOLLERR == POLLERR && EPOLLHUP == POLLHUP &&
              EPOLLRDHUP == POLLRDHUP && EPOLLPRI == POLLPRI);

constexpr std::uint32_t kAlwaysReported = EPOLLERR | EPOLLHUP;

}  // namespace

Epoll::Epoll(runtime::Runtime& rt) : rt_(rt) {
  rt_.add_listener(this);
  register_epoll(this);
}

Epoll::~Epoll() {
  unregister_epoll(this);
  rt_.remove_listener(this);
}

void Epoll::enlist(int fd, Interest& in) {
  if (in.listed || in.disarmed) return;
  in.listed = true;
  ready_.push_back(fd);
}

int Epoll::control(stack::Stack& s, int op, int fd, stack::SocketId sid, const epoll_event* ev) {
  auto it = interests_.find(fd);
  switch (op) {
    case EPOLL_CTL_ADD: {
      if (it != interests_.end()) return EEXIST;
      Interest in;
      in.sid = sid;
      in.events = ev->events;
      in.data = ev->data;
      auto [pos, _] = interests_.emplace(fd, in);
      fd_of_[sid] = fd;
      // A socket already ready is reported at the next wait.
      if (s.readiness(sid)) enlist(fd, pos->second);
      return 0;
    }
    case EPOLL_CTL_MOD: {
      if (it == interests_.end()) return ENOENT;
      it->second.events = ev->events;
      it->second.data = ev->data;
      it->second.disarmed = false;  // epoll_ctl(2): MOD re-arms an EPOLLONESHOT descriptor
      if (s.readiness(sid)) enlist(fd, it->second);
      return 0;
    }
    case EPOLL_CTL_DEL:
      if (it == interests_.end()) return ENOENT;
      forget(fd);
      return 0;
    default:
      return EINVAL;
  }
}

void Epoll::forget(int fd) {
  auto it = interests_.find(fd);
  if (it == interests_.end()) return;
  auto f = fd_of_.find(it->second.sid);
  if (f != fd_of_.end() && f->second == fd) fd_of_.erase(f);
  interests_.erase(it);  // a stale entry on ready_ is skipped by collect()
}

int Epoll::collect(const stack::Stack& s, std::span<epoll_event> out) {
  std::size_t n = 0;
  // Each listed descriptor is looked at once per call; level-triggered ones that
  // are still ready go to the back, so that many ready sockets share the events.
  for (std::size_t rounds = ready_.size(); rounds > 0 && n < out.size(); --rounds) {
    const int fd = ready_.front();
    ready_.pop_front();
    auto it = interests_.find(fd);
    if (it == interests_.end() || !it->second.listed) continue;
    Interest& in = it->second;
    in.listed = false;
    if (in.disarmed) continue;
    std::uint32_t ev = s.valid(in.sid) ? static_cast<std::uint16_t>(s.readiness(in.sid)) : 0;
    ev &= in.events | kAlwaysReported;
    if (!ev) continue;
    out[n].events = ev;
    out[n].data = in.data;
    ++n;
    if (in.events & EPOLLONESHOT) in.disarmed = true;
    else if (!(in.events & EPOLLET)) enlist(fd, in);  // level-triggered: ask again next time
  }
  return static_cast<int>(n);
}

bool Epoll::readiness_changed(std::span<const stack::SocketId> ids) {
  bool added = false;
  for (auto sid : ids) {
    auto f = fd_of_.find(sid);
    if (f == fd_of_.end()) continue;
    auto it = interests_.find(f->second);
    if (it == interests_.end()) continue;
    if (!it->second.listed && !it->second.disarmed) {
      enlist(f->second, it->second);
      added = true;
    }
  }
  return added;
}

void register_epoll(Epoll* e) {
  std::lock_guard lock(g_registry_mu);
  registry().push_back(e);
}

void unregister_epoll(Epoll* e) {
  std::lock_guard lock(g_registry_mu);
  std::erase(registry(), e);
}

void forget_in_epolls(const runtime::Runtime* rt, int fd) {
  std::lock_guard lock(g_registry_mu);
  for (Epoll* e : registry())
    if (&e->runtime() == rt) e->forget(fd);
}

}  // namespace ustack::socket
