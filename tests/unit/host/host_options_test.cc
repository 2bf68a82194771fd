// Host::start() refuses bad arguments with a message naming the argument, before
// it touches any device, and never creates an interface that does not exist.
#include <gtest/gtest.h>
#include <net/if.h>

#include "ustack/host.h"

namespace ustack {
namespace {

std::string start_error(HostOptions o) {
  auto h = Host::start(o);
  return h.ok() ? std::string("started") : h.error();
}

HostOptions base_options() {
  HostOptions o;
  o.tap = "ustnotexist9";
  o.addr = "198.18.0.2/24";
  return o;
}

TEST(HostOptions, ExactlyOneDevice) {
  HostOptions o = base_options();
  o.tun = "tun0";
  EXPECT_NE(start_error(o).find("exactly one of --tap or --tun"), std::string::npos);
  o.tap.clear();
  o.tun.clear();
  EXPECT_NE(start_error(o).find("exactly one of --tap or --tun"), std::string::npos);
}

TEST(HostOptions, BadValuesNameTheArgument) {
  struct Case { void (*set)(HostOptions&); const char* expect; } cases[] = {
      {[](HostOptions& o) { o.addr = "198.18.0.2"; }, "started"},  // no prefix: a /32, valid
      {[](HostOptions& o) { o.addr = "198.18.0/24"; }, "bad address"},
      {[](HostOptions& o) { o.addr = "0.0.0.0/24"; }, "bad address"},
      {[](HostOptions& o) { o.addr = "198.18.0.2/33"; }, "bad address"},
      {[](HostOptions& o) { o.gateway = "198.18.0"; }, "bad gateway"},
      {[](HostOptions& o) { o.gateway = "10.0.0.1"; }, "is not in"},
      {[](HostOptions& o) { o.mac = "01:00:5e:00:00:01"; }, "bad MAC"},
      {[](HostOptions& o) { o.mac = "02:00:00:00:00"; }, "bad MAC"},
      {[](HostOptions& o) { o.impair = "loss=5"; }, "bad --impair"},
      {[](HostOptions& o) { o.static_arp = {"198.18.0.1"}; }, "bad --static-arp"},
      {[](HostOptions& o) { o.static_arp = {"198.18.0.1=ff:ff:ff:ff:ff:ff"}; }, "bad --static-arp"},
      {[](HostOptions& o) { o.routes = {"10.0.0.0/8"}; }, "bad --route"},
      {[](HostOptions& o) { o.routes = {"10.0.0.0/8=gw"}; }, "bad --route"},
  };
  for (const auto& c : cases) {
    HostOptions o = base_options();
    c.set(o);
    const std::string err = start_error(o);
    if (std::string(c.expect) == "started") {
      // Valid arguments get as far as the device, which does not exist.
      EXPECT_NE(err.find("no such interface"), std::string::npos) << err;
    } else {
      EXPECT_NE(err.find(c.expect), std::string::npos) << "want '" << c.expect << "', got: " << err;
    }
  }
}

TEST(HostOptions, MissingTapFailsClearlyAndIsNotCreated) {
  const std::string err = start_error(base_options());
  EXPECT_NE(err.find("ustnotexist9"), std::string::npos) << err;
  EXPECT_NE(err.find("no such interface"), std::string::npos) << err;
  EXPECT_EQ(::if_nametoindex("ustnotexist9"), 0u);  // TUNSETIFF would have created it
}

}  // namespace
}  // namespace ustack
