// Batched frame writes through io_uring (Debian's liburing): the frames of a
// TxBatch go to the kernel in one io_uring_enter() instead of one write() each
// (../shared/PERF.md: a TAP write() costs ~2.2 µs per frame, io_uring with 64
// writes per enter ~1.0 µs). Built without liburing, or where the kernel or a
// seccomp filter refuses io_uring (ENOSYS, EPERM, kernel.io_uring_disabled),
// open() fails and says why: FdDevice then writes one frame per write().
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "link/tx_batch.h"

namespace ustack::link {

class UringTx {
 public:
  /// True when this build has liburing (USTACK_HAVE_LIBURING).
  static bool built_in();
  /// A ring of `depth` entries writing to `fd`; nullptr with `why` set where
  /// io_uring is unavailable.
  static std::unique_ptr<UringTx> open(int fd, unsigned depth, std::string* why);
  ~UringTx();
  UringTx(const UringTx&) = delete;
  UringTx& operator=(const UringTx&) = delete;

  struct Done {
    std::size_t written = 0;   // frames written whole
    std::size_t failed = 0;    // frames refused or written short
    std::size_t bytes = 0;     // bytes of the frames written, prefixes included
    std::size_t enters = 0;    // io_uring_enter() calls it took (1 unless interrupted)
  };
  /// Writes every frame of `batch` in order with one submission, waits for all of
  /// their completions (a TAP write completes inline: nothing is left in flight,
  /// so the batch's slots may be reused at once), and reports per frame through
  /// `on_frame(i, ok)`. A ring that fails as a whole (-errno from the enter) is
  /// reported by broken() and counts every frame as failed.
  template <class F>
  Done submit(const TxBatch& batch, F&& on_frame) {
    Done d = submit_raw(batch);
    for (std::size_t i = 0; i < batch.size(); ++i) on_frame(i, ok_[i] != 0);
    return d;
  }
  /// Why the ring stopped working, or empty.
  const std::string& broken() const { return broken_; }

 private:
  struct Ring;
  UringTx(int fd, std::unique_ptr<Ring> ring);
  Done submit_raw(const TxBatch& batch);
  int fd_;
  std::unique_ptr<Ring> ring_;
  std::vector<unsigned char> ok_;
  std::string broken_;
};

}  // namespace ustack::link
