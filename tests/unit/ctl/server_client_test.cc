// The control endpoint end to end on the host OS's Unix sockets: a stack with
// only loopback, driven by a runtime, served by ctl::Server in a temporary
// directory and read back through the client (docs/ctl-protocol.md).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "ctl/client.h"
#include "ctl/server.h"
#include "runtime/runtime.h"
#include "stack/stack.h"

namespace ustack::ctl {
namespace {

using base::Ipv4Addr;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ustack-ctl-test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
    dir_ = path_ + "/ctl";  // made by the server
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& dir() const { return dir_; }
  const std::string& parent() const { return path_; }

 private:
  std::string path_, dir_;
};

/// A Unix socket file nobody listens on (bound, then closed).
void make_dead_socket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  ::close(fd);
}

class CtlTest : public ::testing::Test {
 protected:
  CtlTest() : rt_(stack_, runtime::Mode::threaded) { rt_.start(); }
  ~CtlTest() override {
    servers_.clear();
    rt_.stop();
  }

  Server& serve(const std::string& program = "ctl-test") {
    auto s = Server::start({.dir = tmp_.dir(), .program = program}, [this, program] {
      return rt_.call([&](stack::Stack& st) { return take_snapshot(st, program, static_cast<int>(::getpid())); });
    });
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error());
    servers_.push_back(std::move(*s));
    return *servers_.back();
  }

  /// A TCP listener on 127.0.0.1:5000 with one established connection, and a UDP socket on :7.
  void open_sockets() {
    rt_.call([](stack::Stack& st) {
      auto l = *st.socket(AF_INET, SOCK_STREAM, 0);
      EXPECT_TRUE(st.bind(l, {Ipv4Addr::loopback(), 5000}).ok());
      EXPECT_TRUE(st.listen(l, 8).ok());
      auto c = *st.socket(AF_INET, SOCK_STREAM, 0);
      (void)st.connect(c, base::Endpoint{Ipv4Addr::loopback(), 5000});
      auto u = *st.socket(AF_INET, SOCK_DGRAM, 0);
      EXPECT_TRUE(st.bind(u, {Ipv4Addr::any(), 7}).ok());
      return 0;
    });
    // The handshake runs on the runtime thread.
    for (int i = 0; i < 500; ++i) {
      const auto n = rt_.call([](stack::Stack& st) {
        int established = 0;
        for (const auto& s : st.socket_infos()) established += s.tcp_state == tcp::State::established;
        return established;
      });
      if (n == 2) return;
      ::usleep(2000);
    }
    FAIL() << "the loopback handshake did not complete within 1 s";
  }

  TempDir tmp_;
  stack::Stack stack_;
  runtime::Runtime rt_;
  std::vector<std::unique_ptr<Server>> servers_;
};

TEST_F(CtlTest, SnapshotThroughTheSocketShowsTheStacksSockets) {
  open_sockets();
  Server& server = serve();
  auto eps = discover(tmp_.dir());
  ASSERT_TRUE(eps.ok()) << eps.error();
  ASSERT_EQ(eps->size(), 1u);
  EXPECT_EQ((*eps)[0].pid, ::getpid());
  EXPECT_EQ((*eps)[0].path, server.path());
  EXPECT_EQ(server.path(), tmp_.dir() + "/" + std::to_string(::getpid()) + ".sock");

  auto snap = fetch_snapshot(server.path());
  ASSERT_TRUE(snap.ok()) << snap.error();
  EXPECT_EQ(snap->program, "ctl-test");
  EXPECT_EQ(snap->pid, ::getpid());
  int listeners = 0, established = 0, udp = 0;
  for (const auto& s : snap->sockets) {
    if (s.listening && s.local.port == 5000) ++listeners;
    if (s.tcp_state == tcp::State::established) {
      ++established;
      ASSERT_TRUE(s.peer.has_value());
      EXPECT_TRUE(s.local.port == 5000 || s.peer->port == 5000);
    }
    if (s.type == SOCK_DGRAM && s.local.port == 7) ++udp;
  }
  EXPECT_EQ(listeners, 1);
  EXPECT_EQ(established, 2);  // both ends of the loopback connection
  EXPECT_EQ(udp, 1);
  bool saw_counter = false;
  for (const auto& [name, v] : snap->counters) saw_counter |= name == "TcpActiveOpens" && v == 1;
  EXPECT_TRUE(saw_counter);
  ASSERT_FALSE(snap->interfaces.empty());
  EXPECT_TRUE(snap->interfaces[0].loopback);
}

