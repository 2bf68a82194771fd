// UDP (wire/udp.h): the view's bounds hold; a datagram that parses (checksum
// fixed up first when the first byte says so) emits back to one that parses to
// the same ports.
#include <vector>

#include "fuzz.h"
#include "wire/udp.h"

using namespace ustack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const base::Ipv4Addr src(198, 18, 0, 1), dst(198, 18, 0, 2);
  std::vector<base::Byte> dg(data + 1, data + size);
  if ((data[0] & 1) && dg.size() >= 8) {
    const std::size_t len = std::min<std::size_t>(base::load_be16(dg, 4), dg.size());
    if (len >= 8) {
      wire::UdpRepr r{base::load_be16(dg, 0), base::load_be16(dg, 2)};
      r.emit(base::MutByteSpan(dg).first(len), src, dst);
    }
  }
  auto view = wire::UdpView::parse(dg);
  if (view.ok()) {
    FUZZ_CHECK(view->length() >= 8 && view->length() <= dg.size());
    FUZZ_CHECK(view->payload().size() == view->length() - 8u);
  }
  auto repr = wire::UdpRepr::parse(dg, src, dst);
  if (!repr.ok()) return 0;
  FUZZ_CHECK(view.ok());
  const base::ByteSpan payload = view->payload();
  std::vector<base::Byte> out(8 + payload.size());
  if (!payload.empty()) std::memcpy(out.data() + 8, payload.data(), payload.size());  // (std::copy: a GCC 12 false warning)
  repr->emit(out, src, dst);
  auto again = wire::UdpRepr::parse(out, src, dst);
  FUZZ_CHECK(again.ok() && *again == *repr);
  return 0;
}
