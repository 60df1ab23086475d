#pragma once
// SAM's ViT image encoder (ViT-B/L/H, also MedSAM's ViT-B), computed like the official ImageEncoderViT:
// 16x16 patch embedding + absolute position embedding, transformer blocks with windowed or global attention and
// decomposed relative-position bias, and the convolutional neck. Built from a VitConfig, which detect_vit_config
// reads from the weights' shapes (checkpoint/model_config.h), so any image size, depth, width, window size and set
// of global blocks loads.
#include <functional>
#include <memory>
#include <string>

#include "sam/checkpoint/checkpoint.h"
#include "sam/checkpoint/model_config.h"
#include "sam/nn/tensor.h"

namespace sammpa::sam {

class ImageEncoderViT {
 public:
  // Where the weights come from: a checkpoint, or any key -> tensor lookup (tests and benchmarks). The encoder
  // copies what it needs while loading (the matrices into oneDNN's blocked layout), so the source may be
  // released afterwards.
  struct WeightSource {
    std::string name;  // for error messages, e.g. the checkpoint file
    std::function<bool(const std::string&)> has;
    std::function<Tensor(const std::string&)> get;
    static WeightSource of(const Checkpoint& checkpoint);  // keeps the checkpoint open
    // The keys and shapes, for detect_vit_config (a shape is that of get(key)).
    WeightShapes shapes() const;
  };

  // Builds the encoder of configuration `config` (detect_vit_config) from its weights under `prefix`; every
  // weight is checked against the configuration (CheckpointError naming a missing or misshapen key).
  static ImageEncoderViT load(const VitConfig& config, const WeightSource& source,
                              const std::string& prefix = "image_encoder.");
  // Same, detecting the configuration from the weights under `prefix`.
  static ImageEncoderViT load(const WeightSource& source, const std::string& prefix = "image_encoder.");
  static ImageEncoderViT load(const Checkpoint& checkpoint, const std::string& prefix = "image_encoder.");

  const VitConfig& config() const;
  // image [1, in_chans, S, S] (or [in_chans, S, S]), normalised as SAM expects, S = config().img_size
  // -> embedding [1, out_chans, S / patch, S / patch].
  Tensor forward(const Tensor& image) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sammpa::sam
