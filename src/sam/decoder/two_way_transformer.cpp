#include "sam/decoder/two_way_transformer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sam/decoder/decoder_kernels.h"
#include "sam/nn/ops.h"

namespace sammpa::sam {

using nn::add;
using nn::layer_norm;
using nn::linear;

AttentionWeights AttentionWeights::load(const Checkpoint& ckpt, const std::string& prefix) {
  AttentionWeights a;
  a.q_w = ckpt.get(prefix + "q_proj.weight");
  const int64_t internal = a.q_w.dim(0), dim = a.q_w.dim(1);
  a.q_b = ckpt.get(prefix + "q_proj.bias", {internal});
  a.k_w = ckpt.get(prefix + "k_proj.weight", {internal, dim});
  a.k_b = ckpt.get(prefix + "k_proj.bias", {internal});
  a.v_w = ckpt.get(prefix + "v_proj.weight", {internal, dim});
  a.v_b = ckpt.get(prefix + "v_proj.bias", {internal});
  a.out_w = ckpt.get(prefix + "out_proj.weight", {dim, internal});
  a.out_b = ckpt.get(prefix + "out_proj.bias", {dim});
  a.out_w_t = nn::permute(a.out_w, {1, 0});
  return a;
}

Tensor AttentionWeights::forward_groups(const Tensor& q, const Tensor& k, const Tensor& v, int heads,
                                        int64_t groups) const {
  const Tensor qp = linear(q, q_w, q_b), kp = linear(k, k_w, k_b), vp = linear(v, v_w, v_b);
  const int64_t internal = qp.dim(1), nq = qp.dim(0) / groups, nk = kp.dim(0) / groups;
  const Tensor out = nn::attention(qp.reshaped({groups, nq, internal}), kp.reshaped({groups, nk, internal}),
                                   vp.reshaped({groups, nk, internal}), heads)
                         .reshaped({groups * nq, internal});
  return linear(out, out_w, out_b);
}

Tensor AttentionWeights::forward_projected_kv(const Tensor& q, const Tensor& kp, const Tensor& vp, int heads) const {
  return linear(nn::attention(linear(q, q_w, q_b), kp, vp, heads), out_w, out_b);
}

LayerNormWeights LayerNormWeights::load(const Checkpoint& ckpt, const std::string& prefix) {
  LayerNormWeights n;
  n.gamma = ckpt.get(prefix + "weight");
  n.beta = ckpt.get(prefix + "bias", n.gamma.shape());
  return n;
}

TwoWayTransformer::TwoWayTransformer(const Checkpoint& ckpt, const std::string& prefix, int num_heads)
    : num_heads_(num_heads) {
  for (int i = 0; ckpt.has(prefix + "layers." + std::to_string(i) + ".norm1.weight"); ++i) {
    const std::string p = prefix + "layers." + std::to_string(i) + ".";
    Block b;
    b.self_attn = AttentionWeights::load(ckpt, p + "self_attn.");
    b.token_to_image = AttentionWeights::load(ckpt, p + "cross_attn_token_to_image.");
    b.image_to_token = AttentionWeights::load(ckpt, p + "cross_attn_image_to_token.");
    b.norm1 = LayerNormWeights::load(ckpt, p + "norm1.");
    b.norm2 = LayerNormWeights::load(ckpt, p + "norm2.");
    b.norm3 = LayerNormWeights::load(ckpt, p + "norm3.");
    b.norm4 = LayerNormWeights::load(ckpt, p + "norm4.");
    b.lin1_w = ckpt.get(p + "mlp.lin1.weight");
    b.lin1_b = ckpt.get(p + "mlp.lin1.bias", {b.lin1_w.dim(0)});
    b.lin2_w = ckpt.get(p + "mlp.lin2.weight", {b.lin1_w.dim(1), b.lin1_w.dim(0)});
    b.lin2_b = ckpt.get(p + "mlp.lin2.bias", {b.lin1_w.dim(1)});
    b.skip_first_layer_pe = i == 0;
    blocks_.push_back(std::move(b));
  }
  if (blocks_.empty())
    throw CheckpointError(ckpt.file().string() + ": no '" + prefix + "layers.0.*' weights (not a SAM mask decoder)");
  final_token_to_image_ = AttentionWeights::load(ckpt, prefix + "final_attn_token_to_image.");
  norm_final_ = LayerNormWeights::load(ckpt, prefix + "norm_final_attn.");
  embedding_dim_ = blocks_[0].norm1.gamma.numel();
  if (num_heads_ < 1 || num_heads_ > 64)
    throw std::invalid_argument("TwoWayTransformer: " + std::to_string(num_heads_) + " heads (1 to 64 supported)");
  for (const AttentionWeights* a : {&blocks_[0].self_attn, &blocks_[0].token_to_image})
    if (a->q_w.dim(0) % num_heads_ != 0)
      throw CheckpointError(ckpt.file().string() + ": attention width " + std::to_string(a->q_w.dim(0)) +
                            " is not divisible by " + std::to_string(num_heads_) + " heads");
}

TwoWayTransformer::Output TwoWayTransformer::forward(const Tensor& image, const Tensor& image_pe,
                                                     const Tensor& tokens) const {
  return forward_batch(image, image_pe, tokens, 1);  // one prompt: a batch of one
}

TwoWayTransformer::ImageSide TwoWayTransformer::prepare(const Tensor& image, const Tensor& image_pe) const {
  if (image.rank() != 2 || image.shape() != image_pe.shape() || image.dim(1) != embedding_dim_)
    throw std::invalid_argument("TwoWayTransformer: image " + image.shape_str() + ", pe " + image_pe.shape_str() +
                                " for width " + std::to_string(embedding_dim_));
  const Block& b = blocks_[0];
  ImageSide s;
  s.image = image;
  s.pe = image_pe;
  s.image_with_pe = add(image, image_pe);
  s.k0 = linear(s.image_with_pe, b.token_to_image.k_w, b.token_to_image.k_b);
  s.v0 = linear(image, b.token_to_image.v_w, b.token_to_image.v_b);
  s.q0 = linear(s.image_with_pe, b.image_to_token.q_w, b.image_to_token.q_b);
  return s;
}

TwoWayTransformer::Output TwoWayTransformer::forward_batch(const Tensor& image, const Tensor& image_pe,
                                                           const Tensor& tokens, int64_t groups) const {
  return forward_batch(prepare(image, image_pe), tokens, groups);
}

TwoWayTransformer::Output TwoWayTransformer::forward_batch(const ImageSide& side, const Tensor& tokens,
                                                           int64_t groups) const {
  const Tensor &image = side.image, &image_pe = side.pe, &image_with_pe = side.image_with_pe;
  if (groups < 1 || tokens.rank() != 2 || tokens.dim(0) % groups != 0 || image.rank() != 2 ||
      image.shape() != image_pe.shape() || image.dim(1) != embedding_dim_ || tokens.dim(1) != embedding_dim_)
    throw std::invalid_argument("TwoWayTransformer: image " + image.shape_str() + ", tokens " + tokens.shape_str() +
                                " for " + std::to_string(groups) + " prompts of width " +
                                std::to_string(embedding_dim_));
  const int h = num_heads_;
  const Tensor& query_pe = tokens;
  Tensor queries = tokens;
  Tensor keys, keys_pe;  // each prompt's image tokens [groups x HW, C] (and with the encoding), after block 0
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const Block& b = blocks_[i];
    const bool first = i == 0;  // the image tokens are still the same for every prompt
    if (b.skip_first_layer_pe) {
      queries = b.self_attn.forward_groups(queries, queries, queries, h, groups);
    } else {
      const Tensor q = add(queries, query_pe);
      queries = add(queries, b.self_attn.forward_groups(q, q, queries, h, groups));
    }
    queries = layer_norm(queries, b.norm1.gamma, b.norm1.beta);

    Tensor q = add(queries, query_pe);
    queries = add(queries, first ? b.token_to_image.forward_projected_kv(q, side.k0, side.v0, h)
                                 : token_to_image_own(b.token_to_image, q, keys_pe, keys, groups));
    queries = layer_norm(queries, b.norm2.gamma, b.norm2.beta);

    queries = add(queries, linear(linear(queries, b.lin1_w, b.lin1_b, nn::Act::relu), b.lin2_w, b.lin2_b));
    queries = layer_norm(queries, b.norm3.gamma, b.norm3.beta);

    q = add(queries, query_pe);
    if (first) {
      keys = Tensor({groups * image.dim(0), embedding_dim_});
      keys_pe = Tensor(keys.shape());
      image_to_token_update(b.image_to_token, b.norm4, q, queries, &side.q0, image_with_pe, image, true, image_pe,
                            groups, keys, keys_pe);
    } else {  // in place: each prompt's rows are read before they are written
      image_to_token_update(b.image_to_token, b.norm4, q, queries, nullptr, keys_pe, keys, false, image_pe, groups,
                            keys, keys_pe);
    }
  }
  const Tensor q = add(queries, query_pe);
  queries = add(queries, token_to_image_own(final_token_to_image_, q, keys_pe, keys, groups));
  queries = layer_norm(queries, norm_final_.gamma, norm_final_.beta);
  return {queries, keys};
}

