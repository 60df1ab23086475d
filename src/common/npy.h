#pragma once
// NumPy .npy files for float32 arrays: SAM's low-resolution logits and soft masks are written this way so
// that they can be fed back as mask prompts and inspected with numpy.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace sammpa {

struct FloatArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

void write_npy(const std::filesystem::path& file, const float* data, const std::vector<int64_t>& shape);
// Reads little-endian float32/float64/int/uint8 C-order arrays as float32; InputError naming the file otherwise.
FloatArray read_npy(const std::filesystem::path& file);

}  // namespace sammpa
