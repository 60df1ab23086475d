#include "sam/decoder/prompt_encoder.h"

#include <cmath>
#include <stdexcept>

#include "sam/nn/ops.h"

namespace sammpa::sam {

PromptEncoder::PromptEncoder(const Checkpoint& ckpt, const std::string& prefix, int image_embedding_size,
                             int input_image_size)
    : ckpt_(ckpt), grid_(image_embedding_size), input_size_(input_image_size) {
  no_mask_ = ckpt.get(prefix + "no_mask_embed.weight");
  embed_dim_ = no_mask_.dim(-1);
  const int64_t c = embed_dim_;
  if (no_mask_.rank() != 2 || c % 2 != 0)
    throw CheckpointError(ckpt.file().string() + ": '" + prefix + "no_mask_embed.weight' has shape " +
                          no_mask_.shape_str() + ", expected [1, even width]");
  gaussian_ = ckpt.get(prefix + "pe_layer.positional_encoding_gaussian_matrix", {2, c / 2});
  for (int i = 0; i < 4; ++i)
    point_embeddings_.push_back(ckpt.get(prefix + "point_embeddings." + std::to_string(i) + ".weight", {1, c}));
  not_a_point_ = ckpt.get(prefix + "not_a_point_embed.weight", {1, c});
  const std::string m = prefix + "mask_downscaling.";
  conv1_w_ = ckpt.get(m + "0.weight");
  const int64_t c1 = conv1_w_.dim(0);
  conv1_w_ = ckpt.get(m + "0.weight", {c1, 1, 2, 2});
  conv1_b_ = ckpt.get(m + "0.bias", {c1});
  norm1_w_ = ckpt.get(m + "1.weight", {c1});
  norm1_b_ = ckpt.get(m + "1.bias", {c1});
  conv2_w_ = ckpt.get(m + "3.weight");
  const int64_t c2 = conv2_w_.dim(0);
  conv2_w_ = ckpt.get(m + "3.weight", {c2, c1, 2, 2});
  conv2_b_ = ckpt.get(m + "3.bias", {c2});
  norm2_w_ = ckpt.get(m + "4.weight", {c2});
  norm2_b_ = ckpt.get(m + "4.bias", {c2});
  conv3_w_ = ckpt.get(m + "6.weight", {c, c2, 1, 1});
  conv3_b_ = ckpt.get(m + "6.bias", {c});

  // get_dense_pe(): cell centres ((j + 0.5) / w, (i + 0.5) / h), channel-first.
  dense_pe_ = Tensor({1, c, grid_, grid_});
  std::vector<float> cell(c);
  for (int i = 0; i < grid_; ++i)
    for (int j = 0; j < grid_; ++j) {
      encode_unit((static_cast<float>(j) + 0.5f) / static_cast<float>(grid_),
                  (static_cast<float>(i) + 0.5f) / static_cast<float>(grid_), cell.data());
      for (int64_t ch = 0; ch < c; ++ch) dense_pe_.data()[(ch * grid_ + i) * grid_ + j] = cell[ch];
    }
}

void PromptEncoder::encode_unit(float x, float y, float* out) const {
  const int64_t f = embed_dim_ / 2;
  const float* g = gaussian_.data();
  const float cx = 2.f * x - 1.f, cy = 2.f * y - 1.f;
  const float two_pi = static_cast<float>(2.0 * M_PI);
  for (int64_t k = 0; k < f; ++k) {
    const float angle = two_pi * (cx * g[k] + cy * g[f + k]);
    out[k] = std::sin(angle);
    out[f + k] = std::cos(angle);
  }
}

Tensor PromptEncoder::embed_mask(const Tensor& mask) const {
  const int64_t side = 4 * static_cast<int64_t>(grid_);
  if (mask.shape() != Shape{1, 1, side, side})
    throw std::invalid_argument("PromptEncoder: mask input " + mask.shape_str() + ", expected [1, 1, " +
                                std::to_string(side) + ", " + std::to_string(side) + "]");
  Tensor x = nn::conv2d(mask, conv1_w_, conv1_b_, 2);
  x = nn::layer_norm_2d(x, norm1_w_, norm1_b_);
  nn::gelu_(x);
  x = nn::conv2d(x, conv2_w_, conv2_b_, 2);
  x = nn::layer_norm_2d(x, norm2_w_, norm2_b_);
  nn::gelu_(x);
  return nn::conv2d(x, conv3_w_, conv3_b_);
}

PromptEncoder::Embeddings PromptEncoder::encode(const Prompts& prompts, bool no_mask_dense) const {
  if (prompts.points.size() != prompts.labels.size())
    throw std::invalid_argument("PromptEncoder: " + std::to_string(prompts.points.size()) + " points but " +
                                std::to_string(prompts.labels.size()) + " labels");
  const int64_t c = embed_dim_;
  const bool pad = !prompts.points.empty() && !prompts.box;  // a padding point stands in for the missing box
  const int64_t n = static_cast<int64_t>(prompts.points.size()) + (pad ? 1 : 0) + (prompts.box ? 2 : 0);
  Embeddings e;
  e.sparse = Tensor({1, n, c});
  const float size = static_cast<float>(input_size_);
  // A point's row: its positional encoding (pixel centre, normalised) plus its label's embedding; the padding
  // label replaces the encoding by not_a_point_embed.
  auto embed_point = [&](float x, float y, int label, float* row) {
    if (label == -1) {
      std::copy(not_a_point_.data(), not_a_point_.data() + c, row);
      return;
    }
    if (label < 0 || label > 3) throw std::invalid_argument("PromptEncoder: point label " + std::to_string(label));
    encode_unit((x + 0.5f) / size, (y + 0.5f) / size, row);
    const float* add = point_embeddings_[label].data();
    for (int64_t k = 0; k < c; ++k) row[k] += add[k];
  };
  float* row = e.sparse.data();
  for (size_t i = 0; i < prompts.points.size(); ++i, row += c)
    embed_point(prompts.points[i][0], prompts.points[i][1], prompts.labels[i], row);
  if (pad) {
    embed_point(0.f, 0.f, -1, row);
    row += c;
  }
  if (prompts.box) {
    const auto& b = *prompts.box;
    embed_point(b[0], b[1], 2, row);
    embed_point(b[2], b[3], 3, row + c);
  }
  if (!prompts.mask_input.empty()) {
    e.dense = embed_mask(prompts.mask_input);
  } else if (no_mask_dense) {
    e.dense = Tensor({1, c, grid_, grid_});
    const int64_t cells = static_cast<int64_t>(grid_) * grid_;
    for (int64_t ch = 0; ch < c; ++ch) std::fill_n(e.dense.data() + ch * cells, cells, no_mask_.data()[ch]);
  }
  return e;
}

}  // namespace sammpa::sam
