#include "sam/encoders/image_encoder_tinyvit.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include "common/omp_errors.h"
#include "sam/encoders/tinyvit_dnnl.h"
#include "sam/encoders/tinyvit_kernels.h"

namespace sammpa::sam {

using namespace tinyvit;

namespace {

// The sizes (stage widths, depths, heads, windows, ratios) come from the detected configuration
// (checkpoint/model_config.h); these are not stored in the weights.
constexpr float kBatchNormEps = 1e-5f, kLayerNormEps = 1e-5f, kNeckNormEps = 1e-6f;

// All activations are NHWC (the planar input image is converted first): for the transformer stages that is
// simply the [tokens, channels] matrix their linear layers multiply, and it lets stage 0 work on bands of
// image rows. (Note: oneDNN 2.6 has no fast kernel for a conv from planar NCHW to NHWC.)
constexpr Tag kLayout = Tag::nhwc;

// Reusable activation buffers; each stage says how large it needs each one, the maximum is allocated.
enum Buf { kBig0, kBig1, kX0, kX1, kBufCount };
using BufSizes = std::array<int64_t, kBufCount>;

class Reader {
 public:
  Reader(const Checkpoint& c, std::string prefix) : c_(c), prefix_(std::move(prefix)) {}

  std::vector<float> get(const std::string& key, const Shape& shape) const {
    Tensor t = c_.get(prefix_ + key, shape);
    return std::vector<float>(t.data(), t.data() + t.numel());
  }

  // A Conv2d_BN (conv without bias, then BatchNorm2d) folded into one conv with bias:
  // w' = w * g / sqrt(var + eps), b' = beta - mean * g / sqrt(var + eps).
  std::pair<std::vector<float>, std::vector<float>> conv_bn(const std::string& name, int cout, int cin_per_group,
                                                            int k) const {
    auto w = get(name + ".c.weight", {cout, cin_per_group, k, k});
    auto g = get(name + ".bn.weight", {cout}), beta = get(name + ".bn.bias", {cout});
    auto mean = get(name + ".bn.running_mean", {cout}), var = get(name + ".bn.running_var", {cout});
    std::vector<float> b(cout);
    const size_t per_out = w.size() / cout;
    for (int o = 0; o < cout; ++o) {
      const double s = g[o] / std::sqrt(static_cast<double>(var[o]) + kBatchNormEps);
      for (size_t i = 0; i < per_out; ++i) w[o * per_out + i] = static_cast<float>(w[o * per_out + i] * s);
      b[o] = static_cast<float>(beta[o] - mean[o] * s);
    }
    return {std::move(w), std::move(b)};
  }

  Conv conv_bn(const std::string& name, const ConvSpec& spec) const {
    auto [w, b] = conv_bn(name, spec.cout, spec.cin / spec.groups, spec.kernel);
    return Conv(spec, w.data(), b.data());
  }

 private:
  const Checkpoint& c_;
  std::string prefix_;
};

// With TINYVIT_PROFILE=1 in the environment, each forward prints the wall and CPU time of each kind of step
// (CPU time, summed over threads, is the steadier figure on a busy machine).
class StepTimer {
 public:
  StepTimer() : on_(std::getenv("TINYVIT_PROFILE") != nullptr), wall_(wall_now()), cpu_(cpu_now()) {}
  void operator()(const char* step) {
    if (!on_) return;
    const double w = wall_now(), c = cpu_now();
    totals_[step].first += w - wall_;
    totals_[step].second += c - cpu_;
    wall_ = w, cpu_ = c;
  }
  ~StepTimer() {
    if (!on_) return;
    double wall = 0, cpu = 0;
    for (const auto& [step, t] : totals_) {
      std::fprintf(stderr, "tinyvit %-16s wall %8.2f ms  cpu %8.2f ms\n", step.c_str(), t.first * 1e3, t.second * 1e3);
      wall += t.first, cpu += t.second;
    }
    std::fprintf(stderr, "tinyvit %-16s wall %8.2f ms  cpu %8.2f ms\n", "total", wall * 1e3, cpu * 1e3);
  }

