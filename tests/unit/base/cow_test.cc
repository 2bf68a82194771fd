// Cow: one shared copy until someone edits; an edit never shows through another holder.
#include "base/cow.h"

#include <gtest/gtest.h>

#include <string>

namespace ustack::base {
namespace {

struct Settings {
  int a = 7;
  std::string name = "cubic";
};

TEST(Cow, EmptyReadsAsDefaultsAndHoldsNothing) {
  Cow<Settings> c;
  EXPECT_EQ(c->a, 7);
  EXPECT_EQ(c->name, "cubic");
  EXPECT_EQ(c.holders(), 0);
  c.edit().a = 8;
  EXPECT_EQ(c->a, 8);
  EXPECT_EQ(c.holders(), 1);
  EXPECT_EQ(Cow<Settings>()->a, 7);  // the defaults are not changed by an edit
}

TEST(Cow, CopiesShareUntilOneEdits) {
  Settings s;
  s.a = 1;
  Cow<Settings> x(s);
  Cow<Settings> y = x;
  Cow<Settings> z = x;
  EXPECT_TRUE(x.shares_with(y));
  EXPECT_EQ(x.holders(), 3);
  y.edit().a = 2;
  EXPECT_FALSE(x.shares_with(y));
  EXPECT_EQ(x->a, 1);
  EXPECT_EQ(z->a, 1);
  EXPECT_EQ(y->a, 2);
  EXPECT_EQ(x.holders(), 2);
  // The only holder edits in place.
  const Settings* before = &y.get();
  y.edit().name = "reno";
  EXPECT_EQ(&y.get(), before);
  EXPECT_EQ(x->name, "cubic");
}

TEST(Cow, AssignmentRejoinsAndReleases) {
  Cow<Settings> x(Settings{});
  Cow<Settings> y;
  y.edit().a = 5;
  y = x;
  EXPECT_TRUE(y.shares_with(x));
  EXPECT_EQ(y->a, 7);
  EXPECT_EQ(x.holders(), 2);
}

}  // namespace
}  // namespace ustack::base
