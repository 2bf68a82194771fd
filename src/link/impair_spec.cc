// Parsing the impairment syntax of the command line ("loss=1%,delay=20ms,...").
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <set>

#include "link/impair.h"

namespace ustack::link {
namespace {

using Error = std::string;
template <class T>
using Parsed = base::Result<T, Error>;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool strip_suffix(std::string_view& s, std::string_view suffix) {
  if (!s.ends_with(suffix)) return false;
  s.remove_suffix(suffix.size());
  return true;
}

// A finite, non-negative decimal number that spans all of `text`.
Parsed<double> number(std::string_view text, std::string_view item) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v, std::chars_format::fixed);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) {
    return fmt::format("'{}': '{}' is not a number", item, text);
  }
  if (v < 0) return fmt::format("'{}': must not be negative", item);
  return v;
}

Parsed<double> percent(std::string_view value, std::string_view item) {
  if (!strip_suffix(value, "%")) return fmt::format("'{}': a percentage needs '%' (e.g. {}%)", item, item);
  auto v = number(value, item);
  if (!v) return v;
  if (*v > 100) return fmt::format("'{}': more than 100%", item);
  return *v / 100.0;
}

Parsed<base::Duration> duration(std::string_view value, std::string_view item) {
  double ns_per_unit = 0;
  if (strip_suffix(value, "ms")) {
    ns_per_unit = 1e6;
  } else if (strip_suffix(value, "us")) {
    ns_per_unit = 1e3;
  } else if (strip_suffix(value, "s")) {
    ns_per_unit = 1e9;
  } else {
    return fmt::format("'{}': a time needs a unit: ms, us or s (e.g. 20ms)", item);
  }
  auto v = number(value, item);
  if (!v) return v.error();
  const double ns = *v * ns_per_unit;
  if (ns > 3600e9) return fmt::format("'{}': more than an hour", item);
  return base::Duration{std::llround(ns)};
}

Parsed<std::uint64_t> rate(std::string_view value, std::string_view item) {
  double bits_per_unit = 0;
  if (strip_suffix(value, "gbit")) {
    bits_per_unit = 1e9;
  } else if (strip_suffix(value, "mbit")) {
    bits_per_unit = 1e6;
  } else if (strip_suffix(value, "kbit")) {
    bits_per_unit = 1e3;
  } else if (strip_suffix(value, "bit")) {
    bits_per_unit = 1;
  } else {
    return fmt::format("'{}': a rate needs a unit: bit, kbit, mbit or gbit (e.g. 10mbit)", item);
  }
  auto v = number(value, item);
  if (!v) return v.error();
  const double bps = *v * bits_per_unit;
  if (bps > 1e15) return fmt::format("'{}': rate too large", item);
  return static_cast<std::uint64_t>(std::llround(bps));
}

Parsed<std::uint64_t> unsigned_integer(std::string_view value, std::string_view item) {
  std::uint64_t v = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, v);
  if (value.empty() || ec != std::errc() || ptr != end) {
    return fmt::format("'{}': '{}' is not an unsigned integer", item, value);
  }
  return v;
}

// Parses one key=value into spec; returns an error message or nothing.
std::optional<Error> apply(ImpairSpec& spec, std::string_view key, std::string_view value,
                           std::string_view item) {
  auto set_percent = [&](double& field) -> std::optional<Error> {
    auto v = percent(value, item);
    if (!v) return v.error();
    field = *v;
    return std::nullopt;
  };
  auto set_duration = [&](base::Duration& field) -> std::optional<Error> {
    auto v = duration(value, item);
    if (!v) return v.error();
    field = *v;
    return std::nullopt;
  };
  if (key == "loss") return set_percent(spec.loss);
  if (key == "dup") return set_percent(spec.dup);
  if (key == "reorder") return set_percent(spec.reorder);
  if (key == "corrupt") return set_percent(spec.corrupt);
  if (key == "delay") return set_duration(spec.delay);
  if (key == "jitter") return set_duration(spec.jitter);
  if (key == "rate") {
    auto v = rate(value, item);
    if (!v) return v.error();
    spec.rate_bps = *v;
    return std::nullopt;
  }
  if (key == "seed") {
    auto v = unsigned_integer(value, item);
    if (!v) return v.error();
    spec.seed = *v;
    return std::nullopt;
  }
  return fmt::format("'{}': unknown key '{}' (expected loss, dup, reorder, corrupt, delay, jitter, rate or seed)",
                     item, key);
}

}  // namespace

base::Result<ImpairSpec, std::string> ImpairSpec::parse(std::string_view text) {
  ImpairSpec spec;
  if (trim(text).empty()) return spec;
  std::set<std::string, std::less<>> seen;
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    if (item.empty()) return std::string("empty item in impairment spec (two commas, or a comma at an end)");
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) return fmt::format("'{}': expected key=value", item);
    const std::string_view key = trim(item.substr(0, eq));
    const std::string_view value = trim(item.substr(eq + 1));
    if (!seen.emplace(key).second) return fmt::format("'{}': '{}' given twice", item, key);
    if (auto err = apply(spec, key, value, item)) return *err;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return spec;
}

std::string ImpairSpec::to_string() const {
  std::string s;
  auto add = [&s](std::string part) {
    if (!s.empty()) s += ',';
    s += part;
  };
  if (loss > 0) add(fmt::format("loss={:g}%", loss * 100));
  if (dup > 0) add(fmt::format("dup={:g}%", dup * 100));
  if (reorder > 0) add(fmt::format("reorder={:g}%", reorder * 100));
  if (corrupt > 0) add(fmt::format("corrupt={:g}%", corrupt * 100));
  if (delay.count() > 0) add(fmt::format("delay={:g}ms", delay.count() / 1e6));
  if (jitter.count() > 0) add(fmt::format("jitter={:g}ms", jitter.count() / 1e6));
  if (rate_bps > 0) add(fmt::format("rate={}bit", rate_bps));
  add(fmt::format("seed={}", seed));
  return s;
}

}  // namespace ustack::link
