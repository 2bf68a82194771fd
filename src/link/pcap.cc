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
void put(std::FILE* f, T v, bool& ok) {
  if (std::fwrite(&v, sizeof v, 1, f) != 1) ok = false;
}

}  // namespace

base::Result<std::unique_ptr<PcapWriter>> PcapWriter::open(
    const std::string& path, LinkType type, std::chrono::system_clock::time_point wall_at_epoch,
    std::string* why) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return file_error(why, "pcap: cannot create " + path, errno);
  auto buffer = std::make_unique<char[]>(kBufferSize);
  std::setvbuf(f, buffer.get(), _IOFBF, kBufferSize);
  std::unique_ptr<PcapWriter> w(new PcapWriter(f, std::move(buffer), path, type, wall_at_epoch));

  bool ok = true;
  put<std::uint32_t>(f, 0xa1b2c3d4, ok);  // microsecond timestamps, host byte order
  put<std::uint16_t>(f, 2, ok);           // version 2.4
  put<std::uint16_t>(f, 4, ok);
  put<std::int32_t>(f, 0, ok);  // thiszone: timestamps are UTC
  put<std::uint32_t>(f, 0, ok);  // sigfigs
  put<std::uint32_t>(f, kSnapLen, ok);
  put<std::uint32_t>(f, static_cast<std::uint32_t>(type), ok);
  if (!ok || std::fflush(f) != 0) return file_error(why, "pcap: cannot write " + path, errno);
  return w;
}

PcapWriter::PcapWriter(std::FILE* f, std::unique_ptr<char[]> buffer, std::string path, LinkType type,
                       std::chrono::system_clock::time_point wall_at_epoch)
    : file_(f), buffer_(std::move(buffer)), path_(std::move(path)), type_(type), wall_at_epoch_(wall_at_epoch) {}

PcapWriter::~PcapWriter() { std::fclose(file_); }

bool PcapWriter::write(base::Instant at, base::ByteSpan frame) {
  using std::chrono::microseconds;
  const std::int64_t us = std::chrono::duration_cast<microseconds>(wall_at_epoch_.time_since_epoch()).count() +
                          base::to_micros(at - base::kEpoch);
  std::int64_t sec = us / 1'000'000, usec = us % 1'000'000;
  if (usec < 0) {  // floor division for times before 1970
    usec += 1'000'000;
    sec -= 1;
  }
  const auto len = static_cast<std::uint32_t>(frame.size());
  const std::uint32_t caplen = std::min(len, kSnapLen);
  bool ok = true;
  put(file_, static_cast<std::uint32_t>(sec), ok);
  put(file_, static_cast<std::uint32_t>(usec), ok);
  put(file_, caplen, ok);
  put(file_, len, ok);
  if (caplen > 0 && std::fwrite(frame.data(), 1, caplen, file_) != caplen) ok = false;
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
    : inner_(&inner), writer_(std::move(writer)) {}

PcapDevice::PcapDevice(std::unique_ptr<Device> inner, std::unique_ptr<PcapWriter> writer)
    : owned_(std::move(inner)), inner_(owned_.get()), writer_(std::move(writer)) {}

std::optional<std::size_t> PcapDevice::receive(base::Instant now, base::MutByteSpan buf) {
  const std::optional<std::size_t> n = inner_->receive(now, buf);
  if (n) writer_->write(now, buf.first(*n));
  return n;
}

bool PcapDevice::transmit(base::Instant now, base::ByteSpan frame) {
  writer_->write(now, frame);
  return inner_->transmit(now, frame);
}

void PcapDevice::flush() {
  writer_->flush();
  inner_->flush();
}

}  // namespace ustack::link
