// Packets and options printed as packetdrill writes them, and TCP option bytes
// read as the list a script writes (NOPs and order kept, unlike wire::TcpOptions).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "script/script.h"

namespace ustack::script {

/// `S.`, `P.`, `F.`, `R`, `.`, `SEW`: flags in packetdrill's letters.
std::string format_flags(std::uint8_t flags);
/// `mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7`.
std::string format_options(const std::vector<TcpOption>& opts);
/// `[ect0]`: packetdrill's IP ECN annotation.
std::string format_ecn(IpEcn e);
/// `S. 0:0(0) ack 1 win 1000 <mss 1460,nop,wscale 7>`.
std::string format_packet(const Packet& p);

/// The options in `bytes` in order; nullopt when malformed. An EOL ends the list.
std::optional<std::vector<TcpOption>> decode_options(base::ByteSpan bytes);
/// The bytes of `opts` in order, padded to a multiple of 4 with EOL.
std::vector<base::Byte> encode_options(const std::vector<TcpOption>& opts);

}  // namespace ustack::script
