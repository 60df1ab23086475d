// Multi-head attention as two oneDNN matmuls that read the heads straight out of the [N, heads * d] projections
// (strided descriptors, no head split/merge copies) and a softmax in between.
#include <cmath>
#include <stdexcept>

#include "sam/nn/dnnl_context.h"
#include "sam/nn/ops.h"

namespace sammpa::sam::nn {

using dnnl::memory;
using namespace detail;

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, int heads) {
  auto batched = [](const Tensor& t) { return t.rank() == 2 ? t.reshaped({1, t.dim(0), t.dim(1)}) : t; };
  const Tensor q3 = batched(q), k3 = batched(k), v3 = batched(v);
  if (q3.rank() != 3 || k3.shape() != v3.shape() || q3.dim(0) != k3.dim(0) || q3.dim(2) != k3.dim(2) || heads < 1 ||
      q3.dim(2) % heads != 0)
    throw std::invalid_argument("attention: q " + q.shape_str() + ", k " + k.shape_str() + ", v " + v.shape_str() +
                                " with " + std::to_string(heads) + " heads");
  const int64_t b = q3.dim(0), nq = q3.dim(1), nk = k3.dim(1), c = q3.dim(2), d = c / heads;
  Tensor out(q.shape());
  if (out.numel() == 0) return out;
  Tensor scores({b, heads, nq, nk});
  const std::string shape_key = std::to_string(b) + "/" + std::to_string(nq) + "/" + std::to_string(nk) + "/" +
                                std::to_string(c) + "/" + std::to_string(heads);
  // [B, heads, N, d] view of a [B, N, heads * d] tensor.
  auto heads_view = [&](int64_t n) { return strided_desc({b, heads, n, d}, {n * c, d, c, 1}); };
  const auto& qk = cached("attn_qk/" + shape_key, [&] {
    CachedPrimitive e;
    e.src = heads_view(nq);
    e.weights = strided_desc({b, heads, d, nk}, {nk * c, d, 1, c});  // k transposed
    e.dst = plain_desc(scores.shape());
    dnnl::primitive_attr attr;
    attr.set_output_scales(0, {1.f / std::sqrt(static_cast<float>(d))});
    e.prim = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(e.src, e.weights, e.dst), attr, engine()));
    return e;
  });
  execute(qk.prim, {{DNNL_ARG_SRC, wrap(qk.src, q3.data())},
                    {DNNL_ARG_WEIGHTS, wrap(qk.weights, k3.data())},
                    {DNNL_ARG_DST, wrap(qk.dst, scores.data())}});
  softmax_(scores);
  const auto& pv = cached("attn_pv/" + shape_key, [&] {
    CachedPrimitive e;
    e.src = plain_desc(scores.shape());
    e.weights = heads_view(nk);
    e.dst = heads_view(nq);
    e.prim = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(e.src, e.weights, e.dst), engine()));
    return e;
  });
  execute(pv.prim, {{DNNL_ARG_SRC, wrap(pv.src, scores.data())},
                    {DNNL_ARG_WEIGHTS, wrap(pv.weights, v3.data())},
                    {DNNL_ARG_DST, wrap(pv.dst, out.data())}});
  return out;
}

}  // namespace sammpa::sam::nn
