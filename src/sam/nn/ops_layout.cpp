// Layout changes (a oneDNN reorder between two strided views of the same logical tensor) and bilinear resizing
// (a plain loop: it must reproduce PyTorch's index and weight arithmetic exactly).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "common/omp_errors.h"
#include "sam/nn/dnnl_context.h"
#include "sam/nn/ops.h"

namespace sammpa::sam::nn {

using dnnl::memory;
using namespace detail;

Tensor permute(const Tensor& x, const std::vector<int>& order) {
  const int rank = x.rank();
  std::vector<bool> seen(rank, false);
  if (static_cast<int>(order.size()) != rank)
    throw std::invalid_argument("permute: order of " + std::to_string(order.size()) + " for " + x.shape_str());
  for (int d : order) {
    if (d < 0 || d >= rank || seen[d]) throw std::invalid_argument("permute: invalid order for " + x.shape_str());
    seen[d] = true;
  }
  std::vector<int64_t> in_strides(rank);
  int64_t s = 1;
  for (int i = rank; i-- > 0;) {
    in_strides[i] = s;
    s *= x.dim(i);
  }
  Shape out_shape(rank);
  memory::dims src_strides(rank);
  for (int i = 0; i < rank; ++i) {
    out_shape[i] = x.dim(order[i]);
    src_strides[i] = in_strides[order[i]];
  }
  Tensor y(out_shape);
  if (y.numel() == 0) return y;
  std::string key = "permute/" + dims_key(x.shape()) + "/";
  for (int d : order) key += std::to_string(d) + ",";
  const auto& p = cached(key, [&] {
    CachedPrimitive e;
    e.src = strided_desc(memory::dims(out_shape.begin(), out_shape.end()), src_strides);
    e.dst = plain_desc(out_shape);
    e.prim = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), e.src, engine(), e.dst));
    return e;
  });
  execute(p.prim, {{DNNL_ARG_FROM, wrap(p.src, x.data())}, {DNNL_ARG_TO, wrap(p.dst, y.data())}});
  return y;
}

Tensor nchw_to_nhwc(const Tensor& x) {
  if (x.rank() != 4) throw std::invalid_argument("nchw_to_nhwc: input " + x.shape_str());
  return permute(x, {0, 2, 3, 1});
}

Tensor nhwc_to_nchw(const Tensor& x) {
  if (x.rank() != 4) throw std::invalid_argument("nhwc_to_nchw: input " + x.shape_str());
  return permute(x, {0, 3, 1, 2});
}

namespace {

// Source index pairs and weights along one axis, as PyTorch computes them for align_corners=false: the scale
// is a float ratio, the source coordinate is then computed in double (clamped at 0), the weights rounded to
// float at the end; the upper neighbour is clamped at the last pixel.
struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<float> w0, w1;
};

Taps taps(int64_t in, int64_t out) {
  Taps t;
  t.i0.resize(out), t.i1.resize(out), t.w0.resize(out), t.w1.resize(out);
  const double scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t o = 0; o < out; ++o) {
    const double src = std::max(scale * (static_cast<double>(o) + 0.5) - 0.5, 0.0);
    const int64_t i = std::min(static_cast<int64_t>(src), in - 1);
    const double lambda = std::min(std::max(src - static_cast<double>(i), 0.0), 1.0);
    t.i0[o] = i;
    t.i1[o] = i < in - 1 ? i + 1 : i;
    t.w1[o] = static_cast<float>(lambda);
    t.w0[o] = static_cast<float>(1.0 - lambda);
  }
  return t;
}

}  // namespace

Tensor resize_bilinear(const Tensor& x, int64_t out_h, int64_t out_w) {
  if (x.rank() != 4 || out_h < 1 || out_w < 1 || x.dim(2) < 1 || x.dim(3) < 1)
    throw std::invalid_argument("resize_bilinear: input " + x.shape_str() + " to " + std::to_string(out_h) + "x" +
                                std::to_string(out_w));
  const int64_t planes = x.dim(0) * x.dim(1), in_h = x.dim(2), in_w = x.dim(3);
  Tensor y({x.dim(0), x.dim(1), out_h, out_w});
  const Taps th = taps(in_h, out_h), tw = taps(in_w, out_w);
  ParallelErrors errors;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < planes * out_h; ++r) errors.run([&] {
    const int64_t plane = r / out_h, oy = r % out_h;
    const float* row0 = x.data() + (plane * in_h + th.i0[oy]) * in_w;
    const float* row1 = x.data() + (plane * in_h + th.i1[oy]) * in_w;
    const float h0 = th.w0[oy], h1 = th.w1[oy];
    float* dst = y.data() + r * out_w;
    for (int64_t ox = 0; ox < out_w; ++ox) {
      const int64_t a = tw.i0[ox], b = tw.i1[ox];
      dst[ox] = h0 * (tw.w0[ox] * row0[a] + tw.w1[ox] * row0[b]) + h1 * (tw.w0[ox] * row1[a] + tw.w1[ox] * row1[b]);
    }
  });
  errors.rethrow();
  return y;
}

}  // namespace sammpa::sam::nn
