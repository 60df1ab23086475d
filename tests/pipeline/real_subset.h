#pragma once
// Small real datasets for the pipeline tests: symbolic links to images (and masks) spread evenly over one of
// the real datasets, so that a test sees every kind of image without running on all of them.
#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/dataset.h"
#include "test_support.h"

namespace sammpa::test {

// The samples whose name starts with one of `prefixes` (all of them if none is given).
inline std::vector<const Sample*> with_prefix(const Dataset& all, const std::vector<std::string>& prefixes) {
  std::vector<const Sample*> pool;
  for (const auto& s : all.samples)
    if (prefixes.empty() ||
        std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return s.name.rfind(p, 0) == 0; }))
      pool.push_back(&s);
  return pool;
}

// Links `n` samples spread evenly over `pool` into dir/images and dir/masks.
inline void link_spread(const std::vector<const Sample*>& pool, size_t n, const std::filesystem::path& dir) {
  if (pool.size() < n) throw std::runtime_error("real dataset is missing or too small");
  std::filesystem::create_directories(dir / "images");
  std::filesystem::create_directories(dir / "masks");
  for (size_t i = 0; i < n; ++i) {
    const Sample& s = *pool[i * (pool.size() / n)];
    std::filesystem::create_symlink(s.image, dir / "images" / s.image.filename());
    std::filesystem::create_symlink(*s.mask, dir / "masks" / s.mask->filename());
  }
}

}  // namespace sammpa::test
