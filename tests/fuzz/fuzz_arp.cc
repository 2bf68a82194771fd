// ARP (wire/arp.h): a packet the value parser accepts (Ethernet/IPv4, request
// or reply) emits back to the same 28 bytes.
#include "fuzz.h"
#include "wire/arp.h"

using namespace ustack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const base::ByteSpan in(data, size);
  auto view = wire::ArpView::parse(in);
  auto repr = wire::ArpRepr::parse(in);
  if (repr.ok()) FUZZ_CHECK(view.ok());
  if (!repr.ok()) return 0;
  std::uint8_t out[wire::ArpView::kLen];
  repr->emit(out);
  FUZZ_CHECK(std::memcmp(out, data, sizeof out) == 0);
  auto again = wire::ArpRepr::parse(base::ByteSpan(out, sizeof out));
  FUZZ_CHECK(again.ok() && *again == *repr);
  return 0;
}
