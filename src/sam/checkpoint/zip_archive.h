#pragma once
// The container part of a torch.save checkpoint: a memory-mapped zip archive whose entries are read in place.
// Only the central directory is parsed (ZIP64 included); entry data must be stored uncompressed, which is how
// PyTorch writes them. Errors are FormatError without the file name; the caller adds it.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sammpa::sam::detail {

class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A whole file mapped read-only; unmapped when the last shared owner goes.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& file);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

struct ZipEntry {
  uint64_t data_offset = 0;  // of the entry's bytes in the file
  uint64_t size = 0;
  uint16_t method = 0;  // 0 = stored
};

class ZipArchive {
 public:
  // Parses the central directory of the mapped file; every entry's bytes are checked to lie inside the file.
  explicit ZipArchive(std::shared_ptr<const MappedFile> file);

  const std::map<std::string, ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;
  // The entry's bytes; FormatError if it is compressed.
  std::string_view bytes(const std::string& name, const ZipEntry& entry) const;

 private:
  std::shared_ptr<const MappedFile> file_;
  std::map<std::string, ZipEntry> entries_;
};

}  // namespace sammpa::sam::detail
