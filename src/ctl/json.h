// The JSON pieces of a Snapshot (docs/ctl-protocol.md), for snapshot.cc and the
// renderers' --json forms, which print a filtered part of the same document.
#pragma once

#include <nlohmann/json.hpp>

#include "ctl/snapshot.h"

namespace ustack::ctl {

nlohmann::ordered_json socket_json(const stack::SocketInfo& s);
nlohmann::ordered_json counters_json(const Snapshot& s);
nlohmann::ordered_json neighbour_json(const ip::ArpEntryInfo& n);
nlohmann::ordered_json route_json(const ip::Route& r);
nlohmann::ordered_json interface_json(const stack::InterfaceInfo& i);
nlohmann::ordered_json snapshot_json(const Snapshot& s);

}  // namespace ustack::ctl
