// The bench's output: a table for the terminal, markdown for bench/results/,
// one JSON object per measurement.
#include <cmath>
#include <cstdio>
#include <string>

#include "bench/suite.h"

namespace ustack::bench {
namespace {

std::string fmt_value(double v) {
  char buf[32];
  if (v == 0) return "0";
  if (std::fabs(v) >= 1000) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (std::fabs(v) >= 10) std::snprintf(buf, sizeof buf, "%.1f", v);
  else std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string fmt_ratio(const Measurement& m) {
  if (!m.skipped.empty() || m.reference_value <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", m.ratio());
  return buf;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string pad(const std::string& s, std::size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }
std::string lpad(const std::string& s, std::size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; }

}  // namespace

std::string render_table(const std::vector<Measurement>& ms) {
  std::string out = pad("measurement", 44) + lpad("ustack", 12) + lpad("reference", 12) + lpad("ratio", 8) + "  unit / reference\n";
  for (const auto& m : ms) {
    const std::string label = m.group + "/" + m.name;
    if (!m.skipped.empty()) {
      out += pad(label, 44) + lpad("-", 12) + lpad("-", 12) + lpad("-", 8) + "  skipped: " + m.skipped + "\n";
      continue;
    }
    out += pad(label, 44) + lpad(fmt_value(m.value), 12) +
           lpad(m.reference_value > 0 ? fmt_value(m.reference_value) : "-", 12) + lpad(fmt_ratio(m), 8) + "  " +
           m.unit + (m.reference.empty() ? "" : " vs " + m.reference) + "\n";
  }
  return out;
}

std::string render_markdown(const std::vector<Measurement>& ms) {
  std::string out =
      "| group | measurement | ustack | reference | ratio | unit | reference is | conditions |\n"
      "|---|---|---:|---:|---:|---|---|---|\n";
  for (const auto& m : ms) {
    if (!m.skipped.empty()) {
      out += "| " + m.group + " | " + m.what + " | - | - | - | " + m.unit + " | " + m.reference +
             " | not measured: " + m.skipped + " |\n";
      continue;
    }
    out += "| " + m.group + " | " + m.what + " | " + fmt_value(m.value) + " | " +
           (m.reference_value > 0 ? fmt_value(m.reference_value) : "-") + " | " + fmt_ratio(m) + " | " + m.unit +
           " | " + (m.reference.empty() ? "-" : m.reference) + " | " + m.note + " |\n";
  }
  return out;
}

std::string to_json(const Measurement& m) {
  std::string out = "{\"group\":\"" + json_escape(m.group) + "\",\"name\":\"" + json_escape(m.name) +
                    "\",\"what\":\"" + json_escape(m.what) + "\",\"unit\":\"" + json_escape(m.unit) + "\"";
  if (!m.skipped.empty()) return out + ",\"skipped\":\"" + json_escape(m.skipped) + "\"}";
  out += ",\"value\":" + json_number(m.value);
  if (!m.reference.empty()) {
    out += ",\"reference\":\"" + json_escape(m.reference) + "\",\"reference_value\":" + json_number(m.reference_value);
    if (m.reference_value > 0) out += ",\"ratio\":" + json_number(m.ratio());
  }
  out += std::string(",\"higher_is_better\":") + (m.higher_is_better ? "true" : "false");
  out += ",\"note\":\"" + json_escape(m.note) + "\"}";
  return out;
}

}  // namespace ustack::bench
