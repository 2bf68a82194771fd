// IPv4 option layout (RFC 791 3.1): what is skipped and what is malformed.
#include <gtest/gtest.h>

#include <vector>

#include "wire/ipv4.h"

namespace ustack::wire {
namespace {

std::optional<std::size_t> check(std::vector<base::Byte> o) { return first_malformed_ipv4_option(o); }

TEST(Ipv4Options, WellFormedListsAreSkipped) {
  EXPECT_EQ(check({}), std::nullopt);
  EXPECT_EQ(check({1, 1, 1, 0}), std::nullopt);                     // NOPs, end of list
  EXPECT_EQ(check({0, 0xff, 0xff, 0xff}), std::nullopt);            // after EOL: padding, not parsed
  EXPECT_EQ(check({7, 7, 4, 0, 0, 0, 0, 0}), std::nullopt);         // record route, 7 bytes, then EOL
  EXPECT_EQ(check({0x94, 4, 0, 0}), std::nullopt);                  // router alert (RFC 2113)
  EXPECT_EQ(check({0x88, 4, 0, 0, 1, 0, 0, 0}), std::nullopt);      // unknown kind skipped by length
}

TEST(Ipv4Options, MalformedOptionsAreFoundAtTheirOffset) {
  EXPECT_EQ(check({7, 255, 4, 0}), 0u);             // length past the header (the interop probe)
  EXPECT_EQ(check({1, 7, 1, 0}), 1u);               // length 1: below the minimum of 2
  EXPECT_EQ(check({1, 1, 1, 0x44}), 3u);            // a type with no room for its length
  EXPECT_EQ(check({0x94, 0, 0, 0}), 0u);            // length 0
  EXPECT_EQ(check({0x94, 4, 0, 0, 7, 5, 0, 0}), 4u);  // second option overruns
}

}  // namespace
}  // namespace ustack::wire
