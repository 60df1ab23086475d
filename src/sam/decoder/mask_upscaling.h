#pragma once
// The mask decoder's output path after the transformer (internal): the two 2x2 stride-2 transposed convolutions
// with LayerNorm2d and GELU in between (output_upscaling), then each mask token's hypernetwork output dotted with
// the upscaled embedding at every pixel. Computed channels-last in tiles of a few rows of the embedding grid, so the
// 4x and 16x larger intermediate images never exist (per grid row: 64 tokens -> 256 -> 1024 pixels, in cache).
#include <memory>

#include "sam/encoders/tinyvit_dnnl.h"
#include "sam/nn/tensor.h"

namespace sammpa::sam {

class MaskUpscaling {
 public:
  // up1_w [C, C/4, 2, 2] (PyTorch's ConvTranspose2d layout), up1_b [C/4], norm [C/4] (eps 1e-6), up2_w
  // [C/4, C/8, 2, 2], up2_b [C/8]; `width` is the embedding grid's width (tokens per tile).
  MaskUpscaling(const Tensor& up1_w, const Tensor& up1_b, const Tensor& norm_w, const Tensor& norm_b,
                const Tensor& up2_w, const Tensor& up2_b, int64_t width);

  // For each prompt g of `groups`: tokens + g * h * width * C are its image tokens [h * width, C] (row-major
  // grid), hyper + g * count * C/8 its `count` hypernetwork outputs, out[g] receives [count, 4h, 4 width]
  // logits. Every (prompt, grid row) is one task of the same single-threaded steps: a prompt's result does
  // not depend on the others in the batch.
  void run(int64_t groups, const float* tokens, int64_t h, const float* hyper, int count, float* const* out) const;

  int64_t width() const { return width_; }

 private:
  // Grid rows per task: a tile's intermediate images (1 MB at C = 256, width 64) stay in a core's L2 cache, and
  // the matrix products are tall enough to run near the core's peak.
  static constexpr int64_t kTileRows = 4;
  struct Stage {               // the steps for a tile of `rows` grid rows
    tinyvit::Linear up1, up2;  // [rows width, C] -> [., 4 C/4]; [4 rows width, C/4] -> [., 4 C/8] with GELU
  };
  int64_t c_, c4_, c8_, width_;
  Tensor norm_w_, norm_b_;
  Stage tile_, one_row_;
};

}  // namespace sammpa::sam
