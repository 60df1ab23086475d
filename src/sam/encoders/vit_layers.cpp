#include "sam/encoders/vit_layers.h"

#include "sam/nn/dnnl_context.h"

namespace sammpa::sam::vit {

using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;

using nn::detail::engine;
using nn::detail::packed_copy;
using nn::detail::wrap;

LinearPlan::LinearPlan(int64_t m, int64_t k, int64_t n, bool bias, bool gelu, bool accumulate) {
  src_ = memory::desc({m, k}, f32, tag::ab);
  user_weights_ = memory::desc({k, n}, f32, tag::ba);  // the transpose of PyTorch's [n, k]
  dst_ = memory::desc({m, n}, f32, tag::ab);
  if (bias) bias_ = memory::desc({1, n}, f32, tag::ab);
  const memory::desc any_weights({k, n}, f32, tag::any);
  const auto d = bias ? dnnl::matmul::desc(src_, any_weights, bias_, dst_)
                      : dnnl::matmul::desc(src_, any_weights, dst_);
  // accumulate: adds the destination's old content (the residual stream); the scratchpad is the caller's.
  const dnnl::matmul::primitive_desc pd(d, nn::detail::post_ops_attr(accumulate, gelu, true), engine());
  weights_ = pd.weights_desc();
  scratchpad_ = pd.scratchpad_desc();
  prim_ = dnnl::matmul(pd);
}

memory LinearPlan::pack(const float* w) const { return packed_copy(user_weights_, w, weights_); }

void LinearPlan::run(dnnl::stream& s, const float* x, const memory& w, const float* b, float* y,
                     void* scratch) const {
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, wrap(src_, x)},
                                       {DNNL_ARG_WEIGHTS, w},
                                       {DNNL_ARG_DST, wrap(dst_, y)},
                                       {DNNL_ARG_SCRATCHPAD, wrap(scratchpad_, scratch)}};
  if (b) args.emplace(DNNL_ARG_BIAS, wrap(bias_, b));
  prim_.execute(s, args);
  s.wait();
}

Conv2dPlan::Conv2dPlan(int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t kernel, int64_t pad,
                       const float* weights) {
  const int64_t oh = h + 2 * pad - kernel + 1, ow = w + 2 * pad - kernel + 1;
  src_ = memory::desc({1, cin, h, w}, f32, tag::nhwc);
  dst_ = memory::desc({1, cout, oh, ow}, f32, tag::nhwc);
  const memory::desc any_w({cout, cin, kernel, kernel}, f32, tag::any);
  const dnnl::convolution_forward::primitive_desc pd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                      src_, any_w, dst_, {1, 1}, {pad, pad}, {pad, pad}),
      engine());
  prim_ = dnnl::convolution_forward(pd);
  weights_ = packed_copy(memory::desc({cout, cin, kernel, kernel}, f32, tag::oihw), weights, pd.weights_desc());
}

void Conv2dPlan::run(dnnl::stream& s, const float* src, float* dst) const {
  prim_.execute(s, {{DNNL_ARG_SRC, wrap(src_, src)}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, wrap(dst_, dst)}});
  s.wait();
}

}  // namespace sammpa::sam::vit