// softmax(q_h k_h^T / sqrt(d)) v_h with k = keys_pe W_k^T + b_k and v = keys W_v^T + b_v, per prompt, computed
// as: the folded rows a_(t,h) = q_(t,h) W_k,h / sqrt(d) ([T x heads, C]) against the C-wide keys_pe (b_k adds
// the same to every score of a row, which the softmax ignores), the probabilities times keys ([T x heads, C]),
// then W_v,h and b_v (the probabilities sum to 1). 2 x T x heads x HW x C multiply-adds per prompt instead of
// 2 x HW x C x internal for the projections of the image tokens.
Tensor TwoWayTransformer::token_to_image_own(const AttentionWeights& a, const Tensor& q, const Tensor& keys_pe,
                                             const Tensor& keys, int64_t groups) const {
  namespace k = decoder_kernels;
  const int64_t heads = num_heads_, c = embedding_dim_, hw = keys.dim(0) / groups;
  const Tensor qp = linear(q, a.q_w, a.q_b);
  const int64_t internal = qp.dim(1), d = internal / heads, t_len = qp.dim(0) / groups, th = t_len * heads;
  const float scale = 1.f / std::sqrt(static_cast<float>(d));
  Tensor folded({th, c}), out({groups * t_len, internal});
  for (int64_t g = 0; g < groups; ++g) {
    k::head_expand(qp.data() + g * t_len * internal, internal, t_len, heads, d, a.k_w.data(), c, scale,
                   folded.data());
    Tensor s = nn::matmul(folded, Tensor::view(keys_pe.data() + g * hw * c, {hw, c}), true);  // [T x heads, HW]
    nn::softmax_(s);
    const Tensor r = nn::matmul(s, Tensor::view(keys.data() + g * hw * c, {hw, c}));  // [T x heads, C]
    k::head_reduce(r.data(), t_len, heads, d, c, a.v_w.data(), a.v_b.data(), out.data() + g * t_len * internal,
                   internal);
  }
  return linear(out, a.out_w, a.out_b);
}

