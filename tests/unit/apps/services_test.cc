// The TCP services of src/apps/ (echo, discard, chargen, HTTP/1.1), each test run
// twice: over the Linux kernel's sockets on 127.0.0.1, and over ustack's sockets
// on a Stack's own loopback (skipped while the stack has no TCP).
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "apps/server.h"
#include "client.h"
#include "runtime/runtime.h"
#include "socket/descriptors.h"
#include "stack/stack.h"
#include "ustack/socket.h"

namespace ustack::apps {
namespace {

using testing::Client;

/// A ustack host with only its loopback, installed as the default runtime.
struct UstackHost {
  UstackHost() : rt(stack, runtime::Mode::threaded) {
    rt.start();
    socket::set_default_runtime(&rt);
  }
  ~UstackHost() {
    socket::set_default_runtime(nullptr);
    socket::DescriptorTable::instance().release_runtime(&rt);
    rt.stop();
  }
  stack::Stack stack;
  runtime::Runtime rt;
};

bool ustack_has_tcp() {
  const int fd = ustack_socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  ustack_close(fd);
  return true;
}

class ServicesTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (std::string(GetParam()) == "ustack") {
      host_ = std::make_unique<UstackHost>();
      if (!ustack_has_tcp()) GTEST_SKIP() << "TCP not yet in the stack";
      calls_ = &ustack_calls();
    } else {
      calls_ = &linux_calls();
    }
  }
  void TearDown() override {
    servers_.clear();
    host_.reset();
    if (!root_.empty()) std::filesystem::remove_all(root_);
  }
  std::uint16_t serve(Service s, HttpConfig http = {}) {
    ServerConfig c;
    c.service = s;
    c.addr = INADDR_LOOPBACK;
    c.http = std::move(http);
    std::string err;
    auto srv = Server::start(*calls_, c, &err);
    EXPECT_TRUE(srv) << err;
    if (!srv) return 0;
    const auto port = srv->port();
    servers_.push_back(std::move(srv));
    return port;
  }
  /// A www root with index.html, a file and a subdirectory; outside it a secret.
  HttpConfig www() {
    char tmpl[] = "/tmp/ustack-apps-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    std::filesystem::create_directories(root_ + "/www/sub");
    std::ofstream(root_ + "/www/index.html") << "<h1>home</h1>";
    std::ofstream(root_ + "/www/sub/index.html") << "sub index";
    std::ofstream(root_ + "/www/a.txt") << "hello file";
    std::ofstream(root_ + "/secret") << "top secret";
    std::filesystem::create_symlink(root_ + "/secret", root_ + "/www/link");
    return HttpConfig{root_ + "/www"};
  }
  std::string get(std::uint16_t port, const std::string& target, int* status) {
    Client c(*calls_, port);
    EXPECT_TRUE(c.connected());
    c.send_all("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = c.read_response();
    *status = r.status;
    return r.body;
  }

  std::unique_ptr<UstackHost> host_;
  const SocketCalls* calls_ = nullptr;
  std::vector<std::unique_ptr<Server>> servers_;
  std::string root_;
};

TEST_P(ServicesTest, HttpKeepAliveServesTwoRequestsOnOneConnection) {
  const auto port = serve(Service::http);
  Client c(*calls_, port);
  ASSERT_TRUE(c.connected()) << std::strerror(c.connect_errno());
  ASSERT_TRUE(c.send_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r1 = c.read_response();
  ASSERT_TRUE(r1.ok);
  EXPECT_EQ(r1.status, 200);
  EXPECT_NE(r1.body.find("ustack"), std::string::npos);
  EXPECT_EQ(r1.head.find("Connection: close"), std::string::npos);
  ASSERT_TRUE(c.send_all("GET /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r2 = c.read_response();
  ASSERT_TRUE(r2.ok);
  EXPECT_EQ(r2.status, 200);
  EXPECT_EQ(r2.body, "abcdefghij");
}

TEST_P(ServicesTest, HttpConnectionCloseIsHonoured) {
  const auto port = serve(Service::http);
  Client c(*calls_, port);
  ASSERT_TRUE(c.send_all("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r.ok);
  EXPECT_NE(r.head.find("Connection: close"), std::string::npos);
  EXPECT_EQ(c.read_to_end(), "");
  EXPECT_TRUE(c.saw_eof());
}

TEST_P(ServicesTest, Http10ClosesByDefault) {
  const auto port = serve(Service::http);
  Client c(*calls_, port);
  ASSERT_TRUE(c.send_all("GET /bytes/3 HTTP/1.0\r\n\r\n"));
  auto r = c.read_response();
  EXPECT_EQ(r.body, "abc");
  EXPECT_EQ(c.read_to_end(), "");
  EXPECT_TRUE(c.saw_eof());
}

TEST_P(ServicesTest, HttpHeadSendsHeadersWithoutBody) {
  const auto port = serve(Service::http);
  Client c(*calls_, port);
  ASSERT_TRUE(c.send_all("HEAD /bytes/5000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_response(/*head_only=*/true);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.head.find("Content-Length: 5000\r\n"), std::string::npos);
  // The next response follows at once: no body bytes came in between.
  ASSERT_TRUE(c.send_all("GET /bytes/4 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r2 = c.read_response();
  EXPECT_EQ(r2.status, 200);
  EXPECT_EQ(r2.body, "abcd");
}

TEST_P(ServicesTest, HttpUnknownPathIs404AndBadRequestIs400) {
  const auto port = serve(Service::http);
  int status = 0;
  get(port, "/nope", &status);
  EXPECT_EQ(status, 404);
  get(port, "/bytes/xyz", &status);
  EXPECT_EQ(status, 400);
  Client c(*calls_, port);
  ASSERT_TRUE(c.send_all("garbage\r\n\r\n"));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(c.read_to_end(), "");
  EXPECT_TRUE(c.saw_eof());
}

TEST_P(ServicesTest, HttpOtherMethodsAre405WithAllow) {
  const auto port = serve(Service::http);
  Client c(*calls_, port);
  ASSERT_TRUE(c.send_all("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                         "GET /bytes/2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.head.find("Allow: GET, HEAD\r\n"), std::string::npos);
  auto r2 = c.read_response();  // the request body was skipped, not taken for a request
  EXPECT_EQ(r2.status, 200);
  EXPECT_EQ(r2.body, "ab");
}

TEST_P(ServicesTest, HttpLargeBodyHasItsFullLength) {
  const auto port = serve(Service::http);
  Client c(*calls_, port);
  ASSERT_TRUE(c.send_all("GET /bytes/1000000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r.ok);
  EXPECT_NE(r.head.find("Content-Length: 1000000\r\n"), std::string::npos);
  ASSERT_EQ(r.body.size(), 1000000u);
  for (std::size_t i = 0; i < r.body.size(); i += 4999) ASSERT_EQ(r.body[i], static_cast<char>('a' + i % 26));
}

TEST_P(ServicesTest, HttpSlowReaderDoesNotMakeTheServerHoldTheBody) {
  // A reader slower than the server: the body is staged a refill at a time as
  // the socket drains, and what was sent is dropped before the next refill.
  // Before, each connection staged 256 KiB refills on top of everything sent
  // since its buffer last ran empty: 512 KiB for a zero-window reader, more for
  // one that drains less than a refill per wakeup (found by
  // tests/adversarial/test_05_zero_window: 200 readers cost ustack up 150 MB).
  const auto port = serve(Service::http);
  Client c(*calls_, port);
  ASSERT_TRUE(c.send_all("GET /bytes/8000000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::size_t got = 0;
  std::vector<char> buf(16384);
  while (got < 8000000) {
    const ssize_t n = calls_->recv(c.fd(), buf.data(), buf.size(), 0);
    ASSERT_GT(n, 0) << "after " << got << " bytes";
    got += static_cast<std::size_t>(n);
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // slower than the server
  }
  EXPECT_LE(servers_.back()->peak_staged_bytes(), 256u * 1024) << "bytes staged by one connection";
}

TEST_P(ServicesTest, HttpPipelinedRequestsAreAnsweredInOrder) {
  const auto port = serve(Service::http);
  Client c(*calls_, port);
  ASSERT_TRUE(c.send_all("GET /bytes/300000 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/7 HTTP/1.1\r\nHost: x\r\n\r\n"
                         "HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r1 = c.read_response();
  EXPECT_EQ(r1.body.size(), 300000u);
  auto r2 = c.read_response();
  EXPECT_EQ(r2.body, "abcdefg");
  auto r3 = c.read_response(true);
  EXPECT_EQ(r3.status, 200);
  auto r4 = c.read_response();
  EXPECT_EQ(r4.status, 404);
}

TEST_P(ServicesTest, HttpServesFilesAndDirectoryIndex) {
  const auto port = serve(Service::http, www());
  int status = 0;
  EXPECT_EQ(get(port, "/", &status), "<h1>home</h1>");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(get(port, "/a.txt", &status), "hello file");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(get(port, "/sub", &status), "sub index");
  EXPECT_EQ(get(port, "/sub/", &status), "sub index");
  EXPECT_EQ(get(port, "/a.txt?x=1", &status), "hello file");
  get(port, "/b.txt", &status);
  EXPECT_EQ(status, 404);
}

TEST_P(ServicesTest, HttpPathTraversalIsRefused) {
  const auto port = serve(Service::http, www());
  for (const char* target : {"/../secret", "/sub/../../secret", "/%2e%2e/secret", "/sub/%2E%2E/%2e%2e/secret",
                             "/link", "/..%2fsecret"}) {
    int status = 0;
    const std::string body = get(port, target, &status);
    EXPECT_TRUE(status == 403 || status == 404) << target << " gave " << status;
    EXPECT_EQ(body.find("top secret"), std::string::npos) << target;
  }
}

TEST_P(ServicesTest, EchoReturnsEveryByteAndClosesAfterThePeer) {
  const auto port = serve(Service::echo);
  Client c(*calls_, port);
  ASSERT_TRUE(c.connected());
  std::string data(1 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 251);
  std::thread writer([&] {
    c.send_all(data);
    c.shutdown_write();
  });
  const std::string back = c.read_to_end();
  writer.join();
  EXPECT_TRUE(c.saw_eof());
  EXPECT_EQ(back.size(), data.size());
  EXPECT_TRUE(back == data);
}

TEST_P(ServicesTest, DiscardSendsNothingBack) {
  const auto port = serve(Service::discard);
  Client c(*calls_, port);
  ASSERT_TRUE(c.send_all(std::string(1 << 20, 'x')));
  c.shutdown_write();
  EXPECT_EQ(c.read_to_end(), "");
  EXPECT_TRUE(c.saw_eof());
}

TEST_P(ServicesTest, ChargenSendsTheRfc864Pattern) {
  const auto port = serve(Service::chargen);
  Client c(*calls_, port);
  const std::string got = c.read_n(74 * 200);
  ASSERT_EQ(got.size(), 74u * 200);
  // RFC 864: lines of 72 printable characters, each starting one further along.
  EXPECT_EQ(got.substr(0, 74),
            " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n");
  EXPECT_EQ(got.substr(74, 74),
            "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n");
  EXPECT_EQ(got.substr(74 * 95, 74), got.substr(0, 74));  // the pattern repeats after 95 lines
}

TEST_P(ServicesTest, HttpHoldsAThousandConcurrentConnections) {
  constexpr int kConns = 1000;
  if (calls_ == &linux_calls()) {
    rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * kConns + 100) {
      rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, 2 * kConns + 100);
      setrlimit(RLIMIT_NOFILE, &rl);
      getrlimit(RLIMIT_NOFILE, &rl);
      if (rl.rlim_cur < 2 * kConns + 100) GTEST_SKIP() << "RLIMIT_NOFILE too low";
    }
  }
  const auto port = serve(Service::http);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kConns; ++i) {
    clients.push_back(std::make_unique<Client>(*calls_, port));
    ASSERT_TRUE(clients.back()->connected()) << i << ": " << std::strerror(clients.back()->connect_errno());
  }
  for (auto& c : clients) ASSERT_TRUE(c->send_all("GET /bytes/100 HTTP/1.1\r\nHost: x\r\n\r\n"));
  for (auto& c : clients) {
    auto r = c->read_response();
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body.size(), 100u);
  }
  EXPECT_EQ(servers_.back()->connections(), static_cast<std::size_t>(kConns));
}

INSTANTIATE_TEST_SUITE_P(Sockets, ServicesTest, ::testing::Values("linux", "ustack"),
                         [](const auto& p) { return std::string(p.param); });

}  // namespace
}  // namespace ustack::apps
