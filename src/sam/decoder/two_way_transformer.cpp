#include "sam/decoder/two_way_transformer.h"

#include <cstring>
#include <stdexcept>

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
  return a;
}

namespace {

// `groups` copies of x's rows, one after the other.
Tensor repeat_rows(const Tensor& x, int64_t groups) {
  Tensor out({groups * x.dim(0), x.dim(1)});
  for (int64_t g = 0; g < groups; ++g) std::memcpy(out.data() + g * x.numel(), x.data(), x.numel() * sizeof(float));
  return out;
}

// a [groups x N, C] plus the same b [N, C] for every group (float addition commutes: the same bits as add()).
Tensor add_each(const Tensor& a, const Tensor& b) {
  Tensor out(a.shape());
  const int64_t n = b.numel(), groups = a.numel() / n;
#pragma omp parallel for schedule(static)
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t i = 0; i < n; ++i) out.data()[g * n + i] = a.data()[g * n + i] + b.data()[i];
  return out;
}

}  // namespace

Tensor AttentionWeights::forward_groups(const Tensor& q, const Tensor& k, const Tensor& v, int heads, int64_t groups,
                                        bool q_shared, bool kv_shared) const {
  Tensor qp = linear(q, q_w, q_b), kp = linear(k, k_w, k_b), vp = linear(v, v_w, v_b);
  const int64_t internal = qp.dim(1);
  Tensor out;
  if (kv_shared && !q_shared) {
    out = nn::attention(qp, kp, vp, heads);  // every query row against the same keys: one call
  } else {
    if (q_shared) qp = repeat_rows(qp, groups);
    if (kv_shared) kp = repeat_rows(kp, groups), vp = repeat_rows(vp, groups);
    const int64_t nq = qp.dim(0) / groups, nk = kp.dim(0) / groups;
    out = nn::attention(qp.reshaped({groups, nq, internal}), kp.reshaped({groups, nk, internal}),
                        vp.reshaped({groups, nk, internal}), heads)
              .reshaped({groups * nq, internal});
  }
  return linear(out, out_w, out_b);
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
  for (const AttentionWeights* a : {&blocks_[0].self_attn, &blocks_[0].token_to_image})
    if (a->q_w.dim(0) % num_heads_ != 0)
      throw CheckpointError(ckpt.file().string() + ": attention width " + std::to_string(a->q_w.dim(0)) +
                            " is not divisible by " + std::to_string(num_heads_) + " heads");
}

TwoWayTransformer::Output TwoWayTransformer::forward(const Tensor& image, const Tensor& image_pe,
                                                     const Tensor& tokens) const {
  return forward_batch(image, image_pe, tokens, 1);  // one prompt: a batch of one
}

TwoWayTransformer::Output TwoWayTransformer::forward_batch(const Tensor& image, const Tensor& image_pe,
                                                           const Tensor& tokens, int64_t groups) const {
  if (groups < 1 || tokens.rank() != 2 || tokens.dim(0) % groups != 0 || image.rank() != 2 ||
      image.shape() != image_pe.shape() || image.dim(1) != embedding_dim_ || tokens.dim(1) != embedding_dim_)
    throw std::invalid_argument("TwoWayTransformer: image " + image.shape_str() + ", tokens " + tokens.shape_str() +
                                " for " + std::to_string(groups) + " prompts of width " +
                                std::to_string(embedding_dim_));
  const int h = num_heads_;
  const Tensor& query_pe = tokens;
  Tensor queries = tokens, keys = image;
  bool shared = true;  // the image tokens are the same for every prompt until the first image-to-token update
  auto keys_with_pe = [&] { return shared ? add(keys, image_pe) : add_each(keys, image_pe); };
  for (const Block& b : blocks_) {
    if (b.skip_first_layer_pe) {
      queries = b.self_attn.forward_groups(queries, queries, queries, h, groups, false, false);
    } else {
      const Tensor q = add(queries, query_pe);
      queries = add(queries, b.self_attn.forward_groups(q, q, queries, h, groups, false, false));
    }
    queries = layer_norm(queries, b.norm1.gamma, b.norm1.beta);

    Tensor q = add(queries, query_pe);
    const Tensor k = keys_with_pe();
    queries = add(queries, b.token_to_image.forward_groups(q, k, keys, h, groups, false, shared));
    queries = layer_norm(queries, b.norm2.gamma, b.norm2.beta);

    queries = add(queries, linear(linear(queries, b.lin1_w, b.lin1_b, nn::Act::relu), b.lin2_w, b.lin2_b));
    queries = layer_norm(queries, b.norm3.gamma, b.norm3.beta);

    q = add(queries, query_pe);
    const Tensor delta = b.image_to_token.forward_groups(k, q, queries, h, groups, shared, false);
    keys = shared ? add_each(delta, keys) : add(keys, delta);
    keys = layer_norm(keys, b.norm4.gamma, b.norm4.beta);
    shared = false;
  }
  const Tensor q = add(queries, query_pe), k = keys_with_pe();
  queries = add(queries, final_token_to_image_.forward_groups(q, k, keys, h, groups, false, shared));
  queries = layer_norm(queries, norm_final_.gamma, norm_final_.beta);
  return {queries, shared ? repeat_rows(keys, groups) : keys};
}

}  // namespace sammpa::sam
