// Result: a value or an error, and Status for operations with no value.
#include "base/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace ustack::base {
namespace {

Result<int> half(int x) {
  if (x % 2) return Errc::invalid;
  return x / 2;
}

TEST(Result, ValueAndError) {
  auto a = half(10);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(static_cast<bool>(a));
  EXPECT_EQ(*a, 5);
  EXPECT_EQ(a.value(), 5);
  auto b = half(3);
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(b.error(), Errc::invalid);
  EXPECT_EQ(to_errno(b.error()), EINVAL);
}

TEST(Result, MoveOnlyValueAndArrow) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
  Result<std::string> s(std::string("abc"));
  EXPECT_EQ(s->size(), 3u);
}

TEST(Result, CustomErrorType) {
  enum class E { a, b };
  Result<int, E> r(E::b);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error(), E::b);
}

TEST(Status, OkAndError) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  Status bad(Errc::conn_reset);
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error(), Errc::conn_reset);
  EXPECT_EQ(to_errno(Errc::would_block), EWOULDBLOCK);
  EXPECT_EQ(to_errno(Errc::conn_refused), ECONNREFUSED);
}

}  // namespace
}  // namespace ustack::base
