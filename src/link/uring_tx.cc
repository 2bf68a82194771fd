// UringTx: a TxBatch written with one io_uring submission.
#include "link/uring_tx.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#ifdef USTACK_HAVE_LIBURING
#include <liburing.h>
#endif

namespace ustack::link {

#ifdef USTACK_HAVE_LIBURING
struct UringTx::Ring {
  io_uring ring{};
};
bool UringTx::built_in() { return true; }
#else
struct UringTx::Ring {};
bool UringTx::built_in() { return false; }
#endif

UringTx::UringTx(int fd, std::unique_ptr<Ring> ring) : fd_(fd), ring_(std::move(ring)) {}

UringTx::~UringTx() {
#ifdef USTACK_HAVE_LIBURING
  if (ring_) io_uring_queue_exit(&ring_->ring);
#endif
}

std::unique_ptr<UringTx> UringTx::open(int fd, unsigned depth, std::string* why) {
#ifdef USTACK_HAVE_LIBURING
  auto r = std::make_unique<Ring>();
  const int err = io_uring_queue_init(depth, &r->ring, 0);
  if (err < 0) {
    if (why) {
      *why = fmt::format("io_uring_setup: {}{}", std::strerror(-err),
                         -err == EPERM ? " (kernel.io_uring_disabled, or a seccomp filter)"
                         : -err == ENOSYS ? " (kernel without io_uring, or a seccomp filter)"
                                          : "");
    }
    return nullptr;
  }
  return std::unique_ptr<UringTx>(new UringTx(fd, std::move(r)));
#else
  (void)fd;
  (void)depth;
  if (why) *why = "built without liburing (apt-get install liburing-dev, then configure again)";
  return nullptr;
#endif
}

UringTx::Done UringTx::submit_raw(const TxBatch& batch) {
  Done d;
  ok_.assign(batch.size(), 0);
  if (batch.empty()) return d;
  if (!broken_.empty()) {
    d.failed = batch.size();
    return d;
  }
#ifdef USTACK_HAVE_LIBURING
  io_uring* ring = &ring_->ring;
  std::size_t queued = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    if (!sqe) break;  // the batch is no deeper than the ring: cannot happen
    const base::ByteSpan b = batch.bytes(i);
    // Offset -1: the descriptor's own position (a TAP has none; 0 would ask for
    // a positioned write).
    io_uring_prep_write(sqe, fd_, b.data(), static_cast<unsigned>(b.size()), static_cast<__u64>(-1));
    io_uring_sqe_set_data64(sqe, i);
    ++queued;
  }
  int ret;
  do {
    ++d.enters;
    ret = io_uring_submit_and_wait(ring, static_cast<unsigned>(queued));
  } while (ret == -EINTR);
  if (ret < 0) {
    broken_ = fmt::format("io_uring_enter: {}", std::strerror(-ret));
    d.failed = batch.size();
    return d;
  }
  std::size_t reaped = 0;
  while (reaped < static_cast<std::size_t>(ret)) {
    io_uring_cqe* cqe = nullptr;
    int w = io_uring_wait_cqe(ring, &cqe);
    if (w == -EINTR) continue;
    if (w < 0 || !cqe) {
      broken_ = fmt::format("io_uring_wait_cqe: {}", std::strerror(-w));
      break;
    }
    const auto i = static_cast<std::size_t>(io_uring_cqe_get_data64(cqe));
    if (i < batch.size() && cqe->res >= 0 && static_cast<std::size_t>(cqe->res) == batch.bytes(i).size()) {
      ok_[i] = 1;
      ++d.written;
      d.bytes += batch.bytes(i).size();
    }
    io_uring_cqe_seen(ring, cqe);
    ++reaped;
  }
  d.failed = batch.size() - d.written;
#endif
  return d;
}

}  // namespace ustack::link
