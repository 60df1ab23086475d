#pragma once
// Sizes read from files, checked before anything is allocated: products that overflow and sizes larger
// than the file can hold are caught here instead of turning into a huge allocation or a wrapped-around one.
#include <cstdint>
#include <optional>
#include <vector>

namespace sammpa {

// Elements of `shape` times `elem_bytes`; nullopt for a negative dimension or when the product passes 2^62.
inline std::optional<uint64_t> checked_bytes(const std::vector<int64_t>& shape, uint64_t elem_bytes) {
  constexpr uint64_t kLimit = uint64_t{1} << 62;
  uint64_t n = elem_bytes;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n) || n > kLimit) return std::nullopt;
  }
  return n;
}

}  // namespace sammpa
