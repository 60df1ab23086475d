#pragma once
// A synthetic dataset with known masks, so that every command runs on a fresh machine with no data:
// grey 256x256 "chest-like" images with two dark lobes on a brighter body, each lobe randomly shifted,
// scaled, rotated and smoothly deformed, plus texture and noise. Deterministic for a given seed.
#include <cstdint>
#include <filesystem>

namespace sammpa {

struct PhantomOptions {
  int count = 40;
  int size = 256;
  uint64_t seed = 1;
};

// Writes root/images/phantom_NNN.png and root/masks/phantom_NNN.png.
void write_phantom_dataset(const std::filesystem::path& root, const PhantomOptions& opt = {});

}  // namespace sammpa
