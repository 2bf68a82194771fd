// Stream-socket calls of the Stack. TCP itself is being built (issue 3): until
// then stream sockets cannot be created, so these calls only check their socket.
#include <sys/socket.h>

#include "stack/interface.h"
#include "stack/stack.h"

namespace ustack::stack {

Status Stack::listen(SocketId id, int) {
  if (!entry(id)) return Errc::bad_descriptor;
  return Errc::op_not_supported;  // listen(2) on a datagram socket: EOPNOTSUPP
}

base::Result<SocketId> Stack::accept(SocketId listener, base::Endpoint*) {
  if (!entry(listener)) return Errc::bad_descriptor;
  return Errc::op_not_supported;
}

Status Stack::set_linger(SocketId id, bool, int) {
  if (!entry(id)) return Errc::bad_descriptor;
  return {};  // no effect on datagram sockets, as on Linux
}

base::Result<std::pair<bool, int>> Stack::get_linger(SocketId id) {
  if (!entry(id)) return Errc::bad_descriptor;
  return std::pair<bool, int>{false, 0};
}

}  // namespace ustack::stack
