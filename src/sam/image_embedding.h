#pragma once
// An image's SAM embedding with what is needed to prompt it later without the image encoder: the model it
// came from and the image's frame. Saved as one binary file (magic, JSON header, float32 data), so that the
// pipeline can prompt the same image many times and `sammpa sam-embed` can precompute a folder.
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>

#include "sam/nn/tensor.h"
#include "sam/transforms.h"

namespace sammpa::sam {

struct ImageEmbedding {
  std::string model_type;  // e.g. "vit_t"; prompting with another model's decoder is refused
  ImageFrame frame;
  Tensor features;  // [1, C, 64, 64]
  // The pixels it was computed from (image_digest), so that a cache never serves the embedding of an image that
  // has since been replaced by another of the same size. Empty in files written before it existed.
  std::string image_digest;

  void save(const std::filesystem::path& file) const;  // atomic
  static ImageEmbedding load(const std::filesystem::path& file);  // InputError naming the file if invalid
};

// The grid cells [width, height] that hold image rather than padding: ceil(input size / cell stride).
cv::Size valid_cells(const ImageEmbedding& embedding);

// FNV-1a (64 bit, hex) over an 8-bit image's size, type and pixels.
std::string image_digest(const cv::Mat& image);

}  // namespace sammpa::sam
