#include "sam/encoders/image_encoder_vit.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "common/omp_errors.h"
#include "sam/encoders/attention_vit.h"
#include "sam/encoders/vit_kernels.h"
#include "sam/encoders/vit_layers.h"
#include "sam/nn/dnnl_context.h"

namespace sammpa::sam {

namespace {

constexpr float kLayerNormEps = 1e-6f;  // build_sam's LayerNorm and the neck's LayerNorm2d

// Token rows per task of the per-token layers (LayerNorm, linear layers, MLP). The tasks are handed out
// dynamically to the threads, so a thread slowed down by other load on the machine takes fewer of them (oneDNN
// splits one big matmul statically), and a task's MLP hidden activations stay in cache.
constexpr int64_t kChunkRows = 256;

// One transformer block's parameters, owned (copied from the source; the big matrices packed for oneDNN).
struct Block {
  Tensor norm1_w, norm1_b, qkv_b, proj_b, norm2_w, norm2_b, lin1_b, lin2_b;
  dnnl::memory qkv_w, proj_w, lin1_w, lin2_w;
  std::vector<float> rel;  // rel_pos_h rows, then rel_pos_w rows
  vit::AttentionGeometry geometry;
};

// Activations of one forward pass, kept between calls so that large buffers are not returned to the OS and
// faulted in again for every image. Token rows are padded to whole chunks (the padding rows hold zeros and
// results nobody reads).
struct Workspace {
  Tensor x, t, big;  // residual stream [N, C]; normalised / attention output [N, C]; patches, qkv, neck
  std::vector<float> scratchpad;  // oneDNN scratchpad of the whole-image matmuls
  struct PerThread {
    std::vector<float> scratchpad, normed, hidden;  // oneDNN scratchpad; LayerNorm2 output and MLP hidden
  };
  std::vector<PerThread> threads;
  vit::AttentionScratch scratch;
};

// Weight lookup with shape checks and the key prefix.
class Weights {
 public:
  Weights(const ImageEncoderViT::WeightSource& src, std::string prefix) : src_(src), prefix_(std::move(prefix)) {}
  bool has(const std::string& key) const { return src_.has(prefix_ + key); }
  Tensor get(const std::string& key) const {
    if (!has(key)) throw CheckpointError(where() + "missing weight '" + prefix_ + key + "'");
    return src_.get(prefix_ + key);
  }
  // An owned copy, so that the source can be released after loading.
  Tensor copy(const std::string& key, const Shape& expected) const { return get(key, expected).clone(); }
  Tensor get(const std::string& key, const Shape& expected) const {
    Tensor t = get(key);
    if (t.shape() != expected)
      throw CheckpointError(where() + "'" + prefix_ + key + "' has shape " + t.shape_str() +
                           " but the model expects " + Tensor::view(nullptr, expected).shape_str());
    return t;
  }
  CheckpointError error(const std::string& what) const { return CheckpointError(where() + what); }

 private:
  std::string where() const { return src_.name.empty() ? "" : src_.name + ": "; }
  const ImageEncoderViT::WeightSource& src_;
  std::string prefix_;
};

}  // namespace

struct ImageEncoderViT::Impl {
  VitConfig cfg;
  Tensor pos_embed, patch_b, neck1_w, neck1_b, neck3_w, neck3_b;
  dnnl::memory patch_w, neck0_w;  // the patch conv is a linear layer over flattened patches
  std::vector<Block> blocks;
  vit::Conv2dPlan neck_conv;
  vit::LinearPlan patch_embed, qkv, proj, lin1, lin2, neck0;

  int64_t chunk_rows = 0, padded_tokens = 0;
  size_t chunk_scratchpad_floats = 0;

  std::mutex workspace_mutex;
  std::unique_ptr<Workspace> cached_workspace;

