#pragma once
// oneDNN primitives for the ViT image encoder (internal), built once per shape when the model loads and run on
// raw buffers: the linear layers (with bias, GELU and residual accumulation fused) and the two convolutions.
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>

namespace sammpa::sam::vit {

dnnl::engine& cpu_engine();

// y = act(x W^T + b), or y += act(x W^T + b) when `accumulate`: x [m, k] row-major, W [n, k] as PyTorch stores
// it (read in place, no copy), b [n] (when `bias`), y [m, n]. One plan serves every layer of that shape.
class LinearPlan {
 public:
  LinearPlan() = default;
  LinearPlan(int64_t m, int64_t k, int64_t n, bool bias, bool gelu, bool accumulate);
  void run(dnnl::stream& s, const float* x, const float* w, const float* b, float* y) const;

 private:
  dnnl::primitive prim_;
  dnnl::memory::desc src_, weights_, bias_, dst_;
};

// Conv2d of one image to channels-last output [out_h, out_w, cout] (+= existing content when `accumulate`).
// The weights [cout, cin, kernel, kernel] are copied into the primitive's preferred layout.
class Conv2dPlan {
 public:
  struct Shape {
    int64_t cin, h, w, cout, kernel, stride, pad;
    bool src_channels_last;  // source [h, w, cin] instead of [cin, h, w]
  };
  Conv2dPlan() = default;
  Conv2dPlan(const Shape& shape, const float* weights, const float* bias, bool accumulate);
  void run(dnnl::stream& s, const float* src, float* dst) const;
  int64_t out_h() const { return out_h_; }
  int64_t out_w() const { return out_w_; }

 private:
  dnnl::primitive prim_;
  dnnl::memory::desc src_, dst_;
  dnnl::memory weights_, bias_;
  int64_t out_h_ = 0, out_w_ = 0;
};

}  // namespace sammpa::sam::vit
