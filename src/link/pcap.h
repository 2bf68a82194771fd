// Capture to classic pcap files (magic 0xa1b2c3d4, version 2.4, microsecond
// timestamps, host byte order): a standalone writer and a device wrapper.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "base/result.h"
#include "link/device.h"

namespace ustack::link {

enum class LinkType : std::uint32_t { ethernet = 1, raw_ip = 101 };  // LINKTYPE_ETHERNET, LINKTYPE_RAW

inline LinkType link_type_for(Medium m) { return m == Medium::ethernet ? LinkType::ethernet : LinkType::raw_ip; }

inline constexpr std::uint32_t kPcapSnapLen = 262144;

/// The 24-byte global header that starts a classic pcap stream.
std::array<base::Byte, 24> pcap_global_header(LinkType type);
/// The 16-byte header of a record for a frame of `len` bytes seen at `at`
/// (wall time: `wall_at_epoch` plus the Instant), captured up to kPcapSnapLen.
std::array<base::Byte, 16> pcap_record_header(std::chrono::system_clock::time_point wall_at_epoch, base::Instant at,
                                              std::size_t len);

/// Writes a pcap file through a large stdio buffer. Timestamps are wall_at_epoch
/// (the wall-clock time of base::kEpoch) plus the Instant of each frame.
class PcapWriter {
 public:
  static constexpr std::uint32_t kSnapLen = kPcapSnapLen;
  static constexpr std::size_t kBufferSize = 1 << 20;

  /// Creates (truncates) `path` and writes the global header. Errors carry the
  /// errno as the nearest Errc (io by default); `why` gets a readable reason.
  static base::Result<std::unique_ptr<PcapWriter>> open(const std::string& path, LinkType type,
                                                        std::chrono::system_clock::time_point wall_at_epoch,
                                                        std::string* why = nullptr);
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  ~PcapWriter();  // flushes and closes

  /// Appends one record (frames over kSnapLen are cut to it; orig_len keeps the
  /// real length). False if the write failed (counted in write_errors()).
  bool write(base::Instant at, base::ByteSpan frame);
  /// Pushes buffered records to the file; false on error.
  bool flush();

  LinkType link_type() const { return type_; }
  const std::string& path() const { return path_; }
  std::uint64_t records() const { return records_; }
  std::uint64_t write_errors() const { return write_errors_; }

 private:
  PcapWriter(std::FILE* f, std::unique_ptr<char[]> buffer, std::string path, LinkType type,
             std::chrono::system_clock::time_point wall_at_epoch);

  std::FILE* file_;
  std::unique_ptr<char[]> buffer_;  // the stdio buffer: must outlive file_
  std::string path_;
  LinkType type_;
  std::chrono::system_clock::time_point wall_at_epoch_;
  std::uint64_t records_ = 0, write_errors_ = 0;
};

/// Wraps a device and records every frame it receives and every frame handed to
/// transmit() (whether or not the inner device accepts it).
class PcapDevice : public WrapperDevice {
 public:
  static base::Result<std::unique_ptr<PcapDevice>> open(Device& inner, const std::string& path,
                                                        std::chrono::system_clock::time_point wall_at_epoch,
                                                        std::string* why = nullptr);
  static base::Result<std::unique_ptr<PcapDevice>> open(std::unique_ptr<Device> inner, const std::string& path,
                                                        std::chrono::system_clock::time_point wall_at_epoch,
                                                        std::string* why = nullptr);
  /// With a writer already open (its link type should match inner's medium).
  PcapDevice(Device& inner, std::unique_ptr<PcapWriter> writer);
  PcapDevice(std::unique_ptr<Device> inner, std::unique_ptr<PcapWriter> writer);

  std::optional<std::size_t> receive(base::Instant now, base::MutByteSpan buf) override;
  bool transmit(base::Instant now, base::ByteSpan frame) override;
  /// Flushes the file and the inner device.
  void flush() override;

  PcapWriter& writer() { return *writer_; }

 private:
  std::unique_ptr<PcapWriter> writer_;
};

}  // namespace ustack::link
