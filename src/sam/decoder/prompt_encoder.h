#pragma once
// SAM's PromptEncoder (segment_anything/modeling/prompt_encoder.py; MobileSAM uses the same): turns points,
// a box and a low-resolution mask into the decoder's sparse tokens and dense embedding, and provides the
// dense positional encoding of the image-embedding grid. Weights are views into a Checkpoint.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "sam/checkpoint/checkpoint.h"
#include "sam/nn/tensor.h"

namespace sammpa::sam {

// One prompt set for one image; coordinates are (x, y) pixels in the model's input frame (the longest side
// resized to 1024), as SamPredictor passes them after apply_coords / apply_boxes.
struct Prompts {
  std::vector<std::array<float, 2>> points;
  // One per point: 1 foreground, 0 background, -1 padding (ignored point), 2 / 3 top-left / bottom-right box
  // corner (as in SAM's ONNX export; equivalent to giving `box`).
  std::vector<int> labels;
  std::optional<std::array<float, 4>> box;  // x0, y0, x1, y1
  Tensor mask_input;  // [1, 1, 256, 256] low-resolution logits (e.g. a previous prediction), or empty
};

class PromptEncoder {
 public:
  // Dims come from the weights' shapes; the grid and input sizes are not stored in checkpoints (64 and 1024 in
  // every official model).
  explicit PromptEncoder(const Checkpoint& ckpt, const std::string& prefix = "prompt_encoder.",
                         int image_embedding_size = 64, int input_image_size = 1024);

  struct Embeddings {
    Tensor sparse;  // [1, N, C]: the points (plus one padding point when there is no box), then the box corners
    Tensor dense;   // [1, C, h, w]: the embedded mask, or no_mask_embed everywhere
  };
  // With no_mask_dense false, a prompt without a mask input gets no dense tensor (a caller that already holds the
  // no-mask embedding saves filling 4 MB per prompt).
  Embeddings encode(const Prompts& prompts, bool no_mask_dense = true) const;

  // Positional encoding of every cell centre of the h x w image-embedding grid: [1, C, h, w] (get_dense_pe()).
  const Tensor& dense_pe() const { return dense_pe_; }

  int64_t embed_dim() const { return embed_dim_; }
  int image_embedding_size() const { return grid_; }
  int input_image_size() const { return input_size_; }

 private:
  // Random-Fourier encoding of points given in [0, 1]^2: [sin(2 pi (2p - 1) G), cos(...)] written to out[C].
  void encode_unit(float x, float y, float* out) const;
  Tensor embed_mask(const Tensor& mask) const;

  Checkpoint ckpt_;  // keeps the weight views valid
  Tensor gaussian_;  // [2, C/2]
  std::vector<Tensor> point_embeddings_;  // 4 x [1, C]: negative, positive, box corner 1, box corner 2
  Tensor not_a_point_, no_mask_;
  Tensor conv1_w_, conv1_b_, norm1_w_, norm1_b_, conv2_w_, conv2_b_, norm2_w_, norm2_b_, conv3_w_, conv3_b_;
  Tensor dense_pe_;
  int64_t embed_dim_ = 0;
  int grid_ = 64, input_size_ = 1024;
};

}  // namespace sammpa::sam