 private:
  static double wall_now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  static double cpu_now() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }
  bool on_;
  double wall_, cpu_;
  std::map<std::string, std::pair<double, double>> totals_;
};

void need(BufSizes& sizes, Buf b, int64_t n) { sizes[b] = std::max(sizes[b], n); }

// TinyViT's learned attention bias, expanded to [heads, n, n] for a window of n = window^2 tokens. The table
// holds one bias per distinct (|dy|, |dx|) offset, numbered in order of first appearance while walking all
// token pairs row-major; that numbering is recomputed here because the checkpoint does not store it.
std::vector<float> expand_attention_bias(const std::vector<float>& table, int heads, int window) {
  const int n = window * window;
  std::map<std::pair<int, int>, int> ids;
  std::vector<int> idx(static_cast<size_t>(n) * n);
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b) {
      auto off = std::make_pair(std::abs(a / window - b / window), std::abs(a % window - b % window));
      auto it = ids.emplace(off, static_cast<int>(ids.size())).first;
      idx[static_cast<size_t>(a) * n + b] = it->second;
    }
  const size_t offsets = ids.size();
  if (table.size() != offsets * heads) throw std::logic_error("TinyViT: attention bias table size mismatch");
  std::vector<float> out(static_cast<size_t>(heads) * n * n);
  for (int h = 0; h < heads; ++h)
    for (size_t i = 0; i < idx.size(); ++i) out[h * idx.size() + i] = table[h * offsets + idx[i]];
  return out;
}


struct PatchMerging {
  Conv expand, depthwise, project;
};

// The calling thread's scratch for the tiles of a layer, kept between calls.
float* thread_tiles(size_t floats) {
  thread_local std::vector<float> v;
  if (v.size() < floats) v.resize(floats);
  return v.data();
}

// Stage 0's MBConv: y = gelu(x + project(gelu(depthwise3x3(gelu(expand(x)))))), 1x1 convs with 4x expansion.
// The image is cut into bands of rows, handed out to the threads as they come free; each band is walked
// `step` rows at a time, keeping the 4x wider activations of only step + 2 rows (the depthwise conv's halo
// rows carried over from the previous step), so that they stay in cache instead of going to memory and back
// twice.
struct MBConv {
  int64_t height, width, channels, hidden, step;
  Linear expand_row;  // one image row of pixels: [width, channels] -> [width, hidden], GELU
  Conv depthwise;     // step + 2 hidden rows -> step rows (no vertical padding), GELU
  Linear project;     // [step * width, hidden] -> added onto y, then GELU

  void run(const float* x, float* y) const {
    const int64_t steps = height / step, hrow = width * hidden, xrow = width * channels;
    const int64_t bands = std::min<int64_t>(steps, 8);  // more bands than threads: a late thread delays less
    ParallelErrors errors;
#pragma omp parallel
    {
      float *buf = nullptr, *dw = nullptr;
      errors.run([&] {
        buf = thread_tiles(static_cast<size_t>((2 * step + 2) * hrow));
        dw = buf + (step + 2) * hrow;
      });
#pragma omp for schedule(dynamic)
      for (int64_t band = 0; band < bands; ++band) errors.run([&] {
        const int64_t s0 = steps * band / bands, s1 = steps * (band + 1) / bands;
        for (int64_t s = s0; s < s1; ++s) {
          const int64_t r = s * step;  // first output row; buf row k holds image row r - 1 + k
          int64_t k = 0;
          if (s > s0) {  // the previous step's last two rows are this step's first two
            std::memmove(buf, buf + step * hrow, static_cast<size_t>(2 * hrow) * sizeof(float));
            k = 2;
          }
          for (; k < step + 2; ++k) {
            const int64_t img = r - 1 + k;
            if (img < 0 || img >= height)  // the depthwise conv's zero padding
              std::memset(buf + k * hrow, 0, static_cast<size_t>(hrow) * sizeof(float));
            else
              expand_row(x + img * xrow, buf + k * hrow);
          }
          depthwise(buf, dw);
          std::memcpy(y + r * xrow, x + r * xrow, static_cast<size_t>(step * xrow) * sizeof(float));
          project(dw, y + r * xrow);  // y = gelu(x + project(...))
        }
      });
    }
    errors.rethrow();
  }
};

