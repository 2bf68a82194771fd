// BBR v1: see cc_bbr.h. Function by function as Linux's tcp_bbr.c (named in the
// comments), in bytes rather than packets.
#include "tcp/cc_bbr.h"

#include <algorithm>
#include <cmath>

namespace ustack::tcp {

namespace {
constexpr std::uint32_t kHeaderBytes = 40;  // IP and TCP headers: the connection paces what the wire carries
}  // namespace

double WindowedMax::update(std::uint64_t window, std::uint64_t t, double v) {
  // lib/minmax.c minmax_running_max: a new best, or nothing left in the window,
  // starts over.
  const Sample val{t, v};
  if (v >= s_[0].v || t - s_[2].t > window) {
    s_.fill(val);
    return v;
  }
  if (v >= s_[1].v) s_[2] = s_[1] = val;
  else if (v >= s_[2].v) s_[2] = val;
  // minmax_subwin_update: "As time advances, update the 1st, 2nd, and 3rd choices".
  const std::uint64_t dt = t - s_[0].t;
  if (dt > window) {
    s_[0] = s_[1];
    s_[1] = s_[2];
    s_[2] = val;
    if (t - s_[0].t > window) {
      s_[0] = s_[1];
      s_[1] = s_[2];
      s_[2] = val;
    }
  } else if (s_[1].t == s_[0].t && dt > window / 4) {
    // "We've passed a quarter of the window without a new best: take a 2nd choice."
    s_[2] = s_[1] = val;
  } else if (s_[2].t == s_[1].t && dt > window / 2) {
    s_[2] = val;
  }
  return s_[0].v;
}

void Bbr::init(std::uint32_t initial_cwnd_segments, std::uint32_t smss, base::Instant now) {
  CongestionControl::init(initial_cwnd_segments, smss, now);
  initial_cwnd_ = cwnd_;
  reset_model(now);
}

void Bbr::adopt(std::uint32_t cwnd, std::uint32_t, std::uint32_t smss, base::Instant now) {
  // Linux runs the new algorithm's init() on the open connection: the model
  // starts empty from the window the other left.
  smss_ = smss;
  cwnd_ = cwnd;
  initial_cwnd_ = 10 * smss;  // TCP_INIT_CWND
  reset_model(now);
}

void Bbr::reset_model(base::Instant now) {
  // bbr_init.
  ssthresh_ = kInfiniteSsthresh;
  prior_cwnd_ = 0;
  round_count_ = 0;
  next_rtt_delivered_ = 0;
  prev_ca_state_ = CaState::open;
  packet_conservation_ = false;
  probe_rtt_done_.reset();
  probe_rtt_round_done_ = false;
  min_rtt_.reset();
  min_rtt_stamp_ = now;
  bw_.reset(0, 0);
  has_seen_rtt_ = false;
  round_start_ = false;
  idle_restart_ = false;
  full_bw_reached_ = false;
  full_bw_ = 0;
  full_bw_count_ = 0;
  cycle_idx_ = 0;
  cycle_stamp_ = now;
  // bbr_init_pacing_rate_from_rtt without an RTT: "nominal_bw = rtt_us ? ... : USEC_PER_MSEC".
  pacing_rate_ = rate_for(static_cast<double>(initial_cwnd_) * 1000.0, kHighGain);
  reset_startup_mode();
}

std::uint64_t Bbr::rate_for(double bw, double gain) const {
  // bbr_rate_bytes_per_sec: bw x gain, "less 1% (bbr_pacing_margin_percent)"; on
  // the wire, with headers, as the connection paces.
  const double wire = static_cast<double>(smss_ + kHeaderBytes) / static_cast<double>(std::max<std::uint32_t>(smss_, 1));
  return static_cast<std::uint64_t>(bw * gain * kPacingMargin * wire);
}

std::uint32_t Bbr::random_below(std::uint32_t n) {
  // xorshift32: enough to spread the phase; seeded per connection.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 17;
  rng_ ^= rng_ << 5;
  return rng_ % n;
}

void Bbr::reset_startup_mode() {
  mode_ = Mode::startup;
}

void Bbr::reset_probe_bw_mode(base::Instant now) {
  // bbr_reset_probe_bw_mode: "cycle_idx = CYCLE_LEN - 1 - get_random_u32_below(bbr_cycle_rand)",
  // then advanced: the first phase is any but 1 (the 0.75 drain phase).
  mode_ = Mode::probe_bw;
  cycle_idx_ = kCycleLen - 1 - random_below(kCycleRand);
  advance_cycle_phase(now);
}

void Bbr::advance_cycle_phase(base::Instant now) {
  cycle_idx_ = (cycle_idx_ + 1) % kCycleLen;
  cycle_stamp_ = now;
}

std::uint32_t Bbr::bdp(double bw, double gain) const {
  // bbr_bdp: "If we've never had a valid RTT sample, cap cwnd at the initial
  // default. This should only happen when the connection is not using TCP
  // timestamps and has retransmitted all of the SYN/SYNACK/data packets ACKed so far."
  if (!min_rtt_) return initial_cwnd_;
  const double bytes = bw * std::chrono::duration<double>(*min_rtt_).count() * gain;
  return static_cast<std::uint32_t>(std::min(std::ceil(bytes), 4e9));
}

std::uint32_t Bbr::quantization_budget(std::uint32_t cwnd) const {
  // bbr_quantization_budget: "Allow enough full-sized skbs in flight to utilize
  // end systems' CPU pipelining": 3 x the send quantum (bbr_tso_segs_goal: 1 ms at
  // the pacing rate, at least 2 segments above 1.2 Mbit/s, at most 64 KiB, as the
  // connection's pacing bursts), "ensure gain cycling gets inflight above BDP even
  // for small BDPs" (even segments), and 2 more in the 1.25 phase.
  const std::uint32_t mss = std::max<std::uint32_t>(smss_, 1);
  const std::uint32_t min_segs = pacing_rate_ < 150'000 ? 1 : 2;
  const std::uint64_t quantum =
      std::clamp<std::uint64_t>(pacing_rate_ / 1000 / mss, min_segs, std::max<std::uint32_t>(65536 / mss, min_segs));
  std::uint64_t segs = (static_cast<std::uint64_t>(cwnd) + mss - 1) / mss + 3 * quantum;
  segs = (segs + 1) & ~std::uint64_t{1};
  if (mode_ == Mode::probe_bw && cycle_idx_ == 0) segs += 2;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(segs * mss, 0xffff0000u));
}

