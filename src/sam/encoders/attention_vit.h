#pragma once
// Multi-head self-attention of SAM's ViT blocks with the decomposed relative-position bias (MViTv2), computed
// without materialising the score matrices of all heads: one head and one block of query rows (global
// attention) or one head and one window (window attention) at a time, in per-thread scratch memory.
#include <cstdint>
#include <vector>

namespace sammpa::sam::vit {

struct AttentionGeometry {
  int64_t grid_h = 0, grid_w = 0;  // token grid (tokens are row-major over it)
  int64_t heads = 0, head_dim = 0;
  int64_t window = 0;  // 0: global attention over the whole grid; else windows of window x window tokens
  int64_t key_h() const { return window ? window : grid_h; }
  int64_t key_w() const { return window ? window : grid_w; }
  int64_t channels() const { return heads * head_dim; }
};

// Per-thread working memory, allocated once and reused by every block of the encoder.
class AttentionScratch {
 public:
  AttentionScratch() = default;
  // Grows (never shrinks) to fit `geometry` for the current OpenMP thread count.
  void reserve(const AttentionGeometry& geometry);
  float* thread_buffer(int thread) { return buffers_[thread].data(); }

 private:
  std::vector<std::vector<float>> buffers_;
};

// out[t, h * head_dim + d] for every token t and head h. qkv: [tokens, 3C] rows of (q | k | v), each split
// into heads, i.e. the output of the qkv linear layer. qkv_bias [3C]: what that layer gives for the zero
// tokens that pad the grid to whole windows (they take part as keys). rel: [2*key_h-1 + 2*key_w-1, head_dim],
// rel_pos_h rows followed by rel_pos_w rows. out: [tokens, C].
void attention_rel_pos(const AttentionGeometry& geometry, const float* qkv, const float* qkv_bias,
                       const float* rel, float* out, AttentionScratch& scratch);

}  // namespace sammpa::sam::vit
