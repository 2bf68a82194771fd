// IPv4 header (wire/ipv4.h): the view's bounds hold (header and payload inside
// the input, IHL within the total length), the option walker stays inside the
// options, and a value that parses emits a header that parses to the same value.
// The first input byte picks whether the header checksum is fixed up first, so
// that the value parser is reached often.
#include <vector>

#include "fuzz.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

using namespace ustack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool fix_checksum = data[0] & 1;
  std::vector<base::Byte> pkt(data + 1, data + size);
  if (fix_checksum && pkt.size() >= 20) {
    const std::size_t ihl = std::min<std::size_t>(std::size_t{pkt[0] & 0x0fu} * 4, pkt.size());
    if (ihl >= 20) {
      pkt[10] = pkt[11] = 0;
      base::store_be16(pkt, 10, wire::internet_checksum(base::ByteSpan(pkt).first(ihl)));
    }
  }
  const base::ByteSpan in(pkt);
  auto view = wire::Ipv4View::parse(in);
  if (view.ok()) {
    FUZZ_CHECK(view->version() == 4);
    FUZZ_CHECK(view->header_len() >= 20 && view->header_len() <= view->total_len());
    FUZZ_CHECK(view->total_len() <= in.size());
    FUZZ_CHECK(view->payload().size() == view->total_len() - view->header_len());
    if (auto bad = wire::first_malformed_ipv4_option(view->options())) FUZZ_CHECK(*bad < view->options().size());
    (void)view->checksum_ok();
  }
  auto repr = wire::Ipv4Repr::parse(in);
  if (!repr.ok()) return 0;
  FUZZ_CHECK(view.ok() && view->checksum_ok());
  FUZZ_CHECK(repr->payload_len == view->total_len() - view->header_len());
  std::vector<base::Byte> out(wire::Ipv4Repr::header_len() + repr->payload_len, 0);
  repr->emit(out);
  auto again = wire::Ipv4Repr::parse(out);
  FUZZ_CHECK(again.ok() && *again == *repr);
  return 0;
}