void Bbr::on_ack(const AckEvent& ack) {
  // bbr_main: bbr_update_model, then the pacing rate and cwnd from it.
  update_bw(ack);
  update_cycle_phase(ack);
  check_full_bw_reached(ack);
  check_drain(ack);
  update_min_rtt(ack);
  update_gains();
  const double bw = max_bw();
  set_pacing_rate(bw, pacing_gain_, ack.srtt);
  set_cwnd(ack, bw, cwnd_gain_);
}

void Bbr::update_bw(const AckEvent& ack) {
  // bbr_update_bw.
  round_start_ = false;
  if (!ack.rate) return;  // "Not a valid observation"
  const RateSample& rs = *ack.rate;
  // "See if we've reached the next RTT": the segment this ACK delivered was sent
  // after the round's first was delivered.
  if (rs.prior_delivered >= next_rtt_delivered_) {
    next_rtt_delivered_ = ack.delivered_total;
    ++round_count_;
    round_start_ = true;
    packet_conservation_ = false;
  }
  const double bw = static_cast<double>(rs.delivered) / std::chrono::duration<double>(rs.interval).count();
  // "If this sample is application-limited, it is likely to have a very low
  // delivered count that represents application behavior rather than the
  // available network rate. Such a sample could drag down estimated bw, causing
  // needless slow-down. Thus, to continue to send at the last measured network
  // rate, we filter out app-limited samples unless they describe the path bw at
  // least as well as our bw model."
  if (!rs.app_limited || bw >= max_bw()) bw_.update(kBwRounds, round_count_, bw);
}

