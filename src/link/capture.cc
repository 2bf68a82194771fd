// Live capture: filters compiled by libpcap, bounded per-reader queues of pcap
// records, and the device wrapper that feeds them.
#include "link/capture.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstring>

namespace ustack::link {

struct CaptureFilter::Program {
  bpf_program bpf{};
  ~Program() { pcap_freecode(&bpf); }
};

base::Result<CaptureFilter, std::string> CaptureFilter::compile(std::string_view expr, LinkType type) {
  CaptureFilter f;
  f.expr_ = std::string(expr);
  if (expr.find_first_not_of(" \t") == std::string_view::npos) return f;  // no filter: everything
  // libpcap compiles for a DLT_ value, which is not always the file's LINKTYPE_ value.
  const int dlt = type == LinkType::ethernet ? DLT_EN10MB : DLT_RAW;
  pcap_t* dead = pcap_open_dead(dlt, static_cast<int>(kPcapSnapLen));
  if (dead == nullptr) return std::string("libpcap: cannot open a compiler");
  auto program = std::make_shared<Program>();
  const int rc = pcap_compile(dead, &program->bpf, f.expr_.c_str(), 1, PCAP_NETMASK_UNKNOWN);
  std::string why = rc == 0 ? "" : pcap_geterr(dead);
  pcap_close(dead);
  if (rc != 0) return "bad filter '" + f.expr_ + "': " + why;
  f.program_ = std::move(program);
  return f;
}

bool CaptureFilter::matches(base::ByteSpan frame) const {
  if (!program_) return true;
  pcap_pkthdr h{};
  h.len = static_cast<bpf_u_int32>(frame.size());
  h.caplen = static_cast<bpf_u_int32>(std::min<std::size_t>(frame.size(), kPcapSnapLen));
  return pcap_offline_filter(&program_->bpf, &h, frame.data()) != 0;
}

std::string CaptureSubscription::take() {
  std::lock_guard lock(mu_);
  std::string out;
  out.swap(queued_);
  return out;
}

std::shared_ptr<CaptureSubscription> CaptureHub::subscribe(CaptureFilter filter, std::function<void()> notify,
                                                           std::size_t max_queued) {
  std::shared_ptr<CaptureSubscription> sub(new CaptureSubscription(std::move(filter), max_queued, std::move(notify)));
  const auto header = pcap_global_header(type_);
  sub->queued_.assign(reinterpret_cast<const char*>(header.data()), header.size());
  std::lock_guard lock(mu_);
  std::erase_if(subs_, [](const auto& w) { return w.expired(); });
  subs_.push_back(sub);
  active_.store(true, std::memory_order_release);
  return sub;
}

std::size_t CaptureHub::subscribers() const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(std::count_if(subs_.begin(), subs_.end(), [](const auto& w) { return !w.expired(); }));
}

void CaptureHub::record(base::Instant at, base::ByteSpan frame) {
  if (!active_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(mu_);
  bool any = false;
  for (const auto& weak : subs_) {
    const std::shared_ptr<CaptureSubscription> sub = weak.lock();
    if (!sub) continue;
    any = true;
    if (!sub->filter_.matches(frame)) continue;
    const auto header = pcap_record_header(wall_at_epoch_, at, frame.size());
    const std::size_t caplen = std::min<std::size_t>(frame.size(), kPcapSnapLen);
    bool was_empty = false;
    {
      std::lock_guard qlock(sub->mu_);
      if (sub->queued_.size() + header.size() + caplen > sub->max_queued_) {
        sub->dropped_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      was_empty = sub->queued_.empty();
      sub->queued_.append(reinterpret_cast<const char*>(header.data()), header.size());
      sub->queued_.append(reinterpret_cast<const char*>(frame.data()), caplen);
    }
    sub->captured_.fetch_add(1, std::memory_order_relaxed);
    if (was_empty && sub->notify_) sub->notify_();
  }
  if (!any) {
    subs_.clear();
    active_.store(false, std::memory_order_release);
  }
}

std::optional<std::size_t> CaptureDevice::receive(base::Instant now, base::MutByteSpan buf) {
  const std::optional<std::size_t> n = inner().receive(now, buf);
  if (n) hub_->record(now, buf.first(*n));
  return n;
}

bool CaptureDevice::transmit(base::Instant now, base::ByteSpan frame) {
  hub_->record(now, frame);
  return inner().transmit(now, frame);
}

}  // namespace ustack::link
