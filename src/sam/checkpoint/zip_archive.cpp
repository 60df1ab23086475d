#include "sam/checkpoint/zip_archive.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sammpa::sam::detail {

MappedFile::MappedFile(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FormatError(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw FormatError("not a regular file");
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      throw FormatError(std::string("cannot map the file: ") + std::strerror(err));
    }
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);  // the mapping stays valid without the descriptor
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

namespace {

constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEndOfCentralDir = 0x06054b50,
                   kZip64Locator = 0x07064b50, kZip64EndOfCentralDir = 0x06064b50;
constexpr uint16_t kZip64ExtraId = 0x0001;

// Bounds-checked little-endian reads from a byte range.
class Reader {
 public:
  Reader(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  bool fits(uint64_t pos, uint64_t n) const { return pos <= size_ && n <= size_ - pos; }
  template <typename T>
  T get(uint64_t pos, const char* what) const {
    if (!fits(pos, sizeof(T))) throw FormatError(std::string("truncated zip archive (") + what + " past the end)");
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(data_[pos + i]) << (8 * i));
    return v;
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
};

// Legacy torch.save files (before PyTorch 1.6) are a bare pickle that starts with a magic number.
bool is_legacy_torch_file(const uint8_t* d, size_t n) {
  static const uint8_t magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  return n >= sizeof(magic) && std::memcmp(d, magic, sizeof(magic)) == 0;
}

struct Directory {
  uint64_t count = 0, size = 0, offset = 0;
};

Directory find_central_directory(const Reader& r, const uint8_t* d, uint64_t n) {
  // The end record is 22 bytes plus a comment of at most 65535 bytes, at the very end of the file.
  const uint64_t lowest = n > 22 + 65535 ? n - 22 - 65535 : 0;
  for (uint64_t pos = n >= 22 ? n - 22 + 1 : 0; pos-- > lowest;) {
    if (r.get<uint32_t>(pos, "end record") != kEndOfCentralDir) continue;
    if (pos + 22 + r.get<uint16_t>(pos + 20, "comment length") != n) continue;  // a stray signature
    Directory dir{r.get<uint16_t>(pos + 10, "entry count"), r.get<uint32_t>(pos + 12, "directory size"),
                  r.get<uint32_t>(pos + 16, "directory offset")};
    if (dir.count == 0xFFFF || dir.size == 0xFFFFFFFF || dir.offset == 0xFFFFFFFF) {
      if (pos < 20 || r.get<uint32_t>(pos - 20, "zip64 locator") != kZip64Locator)
        throw FormatError("corrupt zip archive (ZIP64 locator missing)");
      uint64_t rec = r.get<uint64_t>(pos - 20 + 8, "zip64 locator");
      if (r.get<uint32_t>(rec, "zip64 end record") != kZip64EndOfCentralDir)
        throw FormatError("corrupt zip archive (bad ZIP64 end record)");
      dir = {r.get<uint64_t>(rec + 32, "zip64 end record"), r.get<uint64_t>(rec + 40, "zip64 end record"),
             r.get<uint64_t>(rec + 48, "zip64 end record")};
    }
    if (!r.fits(dir.offset, dir.size)) throw FormatError("truncated zip archive (central directory past the end)");
    return dir;
  }
  if (is_legacy_torch_file(d, n))
    throw FormatError(
        "legacy (non-zip) PyTorch format; re-save with torch.save(..., _use_new_zipfile_serialization=True)");
  if (n >= 4 && r.get<uint32_t>(0, "signature") == kLocalHeader)
    throw FormatError("truncated zip archive (end of central directory not found)");
  throw FormatError("not a zip archive (a PyTorch checkpoint saved by torch.save was expected)");
}

}  // namespace

ZipArchive::ZipArchive(std::shared_ptr<const MappedFile> file) : file_(std::move(file)) {
  const uint8_t* d = file_->data();
  const uint64_t n = file_->size();
  Reader r(d, n);
  const Directory dir = find_central_directory(r, d, n);
  uint64_t pos = dir.offset;
  const uint64_t end = dir.offset + dir.size;
  for (uint64_t i = 0; i < dir.count; ++i) {
    if (pos + 46 > end || r.get<uint32_t>(pos, "central header") != kCentralHeader)
      throw FormatError("corrupt zip archive (bad central directory entry " + std::to_string(i) + ")");
    ZipEntry e;
    e.method = r.get<uint16_t>(pos + 10, "central header");
    uint64_t compressed = r.get<uint32_t>(pos + 20, "central header");
    uint64_t size = r.get<uint32_t>(pos + 24, "central header");
    const uint16_t name_len = r.get<uint16_t>(pos + 28, "central header");
    const uint16_t extra_len = r.get<uint16_t>(pos + 30, "central header");
    const uint16_t comment_len = r.get<uint16_t>(pos + 32, "central header");
    uint64_t local = r.get<uint32_t>(pos + 42, "central header");
    if (!r.fits(pos + 46, uint64_t{name_len} + extra_len + comment_len) ||
        pos + 46 + name_len + extra_len + comment_len > end)
      throw FormatError("corrupt zip archive (central directory entry " + std::to_string(i) + " too long)");
    std::string name(reinterpret_cast<const char*>(d + pos + 46), name_len);
    // ZIP64 extra field: 64-bit values for exactly those fields that hold 0xFFFFFFFF, in this order.
    for (uint64_t x = pos + 46 + name_len, xend = x + extra_len; x + 4 <= xend;) {
      const uint16_t id = r.get<uint16_t>(x, "extra field"), len = r.get<uint16_t>(x + 2, "extra field");
      if (id == kZip64ExtraId) {
        uint64_t v = x + 4;
        auto next = [&](uint64_t& field) {
          if (field != 0xFFFFFFFF) return;
          if (v + 8 > x + 4 + len) throw FormatError("corrupt zip archive (short ZIP64 field in " + name + ")");
          field = r.get<uint64_t>(v, "extra field");
          v += 8;
        };
        next(size);
        next(compressed);
        next(local);
      }
      x += 4 + uint64_t{len};
    }
    // The data starts after the local header, whose name and extra field may differ from the central ones.
    if (r.get<uint32_t>(local, "local header") != kLocalHeader)
      throw FormatError("corrupt zip archive (bad local header for " + name + ")");
    e.data_offset = local + 30 + r.get<uint16_t>(local + 26, "local header") +
                    r.get<uint16_t>(local + 28, "local header");
    e.size = e.method == 0 ? size : compressed;
    if (!r.fits(e.data_offset, e.size)) throw FormatError("truncated zip archive (" + name + " past the end)");
    entries_[name] = e;
    pos += 46 + uint64_t{name_len} + extra_len + comment_len;
  }
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

std::string_view ZipArchive::bytes(const std::string& name, const ZipEntry& e) const {
  if (e.method != 0)
    throw FormatError("zip entry " + name + " is compressed (method " + std::to_string(e.method) +
                      "); PyTorch checkpoints store entries uncompressed");
  return {reinterpret_cast<const char*>(file_->data() + e.data_offset), static_cast<size_t>(e.size)};
}

}  // namespace sammpa::sam::detail
