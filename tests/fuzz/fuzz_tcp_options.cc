// TCP options (wire/tcp.h): whatever parses emits back, within 40 bytes, to
// options that parse to the same value (SACK blocks that do not fit are left
// out, so the re-parsed blocks are a prefix of the first).
#include "fuzz.h"
#include "wire/tcp.h"

using namespace ustack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > wire::TcpOptions::kMaxLen) size = wire::TcpOptions::kMaxLen;  // what a header can hold
  auto opts = wire::TcpOptions::parse(base::ByteSpan(data, size));
  if (!opts.ok()) return 0;
  FUZZ_CHECK(opts->sack_count <= wire::TcpOptions::kMaxSackBlocks);
  const std::size_t len = opts->encoded_len();
  FUZZ_CHECK(len <= wire::TcpOptions::kMaxLen && len % 4 == 0);
  std::uint8_t out[wire::TcpOptions::kMaxLen];
  opts->emit(base::MutByteSpan(out, len));
  auto again = wire::TcpOptions::parse(base::ByteSpan(out, len));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->mss == opts->mss && again->window_scale == opts->window_scale);
  FUZZ_CHECK(again->sack_permitted == opts->sack_permitted && again->timestamps == opts->timestamps);
  FUZZ_CHECK(again->sack_count <= opts->sack_count);
  for (std::uint8_t i = 0; i < again->sack_count; ++i) FUZZ_CHECK(again->sack_blocks[i] == opts->sack_blocks[i]);
  return 0;
}