TEST_F(CtlTest, DirectoryIs0700AndSocket0600AndTheSocketGoesWithTheServer) {
  std::string path;
  {
    Server& server = serve();
    path = server.path();
    struct stat st {};
    ASSERT_EQ(::stat(tmp_.dir().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    servers_.clear();
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << path << " left behind";
}

TEST_F(CtlTest, RefusesADirectoryWritableByOthers) {
  const std::string open_dir = tmp_.parent() + "/open";
  ASSERT_EQ(::mkdir(open_dir.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(open_dir.c_str(), 0777), 0);
  auto s = Server::start({.dir = open_dir, .program = "x"}, [] { return Snapshot{}; });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("writable by others"), std::string::npos) << s.error();
}

TEST_F(CtlTest, StaleSocketsAreSkippedAndRemovedOnlyWhenTheirProcessIsGone) {
  serve();
  // pid 99999999 is above any pid_max: its process does not exist.
  const std::string gone = tmp_.dir() + "/99999999.sock";
  // A socket of a live process (ours) that does not listen: a process between
  // bind() and listen() looks like this; it must stay.
  const std::string alive = tmp_.dir() + "/" + std::to_string(::getpid()) + "-77.sock";
  make_dead_socket(gone);
  make_dead_socket(alive);
  auto eps = discover(tmp_.dir());
  ASSERT_TRUE(eps.ok()) << eps.error();
  ASSERT_EQ(eps->size(), 1u);
  EXPECT_EQ((*eps)[0].path, servers_[0]->path());
  EXPECT_NE(::access(gone.c_str(), F_OK), 0) << "stale socket of a dead process not removed";
  EXPECT_EQ(::access(alive.c_str(), F_OK), 0) << "socket of a live process removed";
}

TEST_F(CtlTest, BadRequestGetsTheGreetingAndAnErrorLine) {
  Server& server = serve();
  EXPECT_EQ(server.answer("bogus"), "ustack-ctl 1\nerror unknown request 'bogus' (want hello, snapshot or capture)\n");
  auto reply = request(server.path(), "bogus");
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.error().find("unknown request 'bogus'"), std::string::npos) << reply.error();
  auto hello = request(server.path(), "hello");
  ASSERT_TRUE(hello.ok()) << hello.error();
  EXPECT_EQ(hello->version, 1);
  EXPECT_EQ(hello->body, "{\"version\":1,\"program\":\"ctl-test\",\"pid\":" + std::to_string(::getpid()) + "}\n");
}

TEST_F(CtlTest, PickOneNeedsExactlyOneOrAPath) {
  auto none = pick_one("", tmp_.dir());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("no ustack process is running"), std::string::npos) << none.error();
  Server& a = serve("a");
  auto one = pick_one("", tmp_.dir());
  ASSERT_TRUE(one.ok()) << one.error();
  EXPECT_EQ(one->path, a.path());
  Server& b = serve("b");  // a second host in this process: <pid>-N.sock
  EXPECT_NE(a.path(), b.path());
  auto two = pick_one("", tmp_.dir());
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.error().find("2 ustack processes"), std::string::npos) << two.error();
  EXPECT_NE(two.error().find("--ctl " + a.path()), std::string::npos) << two.error();
  EXPECT_NE(two.error().find("--ctl " + b.path()), std::string::npos) << two.error();
  auto chosen = pick_one(b.path(), tmp_.dir());
  ASSERT_TRUE(chosen.ok());
  auto snap = fetch_snapshot(chosen->path);
  ASSERT_TRUE(snap.ok()) << snap.error();
  EXPECT_EQ(snap->program, "b");
}

/// A connected client socket to `path`.
int connect_raw(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

TEST_F(CtlTest, ASilentClientDoesNotHoldUpOthers) {
  Server& server = serve();
  // Connects and says nothing; a second client is served at once, not after
  // the server gives up on the first (2 s).
  const int silent = connect_raw(server.path());
  const auto t0 = std::chrono::steady_clock::now();
  auto snap = fetch_snapshot(server.path(), 5000);
  EXPECT_TRUE(snap.ok()) << (snap.ok() ? "" : snap.error());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
  ::close(silent);
}

/// Reads from `fd` until `want` bytes came or 2 s passed.
std::string read_bytes(int fd, std::size_t want) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  char buf[4096];
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, want - got.size()), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

