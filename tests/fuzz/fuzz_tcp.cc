// TCP header (wire/tcp.h): the view's bounds hold; a segment that parses
// (checksum fixed up first when the first byte says so) emits back to one that
// parses to the same value.
#include <vector>

#include "fuzz.h"
#include "wire/tcp.h"

using namespace ustack;

namespace {
const base::Ipv4Addr kSrc(198, 18, 0, 1), kDst(198, 18, 0, 2);

/// Recomputes the checksum over the pseudo-header and the whole segment.
void fix_checksum(std::vector<base::Byte>& seg) {
  seg[16] = seg[17] = 0;
  std::uint32_t sum = (kSrc.value() >> 16) + (kSrc.value() & 0xffff) + (kDst.value() >> 16) + (kDst.value() & 0xffff) +
                      6 + static_cast<std::uint32_t>(seg.size());
  for (std::size_t i = 0; i + 1 < seg.size(); i += 2) sum += base::load_be16(seg, i);
  if (seg.size() % 2) sum += std::uint32_t{seg.back()} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  base::store_be16(seg, 16, static_cast<std::uint16_t>(~sum));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<base::Byte> seg(data + 1, data + size);
  if ((data[0] & 1) && seg.size() >= 20) fix_checksum(seg);
  auto view = wire::TcpView::parse(seg);
  if (view.ok()) {
    FUZZ_CHECK(view->header_len() >= 20 && view->header_len() <= seg.size());
    FUZZ_CHECK(view->options().size() + view->payload().size() + 20 == seg.size());
  }
  auto repr = wire::TcpRepr::parse(seg, kSrc, kDst);
  if (!repr.ok()) return 0;
  FUZZ_CHECK(view.ok() && view->checksum_ok(kSrc, kDst));
  const std::size_t payload = view->payload().size();
  std::vector<base::Byte> out(repr->header_len() + payload);
  std::copy(view->payload().begin(), view->payload().end(), out.begin() + static_cast<std::ptrdiff_t>(repr->header_len()));
  repr->emit(out, kSrc, kDst);
  auto again = wire::TcpRepr::parse(out, kSrc, kDst);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->src_port == repr->src_port && again->dst_port == repr->dst_port && again->seq == repr->seq &&
             again->ack == repr->ack && again->flags == repr->flags && again->window == repr->window &&
             again->urgent == repr->urgent && again->options.mss == repr->options.mss &&
             again->options.timestamps == repr->options.timestamps);
  return 0;
}
