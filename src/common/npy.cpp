#include "common/npy.h"

#include <unistd.h>

#include <cstring>
#include <fstream>

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

FloatArray read_npy(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file, "cannot open");
  char magic[8];
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw InputError(file, "not a NumPy .npy file");
  uint32_t hlen = 0;
  if (magic[6] == 1) {
    uint16_t h;
    in.read(reinterpret_cast<char*>(&h), 2);
    hlen = h;
  } else {
    in.read(reinterpret_cast<char*>(&hlen), 4);
  }
  if (!in || hlen > 1 << 20) throw InputError(file, "corrupt .npy header");
  std::string header(hlen, '\0');
  in.read(header.data(), hlen);
  auto value_after = [&](const std::string& key) -> size_t {
    auto p = header.find("'" + key + "'");
    if (p == std::string::npos) throw InputError(file, ".npy header lacks '" + key + "'");
    return p + key.size() + 3;
  };
  size_t f = value_after("fortran_order");
  if (header.compare(header.find_first_not_of(' ', f), 4, "True") == 0)
    throw InputError(file, "Fortran-ordered arrays are not supported");
  size_t d0 = header.find('\'', value_after("descr")) + 1;
  std::string descr = header.substr(d0, header.find('\'', d0) - d0);
  FloatArray out;
  size_t s0 = header.find('(', value_after("shape")) + 1, s1 = header.find(')', s0);
  int64_t n = 1;
  for (size_t i = s0; i < s1;) {
    while (i < s1 && !std::isdigit(static_cast<unsigned char>(header[i]))) ++i;
    if (i >= s1) break;
    size_t j = i;
    while (j < s1 && std::isdigit(static_cast<unsigned char>(header[j]))) ++j;
    out.shape.push_back(std::stoll(header.substr(i, j - i)));
    n *= out.shape.back();
    i = j;
  }
  out.data.resize(static_cast<size_t>(n));
  auto convert = [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> raw(static_cast<size_t>(n));
    in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(n * sizeof(T)));
    for (int64_t i = 0; i < n; ++i) out.data[i] = static_cast<float>(raw[i]);
  };
  if (descr == "<f4") convert(float{});
  else if (descr == "<f8") convert(double{});
  else if (descr == "<i4") convert(int32_t{});
  else if (descr == "<i8") convert(int64_t{});
  else if (descr == "|u1" || descr == "|b1") convert(uint8_t{});
  else throw InputError(file, "unsupported .npy dtype '" + descr + "'");
  if (!in) throw InputError(file, "truncated .npy data");
  return out;
}

}  // namespace sammpa
