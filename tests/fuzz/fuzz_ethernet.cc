// Ethernet II header (wire/ethernet.h): view and value agree; a parsed header
// emits back to the same 14 bytes.
#include "fuzz.h"
#include "wire/ethernet.h"

using namespace ustack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const base::ByteSpan in(data, size);
  auto view = wire::EthernetView::parse(in);
  auto repr = wire::EthernetRepr::parse(in);
  FUZZ_CHECK(view.ok() == repr.ok());
  FUZZ_CHECK(view.ok() == (size >= wire::EthernetView::kHeaderLen));
  if (!repr.ok()) return 0;
  std::uint8_t out[wire::EthernetView::kHeaderLen];
  repr->emit(out);
  FUZZ_CHECK(std::memcmp(out, data, sizeof out) == 0);
  auto again = wire::EthernetRepr::parse(base::ByteSpan(out, sizeof out));
  FUZZ_CHECK(again.ok() && *again == *repr);
  return 0;
}
