#include "common/npy.h"

#include <unistd.h>

#include <cctype>
#include <cstring>
#include <fstream>

#include "common/checked_size.h"
#include "common/error.h"

namespace fs = std::filesystem;

namespace sammpa {

void write_npy(const fs::path& file, const float* data, const std::vector<int64_t>& shape) {
  std::string dims;  // "(a, b, c)", with a trailing comma for one dimension: "(a,)"
  int64_t n = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dims += (i ? ", " : "") + std::to_string(shape[i]);
    n *= shape[i];
  }
  if (shape.size() == 1) dims += ",";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // The whole preamble (10 bytes + header + newline) is padded to a multiple of 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  if (file.has_parent_path()) fs::create_directories(file.parent_path());
  fs::path tmp = file;
  tmp += ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw InputError(file, "cannot open for writing");
    out.write("\x93NUMPY\x01\x00", 8);
    uint16_t hlen = static_cast<uint16_t>(header.size());
    out.write(reinterpret_cast<const char*>(&hlen), 2);
    out << header;
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(float)));
    if (!out) throw InputError(file, "write failed");
  }
  fs::rename(tmp, file);
}

namespace {

// The value of 'key' in a .npy header dict ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"),
// as the text after the colon; throws InputError if the key is missing.
size_t value_start(const fs::path& file, const std::string& header, const std::string& key) {
  const size_t p = header.find("'" + key + "'");
  if (p == std::string::npos) throw InputError(file, ".npy header lacks '" + key + "'");
  const size_t colon = header.find(':', p);
  if (colon == std::string::npos) throw InputError(file, "corrupt .npy header");
  const size_t v = header.find_first_not_of(' ', colon + 1);
  if (v == std::string::npos) throw InputError(file, "corrupt .npy header");
  return v;
}

}  // namespace

FloatArray read_npy(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw InputError(file, "is a folder, not a .npy file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file, "cannot open");
  const uint64_t file_size = fs::file_size(file, ec);
  if (ec) throw InputError(file, "cannot read the file size");
  char magic[8];
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw InputError(file, "not a NumPy .npy file");
  uint32_t hlen = 0;
  uint64_t preamble = 10;
  if (magic[6] == 1) {
    uint16_t h = 0;
    in.read(reinterpret_cast<char*>(&h), 2);
    hlen = h;
  } else {
    in.read(reinterpret_cast<char*>(&hlen), 4);
    preamble = 12;
  }
  if (!in || hlen > 1 << 20 || hlen > file_size - preamble) throw InputError(file, "corrupt .npy header");
  std::string header(hlen, '\0');
  in.read(header.data(), hlen);
  if (!in) throw InputError(file, "corrupt .npy header");
  if (header.compare(value_start(file, header, "fortran_order"), 4, "True") == 0)
    throw InputError(file, "Fortran-ordered arrays are not supported");
  const size_t d0 = value_start(file, header, "descr") + 1;
  const size_t d1 = header.find('\'', d0);
  if (d1 == std::string::npos) throw InputError(file, "corrupt .npy header (descr)");
  const std::string descr = header.substr(d0, d1 - d0);
  FloatArray out;
  const size_t s0 = value_start(file, header, "shape"), s1 = header.find(')', s0);
  if (header[s0] != '(' || s1 == std::string::npos) throw InputError(file, "corrupt .npy header (shape)");
  for (size_t i = s0 + 1; i < s1;) {
    const char ch = header[i];
    if (ch == ' ' || ch == ',') {
      ++i;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(ch))) throw InputError(file, "corrupt .npy header (shape)");
    int64_t d = 0;
    for (; i < s1 && std::isdigit(static_cast<unsigned char>(header[i])); ++i)
      if (__builtin_mul_overflow(d, 10, &d) || __builtin_add_overflow(d, header[i] - '0', &d))
        throw InputError(file, ".npy header: a dimension is too large");
    out.shape.push_back(d);
  }

  size_t elem = 0;
  if (descr == "<f4" || descr == "<i4") elem = 4;
  else if (descr == "<f8" || descr == "<i8") elem = 8;
  else if (descr == "|u1" || descr == "|b1") elem = 1;
  else throw InputError(file, "unsupported .npy dtype '" + descr + "'");
  // The data must be exactly what the header promises, checked before allocating anything for it.
  const uint64_t have = file_size - preamble - hlen;
  const auto need = checked_bytes(out.shape, elem);
  if (!need) throw InputError(file, ".npy header: shape is too large");
  if (*need > have)
    throw InputError(file, "truncated .npy data (the header says " + std::to_string(*need) + " bytes, the file has " +
                               std::to_string(have) + ")");
  const size_t n = static_cast<size_t>(*need / elem);
  out.data.resize(n);
  auto convert = [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> raw(n);
    in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(n * sizeof(T)));
    for (size_t i = 0; i < n; ++i) out.data[i] = static_cast<float>(raw[i]);
  };
  if (descr == "<f4") convert(float{});
  else if (descr == "<f8") convert(double{});
  else if (descr == "<i4") convert(int32_t{});
  else if (descr == "<i8") convert(int64_t{});
  else convert(uint8_t{});
  if (!in) throw InputError(file, "truncated .npy data");
  return out;
}

}  // namespace sammpa