void Bbr::update_cycle_phase(const AckEvent& ack) {
  // bbr_update_cycle_phase / bbr_is_next_cycle_phase.
  if (mode_ != Mode::probe_bw || !min_rtt_) return;
  const bool full_length = ack.now - cycle_stamp_ > *min_rtt_;
  bool next = false;
  if (pacing_gain_ == 1.0) {
    // "If pacing_gain is 1.0, the flow is cruising, and we advance after min_rtt."
    next = full_length;
  } else if (pacing_gain_ > 1.0) {
    // "A pacing_gain > 1.0 probes for bw by trying to raise inflight to at least
    // pacing_gain*BDP; this may take more than min_rtt if min_rtt is small (e.g.
    // on a LAN). We do not persist if packets are lost, since a path with small
    // buffers may not hold that much."
    next = full_length && (ack.lost > 0 || ack.prior_in_flight >= inflight(max_bw(), pacing_gain_));
  } else {
    // "A pacing_gain < 1.0 tries to drain extra queue we added if bw probing
    // didn't find more bw. If inflight falls to match BDP then we estimate queue
    // is drained; persisting would underutilize the pipe."
    next = full_length || ack.prior_in_flight <= inflight(max_bw(), 1.0);
  }
  if (next) advance_cycle_phase(ack.now);
}

void Bbr::check_full_bw_reached(const AckEvent& ack) {
  // bbr_check_full_bw_reached: "Estimate when the pipe is full, using the change
  // in delivery rate: BBR estimates that STARTUP filled the pipe if the estimated
  // bw hasn't changed by at least bbr_full_bw_thresh (25%) after bbr_full_bw_cnt
  // (3) non-app-limited rounds."
  if (full_bw_reached_ || !round_start_ || (ack.rate && ack.rate->app_limited)) return;
  if (max_bw() >= full_bw_ * kFullBwThresh) {
    full_bw_ = max_bw();
    full_bw_count_ = 0;
    return;
  }
  ++full_bw_count_;
  full_bw_reached_ = full_bw_count_ >= kFullBwCount;
}

void Bbr::check_drain(const AckEvent& ack) {
  // bbr_check_drain: "If pipe is probably full, drain the queue and then enter
  // steady-state."
  if (mode_ == Mode::startup && full_bw_reached_) {
    mode_ = Mode::drain;
    ssthresh_ = inflight(max_bw(), 1.0);  // "set ssthresh for the time being", as Linux reports it
  }
  if (mode_ == Mode::drain && ack.in_flight <= inflight(max_bw(), 1.0)) reset_probe_bw_mode(ack.now);
}

void Bbr::update_min_rtt(const AckEvent& ack) {
  // bbr_update_min_rtt: "The goal of PROBE_RTT mode is to have BBR flows
  // cooperatively and periodically drain the bottleneck queue, to converge to
  // measure the true min_rtt (unloaded propagation delay)."
  const bool expired = ack.now > min_rtt_stamp_ + kMinRttWindow;
  if (ack.rtt && ack.rtt->count() >= 0 && (!min_rtt_ || *ack.rtt < *min_rtt_ || expired)) {
    min_rtt_ = *ack.rtt;
    min_rtt_stamp_ = ack.now;
  }
  if (expired && !idle_restart_ && mode_ != Mode::probe_rtt) {
    mode_ = Mode::probe_rtt;  // "dip, drain queue"
    save_cwnd();              // "note cwnd so we can restore it"
    probe_rtt_done_.reset();
  }
  if (mode_ == Mode::probe_rtt) {
    // "Ignore low rate samples during this mode": restrains_sending() has the
    // connection mark them app-limited. "Maintain min packets in flight for max(200
    // ms, 1 round)."
    if (!probe_rtt_done_ && ack.in_flight <= kMinCwndSegments * smss_) {
      probe_rtt_done_ = ack.now + kProbeRttTime;
      probe_rtt_round_done_ = false;
      next_rtt_delivered_ = ack.delivered_total;
    } else if (probe_rtt_done_) {
      if (round_start_) probe_rtt_round_done_ = true;
      if (probe_rtt_round_done_) check_probe_rtt_done(ack.now);
    }
  }
  // "Restart after idle ends only once we process a new S/ACK for data".
  if (ack.rate && ack.rate->delivered > 0) idle_restart_ = false;
}