MBConv make_mbconv(const Reader& r, const std::string& name, int64_t h, int64_t w, int c, int hidden) {
  MBConv b;
  b.height = h, b.width = w, b.channels = c, b.hidden = hidden, b.step = 4;
  if (h % b.step != 0) throw std::logic_error("TinyViT: stage 0 height must be a multiple of the band step");
  auto [we, be] = r.conv_bn(name + ".conv1", hidden, c, 1);
  b.expand_row = Linear(w, hidden, c, we.data(), be.data(), Post::gelu);
  b.depthwise = r.conv_bn(name + ".conv2",
                          {hidden, hidden, 3, 1, hidden, b.step + 2, w, kLayout, kLayout, Post::gelu, false});
  auto [wp, bp] = r.conv_bn(name + ".conv3", c, hidden, 1);
  b.project = Linear(b.step * w, c, hidden, wp.data(), bp.data(), Post::accumulate_gelu);
  return b;
}

// One TinyViT block: x + attention(x) over windows, local 3x3 depthwise conv, + MLP. Both branches run as
// independent tiles in parallel (chunks of windows; chunks of rows for the MLP), each tile's intermediate
// activations (qkv, scores, the 4x wider MLP hidden layer) staying in its core's cache.
struct ViTBlock {
  WindowGrid grid;
  int64_t heads, chunk_windows, mlp_tile, hidden;
  float scale;  // key_dim^-0.5
  std::vector<float> attn_gamma, attn_beta, attn_bias, mlp_gamma, mlp_beta;
  TiledLinear qkv, proj, fc1, fc2;
  Conv local;

  // x: [height * width, channels] in, y: same shape out (x is clobbered).
  void run(float* x, float* y, StepTimer& timer) const {
    const int64_t c = grid.channels, tokens = grid.tokens(), windows = grid.count();
    const int64_t chunks = (windows + chunk_windows - 1) / chunk_windows, chunk_rows = chunk_windows * tokens;
    ParallelErrors errors;
#pragma omp parallel
    {
      float *win = nullptr, *qkv_out = nullptr, *ctx = nullptr;
      errors.run([&] {
        win = thread_tiles(static_cast<size_t>(chunk_rows * c * 5));
        qkv_out = win + chunk_rows * c;
        ctx = qkv_out + chunk_rows * c * 3;
      });
#pragma omp for schedule(dynamic)
      for (int64_t k = 0; k < chunks; ++k)
        errors.run([&] {
          const int64_t w0 = k * chunk_windows, nw = std::min(chunk_windows, windows - w0), rows = nw * tokens;
          window_partition_norm(grid, x, w0, nw, win, attn_gamma.data(), attn_beta.data(), kLayerNormEps);
          qkv(rows, win, qkv_out);
          window_attention(qkv_out, attn_bias.data(), ctx, nw, tokens, heads, c / heads, scale);
          proj(rows, ctx, win);
          window_reverse_add(grid, win, w0, nw, x);  // windows of other chunks touch other pixels
        });
    }
    errors.rethrow();
    timer("attention");
    local(x, y);
    timer("local conv");
    const int64_t hw = grid.height * grid.width, tiles = (hw + mlp_tile - 1) / mlp_tile;
#pragma omp parallel
    {
      float *norm = nullptr, *hid = nullptr;
      errors.run([&] {
        norm = thread_tiles(static_cast<size_t>(mlp_tile * (c + hidden)));
        hid = norm + mlp_tile * c;
      });
#pragma omp for schedule(dynamic)
      for (int64_t k = 0; k < tiles; ++k)
        errors.run([&] {
          const int64_t r0 = k * mlp_tile, rows = std::min(mlp_tile, hw - r0);
          layer_norm_rows(y + r0 * c, norm, rows, c, mlp_gamma.data(), mlp_beta.data(), kLayerNormEps);
          fc1(rows, norm, hid);
          fc2(rows, hid, y + r0 * c);  // y += mlp(y)
        });
    }
    errors.rethrow();
    timer("mlp");
  }
};

