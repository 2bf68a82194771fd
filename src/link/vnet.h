// TAP offloads (IFF_VNET_HDR): the virtio-net header that precedes each frame,
// checked on the way in (GRO super-frames and partial checksums from the
// kernel), and TCP segments coalesced into TSO super-frames on the way out.
// Pure: no descriptors, no clock; FdDevice does the I/O (docs/performance.md,
// "TAP offloads").
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/bytes.h"

namespace ustack::link {

/// struct virtio_net_hdr of <linux/virtio_net.h> (which C++ cannot include: a
/// field there is named `class`): the header the TAP reads and writes before
/// every frame (TUNSETVNETHDRSZ is set to its size, 10 bytes). Legacy virtio byte
/// order: the host's (little-endian here).
struct VnetHeader {
  std::uint8_t flags = 0;
  std::uint8_t gso_type = 0;
  std::uint16_t hdr_len = 0;      // Ethernet + IP + TCP headers of a super-frame
  std::uint16_t gso_size = 0;     // payload bytes of each segment it splits into
  std::uint16_t csum_start = 0;   // where the checksummed part begins (from the frame's start)
  std::uint16_t csum_offset = 0;  // where, from csum_start, the checksum goes
};
inline constexpr std::size_t kVnetHeaderLen = sizeof(VnetHeader);
static_assert(kVnetHeaderLen == 10);
// Values of <linux/virtio_net.h>.
inline constexpr std::uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
inline constexpr std::uint8_t VIRTIO_NET_HDR_F_DATA_VALID = 2;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_NONE = 0;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_TCPV4 = 1;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_UDP = 3;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_TCPV6 = 4;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_ECN = 0x80;

/// What check_vnet_rx() made of a received frame.
struct VnetRx {
  bool ok = false;                // false: drop it (counted), `why` says why
  bool checksum_trusted = false;  // the TCP/UDP checksum must not be verified (partial or already checked)
  bool gso = false;               // a super-frame: one TCP segment longer than the MTU allows
  const char* why = "";
};

/// Checks the vnet header of an Ethernet frame the kernel handed over, as hostile
/// input: unknown flags, a GSO type we did not negotiate (anything but TCPV4), a
/// GSO frame that is not one IPv4 TCP segment, a checksum offset outside the frame
/// are refused. VIRTIO_NET_HDR_F_NEEDS_CSUM on TCP or UDP (the field holds only the
/// pseudo-header sum) and VIRTIO_NET_HDR_F_DATA_VALID give a trusted checksum; a
/// partial checksum anywhere else is completed in place (as a NIC would), so the
/// stack verifies it as usual.
VnetRx check_vnet_rx(const VnetHeader& h, base::MutByteSpan frame);

/// Where the coalescer's output goes: a vnet header and the frame behind it.
class VnetFrameSink {
 public:
  virtual ~VnetFrameSink() = default;
  /// `segments` is 1 for a frame sent as it was given, or the number of TCP
  /// segments a super-frame holds.
  virtual void write_frame(const VnetHeader& h, base::ByteSpan frame, std::size_t segments) = 0;
};

/// Merges consecutive TCP segments of one flow, given as Ethernet frames, into
/// one TSO super-frame (VIRTIO_NET_HDR_GSO_TCPV4, gso_size = the first segment's
/// payload, partial checksum) that the kernel takes whole (or splits back, when it
/// forwards it). Strict: segment B joins the pending frame only when
///  - both are IPv4 (no options, not fragments) TCP with payload and flags ACK or
///    ACK|PSH, and the pending frame has no PSH yet;
///  - their Ethernet, IP (but total length, id and checksum) and TCP headers (but
///    sequence number, PSH and checksum) are identical: same 4-tuple, ACK, window,
///    options (timestamps included), TTL, TOS and ECN;
///  - B starts where the pending frame's data ends, every segment so far carried
///    exactly gso_size bytes and B no more;
///  - the result stays within one IPv4 datagram (65535 bytes).
/// Anything else flushes the pending frame first; frames that are no candidate
/// at all leave at once. The super-frame carries the last segment's PSH, the IP
/// total length of the whole and a fresh IP checksum.
///
/// Every IPv4 TCP frame written (not a fragment), super-frame, lone segment or no
/// candidate (SYN, FIN, a pure ACK), has the pseudo-header sum in its TCP checksum
/// field and VIRTIO_NET_HDR_F_NEEDS_CSUM (csum_start at the TCP header,
/// csum_offset 16): the kernel finishes it. So the stack may hand over TCP
/// segments whose checksum is partial, and never reads a payload to sum it
/// (Device::tx_checksum_offload). Other frames leave as given, with a zeroed header.
class TsoCoalescer {
 public:
  static constexpr std::size_t kMaxFrame = 14 + 65535;

  /// Takes one frame; may write the pending frame and/or this one to `out`.
  void add(base::ByteSpan frame, VnetFrameSink& out);
  /// Writes the pending frame, if any.
  void flush(VnetFrameSink& out);
  bool pending() const { return segments_ > 0; }

 private:
  /// Writes `frame` (mutable: its TCP checksum field may be rewritten) alone: an
  /// IPv4 TCP frame with NEEDS_CSUM and the pseudo-header sum, else as given.
  static void write_single(base::MutByteSpan frame, VnetFrameSink& out);
  /// The length of an IPv4 TCP frame (not a fragment) without Ethernet padding,
  /// or 0 for any other frame.
  static std::size_t tcp_frame_len(base::ByteSpan frame);
  struct Candidate {
    std::size_t hdr_len = 0;      // Ethernet + IP + TCP headers
    std::size_t payload_len = 0;
    std::uint32_t seq = 0;
    bool psh = false;
  };
  static bool candidate(base::ByteSpan frame, Candidate* c);
  bool joins(base::ByteSpan frame, const Candidate& c) const;
  void start(base::ByteSpan frame, const Candidate& c);

  std::vector<base::Byte> buf_;   // the pending frame: first segment's headers, then all payload
  std::vector<base::Byte> single_;  // a TCP frame that is no candidate, copied to finish its header
  std::size_t len_ = 0;
  std::size_t hdr_len_ = 0;
  std::size_t gso_size_ = 0;
  std::size_t last_payload_ = 0;
  std::uint32_t next_seq_ = 0;
  std::size_t segments_ = 0;
  bool closed_ = false;           // the last segment had PSH: nothing more joins
};

}  // namespace ustack::link
