// Parsing impairment specs: every key, and every kind of bad input with its message.
#include <gtest/gtest.h>

#include "link/impair.h"

namespace ustack::link {
namespace {

using namespace std::chrono_literals;

TEST(ImpairSpecParse, AllKeys) {
  auto s = ImpairSpec::parse("loss=1.5%,dup=2%,reorder=0.5%,corrupt=100%,delay=20ms,jitter=250us,rate=10mbit,seed=42");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_DOUBLE_EQ(s->loss, 0.015);
  EXPECT_DOUBLE_EQ(s->dup, 0.02);
  EXPECT_DOUBLE_EQ(s->reorder, 0.005);
  EXPECT_DOUBLE_EQ(s->corrupt, 1.0);
  EXPECT_EQ(s->delay, 20ms);
  EXPECT_EQ(s->jitter, 250us);
  EXPECT_EQ(s->rate_bps, 10'000'000u);
  EXPECT_EQ(s->seed, 42u);
}

TEST(ImpairSpecParse, EmptyMeansNone) {
  auto s = ImpairSpec::parse("");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, ImpairSpec{});
  EXPECT_TRUE(ImpairSpec::parse("  ").ok());
}

TEST(ImpairSpecParse, UnitsAndSpaces) {
  auto s = ImpairSpec::parse(" loss = 0% , delay=1.5s, rate=64kbit ");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->loss, 0.0);
  EXPECT_EQ(s->delay, 1500ms);
  EXPECT_EQ(s->rate_bps, 64'000u);
  EXPECT_EQ(ImpairSpec::parse("rate=1gbit")->rate_bps, 1'000'000'000u);
  EXPECT_EQ(ImpairSpec::parse("rate=9600bit")->rate_bps, 9600u);
  EXPECT_EQ(ImpairSpec::parse("delay=0ms")->delay, 0ms);
  EXPECT_EQ(ImpairSpec::parse("jitter=3us")->jitter, 3us);
}

TEST(ImpairSpecParse, ToStringReadsBack) {
  auto s = ImpairSpec::parse("loss=1.5%,delay=20ms,rate=10mbit,seed=9");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->to_string(), "loss=1.5%,delay=20ms,rate=10000000bit,seed=9");
  auto again = ImpairSpec::parse(s->to_string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *s);
}

// Each bad spec fails, and the message names the offending part.
struct BadSpec {
  const char* spec;
  const char* names;  // a substring the message must contain
};

class ImpairSpecReject : public ::testing::TestWithParam<BadSpec> {};

TEST_P(ImpairSpecReject, FailsNamingThePart) {
  auto s = ImpairSpec::parse(GetParam().spec);
  ASSERT_FALSE(s.ok()) << GetParam().spec;
  EXPECT_NE(s.error().find(GetParam().names), std::string::npos) << s.error();
}

INSTANTIATE_TEST_SUITE_P(
    All, ImpairSpecReject,
    ::testing::Values(BadSpec{"lose=1%", "unknown key 'lose'"},       //
                      BadSpec{"loss=1", "'loss=1': a percentage needs '%'"},
                      BadSpec{"loss=-1%", "'loss=-1%': must not be negative"},
                      BadSpec{"loss=101%", "'loss=101%': more than 100%"},
                      BadSpec{"dup=100.5%", "'dup=100.5%'"},
                      BadSpec{"loss=abc%", "'abc' is not a number"},
                      BadSpec{"loss=1.2.3%", "'1.2.3' is not a number"},
                      BadSpec{"loss=%", "'' is not a number"},
                      BadSpec{"loss=nan%", "not a number"},
                      BadSpec{"loss=inf%", "not a number"},
                      BadSpec{"loss=1e2%", "not a number"},
                      BadSpec{"loss", "'loss': expected key=value"},
                      BadSpec{"garbage", "'garbage': expected key=value"},
                      BadSpec{"loss=1%,,dup=1%", "empty item"},
                      BadSpec{"loss=1%,", "empty item"},
                      BadSpec{",loss=1%", "empty item"},
                      BadSpec{"loss=1%,loss=2%", "'loss' given twice"},
                      BadSpec{"delay=20", "'delay=20': a time needs a unit"},
                      BadSpec{"delay=20min", "'delay=20min'"},
                      BadSpec{"delay=-5ms", "must not be negative"},
                      BadSpec{"delay=2h", "a time needs a unit"},
                      BadSpec{"delay=99999s", "more than an hour"},
                      BadSpec{"jitter=fast", "'jitter=fast'"},
                      BadSpec{"rate=10", "'rate=10': a rate needs a unit"},
                      BadSpec{"rate=10mbps", "'rate=10mbps'"},
                      BadSpec{"rate=-1mbit", "must not be negative"},
                      BadSpec{"seed=-1", "'seed=-1': '-1' is not an unsigned integer"},
                      BadSpec{"seed=1.5", "not an unsigned integer"},
                      BadSpec{"seed=", "not an unsigned integer"},
                      BadSpec{"seed=99999999999999999999999", "not an unsigned integer"},
                      BadSpec{"loss=1%,corrupt=x", "'corrupt=x'"}));

}  // namespace
}  // namespace ustack::link