PatchMerging make_patch_merging(const Reader& r, const std::string& name, int64_t h, int64_t w, int cin, int cout,
                                int stride, BufSizes& sizes) {
  PatchMerging m;
  m.expand = r.conv_bn(name + ".conv1", {cin, cout, 1, 1, 1, h, w, kLayout, kLayout, Post::gelu});
  m.depthwise = r.conv_bn(name + ".conv2", {cout, cout, 3, stride, cout, h, w, kLayout, kLayout, Post::gelu});
  const int64_t oh = m.depthwise.out_height(), ow = m.depthwise.out_width();
  m.project = r.conv_bn(name + ".conv3", {cout, cout, 1, 1, 1, oh, ow, kLayout, kLayout, Post::none});
  need(sizes, kBig0, h * w * cout);
  need(sizes, kBig1, oh * ow * cout);
  need(sizes, kX0, oh * ow * cout);
  need(sizes, kX1, oh * ow * cout);
  return m;
}

ViTBlock make_vit_block(const Reader& r, const std::string& name, int64_t h, int64_t w, int c, int heads,
                        int window, int mlp_ratio) {
  ViTBlock b;
  b.grid = WindowGrid{h, w, c, window};
  b.heads = heads;
  const int64_t tokens = b.grid.tokens(), windows = b.grid.count(), head_dim = c / heads;
  b.hidden = int64_t{c} * mlp_ratio;
  // Tiles of about 256 rows for attention and of about 512 KB of hidden activations for the MLP: small
  // enough for a core's L2, large enough for efficient matrix products.
  b.chunk_windows = std::max<int64_t>(1, 256 / tokens);
  b.mlp_tile = std::clamp<int64_t>(131072 / b.hidden / 32 * 32, 32, 256);
  b.attn_gamma = r.get(name + ".attn.norm.weight", {c});
  b.attn_beta = r.get(name + ".attn.norm.bias", {c});
  b.attn_bias = pad_attention_bias(
      expand_attention_bias(r.get(name + ".attn.attention_biases", {heads, tokens}), heads, window), heads, tokens);
  b.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
  const int64_t rows = windows * tokens, chunk_rows = b.chunk_windows * tokens;
  auto qkv_w = r.get(name + ".attn.qkv.weight", {3 * c, c}), qkv_b = r.get(name + ".attn.qkv.bias", {3 * c});
  b.qkv = TiledLinear(rows, chunk_rows, 3 * c, c, qkv_w.data(), qkv_b.data(), Post::none);
  auto proj_w = r.get(name + ".attn.proj.weight", {c, c}), proj_b = r.get(name + ".attn.proj.bias", {c});
  b.proj = TiledLinear(rows, chunk_rows, c, c, proj_w.data(), proj_b.data(), Post::none);
  b.local = r.conv_bn(name + ".local_conv", {c, c, 3, 1, c, h, w, kLayout, kLayout, Post::none});
  b.mlp_gamma = r.get(name + ".mlp.norm.weight", {c});
  b.mlp_beta = r.get(name + ".mlp.norm.bias", {c});
  auto fc1_w = r.get(name + ".mlp.fc1.weight", {b.hidden, c}), fc1_b = r.get(name + ".mlp.fc1.bias", {b.hidden});
  b.fc1 = TiledLinear(h * w, b.mlp_tile, b.hidden, c, fc1_w.data(), fc1_b.data(), Post::gelu);
  auto fc2_w = r.get(name + ".mlp.fc2.weight", {c, b.hidden}), fc2_b = r.get(name + ".mlp.fc2.bias", {c});
  b.fc2 = TiledLinear(h * w, b.mlp_tile, c, b.hidden, fc2_w.data(), fc2_b.data(), Post::accumulate);
  return b;
}

}  // namespace

