#include "sam/vit_layers.h"

namespace sammpa::sam::vit {

using dnnl::memory;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;

dnnl::engine& cpu_engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

namespace {

dnnl::primitive_attr fused_attr(bool gelu, bool accumulate) {
  dnnl::post_ops ops;
  if (accumulate) ops.append_sum(1.f);  // adds the destination's old content (the residual stream)
  if (gelu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_erf, 0.f, 0.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  return attr;
}

memory wrap(const memory::desc& md, const void* p) { return memory(md, cpu_engine(), const_cast<void*>(p)); }

}  // namespace

LinearPlan::LinearPlan(int64_t m, int64_t k, int64_t n, bool bias, bool gelu, bool accumulate) {
  src_ = memory::desc({m, k}, f32, tag::ab);
  weights_ = memory::desc({k, n}, f32, tag::ba);  // the transpose of PyTorch's [n, k]
  dst_ = memory::desc({m, n}, f32, tag::ab);
  if (bias) bias_ = memory::desc({1, n}, f32, tag::ab);
  const auto d = bias ? dnnl::matmul::desc(src_, weights_, bias_, dst_) : dnnl::matmul::desc(src_, weights_, dst_);
  prim_ = dnnl::matmul(dnnl::matmul::primitive_desc(d, fused_attr(gelu, accumulate), cpu_engine()));
}

void LinearPlan::run(dnnl::stream& s, const float* x, const float* w, const float* b, float* y) const {
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, wrap(src_, x)}, {DNNL_ARG_WEIGHTS, wrap(weights_, w)}, {DNNL_ARG_DST, wrap(dst_, y)}};
  if (b) args.emplace(DNNL_ARG_BIAS, wrap(bias_, b));
  prim_.execute(s, args);
  s.wait();
}

Conv2dPlan::Conv2dPlan(const Shape& sh, const float* weights, const float* bias, bool accumulate) {
  out_h_ = (sh.h + 2 * sh.pad - sh.kernel) / sh.stride + 1;
  out_w_ = (sh.w + 2 * sh.pad - sh.kernel) / sh.stride + 1;
  src_ = memory::desc({1, sh.cin, sh.h, sh.w}, f32, sh.src_channels_last ? tag::nhwc : tag::nchw);
  dst_ = memory::desc({1, sh.cout, out_h_, out_w_}, f32, tag::nhwc);
  const memory::desc user_w({sh.cout, sh.cin, sh.kernel, sh.kernel}, f32, tag::oihw);
  const memory::desc any_w({sh.cout, sh.cin, sh.kernel, sh.kernel}, f32, tag::any);
  const memory::desc bias_md({sh.cout}, f32, tag::a);
  const memory::dims strides{sh.stride, sh.stride}, pads{sh.pad, sh.pad};
  const auto d = bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                        dnnl::algorithm::convolution_direct, src_, any_w, bias_md,
                                                        dst_, strides, pads, pads)
                      : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                        dnnl::algorithm::convolution_direct, src_, any_w, dst_,
                                                        strides, pads, pads);
  const dnnl::convolution_forward::primitive_desc pd(d, fused_attr(false, accumulate), cpu_engine());
  prim_ = dnnl::convolution_forward(pd);
  dnnl::stream s(cpu_engine());
  weights_ = memory(pd.weights_desc(), cpu_engine());
  memory user(user_w, cpu_engine(), const_cast<float*>(weights));
  dnnl::reorder(user, weights_).execute(s, user, weights_);
  if (bias) {
    bias_ = memory(bias_md, cpu_engine());
    memory user_b(bias_md, cpu_engine(), const_cast<float*>(bias));
    dnnl::reorder(user_b, bias_).execute(s, user_b, bias_);
  }
  s.wait();
}

void Conv2dPlan::run(dnnl::stream& s, const float* src, float* dst) const {
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, wrap(src_, src)}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, wrap(dst_, dst)}};
  if (bias_) args.emplace(DNNL_ARG_BIAS, bias_);
  prim_.execute(s, args);
  s.wait();
}

}  // namespace sammpa::sam::vit