void Bbr::check_probe_rtt_done(base::Instant now) {
  // bbr_check_probe_rtt_done.
  if (!probe_rtt_done_ || now <= *probe_rtt_done_) return;
  min_rtt_stamp_ = now;  // "wait a while until PROBE_RTT"
  cwnd_ = std::max(cwnd_, prior_cwnd_);  // bbr_reset_mode after "restore_cwnd"
  if (full_bw_reached_) reset_probe_bw_mode(now);
  else reset_startup_mode();
}

void Bbr::update_gains() {
  // bbr_update_gains.
  switch (mode_) {
    case Mode::startup:
      pacing_gain_ = kHighGain;
      cwnd_gain_ = kHighGain;
      break;
    case Mode::drain:
      pacing_gain_ = kDrainGain;  // "slow, to drain"
      cwnd_gain_ = kHighGain;     // "keep cwnd"
      break;
    case Mode::probe_bw:
      pacing_gain_ = kPacingGain[cycle_idx_];
      cwnd_gain_ = kCwndGain;
      break;
    case Mode::probe_rtt:
      pacing_gain_ = 1.0;
      cwnd_gain_ = 1.0;
      break;
  }
}

void Bbr::set_pacing_rate(double bw, double gain, std::optional<base::Duration> srtt) {
  // bbr_set_pacing_rate: the first RTT sets the initial rate ("high_gain *
  // init_cwnd / RTT"); after that the rate follows the model, "but never lower
  // it in STARTUP" before the pipe is full.
  if (!has_seen_rtt_ && srtt && srtt->count() > 0) {
    has_seen_rtt_ = true;
    pacing_rate_ = rate_for(static_cast<double>(initial_cwnd_) / std::chrono::duration<double>(*srtt).count(), kHighGain);
  }
  const std::uint64_t rate = rate_for(bw, gain);
  if (full_bw_reached_ || rate > pacing_rate_) pacing_rate_ = rate;
}

std::uint64_t Bbr::pacing_rate(std::optional<base::Duration>, std::uint32_t) const { return pacing_rate_; }

bool Bbr::set_cwnd_to_recover_or_restore(const AckEvent& ack, std::uint32_t& out) {
  // bbr_set_cwnd_to_recover_or_restore: "An optimization in BBR to reduce losses:
  // On the first round of recovery, we follow the packet conservation principle:
  // send P packets per P packets acked. After that, we slow-start and send at
  // most 2*P packets per P packets acked. After recovery finishes, or upon undo,
  // we restore the cwnd we had when recovery started (capped by the target cwnd
  // based on estimated BDP)."
  const CaState state = ack.in_loss ? CaState::loss : ack.in_recovery ? CaState::recovery : CaState::open;
  const CaState prev = prev_ca_state_;
  std::uint32_t cwnd = cwnd_;
  // "An ACK for P pkts should release at most 2*P packets. We do this in two
  // steps. First, here we deduct the number of lost packets. Then, in
  // bbr_set_cwnd() we slow start up toward the target cwnd."
  if (ack.lost > 0) cwnd = cwnd > ack.lost + smss_ ? cwnd - ack.lost : smss_;
  if (state == CaState::recovery && prev != CaState::recovery) {
    // "Starting 1st round of Recovery, so do packet conservation."
    packet_conservation_ = true;
    next_rtt_delivered_ = ack.delivered_total;  // "start round now"
    cwnd = ack.in_flight + ack.bytes_acked;     // "Cut unused cwnd from app behavior, TSQ, or TSO deferral"
  } else if (prev != CaState::open && state == CaState::open) {
    // "Exiting loss recovery; restore cwnd saved before recovery."
    cwnd = std::max(cwnd, prior_cwnd_);
    packet_conservation_ = false;
  }
  prev_ca_state_ = state;
  if (packet_conservation_) {
    out = std::max(cwnd, ack.in_flight + ack.bytes_acked);
    return true;  // "yes, using packet conservation"
  }
  out = cwnd;
  return false;
}

