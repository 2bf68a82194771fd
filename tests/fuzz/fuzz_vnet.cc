// TAP offloads (link/vnet.h): the virtio-net header and frame the kernel hands
// over, and frames given to the TSO coalescer. The first input byte picks which.
//
// Receive (even): a 10-byte vnet header and a frame. check_vnet_rx() never reads
// or writes outside the frame (ASan), changes at most the two checksum bytes it
// completes, and takes a GSO frame only as one IPv4 TCP segment with a gso_size;
// a frame it takes then goes into a stack (TCP listener on :80, UDP socket on :7)
// with the trust it granted, and every frame the stack answers with parses with
// a correct IP checksum.
//
// Transmit (odd): frames of fuzzed lengths and bytes to the coalescer. Every
// frame given comes out exactly once (counted in segments), in order; one alone
// has a zero header, or (IPv4 TCP) NEEDS_CSUM at TCP's checksum field; a
// super-frame has a consistent header: IP total length of the whole, correct IP
// checksum, gso_size, hdr_len and the checksum offsets inside the frame, and a
// payload between (segments - 1) and segments times gso_size.
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "fuzz.h"
#include "link/vnet.h"
#include "stack/stack.h"
#include "support/hand_fed_device.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

using namespace ustack;

namespace {

const base::Ipv4Addr kUs(198, 18, 0, 2);
const base::MacAddr kUsMac({0x02, 0, 0, 0, 0, 0x02});

class Check : public link::VnetFrameSink {
 public:
  void write_frame(const link::VnetHeader& h, base::ByteSpan f, std::size_t segments) override {
    FUZZ_CHECK(segments >= 1);
    written += segments;
    if (segments == 1) {
      link::VnetHeader zero{};
      if (std::memcmp(&h, &zero, sizeof h) == 0) return;  // as given
      // An IPv4 TCP frame whose checksum the kernel finishes: TCP's field, inside
      // the frame, past the IP header.
      FUZZ_CHECK(h.flags == link::VIRTIO_NET_HDR_F_NEEDS_CSUM && h.gso_type == link::VIRTIO_NET_HDR_GSO_NONE);
      FUZZ_CHECK(h.gso_size == 0 && h.csum_offset == 16);
      FUZZ_CHECK(h.csum_start >= 14 + 20 && std::size_t{h.csum_start} + 20 <= f.size());
      FUZZ_CHECK(f[14 + 9] == 6 && base::load_be16(f, 14 + 2) == f.size() - 14);
      return;
    }
    FUZZ_CHECK(h.gso_type == link::VIRTIO_NET_HDR_GSO_TCPV4);
    FUZZ_CHECK(h.flags == link::VIRTIO_NET_HDR_F_NEEDS_CSUM);
    FUZZ_CHECK(h.gso_size > 0);
    FUZZ_CHECK(h.hdr_len < f.size());
    FUZZ_CHECK(std::size_t{h.csum_start} + h.csum_offset + 2 <= h.hdr_len);
    FUZZ_CHECK(f.size() - 14 <= 65535);
    FUZZ_CHECK(base::load_be16(f, 14 + 2) == f.size() - 14);
    FUZZ_CHECK(wire::internet_checksum(f.subspan(14, 20)) == 0);
    const std::size_t payload = f.size() - h.hdr_len;
    FUZZ_CHECK(payload > (segments - 1) * h.gso_size && payload <= segments * h.gso_size);
  }
  std::size_t written = 0;
};

void transmit(fuzz::Input& in) {
  link::TsoCoalescer c;
  Check out;
  std::size_t given = 0;
  std::vector<base::Byte> frame;
  while (!in.empty() && given < 256) {
    // A template TCP frame most of the time, so that merges happen: its bytes
    // come from the input, its sequence number follows the previous one's.
    const std::size_t len = in.u16() % 1600;
    auto b = in.bytes(len);
    frame.assign(b.begin(), b.end());
    c.add(frame, out);
    ++given;
    FUZZ_CHECK(out.written + (c.pending() ? 1 : 0) <= given);
  }
  c.flush(out);
  FUZZ_CHECK(!c.pending());
  FUZZ_CHECK(out.written == given);
}

void receive(fuzz::Input& in) {
  std::uint8_t raw[sizeof(link::VnetHeader)] = {};
  auto hb = in.bytes(sizeof raw);
  std::copy(hb.begin(), hb.end(), raw);
  link::VnetHeader h{};
  std::memcpy(static_cast<void*>(&h), raw, sizeof raw);
  auto rest = in.rest();
  std::vector<base::Byte> frame(rest.begin(), rest.end());
  const std::vector<base::Byte> before = frame;
  const link::VnetRx r = link::check_vnet_rx(h, frame);
  for (std::size_t i = 0; i < frame.size(); ++i) {
    const bool csum_field = (h.flags & link::VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
                            (i == std::size_t{h.csum_start} + h.csum_offset ||
                             i == std::size_t{h.csum_start} + h.csum_offset + 1);
    if (!csum_field) FUZZ_CHECK(frame[i] == before[i]);
  }
  if (!r.ok) return;
  if (r.gso) {
    FUZZ_CHECK(h.gso_type == link::VIRTIO_NET_HDR_GSO_TCPV4 && h.gso_size > 0);
    FUZZ_CHECK(frame.size() >= 34 && base::load_be16(frame, 12) == 0x0800 && frame[14 + 9] == 6);
  }
  testing::HandFedDevice dev{link::Medium::ethernet};
  stack::Stack st{stack::StackConfig{.seed = 7}};
  st.add_interface(dev, {"tap0", kUsMac, {kUs, 24}, std::nullopt});
  auto l = st.socket(AF_INET, SOCK_STREAM, 0);
  FUZZ_CHECK(l.ok() && st.bind(*l, {kUs, 80}).ok() && st.listen(*l, 8).ok());
  auto u = st.socket(AF_INET, SOCK_DGRAM, 0);
  FUZZ_CHECK(u.ok() && st.bind(*u, {kUs, 7}).ok());
  const base::Instant now = base::kEpoch + std::chrono::seconds(1);
  st.poll(now);
  dev.out.clear();
  dev.trusted = r.checksum_trusted;
  dev.in.push_back(frame);
  st.poll(now);
  for (const auto& f : dev.out) {
    if (f.size() < 14 || base::load_be16(f, 12) != 0x0800) continue;
    auto ip = wire::Ipv4View::parse(base::ByteSpan(f).subspan(14));
    FUZZ_CHECK(ip.ok() && ip->checksum_ok());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 70000) return 0;
  fuzz::Input in(data, size);
  if (in.u8() & 1) transmit(in);
  else receive(in);
  return 0;
}
