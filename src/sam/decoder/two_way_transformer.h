#pragma once
// SAM's TwoWayTransformer (segment_anything/modeling/transformer.py): prompt tokens and image tokens attend to
// each other in `depth` blocks, then a final token-to-image attention. Weights are views into a Checkpoint.
#include <string>
#include <vector>

#include "sam/checkpoint/checkpoint.h"
#include "sam/nn/tensor.h"

namespace sammpa::sam {

// Attention with q/k/v projections to an internal width (embedding / downsample rate) and an output projection.
struct AttentionWeights {
  Tensor q_w, q_b, k_w, k_b, v_w, v_b, out_w, out_b;
  Tensor out_w_t;  // out_w transposed, [internal, C] (a copy): the folded image-to-token attention reads its rows
  static AttentionWeights load(const Checkpoint& ckpt, const std::string& prefix);
  // out_proj(attention(q_proj(q), k_proj(k), v_proj(v))) over `heads` heads, for `groups` independent prompts
  // at once (inputs [rows, C], each `groups` equal blocks, one per prompt): the projections run once over all
  // rows, the attention per prompt.
  Tensor forward_groups(const Tensor& q, const Tensor& k, const Tensor& v, int heads, int64_t groups) const;
  // Every row of q against one block of keys and values already projected (kp, vp [rows, internal]).
  Tensor forward_projected_kv(const Tensor& q, const Tensor& kp, const Tensor& vp, int heads) const;
};

struct LayerNormWeights {
  Tensor gamma, beta;
  static LayerNormWeights load(const Checkpoint& ckpt, const std::string& prefix);
};

class TwoWayTransformer {
 public:
  // prefix is e.g. "mask_decoder.transformer."; the depth, widths and MLP size come from the weights' shapes.
  TwoWayTransformer(const Checkpoint& ckpt, const std::string& prefix, int num_heads = 8);

  // image [HW, C] (image embedding as tokens), image_pe [HW, C], tokens [T, C] (output + prompt tokens).
  // Returns the processed tokens [T, C] and image tokens [HW, C].
  struct Output {
    Tensor tokens, image;
  };
  Output forward(const Tensor& image, const Tensor& image_pe, const Tensor& tokens) const;

  // What the first block computes from the image alone, the same for every prompt on it: prepared once per
  // image, it serves every later batch of prompts (an interactive session's prompt rounds, the ranked mode's
  // chunks) without redoing the projections of the 4096 image tokens.
  struct ImageSide {
    Tensor image, pe, image_with_pe;  // [HW, C]
    Tensor k0, v0;                    // the first token-to-image attention's keys and values [HW, internal]
    Tensor q0;                        // the first image-to-token attention's queries [HW, internal]
  };
  ImageSide prepare(const Tensor& image, const Tensor& image_pe) const;
  // `groups` prompts on the same image at once: tokens [groups x T, C] (T per prompt), image and image_pe
  // [HW, C] shared. Returns tokens [groups x T, C] and image tokens [groups x HW, C], as forward() per prompt.
  // The first block's work on the image (its keys and values, the image-to-token queries) is done once; each
  // prompt's own image tokens then meet its few tokens through attention with the projections folded into the
  // token side (decoder_kernels.h), one prompt after the other, so a prompt's result does not depend on the
  // batch.
  Output forward_batch(const Tensor& image, const Tensor& image_pe, const Tensor& tokens, int64_t groups) const;
  Output forward_batch(const ImageSide& image, const Tensor& tokens, int64_t groups) const;

  int depth() const { return static_cast<int>(blocks_.size()); }
  int64_t embedding_dim() const { return embedding_dim_; }

 private:
  struct Block {
    AttentionWeights self_attn, token_to_image, image_to_token;
    LayerNormWeights norm1, norm2, norm3, norm4;
    Tensor lin1_w, lin1_b, lin2_w, lin2_b;  // MLP with ReLU
    bool skip_first_layer_pe = false;
  };
  // Token-to-image attention over each prompt's own image tokens keys [groups x HW, C] (keys_pe: with the
  // positional encoding): tokens q [groups x T, C] in, attention output [groups x T, C] out.
  Tensor token_to_image_own(const AttentionWeights& a, const Tensor& q, const Tensor& keys_pe, const Tensor& keys,
                            int64_t groups) const;
  // Image-to-token attention, then the residual add, LayerNorm `norm` and the positional encoding: k_tokens and
  // v_tokens [groups x T, C]. The image side is either the shared queries q_shared [HW, internal] (the first
  // block: the projection of the image with its encoding, computed once) or each prompt's keys_pe
  // [groups x HW, C]; base is the residual stream ([HW, C] shared when base_shared, else [groups x HW, C]).
  // Writes keys and keys_pe [groups x HW, C].
  void image_to_token_update(const AttentionWeights& a, const LayerNormWeights& norm, const Tensor& k_tokens,
                             const Tensor& v_tokens, const Tensor* q_shared, const Tensor& keys_pe_in,
                             const Tensor& base, bool base_shared, const Tensor& image_pe, int64_t groups,
                             Tensor& keys, Tensor& keys_pe) const;

  std::vector<Block> blocks_;
  AttentionWeights final_token_to_image_;
  LayerNormWeights norm_final_;
  int num_heads_;
  int64_t embedding_dim_ = 0;
};

}  // namespace sammpa::sam
