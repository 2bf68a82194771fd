// Mapping of errno values from system calls (open, ioctl, read) onto base::Errc.
#pragma once

#include <string>

#include "base/result.h"

namespace ustack::link {

/// The closest Errc for an errno; io for those without a counterpart.
base::Errc errc_from_errno(int err);

/// Stores "what: strerror(err)" in *why when why is not null; returns errc_from_errno(err).
base::Errc fail_with_errno(std::string* why, const std::string& what, int err);

}  // namespace ustack::link
