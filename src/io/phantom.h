#pragma once
// A synthetic dataset with known masks, so that every command runs on a fresh machine with no data:
// grey 256x256 "chest-like" images with two dark lobes on a brighter body, each lobe randomly shifted,
// scaled, rotated and smoothly deformed, plus texture and noise. Deterministic for a given seed.
#include <cstdint>
#include <filesystem>

namespace sammpa {

// lobes: two lobes at about the same place in every image (registration carries them well).
// lesion: one dark lesion with an irregular edge anywhere in speckled tissue, every fifth image without one
// (like breast ultrasound: registration cannot carry it, a model of what a lesion looks like can).
enum class PhantomKind { lobes, lesion };

struct PhantomOptions {
  int count = 40;
  int size = 256;
  uint64_t seed = 1;
  PhantomKind kind = PhantomKind::lobes;
  // lesion: the lesion's semi-major axis as a fraction of the side (+-a third); 0.12 covers about 3% of the
  // image, 0.015 about 0.04% (objects smaller than the pipeline's default size floors).
  double lesion_size = 0.12;
  // lesion: each lesion image holds 1 to max_lesions lesions (uniformly), apart from each other.
  int max_lesions = 1;
};

// Writes root/images/phantom_NNN.png and root/masks/phantom_NNN.png (lesion: lesion_NNN / normal_NNN).
void write_phantom_dataset(const std::filesystem::path& root, const PhantomOptions& opt = {});

}  // namespace sammpa