void Bbr::set_cwnd(const AckEvent& ack, double bw, double gain) {
  // bbr_set_cwnd: "Slow-start up toward target cwnd (if bw estimate is growing,
  // or packet loss is likely to have occurred), or else cut cwnd to target".
  std::uint32_t cwnd = cwnd_;
  const std::uint32_t acked = ack.bytes_acked;
  if (acked != 0 && !set_cwnd_to_recover_or_restore(ack, cwnd)) {
    const std::uint32_t target = quantization_budget(bdp(bw, gain));
    if (full_bw_reached_) cwnd = std::min(cwnd + acked, target);  // "only cut cwnd if we filled the pipe"
    else if (cwnd < target || ack.delivered_total < initial_cwnd_) cwnd = cwnd + acked;
    cwnd = std::max(cwnd, kMinCwndSegments * smss_);
  }
  cwnd_ = cwnd;
  if (mode_ == Mode::probe_rtt) cwnd_ = std::min(cwnd_, kMinCwndSegments * smss_);  // "drain queue, refresh min_rtt"
}

void Bbr::save_cwnd() {
  // bbr_save_cwnd: "Save 'last known good' cwnd so we can restore it after
  // losses or PROBE_RTT".
  if (prev_ca_state_ == CaState::open && mode_ != Mode::probe_rtt) prior_cwnd_ = cwnd_;
  else prior_cwnd_ = std::max(prior_cwnd_, cwnd_);  // "loss recovery or BBR_PROBE_RTT have temporarily cut cwnd"
}

void Bbr::on_loss(std::uint32_t, base::Instant) {
  // bbr_ssthresh: "Entering loss recovery, so save cwnd for when we exit or
  // undo recovery"; ssthresh stays TCP_INFINITE_SSTHRESH. cwnd is set on the next
  // ACK (packet conservation), not here.
  save_cwnd();
  save_for_undo();
}

void Bbr::on_recovery_end(std::uint32_t, base::Instant) {
  // The next ACK's set_cwnd_to_recover_or_restore restores cwnd.
}

void Bbr::on_rto(std::uint32_t, base::Instant) {
  // tcp_enter_loss: ssthresh() (bbr_save_cwnd), then cwnd = "packets in flight +
  // 1" -- one segment, everything being lost -- and bbr_set_state(TCP_CA_Loss):
  // "reset full pipe detection" and "start a new round".
  save_cwnd();
  save_for_undo();
  cwnd_ = smss_;
  prev_ca_state_ = CaState::loss;
  full_bw_ = 0;
  round_start_ = true;
}

void Bbr::on_ecn(std::uint32_t, base::Instant) {
  // BBR v1 does not react to ECN (it has no ssthresh hook for it; Linux's CWR
  // state skips tcp_cwnd_reduction for cong_control algorithms).
}

void Bbr::undo(base::Instant) {
  // bbr_undo_cwnd: "spurious slow-down; reset full pipe detection"; cwnd stays
  // (the next ACK in the open state restores the saved one).
  full_bw_ = 0;
  full_bw_count_ = 0;
}

void Bbr::on_send_after_idle(base::Duration, base::Instant now) {
  // bbr_cwnd_event(CA_EVENT_TX_START) with the sender app-limited: "Avoid
  // pointless buffer overflows: pace at est. bw", and leave PROBE_RTT if it is due.
  idle_restart_ = true;
  if (mode_ == Mode::probe_bw) set_pacing_rate(max_bw(), 1.0, std::nullopt);
  else if (mode_ == Mode::probe_rtt) check_probe_rtt_done(now);
}

}  // namespace ustack::tcp