// The image tokens x attend to the prompt's T tokens: scores x W_q,h^T k_h (+ b_q,h . k_h) as x times the folded
// columns W_q,h^T k_(t,h) / sqrt(d) (or, in the first block, the shared projected queries times the keys laid out
// block-diagonally), a softmax over the T tokens per head, and the output projection folded into the values:
// u_(t,h) = v_(t,h) W_out,h^T, so out = P U + b_out with P [HW, T x heads].
void TwoWayTransformer::image_to_token_update(const AttentionWeights& a, const LayerNormWeights& norm,
                                              const Tensor& k_tokens, const Tensor& v_tokens, const Tensor* q_shared,
                                              const Tensor& keys_pe_in, const Tensor& base, bool base_shared,
                                              const Tensor& image_pe, int64_t groups, Tensor& keys,
                                              Tensor& keys_pe) const {
  namespace k = decoder_kernels;
  const int64_t heads = num_heads_, c = embedding_dim_, hw = image_pe.dim(0);
  const Tensor kp = linear(k_tokens, a.k_w, a.k_b), vp = linear(v_tokens, a.v_w, a.v_b);
  const int64_t internal = kp.dim(1), d = internal / heads, t_len = kp.dim(0) / groups, th = t_len * heads;
  const float scale = 1.f / std::sqrt(static_cast<float>(d));
  Tensor u({th, c}), folded = q_shared ? Tensor::zeros({internal, th}) : Tensor({th, c}), e({th});
  for (int64_t g = 0; g < groups; ++g) {
    const float* kg = kp.data() + g * t_len * internal;
    k::head_expand(vp.data() + g * t_len * internal, internal, t_len, heads, d, a.out_w_t.data(), c, 1.f, u.data());
    Tensor s;
    if (q_shared) {
      for (int64_t t = 0; t < t_len; ++t)
        for (int64_t hd = 0; hd < internal; ++hd)  // row hd belongs to head hd / d
          folded.data()[hd * th + t * heads + hd / d] = scale * kg[t * internal + hd];
      s = nn::matmul(*q_shared, folded);  // [HW, T x heads]
    } else {
      k::head_expand(kg, internal, t_len, heads, d, a.q_w.data(), c, scale, folded.data());
      for (int64_t t = 0; t < t_len; ++t)
        for (int64_t hh = 0; hh < heads; ++hh) {
          float dot = 0.f;
          for (int64_t j = 0; j < d; ++j) dot += a.q_b.data()[hh * d + j] * kg[t * internal + hh * d + j];
          e.data()[t * heads + hh] = scale * dot;
        }
      s = nn::matmul(Tensor::view(keys_pe_in.data() + g * hw * c, {hw, c}), folded, true);
    }
    constexpr int64_t kRows = 64;
    float* sp = s.data();
    const float* ep = q_shared ? nullptr : e.data();
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < hw; r += kRows)
      k::softmax_over_tokens(sp + r * th, std::min(kRows, hw - r), t_len, heads, ep);
    const Tensor delta = nn::matmul(s, u);  // [HW, C], without b_out
    const float* bs = base.data() + (base_shared ? 0 : g * hw * c);
    float* kd = keys.data() + g * hw * c;
    float* kpd = keys_pe.data() + g * hw * c;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < hw; ++r)
      k::residual_norm_pe(bs + r * c, delta.data() + r * c, a.out_b.data(), norm.gamma.data(), norm.beta.data(), 1e-5f,
                          image_pe.data() + r * c, kd + r * c, kpd + r * c, c);
  }
}

}  // namespace sammpa::sam
