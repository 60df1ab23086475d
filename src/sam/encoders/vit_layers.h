#pragma once
// oneDNN primitives for the ViT image encoder (internal), built once per shape when the model loads and run on
// raw buffers: the linear layers (with bias, GELU and residual accumulation fused) and the neck's 3x3 conv.
// Weights are copied once into the layout the primitive prefers (blocked), which makes the matmuls ~7% faster
// than reading PyTorch's layout in place, and lets the caller release the checkpoint after loading. On the op
// layer's engine (nn::detail, sam/nn/dnnl_context.h), with its helpers.
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>

namespace sammpa::sam::vit {

// y = act(x W^T + b), or y += act(x W^T + b) when `accumulate`: x [m, k] row-major, W [n, k] as PyTorch stores
// it, b [n] (when `bias`), y [m, n]. One plan serves every layer of that shape.
class LinearPlan {
 public:
  LinearPlan() = default;
  LinearPlan(int64_t m, int64_t k, int64_t n, bool bias, bool gelu, bool accumulate);
  dnnl::memory pack(const float* w) const;  // W [n, k] -> the plan's weight layout (a copy)
  // `scratch`: scratchpad_bytes() of memory owned by the calling thread, so that several threads can run the
  // plan at once on different rows (inside an OpenMP parallel region each run is single-threaded).
  void run(dnnl::stream& s, const float* x, const dnnl::memory& w, const float* b, float* y, void* scratch) const;
  size_t scratchpad_bytes() const { return scratchpad_.get_size(); }
  // Another plan's packed weights fit this plan (same layout).
  bool same_weight_layout(const LinearPlan& other) const { return weights_ == other.weights_; }

 private:
  dnnl::primitive prim_;
  dnnl::memory::desc src_, user_weights_, weights_, bias_, dst_, scratchpad_;
};

// Conv2d, stride 1, no bias, of one channels-last image [h, w, cin] to [h', w', cout]; the weights
// [cout, cin, kernel, kernel] are copied into the primitive's layout.
class Conv2dPlan {
 public:
  Conv2dPlan() = default;
  Conv2dPlan(int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t kernel, int64_t pad, const float* weights);
  void run(dnnl::stream& s, const float* src, float* dst) const;

 private:
  dnnl::primitive prim_;
  dnnl::memory::desc src_, dst_;
  dnnl::memory weights_;
};

}  // namespace sammpa::sam::vit