struct ImageEncoderTinyViT::Impl {
  Reorder input_to_nhwc;
  int image_size = 0;
  int out_chans = 0, out_side = 0;  // the embedding [1, out_chans, out_side, out_side]
  Conv stem0, stem1;
  std::vector<MBConv> mbconvs;
  std::array<PatchMerging, 3> merges;
  std::array<std::vector<ViTBlock>, 4> blocks;  // blocks[1..3]
  Conv neck_reduce, neck_mix;
  std::vector<float> neck_gamma1, neck_beta1, neck_gamma2, neck_beta2;

  BufSizes sizes{};
  mutable std::mutex mutex;
  mutable std::array<Tensor, kBufCount> buffers;
};

int ImageEncoderTinyViT::image_size() const { return impl_->image_size; }

ImageEncoderTinyViT ImageEncoderTinyViT::load(const Checkpoint& checkpoint, const std::string& prefix) {
  return load(checkpoint, detect_tiny_vit_config(checkpoint, prefix), prefix);
}

ImageEncoderTinyViT ImageEncoderTinyViT::load(const Checkpoint& checkpoint, const TinyVitConfig& cfg,
                                              const std::string& prefix) {
  Reader r(checkpoint, prefix);
  auto m = std::make_shared<Impl>();
  BufSizes& sizes = m->sizes;
  const auto& dims = cfg.embed_dims;

  // Stem: 1024 -> 512 (GELU) -> 256 with MobileSAM's 3x3 stride-2 convs; 256 -> 256 -> 256 with LiteMedSAM's
  // 1x1 stride-1 convs. The first stage runs at 256x256 in both.
  const int half = dims[0] / 2;
  const int kernel = cfg.stem_kernel, stride = cfg.stem_stride;
  const int size = cfg.input_size();
  m->image_size = size;
  m->input_to_nhwc = Reorder(3, size, size, Tag::nchw, kLayout);
  need(sizes, kBig1, int64_t{3} * size * size);
  m->stem0 = r.conv_bn("patch_embed.seq.0", {3, half, kernel, stride, 1, size, size, kLayout, kLayout, Post::gelu});
  const int64_t h1 = m->stem0.out_height();
  m->stem1 = r.conv_bn("patch_embed.seq.2", {half, dims[0], kernel, stride, 1, h1, h1, kLayout, kLayout, Post::none});
  int64_t h = m->stem1.out_height();
  need(sizes, kBig0, h1 * h1 * half);
  need(sizes, kX0, h * h * dims[0]);
  need(sizes, kX1, h * h * dims[0]);

  // Stage 0: MBConv blocks at 256x256.
  const int c0 = dims[0], hidden0 = c0 * cfg.mbconv_expand_ratio;
  for (int i = 0; i < cfg.depths[0]; ++i)
    m->mbconvs.push_back(make_mbconv(r, "layers.0.blocks." + std::to_string(i), h, h, c0, hidden0));

  // Stages 1-3: PatchMerging from the previous stage, then TinyViT blocks.
  for (int s = 1; s < 4; ++s) {
    const std::string merge = "layers." + std::to_string(s - 1) + ".downsample";
    m->merges[s - 1] =
        make_patch_merging(r, merge, h, h, dims[s - 1], dims[s], cfg.merge_strides[s - 1], sizes);
    h = m->merges[s - 1].project.out_height();
    for (int i = 0; i < cfg.depths[s]; ++i)
      m->blocks[s].push_back(make_vit_block(r, "layers." + std::to_string(s) + ".blocks." + std::to_string(i), h, h,
                                            dims[s], cfg.num_heads[s], cfg.window_sizes[s], cfg.mlp_ratio));
  }
  const int out = cfg.out_chans;
  m->out_chans = out;
  m->out_side = static_cast<int>(h);

  // Neck: 1x1 conv, LayerNorm2d, 3x3 conv, LayerNorm2d (convs without bias).
  auto w_reduce = r.get("neck.0.weight", {out, dims[3], 1, 1});
  m->neck_reduce = Conv({dims[3], out, 1, 1, 1, h, h, kLayout, kLayout, Post::none}, w_reduce.data(), nullptr);
  auto w_mix = r.get("neck.2.weight", {out, out, 3, 3});
  m->neck_mix = Conv({out, out, 3, 1, 1, h, h, kLayout, kLayout, Post::none}, w_mix.data(), nullptr);
  m->neck_gamma1 = r.get("neck.1.weight", {out});
  m->neck_beta1 = r.get("neck.1.bias", {out});
  m->neck_gamma2 = r.get("neck.3.weight", {out});
  m->neck_beta2 = r.get("neck.3.bias", {out});
  need(sizes, kBig0, h * h * out);
  need(sizes, kBig1, h * h * out);

  ImageEncoderTinyViT enc;
  enc.impl_ = std::move(m);
  return enc;
}

