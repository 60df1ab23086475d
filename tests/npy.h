#pragma once
// NumPy .npy files written by the Python reference scripts, read through the library's reader
// (common/npy.h) into the shape tests use.
#include <filesystem>

#include "common/npy.h"

namespace sammpa::test {

struct Npy {
  std::vector<int64_t> shape;
  std::vector<float> data;  // converted to float32
  int64_t numel() const { return static_cast<int64_t>(data.size()); }
};

inline Npy read_npy(const std::filesystem::path& file) {
  FloatArray a = sammpa::read_npy(file);
  return {std::move(a.shape), std::move(a.data)};
}

}  // namespace sammpa::test
