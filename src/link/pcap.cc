// Classic pcap files: global header, one record header per frame.
#include "link/pcap.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "link/sys_error.h"

namespace ustack::link {
namespace {

// Like fail_with_errno, but a missing directory is an I/O error, not a missing device.
base::Errc file_error(std::string* why, const std::string& what, int err) {
  const base::Errc e = fail_with_errno(why, what, err);
  return e == base::Errc::no_device ? base::Errc::io : e;
}

template <class T>
void store_host(base::Byte* at, T v) {
  std::memcpy(at, &v, sizeof v);  // pcap's classic format is in the writer's byte order
}

}  // namespace

std::array<base::Byte, 24> pcap_global_header(LinkType type) {
  std::array<base::Byte, 24> h{};
  store_host<std::uint32_t>(&h[0], 0xa1b2c3d4);  // microsecond timestamps, host byte order
  store_host<std::uint16_t>(&h[4], 2);           // version 2.4
  store_host<std::uint16_t>(&h[6], 4);
  store_host<std::int32_t>(&h[8], 0);   // thiszone: timestamps are UTC
  store_host<std::uint32_t>(&h[12], 0);  // sigfigs
  store_host<std::uint32_t>(&h[16], kPcapSnapLen);
  store_host<std::uint32_t>(&h[20], static_cast<std::uint32_t>(type));
  return h;
}

std::array<base::Byte, 16> pcap_record_header(std::chrono::system_clock::time_point wall_at_epoch, base::Instant at,
                                              std::size_t len) {
  using std::chrono::microseconds;
  const std::int64_t us = std::chrono::duration_cast<microseconds>(wall_at_epoch.time_since_epoch()).count() +
                          base::to_micros(at - base::kEpoch);
  std::int64_t sec = us / 1'000'000, usec = us % 1'000'000;
  if (usec < 0) {  // floor division for times before 1970
    usec += 1'000'000;
    sec -= 1;
  }
  const auto orig = static_cast<std::uint32_t>(len);
  std::array<base::Byte, 16> h{};
  store_host(&h[0], static_cast<std::uint32_t>(sec));
  store_host(&h[4], static_cast<std::uint32_t>(usec));
  store_host(&h[8], std::min(orig, kPcapSnapLen));
  store_host(&h[12], orig);
  return h;
}

base::Result<std::unique_ptr<PcapWriter>> PcapWriter::open(
    const std::string& path, LinkType type, std::chrono::system_clock::time_point wall_at_epoch,
    std::string* why) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return file_error(why, "pcap: cannot create " + path, errno);
  auto buffer = std::make_unique<char[]>(kBufferSize);
  std::setvbuf(f, buffer.get(), _IOFBF, kBufferSize);
  std::unique_ptr<PcapWriter> w(new PcapWriter(f, std::move(buffer), path, type, wall_at_epoch));

  const auto header = pcap_global_header(type);
  const bool ok = std::fwrite(header.data(), header.size(), 1, f) == 1;
  if (!ok || std::fflush(f) != 0) return file_error(why, "pcap: cannot write " + path, errno);
  return w;
}

PcapWriter::PcapWriter(std::FILE* f, std::unique_ptr<char[]> buffer, std::string path, LinkType type,
                       std::chrono::system_clock::time_point wall_at_epoch)
    : file_(f), buffer_(std::move(buffer)), path_(std::move(path)), type_(type), wall_at_epoch_(wall_at_epoch) {}

PcapWriter::~PcapWriter() { std::fclose(file_); }

bool PcapWriter::write(base::Instant at, base::ByteSpan frame) {
  const auto header = pcap_record_header(wall_at_epoch_, at, frame.size());
  const std::size_t caplen = std::min<std::size_t>(frame.size(), kSnapLen);
  bool ok = std::fwrite(header.data(), header.size(), 1, file_) == 1;
  if (ok && caplen > 0 && std::fwrite(frame.data(), 1, caplen, file_) != caplen) ok = false;
  if (!ok) {
    ++write_errors_;
    return false;
  }
  ++records_;
  return true;
}

bool PcapWriter::flush() {
  if (std::fflush(file_) == 0) return true;
  ++write_errors_;
  return false;
}

base::Result<std::unique_ptr<PcapDevice>> PcapDevice::open(Device& inner, const std::string& path,
                                                           std::chrono::system_clock::time_point wall_at_epoch,
                                                           std::string* why) {
  auto w = PcapWriter::open(path, link_type_for(inner.medium()), wall_at_epoch, why);
  if (!w) return w.error();
  return std::make_unique<PcapDevice>(inner, std::move(*w));
}

base::Result<std::unique_ptr<PcapDevice>> PcapDevice::open(std::unique_ptr<Device> inner, const std::string& path,
                                                           std::chrono::system_clock::time_point wall_at_epoch,
                                                           std::string* why) {
  auto w = PcapWriter::open(path, link_type_for(inner->medium()), wall_at_epoch, why);
  if (!w) return w.error();
  return std::make_unique<PcapDevice>(std::move(inner), std::move(*w));
}

PcapDevice::PcapDevice(Device& inner, std::unique_ptr<PcapWriter> writer)
    : WrapperDevice(inner), writer_(std::move(writer)) {}

PcapDevice::PcapDevice(std::unique_ptr<Device> inner, std::unique_ptr<PcapWriter> writer)
    : WrapperDevice(std::move(inner)), writer_(std::move(writer)) {}

std::optional<std::size_t> PcapDevice::receive(base::Instant now, base::MutByteSpan buf) {
  const std::optional<std::size_t> n = inner().receive(now, buf);
  if (n) writer_->write(now, buf.first(*n));
  return n;
}

bool PcapDevice::transmit(base::Instant now, base::ByteSpan frame) {
  writer_->write(now, frame);
  return inner().transmit(now, frame);
}

void PcapDevice::flush() {
  writer_->flush();
  inner().flush();
}

}  // namespace ustack::link