Tensor ImageEncoderTinyViT::forward(const Tensor& image) const {
  const Impl& m = *impl_;
  if (image.shape() != Shape{1, 3, m.image_size, m.image_size})
    throw std::invalid_argument("ImageEncoderTinyViT: expected an image of shape [1, 3, " +
                                std::to_string(m.image_size) + ", " + std::to_string(m.image_size) + "], got " +
                                image.shape_str());
  std::lock_guard<std::mutex> lock(m.mutex);
  std::array<float*, kBufCount> buf{};
  for (int i = 0; i < kBufCount; ++i) {
    if (m.buffers[i].empty()) m.buffers[i] = Tensor({m.sizes[i]});
    buf[i] = m.buffers[i].data();
  }
  StepTimer timer;
  timer("buffers");
  float* x = buf[kX0];
  float* y = buf[kX1];

  m.input_to_nhwc(image.data(), buf[kBig1]);
  m.stem0(buf[kBig1], buf[kBig0]);
  m.stem1(buf[kBig0], x);
  timer("stem");
  for (const MBConv& b : m.mbconvs) {
    b.run(x, y);
    std::swap(x, y);
  }
  timer("mbconv");
  for (int s = 1; s < 4; ++s) {
    const PatchMerging& pm = m.merges[s - 1];
    pm.expand(x, buf[kBig0]);
    pm.depthwise(buf[kBig0], buf[kBig1]);
    pm.project(buf[kBig1], x);
    timer("patch merging");
    for (const ViTBlock& b : m.blocks[s]) {
      b.run(x, y, timer);
      std::swap(x, y);
    }
  }

  const int64_t hw = int64_t{m.out_side} * m.out_side;
  m.neck_reduce(x, buf[kBig0]);
  layer_norm(buf[kBig0], buf[kBig1], hw, m.out_chans, m.neck_gamma1.data(), m.neck_beta1.data(), kNeckNormEps);
  m.neck_mix(buf[kBig1], buf[kBig0]);
  Tensor out({1, m.out_chans, m.out_side, m.out_side});
  layer_norm_to_planar(buf[kBig0], out.data(), hw, m.out_chans, m.neck_gamma2.data(), m.neck_beta2.data(),
                       kNeckNormEps);
  timer("neck");
  return out;
}

}  // namespace sammpa::sam
