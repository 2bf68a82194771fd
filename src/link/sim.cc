// The simulated network: channels (queue, serializer, delay), ports, learning switches.
#include "link/sim.h"

#include <algorithm>
#include <cstring>

namespace ustack::link {
namespace {

constexpr std::size_t kEthHeaderLen = 14;

template <class T>
void heap_push(std::vector<T>& heap, T value) {
  heap.push_back(std::move(value));
  std::push_heap(heap.begin(), heap.end(), std::greater<>{});
}

template <class T>
T heap_pop(std::vector<T>& heap) {
  std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
  T top = std::move(heap.back());
  heap.pop_back();
  return top;
}

std::optional<base::Instant> earliest(std::optional<base::Instant> a, std::optional<base::Instant> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

base::MacAddr mac_at(base::ByteSpan frame, std::size_t off) {
  std::array<std::uint8_t, 6> b{};
  std::memcpy(b.data(), frame.data() + off, 6);
  return base::MacAddr(b);
}

}  // namespace

// ---- SimChannel ----

base::Duration SimChannel::serialization_time(std::size_t bytes) const {
  if (params_.rate_bps == 0) return base::Duration{0};
  const std::uint64_t bits_ns = std::uint64_t{bytes} * 8 * 1'000'000'000ULL;
  return base::Duration{static_cast<std::int64_t>((bits_ns + params_.rate_bps - 1) / params_.rate_bps)};
}

namespace {
/// Marks an ECT IPv4 packet in an Ethernet frame CE (RFC 3168 5) and fixes the
/// header checksum (RFC 1624 incremental update); false when the frame is not
/// an ECN-capable IPv4 packet.
bool mark_ce(base::MutByteSpan frame) {
  constexpr std::size_t ip = kEthHeaderLen;
  if (frame.size() < ip + 20 || frame[12] != 0x08 || frame[13] != 0x00 || (frame[ip] >> 4) != 4) return false;
  const std::uint8_t tos = frame[ip + 1];
  if ((tos & 3) == 0) return false;  // Not-ECT
  if ((tos & 3) == 3) return true;   // already CE
  const std::uint16_t old_word = base::load_be16(frame, ip);
  frame[ip + 1] = static_cast<base::Byte>(tos | 3);
  const std::uint16_t new_word = base::load_be16(frame, ip);
  // RFC 1624 eq. 3: HC' = ~(~HC + ~m + m').
  std::uint32_t sum = static_cast<std::uint16_t>(~base::load_be16(frame, ip + 10));
  sum += static_cast<std::uint16_t>(~old_word);
  sum += new_word;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  base::store_be16(frame, ip + 10, static_cast<std::uint16_t>(~sum));
  return true;
}
}  // namespace

std::optional<base::Instant> SimChannel::offer(base::Instant now, base::MutByteSpan frame) {
  const std::size_t bytes = frame.size();
  while (!finish_times_.empty() && finish_times_.front() <= now) finish_times_.pop_front();
  if (params_.queue_limit != 0 && finish_times_.size() >= params_.queue_limit) {
    ++stats_.queue_drops;
    return std::nullopt;
  }
  if (params_.ecn_mark_threshold != 0 && finish_times_.size() >= params_.ecn_mark_threshold) {
    if (!mark_ce(frame)) {
      ++stats_.queue_drops;
      return std::nullopt;
    }
    ++stats_.ce_marks;
  }
  const base::Instant finish = std::max(now, busy_until_) + serialization_time(bytes);
  busy_until_ = finish;
  if (finish > now) finish_times_.push_back(finish);
  ++stats_.frames;
  stats_.bytes += bytes;
  return finish + params_.delay;
}

// ---- SimPort ----

void SimPort::deliver(base::Instant due, base::PacketBuf bytes) {
  heap_push(inbox_, Arrival{due, net_->next_seq(), std::move(bytes)});
}

std::optional<std::size_t> SimPort::receive(base::Instant now, base::MutByteSpan buf) {
  auto frame = receive_buf(now, buf.size());
  if (!frame) return std::nullopt;
  std::memcpy(buf.data(), frame->data().data(), frame->size());
  return frame->size();
}

std::optional<base::PacketBuf> SimPort::receive_buf(base::Instant now, std::size_t max_len) {
  net_->advance(now);
  while (!inbox_.empty() && inbox_.front().due <= now) {
    Arrival a = heap_pop(inbox_);
    if (a.bytes.size() > max_len) {
      ++stats_.rx_dropped;
      continue;
    }
    ++stats_.rx_frames;
    stats_.rx_bytes += a.bytes.size();
    return std::move(a.bytes);
  }
  return std::nullopt;
}

bool SimPort::transmit(base::Instant now, base::ByteSpan frame) {
  if (out_ == nullptr || frame.size() < kEthHeaderLen || frame.size() > mtu_ + kEthHeaderLen) {
    net_->advance(now);
    ++stats_.tx_dropped;
    return false;
  }
  return transmit_buf(now, base::PacketBuf::copy_of(frame, 0));
}

bool SimPort::transmit_buf(base::Instant now, base::PacketBuf&& frame) {
  net_->advance(now);
  const std::size_t size = frame.size();
  if (out_ == nullptr || size < kEthHeaderLen || size > mtu_ + kEthHeaderLen) {
    ++stats_.tx_dropped;
    return false;
  }
  const std::optional<base::Instant> arrival = out_->offer(now, frame.data());
  if (!arrival) {
    ++stats_.tx_dropped;
    return false;
  }
  ++stats_.tx_frames;
  stats_.tx_bytes += size;
  if (peer_ != nullptr) {
    peer_->deliver(*arrival, std::move(frame));
  } else {
    heap_push(net_->switch_events_,
              SimNetwork::SwitchEvent{*arrival, net_->next_seq(), switch_, switch_port_, std::move(frame)});
  }
  return true;
}

bool SimPort::tx_checksum_offload() const {
  return peer_ != nullptr && out_ != nullptr && out_->params().checksum_offload;
}

bool SimPort::rx_checksum_trusted() const {
  return peer_ != nullptr && peer_->out_ != nullptr && peer_->out_->params().checksum_offload;
}

std::optional<base::Instant> SimPort::next_deadline() const {
  std::optional<base::Instant> mine;
  if (!inbox_.empty()) mine = inbox_.front().due;
  return earliest(mine, net_->next_switch_event());
}

// ---- SimSwitch ----

std::optional<std::size_t> SimSwitch::lookup(const base::MacAddr& mac) const {
  auto it = table_.find(mac);
  if (it == table_.end()) return std::nullopt;
  return it->second;
}

void SimSwitch::forward(base::Instant at, std::size_t ingress, base::PacketBuf frame) {
  ++stats_.received;
  if (frame.size() < kEthHeaderLen) {
    ++stats_.malformed;
    return;
  }
  const base::MacAddr dst = mac_at(frame.data(), 0);
  const base::MacAddr src = mac_at(frame.data(), 6);
  if (!src.is_multicast()) table_[src] = ingress;

  auto send = [&](std::size_t port, base::PacketBuf bytes) {
    if (auto due = egress_[port].channel->offer(at, bytes.data())) {
      egress_[port].port->deliver(*due, std::move(bytes));
    }
  };
  if (!dst.is_multicast()) {
    if (auto learned = lookup(dst)) {
      if (*learned == ingress) {
        ++stats_.filtered;
      } else {
        ++stats_.forwarded;
        send(*learned, std::move(frame));
      }
      return;
    }
  }
  ++stats_.flooded;
  for (std::size_t port = 0; port < egress_.size(); ++port) {
    if (port != ingress) send(port, frame);
  }
}

// ---- SimNetwork ----

SimNetwork::~SimNetwork() = default;

SimPort& SimNetwork::add_port(std::string name, std::size_t mtu) {
  ports_.push_back(std::make_unique<SimPort>(*this, std::move(name), mtu));
  return *ports_.back();
}

SimSwitch& SimNetwork::add_switch(std::string name) {
  switches_.push_back(std::make_unique<SimSwitch>(*this, std::move(name)));
  return *switches_.back();
}

SimChannel* SimNetwork::make_channel(LinkParams p) {
  channels_.push_back(std::make_unique<SimChannel>(p));
  return channels_.back().get();
}

base::Status SimNetwork::connect(SimPort& a, SimPort& b, LinkParams ab, LinkParams ba) {
  if (&a == &b || a.net_ != this || b.net_ != this) return base::Errc::invalid;
  if (a.attached() || b.attached()) return base::Errc::is_connected;
  a.out_ = make_channel(ab);
  a.peer_ = &b;
  b.out_ = make_channel(ba);
  b.peer_ = &a;
  return {};
}

base::Status SimNetwork::attach(SimSwitch& sw, SimPort& port, LinkParams params) {
  if (port.net_ != this || sw.net_ != this) return base::Errc::invalid;
  if (port.attached()) return base::Errc::is_connected;
  port.out_ = make_channel(params);
  port.switch_ = &sw;
  port.switch_port_ = sw.egress_.size();
  sw.egress_.push_back({&port, make_channel(params)});
  return {};
}

void SimNetwork::advance(base::Instant now) {
  while (!switch_events_.empty() && switch_events_.front().at <= now) {
    SwitchEvent ev = heap_pop(switch_events_);
    ev.sw->forward(ev.at, ev.ingress, std::move(ev.bytes));
  }
}

std::optional<base::Instant> SimNetwork::next_switch_event() const {
  if (switch_events_.empty()) return std::nullopt;
  return switch_events_.front().at;
}

std::optional<base::Instant> SimNetwork::next_deadline() const {
  std::optional<base::Instant> t = next_switch_event();
  for (const auto& port : ports_) {
    if (!port->inbox_.empty()) t = earliest(t, port->inbox_.front().due);
  }
  return t;
}

}  // namespace ustack::link
