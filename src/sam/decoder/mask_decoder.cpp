#include "sam/decoder/mask_decoder.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>

#include "sam/decoder/mask_upscaling.h"
#include "sam/nn/ops.h"

namespace sammpa::sam {

MaskDecoder::Mlp MaskDecoder::load_mlp(const Checkpoint& ckpt, const std::string& prefix) {
  Mlp m;
  for (int i = 0; ckpt.has(prefix + "layers." + std::to_string(i) + ".weight"); ++i) {
    const std::string p = prefix + "layers." + std::to_string(i) + ".";
    m.w.push_back(ckpt.get(p + "weight"));
    if (m.w.back().rank() != 2 || m.w.back().dim(0) < 1)
      throw CheckpointError(ckpt.file().string() + ": '" + p + "weight' has shape " + m.w.back().shape_str() +
                            ", expected [outputs, inputs]");
    m.b.push_back(ckpt.get(p + "bias", {m.w.back().dim(0)}));
    if (i > 0 && m.w[i].dim(1) != m.w[i - 1].dim(0))
      throw CheckpointError(ckpt.file().string() + ": '" + p + "weight' has shape " + m.w[i].shape_str() +
                            " after a layer of " + std::to_string(m.w[i - 1].dim(0)) + " outputs");
  }
  if (m.w.empty()) throw CheckpointError(ckpt.file().string() + ": no '" + prefix + "layers.0.weight'");
  return m;
}

Tensor MaskDecoder::Mlp::forward(const Tensor& x) const {
  Tensor y = x;
  for (size_t i = 0; i < w.size(); ++i)
    y = nn::linear(y, w[i], b[i], i + 1 < w.size() ? nn::Act::relu : nn::Act::none);
  return y;
}

MaskDecoder::MaskDecoder(const Checkpoint& ckpt, const std::string& prefix, int num_heads)
    : ckpt_(ckpt), transformer_(ckpt, prefix + "transformer.", num_heads) {
  const int64_t c = transformer_.embedding_dim();
  iou_token_ = ckpt.get(prefix + "iou_token.weight", {1, c});
  mask_tokens_ = ckpt.get(prefix + "mask_tokens.weight");
  if (mask_tokens_.rank() != 2 || mask_tokens_.dim(1) != c || mask_tokens_.dim(0) < 1)
    throw CheckpointError(ckpt.file().string() + ": '" + prefix + "mask_tokens.weight' has shape " +
                          mask_tokens_.shape_str());
  const std::string u = prefix + "output_upscaling.";
  up1_w_ = ckpt.get(u + "0.weight", {c, c / 4, 2, 2});
  up1_b_ = ckpt.get(u + "0.bias", {c / 4});
  up_norm_w_ = ckpt.get(u + "1.weight", {c / 4});
  up_norm_b_ = ckpt.get(u + "1.bias", {c / 4});
  up2_w_ = ckpt.get(u + "3.weight", {c / 4, c / 8, 2, 2});
  up2_b_ = ckpt.get(u + "3.bias", {c / 8});
  for (int i = 0; i < num_mask_tokens(); ++i)
    hypernetworks_.push_back(load_mlp(ckpt, prefix + "output_hypernetworks_mlps." + std::to_string(i) + "."));
  iou_head_ = load_mlp(ckpt, prefix + "iou_prediction_head.");
  // run() reads one IoU score per mask token and feeds token rows (width c) to every MLP: check both here,
  // so that a mismatching checkpoint is an error naming the key instead of a read past the end.
  auto check_mlp = [&](const Mlp& m, const std::string& name, int64_t outputs) {
    if (m.w.front().dim(1) != c || m.w.back().dim(0) != outputs)
      throw CheckpointError(ckpt.file().string() + ": '" + name + "' maps " + std::to_string(m.w.front().dim(1)) +
                            " inputs to " + std::to_string(m.w.back().dim(0)) + " outputs, expected " +
                            std::to_string(c) + " to " + std::to_string(outputs));
  };
  check_mlp(iou_head_, prefix + "iou_prediction_head", num_mask_tokens());
  for (int i = 0; i < num_mask_tokens(); ++i)
    check_mlp(hypernetworks_[static_cast<size_t>(i)], prefix + "output_hypernetworks_mlps." + std::to_string(i), c / 8);
}

DecoderOutput MaskDecoder::run(const Tensor& image_embeddings, const Tensor& image_pe, const Tensor& sparse,
                               const Tensor& dense, MaskOutput which) const {
  return run_batch(image_embeddings, image_pe, {sparse}, dense, which)[0];  // a batch of one prompt
}

std::vector<DecoderOutput> MaskDecoder::run_batch(const Tensor& image_embeddings, const Tensor& image_pe,
                                                  const std::vector<Tensor>& sparse, const Tensor& dense,
                                                  MaskOutput which) const {
  if (sparse.empty()) return {};
  return run_batch(prepare(image_embeddings, image_pe, dense), sparse, which);
}

MaskDecoder::Image MaskDecoder::prepare(const Tensor& image_embeddings, const Tensor& image_pe,
                                        const Tensor& dense) const {
  const int64_t c = transformer_dim();
  if (image_embeddings.rank() != 4 || image_embeddings.dim(0) != 1 || image_embeddings.dim(1) != c ||
      image_pe.shape() != image_embeddings.shape() || dense.shape() != image_embeddings.shape())
    throw std::invalid_argument("MaskDecoder: image embeddings " + image_embeddings.shape_str() + ", pe " +
                                image_pe.shape_str() + ", dense " + dense.shape_str() + " for width " +
                                std::to_string(c));
  Image im;
  im.h = image_embeddings.dim(2);
  im.w = image_embeddings.dim(3);
  const int64_t hw = im.h * im.w;
  im.side = transformer_.prepare(nn::permute(nn::add(image_embeddings, dense).reshaped({c, hw}), {1, 0}),
                                 nn::permute(image_pe.reshaped({c, hw}), {1, 0}));
  return im;
}

std::vector<DecoderOutput> MaskDecoder::run_batch(const Image& image, const std::vector<Tensor>& sparse,
                                                  MaskOutput which) const {
  const int64_t c = transformer_dim(), groups = static_cast<int64_t>(sparse.size());
  if (groups == 0) return {};
  if (image.side.image.rank() != 2 || image.side.image.dim(1) != c || image.side.image.dim(0) != image.h * image.w)
    throw std::invalid_argument("MaskDecoder: prepared image " + image.side.image.shape_str() + " for width " +
                                std::to_string(c));
  const int64_t n_prompt = sparse[0].empty() ? 0 : sparse[0].numel() / c;
  for (const Tensor& s : sparse) {
    if (!s.empty() && (s.dim(-1) != c || (s.rank() == 3 && s.dim(0) != 1)))
      throw std::invalid_argument("MaskDecoder: sparse embeddings " + s.shape_str());
    if ((s.empty() ? 0 : s.numel() / c) != n_prompt)
      throw std::invalid_argument("MaskDecoder: a batch needs the same number of prompt tokens in every prompt");
  }
  const int64_t h = image.h, w = image.w;
  const int n_out = 1 + num_mask_tokens();
  const int64_t t_len = n_out + n_prompt;

  Tensor tokens({groups * t_len, c});
  for (int64_t g = 0; g < groups; ++g) {
    float* t = tokens.data() + g * t_len * c;
    std::memcpy(t, iou_token_.data(), c * sizeof(float));
    std::memcpy(t + c, mask_tokens_.data(), (n_out - 1) * c * sizeof(float));
    if (n_prompt) std::memcpy(t + n_out * c, sparse[g].data(), n_prompt * c * sizeof(float));
  }
  const TwoWayTransformer::Output t = transformer_.forward_batch(image.side, tokens, groups);

  const int first = which == MaskOutput::multimask ? 1 : 0;
  const int count = which == MaskOutput::single ? 1 : num_mask_tokens() - first;
  if (count < 1) throw std::invalid_argument("MaskDecoder: multimask output needs more than one mask token");
  const int64_t c8 = up2_w_.dim(1);
  // Each mask token's hypernetwork over that token of every prompt, the IoU head over every IoU token.
  auto token_rows = [&](int64_t token) {
    Tensor rows({groups, c});
    for (int64_t g = 0; g < groups; ++g)
      std::memcpy(rows.data() + g * c, t.tokens.data() + (g * t_len + token) * c, c * sizeof(float));
    return rows;
  };
  Tensor hyper({groups, count, c8});  // per prompt, its masks' hypernetwork outputs
  for (int i = 0; i < count; ++i) {
    const Tensor out = hypernetworks_[first + i].forward(token_rows(1 + first + i));
    if (out.dim(1) != c8) throw std::invalid_argument("MaskDecoder: hypernetwork output does not match upscaling");
    for (int64_t g = 0; g < groups; ++g)
      std::memcpy(hyper.data() + (g * count + i) * c8, out.data() + g * c8, c8 * sizeof(float));
  }
  const Tensor iou = iou_head_.forward(token_rows(0));
  std::vector<DecoderOutput> outs(static_cast<size_t>(groups));
  std::vector<float*> logits(static_cast<size_t>(groups));
  for (int64_t g = 0; g < groups; ++g) {
    DecoderOutput& o = outs[static_cast<size_t>(g)];
    o.low_res_logits = Tensor({1, count, 4 * h, 4 * w});
    logits[static_cast<size_t>(g)] = o.low_res_logits.data();
    const float* row = iou.data() + g * iou.dim(1);
    o.iou.assign(row + first, row + first + count);
  }
  // Every prompt's image tokens upscaled to [C/8, 4h, 4w] and dotted with its hypernetwork outputs.
  upscaling(w).run(groups, t.image.data(), h, hyper.data(), count, logits.data());
  return outs;
}

const MaskUpscaling& MaskDecoder::upscaling(int64_t width) const {
  std::lock_guard<std::mutex> lock(upscalings_->mutex);
  auto& u = upscalings_->by_width[width];
  if (!u) u = std::make_shared<const MaskUpscaling>(up1_w_, up1_b_, up_norm_w_, up_norm_b_, up2_w_, up2_b_, width);
  return *u;
}

SamPromptDecoder::SamPromptDecoder(const Checkpoint& ckpt, int image_embedding_size, int input_image_size,
                                   int num_heads)
    : prompt_encoder_(ckpt, "prompt_encoder.", image_embedding_size, input_image_size),
      mask_decoder_(ckpt, "mask_decoder.", num_heads) {}

const MaskDecoder::Image& SamPromptDecoder::no_mask_image(const PreparedImage& image) const {
  std::call_once(image.no_mask->once, [&] {
    image.no_mask->image =
        mask_decoder_.prepare(image.embeddings, prompt_encoder_.dense_pe(), prompt_encoder_.encode({}).dense);
  });
  return image.no_mask->image;
}

DecoderOutput SamPromptDecoder::predict(const Tensor& image_embeddings, const Prompts& prompts,
                                        MaskOutput which) const {
  return predict(prepare(image_embeddings), prompts, which);
}

DecoderOutput SamPromptDecoder::predict(const PreparedImage& image, const Prompts& prompts, MaskOutput which) const {
  const PromptEncoder::Embeddings e = prompt_encoder_.encode(prompts, false);
  if (!prompts.mask_input.empty())  // its own dense embedding: nothing of the prepared image applies
    return mask_decoder_.run(image.embeddings, prompt_encoder_.dense_pe(), e.sparse, e.dense, which);
  return mask_decoder_.run_batch(no_mask_image(image), {e.sparse}, which)[0];
}

std::vector<DecoderOutput> SamPromptDecoder::predict_batch(const Tensor& image_embeddings,
                                                           const std::vector<Prompts>& prompts, MaskOutput which,
                                                           int chunk) const {
  return predict_batch(prepare(image_embeddings), prompts, which, chunk);
}

std::vector<DecoderOutput> SamPromptDecoder::predict_batch(const PreparedImage& image,
                                                           const std::vector<Prompts>& prompts, MaskOutput which,
                                                           int chunk) const {
  std::vector<DecoderOutput> out(prompts.size());
  std::vector<PromptEncoder::Embeddings> enc;
  for (const Prompts& p : prompts) enc.push_back(prompt_encoder_.encode(p, false));
  const Tensor& pe = prompt_encoder_.dense_pe();
  // Prompts with a mask input have their own dense embedding: one at a time. The others, grouped by token count.
  std::map<int64_t, std::vector<size_t>> groups;
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (!prompts[i].mask_input.empty())
      out[i] = mask_decoder_.run(image.embeddings, pe, enc[i].sparse, enc[i].dense, which);
    else
      groups[enc[i].sparse.empty() ? 0 : enc[i].sparse.numel()].push_back(i);
    enc[i].dense = Tensor();
  }
  for (const auto& [tokens, members] : groups)
    for (size_t at = 0; at < members.size(); at += static_cast<size_t>(std::max(1, chunk))) {
      const size_t end = std::min(members.size(), at + static_cast<size_t>(std::max(1, chunk)));
      std::vector<Tensor> sparse;
      for (size_t j = at; j < end; ++j) sparse.push_back(enc[members[j]].sparse);
      auto res = mask_decoder_.run_batch(no_mask_image(image), sparse, which);
      for (size_t j = at; j < end; ++j) out[members[j]] = std::move(res[j - at]);
    }
  return out;
}

}  // namespace sammpa::sam
