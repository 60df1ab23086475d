// Normalisations: LayerNorm and BatchNorm on oneDNN primitives; SAM's LayerNorm2d (normalising NCHW over C at
// each pixel, a strided reduction oneDNN has no fast kernel for) as a plain loop vectorised over pixels.
#include <cmath>
#include <stdexcept>
#include <vector>

#include "common/omp_errors.h"
#include "sam/nn/dnnl_context.h"
#include "sam/nn/ops.h"

namespace sammpa::sam::nn {

using dnnl::memory;
using namespace detail;

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps) {
  if (x.rank() < 1 || gamma.numel() != x.dim(-1) || beta.numel() != x.dim(-1))
    throw std::invalid_argument("layer_norm: input " + x.shape_str() + " with gamma " + gamma.shape_str() +
                                " and beta " + beta.shape_str());
  const int64_t c = x.dim(-1), m = x.numel() / c;
  Tensor y(x.shape());
  if (m == 0) return y;
  const std::string key = "layernorm/" + std::to_string(m) + "/" + std::to_string(c) + "/" + std::to_string(eps);
  const auto& p = cached(key, [&] {
    CachedPrimitive e;
    e.src = e.dst = plain_desc({m, c});
    e.weights = plain_desc({c});
    dnnl::layer_normalization_forward::desc d(dnnl::prop_kind::forward_inference, e.src, eps,
                                              dnnl::normalization_flags::use_scale |
                                                  dnnl::normalization_flags::use_shift);
    e.prim = dnnl::layer_normalization_forward(dnnl::layer_normalization_forward::primitive_desc(d, engine()));
    return e;
  });
  execute(p.prim, {{DNNL_ARG_SRC, wrap(p.src, x.data())},
                   {DNNL_ARG_SCALE, wrap(p.weights, gamma.data())},
                   {DNNL_ARG_SHIFT, wrap(p.weights, beta.data())},
                   {DNNL_ARG_DST, wrap(p.dst, y.data())}});
  return y;
}

Tensor layer_norm_2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps) {
  if (x.rank() != 4 || gamma.numel() != x.dim(1) || beta.numel() != x.dim(1))
    throw std::invalid_argument("layer_norm_2d: input " + x.shape_str() + " with gamma " + gamma.shape_str() +
                                " and beta " + beta.shape_str());
  const int64_t n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
  Tensor y(x.shape());
  const float* g = gamma.data();
  const float* b = beta.data();
  constexpr int64_t block = 256;  // pixels per task: per-pixel statistics stay in L1
  const int64_t blocks = (hw + block - 1) / block;
  ParallelErrors errors;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < n * blocks; ++t) errors.run([&] {
    const int64_t img = t / blocks, p0 = (t % blocks) * block, len = std::min(block, hw - p0);
    const float* src = x.data() + img * c * hw + p0;
    float* dst = y.data() + img * c * hw + p0;
    float mean[block], rstd[block];
    for (int64_t i = 0; i < len; ++i) mean[i] = 0.f, rstd[i] = 0.f;
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < len; ++i) mean[i] += src[ch * hw + i];
    for (int64_t i = 0; i < len; ++i) mean[i] /= static_cast<float>(c);
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < len; ++i) {
        const float d = src[ch * hw + i] - mean[i];
        rstd[i] += d * d;
      }
    for (int64_t i = 0; i < len; ++i) rstd[i] = 1.f / std::sqrt(rstd[i] / static_cast<float>(c) + eps);
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < len; ++i) dst[ch * hw + i] = (src[ch * hw + i] - mean[i]) * rstd[i] * g[ch] + b[ch];
  });
  errors.rethrow();
  return y;
}

Tensor batch_norm_2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& var,
                     float eps) {
  if (x.rank() != 4 || gamma.numel() != x.dim(1) || beta.numel() != x.dim(1) || mean.numel() != x.dim(1) ||
      var.numel() != x.dim(1))
    throw std::invalid_argument("batch_norm_2d: input " + x.shape_str() + " with parameters of " +
                                std::to_string(gamma.numel()) + " channels");
  Tensor y(x.shape());
  if (x.numel() == 0) return y;
  const std::string key = "batchnorm/" + dims_key(x.shape()) + "/" + std::to_string(eps);
  const auto& p = cached(key, [&] {
    CachedPrimitive e;
    e.src = e.dst = plain_desc(x.shape());
    e.weights = plain_desc({x.dim(1)});
    dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_inference, e.src, eps,
                                              dnnl::normalization_flags::use_global_stats |
                                                  dnnl::normalization_flags::use_scale |
                                                  dnnl::normalization_flags::use_shift);
    e.prim = dnnl::batch_normalization_forward(dnnl::batch_normalization_forward::primitive_desc(d, engine()));
    return e;
  });
  execute(p.prim, {{DNNL_ARG_SRC, wrap(p.src, x.data())},
                   {DNNL_ARG_MEAN, wrap(p.weights, mean.data())},
                   {DNNL_ARG_VARIANCE, wrap(p.weights, var.data())},
                   {DNNL_ARG_SCALE, wrap(p.weights, gamma.data())},
                   {DNNL_ARG_SHIFT, wrap(p.weights, beta.data())},
                   {DNNL_ARG_DST, wrap(p.dst, y.data())}});
  return y;
}

}  // namespace sammpa::sam::nn
