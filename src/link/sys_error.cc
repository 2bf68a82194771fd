// Mapping of errno values from system calls onto base::Errc.
#include "link/sys_error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace ustack::link {

base::Errc errc_from_errno(int err) {
  using base::Errc;
  switch (err) {
    case ENODEV:
    case ENXIO:
    case ENOENT: return Errc::no_device;
    case EACCES: return Errc::access;
    case EPERM: return Errc::permission;
    case EINVAL: return Errc::invalid;
    case ENOMEM: return Errc::no_memory;
    case ENOBUFS: return Errc::no_buffers;
    case EMFILE:
    case ENFILE: return Errc::too_many_files;
    case EAGAIN: return Errc::would_block;
    case EINTR: return Errc::interrupted;
    case EMSGSIZE: return Errc::message_size;
    default: return Errc::io;
  }
}

base::Errc fail_with_errno(std::string* why, const std::string& what, int err) {
  if (why) *why = fmt::format("{}: {}", what, std::strerror(err));
  return errc_from_errno(err);
}

}  // namespace ustack::link
