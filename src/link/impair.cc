// The impairing device wrapper: per-direction pipelines of loss, duplication,
// corruption, rate limit, delay with jitter and reordering, released by time.
#include <algorithm>
#include <cstring>

#include "link/impair.h"

namespace ustack::link {
namespace {

constexpr std::size_t kEthHeaderLen = 14;

std::optional<base::Instant> earliest(std::optional<base::Instant> a, std::optional<base::Instant> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

}  // namespace

ImpairedDevice::ImpairedDevice(Device& inner, const ImpairSpec& spec)
    : inner_(&inner), spec_(spec), rng_(spec.seed), scratch_(inner.mtu() + 64) {}

ImpairedDevice::ImpairedDevice(std::unique_ptr<Device> inner, const ImpairSpec& spec)
    : ImpairedDevice(*inner, spec) {
  owned_ = std::move(inner);
}

bool ImpairedDevice::admit(Direction& d, base::Instant now, base::ByteSpan frame) {
  if (rng_.chance(spec_.loss)) {
    ++d.counters.dropped;
    return true;
  }
  const bool duplicate = rng_.chance(spec_.dup);
  if (duplicate) ++d.counters.duplicated;
  bool accepted = true;
  for (int copy = 0; copy < (duplicate ? 2 : 1); ++copy) {
    std::vector<base::Byte> bytes(frame.begin(), frame.end());
    if (!bytes.empty() && rng_.chance(spec_.corrupt)) {
      const std::size_t start =
          (medium() == Medium::ethernet && bytes.size() > kEthHeaderLen) ? kEthHeaderLen : 0;
      const std::uint64_t bit = rng_.below((bytes.size() - start) * 8);
      bytes[start + bit / 8] ^= static_cast<base::Byte>(1u << (bit % 8));
      ++d.counters.corrupted;
    }
    if (!enqueue(d, now, std::move(bytes)) && copy == 0) accepted = false;
  }
  return accepted;
}

bool ImpairedDevice::enqueue(Direction& d, base::Instant now, std::vector<base::Byte> bytes) {
  release_held_back(d, now);
  if (d.queue.size() >= kQueueLimit) {
    ++d.counters.overflow;
    return false;
  }
  // Rate: the frame starts when the previous one has been serialized.
  base::Instant finish = now;
  if (spec_.rate_bps > 0) {
    const std::uint64_t ns = (std::uint64_t{bytes.size()} * 8 * 1'000'000'000ULL + spec_.rate_bps - 1) /
                             spec_.rate_bps;
    finish = std::max(now, d.busy_until) + base::Duration{static_cast<std::int64_t>(ns)};
    d.busy_until = finish;
  }
  base::Instant due = finish + spec_.delay;
  if (spec_.jitter.count() > 0) {
    const std::int64_t j = spec_.jitter.count();
    const auto offset = static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(2 * j + 1))) - j;
    due = std::max(due + base::Duration{offset}, finish);
  }
  due = std::max(due, d.last_due);  // jitter alone never reorders
  d.last_due = due;

  Held h{due, std::move(bytes)};
  if (d.held_back) {
    // This frame overtakes the one held back, which follows right behind it.
    Held back = std::move(*d.held_back);
    d.held_back.reset();
    back.due = due;
    insert_sorted(d, std::move(h));
    insert_sorted(d, std::move(back));
    ++d.counters.reordered;
    return true;
  }
  if (rng_.chance(spec_.reorder)) {
    h.due = due + kReorderHoldMax;
    d.held_back = std::move(h);
    return true;
  }
  insert_sorted(d, std::move(h));
  return true;
}

void ImpairedDevice::insert_sorted(Direction& d, Held h) {
  auto pos = std::upper_bound(d.queue.begin(), d.queue.end(), h.due,
                              [](base::Instant t, const Held& x) { return t < x.due; });
  d.queue.insert(pos, std::move(h));
}

void ImpairedDevice::release_held_back(Direction& d, base::Instant now) {
  if (d.held_back && d.held_back->due <= now) {
    // Nothing overtook it in time: it goes out late but in order.
    d.last_due = std::max(d.last_due, d.held_back->due);
    insert_sorted(d, std::move(*d.held_back));
    d.held_back.reset();
  }
}

void ImpairedDevice::flush_outbound(base::Instant now) {
  release_held_back(out_, now);
  while (!out_.queue.empty() && out_.queue.front().due <= now) {
    Held h = std::move(out_.queue.front());
    out_.queue.pop_front();
    inner_->transmit(h.due, h.bytes);
  }
}

void ImpairedDevice::pull_inbound(base::Instant now) {
  for (std::size_t i = 0; i < kPullBatch; ++i) {
    const std::optional<std::size_t> n = inner_->receive(now, scratch_);
    if (!n) break;
    if (!admit(in_, now, base::ByteSpan(scratch_.data(), *n))) ++stats_.rx_dropped;
  }
}

bool ImpairedDevice::transmit(base::Instant now, base::ByteSpan frame) {
  flush_outbound(now);
  if (!admit(out_, now, frame)) {
    ++stats_.tx_dropped;
    return false;
  }
  ++stats_.tx_frames;
  stats_.tx_bytes += frame.size();
  flush_outbound(now);  // without delay or rate the frame leaves at once
  return true;
}

std::optional<std::size_t> ImpairedDevice::receive(base::Instant now, base::MutByteSpan buf) {
  flush_outbound(now);
  release_held_back(in_, now);
  // Pull from the inner device only when no frame is due: frames left waiting in
  // the inner device (the kernel's TAP queue) stay there, bounded by it, instead of
  // moving into the hold queue as fast as the stack asks for one frame. Pulling a
  // batch per call made the hold queue grow to kQueueLimit behind a fast sender,
  // and its overflow then dropped every frame, retransmissions included, far beyond
  // the configured loss (interop test 20: one hole re-sent 15 times in 7 ms).
  if (in_.queue.empty() || in_.queue.front().due > now) {
    pull_inbound(now);
    release_held_back(in_, now);
  }
  while (!in_.queue.empty() && in_.queue.front().due <= now) {
    Held h = std::move(in_.queue.front());
    in_.queue.pop_front();
    if (h.bytes.size() > buf.size()) {
      ++stats_.rx_dropped;
      continue;
    }
    if (!h.bytes.empty()) std::memcpy(buf.data(), h.bytes.data(), h.bytes.size());
    ++stats_.rx_frames;
    stats_.rx_bytes += h.bytes.size();
    return h.bytes.size();
  }
  return std::nullopt;
}

std::optional<base::Instant> ImpairedDevice::next_deadline() const {
  std::optional<base::Instant> t = inner_->next_deadline();
  for (const Direction* d : {&out_, &in_}) {
    if (!d->queue.empty()) t = earliest(t, d->queue.front().due);
    if (d->held_back) t = earliest(t, d->held_back->due);
  }
  return t;
}

}  // namespace ustack::link