  std::unique_ptr<Workspace> take_workspace();
  void give_back(std::unique_ptr<Workspace> ws);
};

std::unique_ptr<Workspace> ImageEncoderViT::Impl::take_workspace() {
  std::unique_ptr<Workspace> ws;
  {
    std::lock_guard<std::mutex> lock(workspace_mutex);
    ws = std::move(cached_workspace);
  }
  if (!ws) {
    ws = std::make_unique<Workspace>();
    const int64_t n = padded_tokens, c = cfg.embed_dim, p = cfg.patch_size;
    const int64_t patch_len = cfg.in_chans * p * p;
    ws->x = Tensor::zeros({n, c});
    ws->t = Tensor::zeros({n, c});
    ws->big = Tensor::zeros({n * std::max({3 * c, int64_t{2} * cfg.out_chans, patch_len})});
    const size_t whole = std::max(patch_embed.scratchpad_bytes(), neck0.scratchpad_bytes());
    ws->scratchpad.assign(whole / sizeof(float) + 16, 0.f);
  }
  const auto threads = static_cast<size_t>(omp_get_max_threads());
  if (ws->threads.size() < threads) ws->threads.resize(threads);
  for (auto& pt : ws->threads)
    if (pt.hidden.empty()) {
      pt.scratchpad.assign(chunk_scratchpad_floats, 0.f);
      pt.normed.assign(static_cast<size_t>(chunk_rows * cfg.embed_dim), 0.f);
      pt.hidden.assign(static_cast<size_t>(chunk_rows * cfg.mlp_dim), 0.f);
    }
  return ws;
}

void ImageEncoderViT::Impl::give_back(std::unique_ptr<Workspace> ws) {
  std::lock_guard<std::mutex> lock(workspace_mutex);
  if (!cached_workspace) cached_workspace = std::move(ws);
}

ImageEncoderViT::WeightSource ImageEncoderViT::WeightSource::of(const Checkpoint& checkpoint) {
  return {checkpoint.file().string(), [checkpoint](const std::string& k) { return checkpoint.has(k); },
          [checkpoint](const std::string& k) { return checkpoint.get(k); }};
}

WeightShapes ImageEncoderViT::WeightSource::shapes() const {
  return {name, has, [get = get](const std::string& k) { return get(k).shape(); }};
}

ImageEncoderViT ImageEncoderViT::load(const WeightSource& source, const std::string& prefix) {
  return load(detect_vit_config(source.shapes(), prefix), source, prefix);
}

ImageEncoderViT ImageEncoderViT::load(const Checkpoint& checkpoint, const std::string& prefix) {
  return load(detect_vit_config(checkpoint, prefix), WeightSource::of(checkpoint), prefix);
}

ImageEncoderViT ImageEncoderViT::load(const VitConfig& config, const WeightSource& source,
                                      const std::string& prefix) {
  const Weights w(source, prefix);
  auto impl = std::make_shared<Impl>();
  const VitConfig& cfg = impl->cfg = config;

  // The sizes every weight is checked against.
  const int64_t c = cfg.embed_dim, g = cfg.grid(), n = g * g, oc = cfg.out_chans, mlp = cfg.mlp_dim;
  const int64_t ci = cfg.in_chans, p = cfg.patch_size, patch_len = ci * p * p;
  const bool valid = c > 0 && cfg.depth > 0 && cfg.num_heads > 0 && c % cfg.num_heads == 0 && p > 0 && ci > 0 &&
                     g > 0 && cfg.img_size == g * p && mlp > 0 && oc > 0 && cfg.window_size >= 0 &&
                     cfg.window_size <= g &&
                     (cfg.window_size > 0 || cfg.global_attn_indexes.size() == static_cast<size_t>(cfg.depth)) &&
                     std::all_of(cfg.global_attn_indexes.begin(), cfg.global_attn_indexes.end(),
                                 [&](int i) { return i >= 0 && i < cfg.depth; });
  if (!valid) throw std::invalid_argument("ImageEncoderViT: inconsistent VitConfig");
  const int64_t heads = cfg.num_heads, head_dim = c / heads;

  // One plan per layer shape, shared by all blocks; the blocks' layers run on chunks of token rows.
  const int64_t rows = impl->chunk_rows = std::min(kChunkRows, n);
  impl->padded_tokens = (n + rows - 1) / rows * rows;
  impl->patch_embed = vit::LinearPlan(n, patch_len, c, true, false, true);
  impl->qkv = vit::LinearPlan(rows, c, 3 * c, true, false, false);
  impl->proj = vit::LinearPlan(rows, c, c, true, false, true);
  impl->lin1 = vit::LinearPlan(rows, c, mlp, true, true, false);
  impl->lin2 = vit::LinearPlan(rows, mlp, c, true, false, true);
  impl->neck0 = vit::LinearPlan(n, c, oc, false, false, false);
  impl->chunk_scratchpad_floats = std::max({impl->qkv.scratchpad_bytes(), impl->proj.scratchpad_bytes(),
                                            impl->lin1.scratchpad_bytes(), impl->lin2.scratchpad_bytes()}) /
                                      sizeof(float) + 16;

  impl->patch_w = impl->patch_embed.pack(w.get("patch_embed.proj.weight", {c, ci, p, p}).data());
  impl->patch_b = w.copy("patch_embed.proj.bias", {c});
  impl->pos_embed = w.copy("pos_embed", {1, g, g, c});

  for (int i = 0; i < cfg.depth; ++i) {
    const std::string blk = "blocks." + std::to_string(i) + ".";
    Block b;
    // A block's relative-position table spans its attention: a window, or the whole grid (global attention).
    const int64_t window = cfg.block_window(i), span = window ? window : g;
    const Tensor rel_h = w.get(blk + "attn.rel_pos_h", {2 * span - 1, head_dim});
    const Tensor rel_w = w.get(blk + "attn.rel_pos_w", {2 * span - 1, head_dim});
    b.geometry = {g, g, heads, head_dim, window};
    b.rel.assign(rel_h.data(), rel_h.data() + rel_h.numel());
    b.rel.insert(b.rel.end(), rel_w.data(), rel_w.data() + rel_w.numel());

    b.norm1_w = w.copy(blk + "norm1.weight", {c});
    b.norm1_b = w.copy(blk + "norm1.bias", {c});
    b.qkv_w = impl->qkv.pack(w.get(blk + "attn.qkv.weight", {3 * c, c}).data());
    b.qkv_b = cfg.qkv_bias ? w.copy(blk + "attn.qkv.bias", {3 * c}) : Tensor::zeros({3 * c});
    b.proj_w = impl->proj.pack(w.get(blk + "attn.proj.weight", {c, c}).data());
    b.proj_b = w.copy(blk + "attn.proj.bias", {c});
    b.norm2_w = w.copy(blk + "norm2.weight", {c});
    b.norm2_b = w.copy(blk + "norm2.bias", {c});
    b.lin1_w = impl->lin1.pack(w.get(blk + "mlp.lin1.weight", {mlp, c}).data());
    b.lin1_b = w.copy(blk + "mlp.lin1.bias", {mlp});
    b.lin2_w = impl->lin2.pack(w.get(blk + "mlp.lin2.weight", {c, mlp}).data());
    b.lin2_b = w.copy(blk + "mlp.lin2.bias", {c});
    impl->blocks.push_back(std::move(b));
  }

  impl->neck0_w = impl->neck0.pack(w.get("neck.0.weight", {oc, c, 1, 1}).data());
  impl->neck1_w = w.copy("neck.1.weight", {oc});
  impl->neck1_b = w.copy("neck.1.bias", {oc});
  impl->neck_conv = vit::Conv2dPlan(oc, g, g, oc, 3, 1, w.get("neck.2.weight", {oc, oc, 3, 3}).data());
  impl->neck3_w = w.copy("neck.3.weight", {oc});
  impl->neck3_b = w.copy("neck.3.bias", {oc});

  ImageEncoderViT enc;
  enc.impl_ = std::move(impl);
  return enc;
}

const VitConfig& ImageEncoderViT::config() const { return impl_->cfg; }

Tensor ImageEncoderViT::forward(const Tensor& image) const {
  const VitConfig& cfg = impl_->cfg;
  const Shape expected{1, cfg.in_chans, cfg.img_size, cfg.img_size};
  if (image.shape() != expected && image.shape() != Shape(expected.begin() + 1, expected.end()))
    throw std::invalid_argument("ImageEncoderViT: input " + image.shape_str() + ", expected " +
                                Tensor::view(nullptr, expected).shape_str());
  const int64_t g = cfg.grid(), n = g * g, c = cfg.embed_dim, oc = cfg.out_chans;

  std::unique_ptr<Workspace> ws = impl_->take_workspace();
  dnnl::stream& s = nn::detail::stream();
  float* x = ws->x.data();
  float* t = ws->t.data();
  float* big = ws->big.data();

  // Patch embedding: the stride-p convolution is a linear layer over flattened p x p patches (ordered like the
  // conv weights: channel, row, column); it adds itself to the position embedding already in x.
  const int64_t p = cfg.patch_size, ci = cfg.in_chans, patch_len = ci * p * p, size = cfg.img_size;
  const float* img = image.data();
  ParallelErrors errors;
#pragma omp parallel for schedule(static)
  for (int64_t tok = 0; tok < n; ++tok) errors.run([&] {
    const int64_t py = tok / g, px = tok % g;
    for (int64_t ch = 0; ch < ci; ++ch)
      for (int64_t ky = 0; ky < p; ++ky)
        std::memcpy(big + tok * patch_len + (ch * p + ky) * p, img + (ch * size + py * p + ky) * size + px * p,
                    static_cast<size_t>(p) * sizeof(float));
  });
  errors.rethrow();
  std::memcpy(x, impl_->pos_embed.data(), static_cast<size_t>(n * c) * sizeof(float));
  impl_->patch_embed.run(s, big, impl_->patch_w, impl_->patch_b.data(), x, ws->scratchpad.data());

  const int64_t rows = impl_->chunk_rows, chunks = impl_->padded_tokens / rows;
  // Each thread takes its own dnnl stream (nn::detail::stream(), made on first use) inside the region; if that
  // fails the thread still reaches the barrier of the worksharing loop (errors.run skips the work once anything
  // has failed).
  for (const Block& b : impl_->blocks) {
    ParallelErrors errors;
#pragma omp parallel
    {
      Workspace::PerThread& own = ws->threads[omp_get_thread_num()];
      dnnl::stream* ts = nullptr;
      errors.run([&] { ts = &nn::detail::stream(); });
#pragma omp for schedule(dynamic)
      for (int64_t k = 0; k < chunks; ++k)
        errors.run([&] {
          float* xk = x + k * rows * c;
          float* tk = t + k * rows * c;
          vit::layer_norm_rows(xk, c, tk, c, rows, c, b.norm1_w.data(), b.norm1_b.data(), kLayerNormEps);
          impl_->qkv.run(*ts, tk, b.qkv_w, b.qkv_b.data(), big + k * rows * 3 * c, own.scratchpad.data());
        });
    }
    errors.rethrow();
    vit::attention_rel_pos(b.geometry, big, b.qkv_b.data(), b.rel.data(), t, ws->scratch);
#pragma omp parallel
    {
      Workspace::PerThread& own = ws->threads[omp_get_thread_num()];
      dnnl::stream* ts = nullptr;
      errors.run([&] { ts = &nn::detail::stream(); });
#pragma omp for schedule(dynamic)
      for (int64_t k = 0; k < chunks; ++k)
        errors.run([&] {
          float* xk = x + k * rows * c;
          float* sp = own.scratchpad.data();
          impl_->proj.run(*ts, t + k * rows * c, b.proj_w, b.proj_b.data(), xk, sp);  // x += proj(attention)
          vit::layer_norm_rows(xk, c, own.normed.data(), c, rows, c, b.norm2_w.data(), b.norm2_b.data(),
                               kLayerNormEps);
          impl_->lin1.run(*ts, own.normed.data(), b.lin1_w, b.lin1_b.data(), own.hidden.data(), sp);  // GELU fused
          impl_->lin2.run(*ts, own.hidden.data(), b.lin2_w, b.lin2_b.data(), xk, sp);                 // x += mlp
        });
    }
    errors.rethrow();
  }

  // Neck, channels-last: 1x1 conv, LayerNorm2d, 3x3 conv, LayerNorm2d; then to [1, oc, g, g].
  float* y0 = big;
  float* y1 = big + n * oc;
  impl_->neck0.run(s, x, impl_->neck0_w, nullptr, y0, ws->scratchpad.data());
  vit::layer_norm_rows(y0, oc, y0, oc, n, oc, impl_->neck1_w.data(), impl_->neck1_b.data(), kLayerNormEps);
  impl_->neck_conv.run(s, y0, y1);
  vit::layer_norm_rows(y1, oc, y1, oc, n, oc, impl_->neck3_w.data(), impl_->neck3_b.data(), kLayerNormEps);
  Tensor out({1, oc, g, g});
  float* o = out.data();
  ParallelErrors neck_errors;
#pragma omp parallel for schedule(static)
  for (int64_t ch = 0; ch < oc; ++ch)
    neck_errors.run([&] {
      for (int64_t pix = 0; pix < n; ++pix) o[ch * n + pix] = y1[pix * oc + ch];
    });
  neck_errors.rethrow();

  impl_->give_back(std::move(ws));
  return out;
}

}  // namespace sammpa::sam