class CaptureCtlTest : public CtlTest {
 protected:
  Server& serve_with_capture() {
    auto s = Server::start(
        {.dir = tmp_.dir(), .program = "cap"},
        [this] { return rt_.call([&](stack::Stack& st) { return take_snapshot(st, "cap", 1); }); },
        [this](std::string_view filter, std::function<void()> notify)
            -> base::Result<std::shared_ptr<link::CaptureSubscription>, std::string> {
          auto f = link::CaptureFilter::compile(filter, hub_->link_type());
          if (!f) return f.error();
          return hub_->subscribe(std::move(*f), std::move(notify));
        });
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error());
    servers_.push_back(std::move(*s));
    return *servers_.back();
  }
  /// A bare IPv4/UDP datagram to port `dport`.
  static std::vector<base::Byte> datagram(std::uint16_t dport) {
    std::vector<base::Byte> d(28, 0);
    d[0] = 0x45;
    d[3] = 28;
    d[8] = 64;
    d[9] = 17;
    base::store_be32(d, 12, Ipv4Addr(198, 18, 0, 1).value());
    base::store_be32(d, 16, Ipv4Addr(198, 18, 0, 2).value());
    base::store_be16(d, 20, 1000);
    base::store_be16(d, 22, dport);
    base::store_be16(d, 24, 8);
    return d;
  }
  std::shared_ptr<link::CaptureHub> hub_ =
      std::make_shared<link::CaptureHub>(link::LinkType::raw_ip, std::chrono::system_clock::now());
};

TEST_F(CaptureCtlTest, StreamsFilteredFramesWhileSnapshotsAreServed) {
  Server& server = serve_with_capture();
  auto stream = start_capture(server.path(), "udp port 53");
  ASSERT_TRUE(stream.ok()) << stream.error();
  std::string pcap = stream->already + read_bytes(stream->fd, 24 - std::min<std::size_t>(24, stream->already.size()));
  ASSERT_GE(pcap.size(), 24u);
  std::uint32_t magic = 0, linktype = 0;
  std::memcpy(&magic, pcap.data(), 4);
  std::memcpy(&linktype, pcap.data() + 20, 4);
  EXPECT_EQ(magic, 0xa1b2c3d4u);
  EXPECT_EQ(linktype, 101u);  // LINKTYPE_RAW: bare IPv4
  EXPECT_EQ(server.captures_active(), 1u);

  hub_->record(base::kEpoch, datagram(7));   // filtered out
  hub_->record(base::kEpoch, datagram(53));
  const std::string rec = read_bytes(stream->fd, 16 + 28);
  ASSERT_EQ(rec.size(), 16u + 28u);
  EXPECT_EQ(base::load_be16(base::ByteSpan(reinterpret_cast<const base::Byte*>(rec.data()) + 16, 28), 22), 53);

  // The capture streams on; a snapshot is still answered at once.
  auto snap = fetch_snapshot(server.path(), 1000);
  EXPECT_TRUE(snap.ok()) << (snap.ok() ? "" : snap.error());

  // The reader hangs up: the server drops the subscription.
  ::close(stream->fd);
  for (int i = 0; i < 200 && hub_->subscribers() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(hub_->subscribers(), 0u);
  EXPECT_EQ(server.captures_active(), 0u);
}

TEST_F(CaptureCtlTest, ABadFilterIsAnErrorAndTheServerGoesOn) {
  Server& server = serve_with_capture();
  auto bad = start_capture(server.path(), "tcp port");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("bad filter 'tcp port'"), std::string::npos) << bad.error();
  EXPECT_TRUE(fetch_snapshot(server.path()).ok());
}

TEST_F(CtlTest, AHostWithoutACapturePointSaysSo) {
  Server& server = serve();
  auto none = start_capture(server.path(), "");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("no capture point"), std::string::npos) << none.error();
}

TEST_F(CaptureCtlTest, StoppingTheServerEndsTheStream) {
  Server& server = serve_with_capture();
  auto stream = start_capture(server.path(), "");
  ASSERT_TRUE(stream.ok()) << stream.error();
  (void)server;
  servers_.clear();  // the host stops
  read_bytes(stream->fd, 1u << 20);  // until EOF (or 2 s)
  char c;
  EXPECT_EQ(::recv(stream->fd, &c, 1, MSG_DONTWAIT), 0) << "EOF after the server stopped";
  ::close(stream->fd);
}

}  // namespace
}  // namespace ustack::ctl
