#pragma once
// Minimal reader for NumPy .npy files (little-endian float32 or int32/int64/uint8, C order), used to load the
// Python reference's outputs in tests and benchmarks.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace sammpa::test {

struct Npy {
  std::vector<int64_t> shape;
  std::vector<float> data;  // converted to float32
  int64_t numel() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

inline Npy read_npy(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot open");
  char magic[6];
  in.read(magic, 6);
  if (std::memcmp(magic, "\x93NUMPY", 6) != 0) throw std::runtime_error(file.string() + ": not a .npy file");
  uint8_t ver[2];
  in.read(reinterpret_cast<char*>(ver), 2);
  uint32_t hlen = 0;
  if (ver[0] == 1) {
    uint16_t h16;
    in.read(reinterpret_cast<char*>(&h16), 2);
    hlen = h16;
  } else {
    in.read(reinterpret_cast<char*>(&hlen), 4);
  }
  std::string header(hlen, '\0');
  in.read(header.data(), hlen);
  auto field = [&](const std::string& key) {
    auto p = header.find("'" + key + "'");
    if (p == std::string::npos) throw std::runtime_error(file.string() + ": header lacks " + key);
    return p + key.size() + 2;
  };
  if (header.find("True", field("fortran_order")) < header.find(',', field("fortran_order")))
    throw std::runtime_error(file.string() + ": Fortran order unsupported");
  auto d0 = header.find('\'', field("descr")) + 1;
  std::string descr = header.substr(d0, header.find('\'', d0) - d0);
  Npy out;
  auto s0 = header.find('(', field("shape")) + 1, s1 = header.find(')', s0);
  std::string dims = header.substr(s0, s1 - s0);
  for (size_t i = 0; i < dims.size();) {
    while (i < dims.size() && (dims[i] == ' ' || dims[i] == ',')) ++i;
    if (i >= dims.size()) break;
    size_t j = i;
    while (j < dims.size() && std::isdigit(static_cast<unsigned char>(dims[j]))) ++j;
    out.shape.push_back(std::stoll(dims.substr(i, j - i)));
    i = j;
  }
  const int64_t n = out.numel();
  out.data.resize(n);
  auto read_as = [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> raw(n);
    in.read(reinterpret_cast<char*>(raw.data()), n * sizeof(T));
    for (int64_t i = 0; i < n; ++i) out.data[i] = static_cast<float>(raw[i]);
  };
  if (descr == "<f4") read_as(float{});
  else if (descr == "<f8") read_as(double{});
  else if (descr == "<i4") read_as(int32_t{});
  else if (descr == "<i8") read_as(int64_t{});
  else if (descr == "|u1" || descr == "|b1") read_as(uint8_t{});
  else throw std::runtime_error(file.string() + ": unsupported dtype " + descr);
  if (!in) throw std::runtime_error(file.string() + ": truncated");
  return out;
}

}  // namespace sammpa::test
