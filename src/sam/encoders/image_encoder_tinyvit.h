#pragma once
// MobileSAM's image encoder ("vit_t"): TinyViT-5M adapted to 1024x1024 inputs, with SAM's neck. Computes what
// mobile_sam.modeling.TinyViT computes in eval mode, from the official checkpoint's weights:
//   conv stem (two 3x3 stride-2 conv + BatchNorm, GELU between)            -> 256x256x64
//   2 MBConv blocks, PatchMerging                                          -> 128x128x128
//   2 TinyViT blocks (7x7 windows), PatchMerging                           -> 64x64x160
//   6 TinyViT blocks (14x14 windows), PatchMerging with stride 1           -> 64x64x320
//   2 TinyViT blocks (7x7 windows), neck (1x1 conv, LayerNorm2d, 3x3 conv, LayerNorm2d) -> [1, 256, 64, 64]
// LiteMedSAM's encoder is the same network with a 1x1 stride-1 stem (two 1x1 convs + BatchNorm, GELU between) on a
// 256x256 input; everything after the stem is identical (detected from the stem's kernel at load time).
// BatchNorms are folded into their convolutions at load time; everything runs on oneDNN plus a few fused
// kernels, with primitives built once at load time and activation buffers reused across calls, on OpenMP's
// threads (omp_set_num_threads / OMP_NUM_THREADS). The checkpoint may be closed after load.
#include <memory>
#include <string>

#include "sam/checkpoint/checkpoint.h"
#include "sam/checkpoint/model_config.h"
#include "sam/nn/tensor.h"

namespace sammpa::sam {

class ImageEncoderTinyViT {
 public:
  static constexpr int kImageSize = 1024;  // MobileSAM's input side (LiteMedSAM: 256; see image_size())

  // Builds the encoder of configuration `config` (detected from the checkpoint: checkpoint/model_config.h) from
  // its weights under `prefix` (throws CheckpointError naming a missing or misshapen key).
  static ImageEncoderTinyViT load(const Checkpoint& checkpoint, const TinyVitConfig& config,
                                  const std::string& prefix = "image_encoder.");
  // Same, detecting the configuration from the weights under `prefix`.
  static ImageEncoderTinyViT load(const Checkpoint& checkpoint, const std::string& prefix = "image_encoder.");

  int image_size() const;  // input side: 1024 (MobileSAM) or 256 (LiteMedSAM)

  // image: [1, 3, S, S] (S = image_size()), normalised and padded as the model's preprocessing does ->
  // embedding [1, 256, 64, 64].
  // Safe to call from several threads (calls on one encoder run one at a time: they share its buffers).
  Tensor forward(const Tensor& image) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sammpa::sam
