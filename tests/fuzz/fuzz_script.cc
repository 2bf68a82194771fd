// The packetdrill-syntax script parser (src/script/parser.h): any text parses
// or gives a syntax error naming a line of the text; every packet it parses
// formats back (as the runner prints it in a mismatch).
#include <algorithm>
#include <string_view>

#include "fuzz.h"
#include "script/format.h"
#include "script/parser.h"

using namespace ustack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto s = script::parse(text, "fuzz.pkt");
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  if (!s.ok()) {
    FUZZ_CHECK(s.error().line >= 0 && s.error().line <= lines + 1);
    FUZZ_CHECK(!s.error().message.empty());
    return 0;
  }
  for (const auto& e : s->events) {
    FUZZ_CHECK(e.line >= 1 && e.line <= lines);
    if (const auto* p = std::get_if<script::Packet>(&e.what)) (void)script::format_packet(*p);
  }
  return 0;
}
