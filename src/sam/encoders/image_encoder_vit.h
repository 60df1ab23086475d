#pragma once
// SAM's ViT image encoder (ViT-B/L/H, also MedSAM's ViT-B), computed like the official ImageEncoderViT:
// 16x16 patch embedding + absolute position embedding, transformer blocks with windowed or global attention and
// decomposed relative-position bias, and the convolutional neck. Every size is read from the weights' shapes,
// so any image size, depth, width, window size and set of global blocks loads.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sam/checkpoint/checkpoint.h"
#include "sam/nn/tensor.h"

namespace sammpa::sam {

struct ImageEncoderViTConfig {
  int64_t img_size = 0, patch_size = 0, in_chans = 0;
  int64_t embed_dim = 0, depth = 0, heads = 0, mlp_dim = 0, out_chans = 0;
  std::vector<int64_t> window;  // per block: window size, 0 for global attention
  int64_t grid() const { return patch_size ? img_size / patch_size : 0; }
  std::vector<int> global_attn_indexes() const;
};

class ImageEncoderViT {
 public:
  // Where the weights come from: a checkpoint, or any key -> tensor lookup (tests and benchmarks). The encoder
  // copies what it needs while loading (the matrices into oneDNN's blocked layout), so the source may be
  // released afterwards.
  struct WeightSource {
    std::string name;  // for error messages, e.g. the checkpoint file
    std::function<bool(const std::string&)> has;
    std::function<Tensor(const std::string&)> get;
  };

  static ImageEncoderViT load(const WeightSource& source, const std::string& prefix = "image_encoder.");
  static ImageEncoderViT load(const Checkpoint& checkpoint, const std::string& prefix = "image_encoder.") {
    return load(WeightSource{checkpoint.file().string(),
                             [&checkpoint](const std::string& k) { return checkpoint.has(k); },
                             [&checkpoint](const std::string& k) { return checkpoint.get(k); }},
                prefix);
  }

  const ImageEncoderViTConfig& config() const;
  // image [1, 3, S, S] (or [3, S, S]), normalised as SAM expects, S = config().img_size
  // -> embedding [1, out_chans, S / patch, S / patch].
  Tensor forward(const Tensor& image) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sammpa::sam
