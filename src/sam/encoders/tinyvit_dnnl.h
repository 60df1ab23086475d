#pragma once
// oneDNN building blocks for the TinyViT image encoder. Every shape is known when the model is loaded (the
// encoder takes only 1024x1024 inputs), so each layer builds its primitive once, with its weights already
// reordered into the layout the primitive prefers; running a layer only wraps the caller's buffers.
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <vector>

#include "sam/nn/dnnl_context.h"

namespace sammpa::sam::tinyvit {

using Tag = dnnl::memory::format_tag;

// The op layer's one CPU engine and per-thread stream.
using nn::detail::engine;
using nn::detail::stream;

// What happens after the bias add. The *_accumulate forms add the result onto what dst holds already
// (residual connections computed in place).
enum class Post { none, gelu, accumulate, accumulate_gelu };

struct ConvSpec {
  int cin = 0, cout = 0, kernel = 1, stride = 1, groups = 1;
  int64_t height = 0, width = 0;  // input size; zero padding is kernel / 2 on every side...
  Tag src_tag = Tag::nhwc, dst_tag = Tag::nhwc;
  Post post = Post::none;
  bool pad_rows = true;  // ...except above and below when false (the input holds the halo rows itself)
};

// Convolution on one image; weights in PyTorch's [cout, cin / groups, k, k] layout, bias may be null.
class Conv {
 public:
  Conv() = default;
  Conv(const ConvSpec& spec, const float* weight, const float* bias);
  void operator()(const float* src, float* dst) const;
  int64_t out_height() const { return out_h_; }
  int64_t out_width() const { return out_w_; }

 private:
  dnnl::primitive prim_;
  dnnl::memory::desc src_md_, dst_md_, scratch_md_;
  dnnl::memory weights_, bias_;
  int64_t out_h_ = 0, out_w_ = 0;
  bool gelu_ = false;
};

// Copies one image [1, channels, height, width] from one memory layout to another.
class Reorder {
 public:
  Reorder() = default;
  Reorder(int64_t channels, int64_t height, int64_t width, Tag from, Tag to);
  void operator()(const float* src, float* dst) const;

 private:
  dnnl::primitive prim_;
  dnnl::memory::desc src_md_, dst_md_;
};

// y[rows, n] = post(x[rows, k] W^T + b): torch.nn.Linear on row-major activations; W is [n, k]. Safe to run
// on several threads at once (e.g. on different row tiles).
class Linear {
 public:
  Linear() = default;
  Linear(int64_t rows, int64_t n, int64_t k, const float* weight, const float* bias, Post post);
  void operator()(const float* x, float* y) const;

 private:
  dnnl::primitive prim_;
  dnnl::memory::desc src_md_, dst_md_, scratch_md_;
  dnnl::memory weights_, bias_;
  bool gelu_ = false;
  bool bf16_ = false;  // nn::detail::bf16_products()
};

// A Linear for row tiles of a fixed height, plus one for the shorter last tile of a `rows`-row matrix.
class TiledLinear {
 public:
  TiledLinear() = default;
  TiledLinear(int64_t rows, int64_t tile, int64_t n, int64_t k, const float* weight, const float* bias, Post post);
  // One tile of `count` rows: count == tile, or the last tile's height.
  void operator()(int64_t count, const float* x, float* y) const { (count == tile_ ? full_ : last_)(x, y); }

 private:
  int64_t tile_ = 0;
  Linear full_, last_;
};

}  // namespace sammpa::sam::tinyvit
