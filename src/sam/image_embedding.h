#pragma once
// An image's SAM embedding with what is needed to prompt it later without the image encoder: the model it
// came from and the image's frame. Saved as one binary file (magic, JSON header, float32 data), so that the
// pipeline can prompt the same image many times and `sammpa sam-embed` can precompute a folder.
#include <filesystem>
#include <string>

#include "sam/nn/tensor.h"
#include "sam/transforms.h"

namespace sammpa::sam {

struct ImageEmbedding {
  std::string model_type;  // e.g. "vit_t"; prompting with another model's decoder is refused
  ImageFrame frame;
  Tensor features;  // [1, C, 64, 64]

  void save(const std::filesystem::path& file) const;  // atomic
  static ImageEmbedding load(const std::filesystem::path& file);  // InputError naming the file if invalid
};

}  // namespace sammpa::sam
