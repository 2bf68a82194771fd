// ICMP (wire/icmp.h): a message that parses (checksum fixed up first when the
// first byte says so) emits back to a message that parses to the same value.
#include <vector>

#include "fuzz.h"
#include "wire/checksum.h"
#include "wire/icmp.h"

using namespace ustack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<base::Byte> msg(data + 1, data + size);
  if ((data[0] & 1) && msg.size() >= 4) {
    msg[2] = msg[3] = 0;
    base::store_be16(msg, 2, wire::internet_checksum(msg));
  }
  auto view = wire::IcmpView::parse(msg);
  FUZZ_CHECK(view.ok() == (msg.size() >= wire::IcmpView::kHeaderLen));
  auto repr = wire::IcmpRepr::parse(msg);
  if (!repr.ok()) return 0;
  FUZZ_CHECK(view->checksum_ok());
  FUZZ_CHECK(repr->data.size() == msg.size() - wire::IcmpView::kHeaderLen);
  std::vector<base::Byte> out(repr->buffer_len());
  repr->emit(out);
  auto again = wire::IcmpRepr::parse(out);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->type == repr->type && again->code == repr->code && again->rest == repr->rest);
  FUZZ_CHECK(std::equal(again->data.begin(), again->data.end(), repr->data.begin(), repr->data.end()));
  return 0;
}
