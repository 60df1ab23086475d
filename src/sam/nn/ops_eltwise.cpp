// Elementwise ops, softmax and additions on oneDNN's eltwise, softmax and binary primitives.
#include <stdexcept>

#include "sam/nn/dnnl_context.h"
#include "sam/nn/ops.h"

namespace sammpa::sam::nn {

using dnnl::memory;
using namespace detail;

namespace {

void eltwise_(Tensor& x, dnnl::algorithm alg, const char* name) {
  const int64_t n = x.numel();
  if (n == 0) return;
  const auto& p = cached(std::string("eltwise/") + name + "/" + std::to_string(n), [&] {
    CachedPrimitive e;
    e.src = e.dst = plain_desc({n});
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, e.src, 0.f, 0.f);
    e.prim = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(d, engine()));
    return e;
  });
  memory m = wrap(p.src, x.data());
  execute(p.prim, {{DNNL_ARG_SRC, m}, {DNNL_ARG_DST, m}});
}

// dst = a + b where b has the shape of a or broadcasts to it (dimensions of size 1).
void binary_add(const Tensor& a, const Shape& a_shape, const Tensor& b, const Shape& b_shape, float* dst) {
  const auto& p = cached("add/" + dims_key(a_shape) + "/" + dims_key(b_shape), [&] {
    CachedPrimitive e;
    e.src = e.dst = plain_desc(a_shape);
    e.weights = plain_desc(b_shape);
    dnnl::binary::desc d(dnnl::algorithm::binary_add, e.src, e.weights, e.dst);
    e.prim = dnnl::binary(dnnl::binary::primitive_desc(d, engine()));
    return e;
  });
  execute(p.prim, {{DNNL_ARG_SRC_0, wrap(p.src, a.data())},
                   {DNNL_ARG_SRC_1, wrap(p.weights, b.data())},
                   {DNNL_ARG_DST, wrap(p.dst, dst)}});
}

}  // namespace

void gelu_(Tensor& x) { eltwise_(x, dnnl::algorithm::eltwise_gelu_erf, "gelu"); }
void relu_(Tensor& x) { eltwise_(x, dnnl::algorithm::eltwise_relu, "relu"); }

void softmax_(Tensor& x) {
  if (x.rank() < 1) throw std::invalid_argument("softmax_: scalar input");
  const int64_t c = x.dim(-1), m = c ? x.numel() / c : 0;
  if (m == 0) return;
  const auto& p = cached("softmax/" + std::to_string(m) + "/" + std::to_string(c), [&] {
    CachedPrimitive e;
    e.src = e.dst = plain_desc({m, c});
    dnnl::softmax_forward::desc d(dnnl::prop_kind::forward_inference, e.src, 1);
    e.prim = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(d, engine()));
    return e;
  });
  memory mem = wrap(p.src, x.data());
  execute(p.prim, {{DNNL_ARG_SRC, mem}, {DNNL_ARG_DST, mem}});
}

void add_(Tensor& a, const Tensor& b) {
  if (a.numel() != b.numel())
    throw std::invalid_argument("add_: " + a.shape_str() + " and " + b.shape_str() + " differ in size");
  if (a.numel() == 0) return;
  binary_add(a, {a.numel()}, b, {a.numel()}, a.data());
}

Tensor add(const Tensor& a, const Tensor& b) {
  if (a.numel() != b.numel())
    throw std::invalid_argument("add: " + a.shape_str() + " and " + b.shape_str() + " differ in size");
  Tensor y(a.shape());
  if (a.numel() == 0) return y;
  binary_add(a, {a.numel()}, b, {a.numel()}, y.data());
  return y;
}

void add_bias_nchw_(Tensor& x, const Tensor& b) {
  if (x.rank() != 4 || b.numel() != x.dim(1))
    throw std::invalid_argument("add_bias_nchw_: input " + x.shape_str() + " with bias " + b.shape_str());
  if (x.numel() == 0) return;
  binary_add(x, x.shape(), b, {1, x.dim(1), 1, 1}, x.data());
}

}  // namespace sammpa::sam::nn
