// conv2d and conv_transpose2d on oneDNN's convolution / deconvolution primitives. Activations stay plain NCHW;
// weights are reordered once into the blocked layout the primitive prefers and cached (see reordered_weights).
#include <cstdlib>
#include <stdexcept>

#include "sam/nn/dnnl_context.h"
#include "sam/nn/ops.h"

namespace sammpa::sam::nn {

using dnnl::memory;
using namespace detail;

namespace {

dnnl::primitive_attr eltwise_attr(Act act) {
  dnnl::primitive_attr attr;
  if (act != Act::none) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, act == Act::relu ? dnnl::algorithm::eltwise_relu : dnnl::algorithm::eltwise_gelu_erf,
                       0.f, 0.f);
    attr.set_post_ops(ops);
  }
  return attr;
}

memory::desc any_desc(const memory::dims& dims) {
  return memory::desc(dims, memory::data_type::f32, memory::format_tag::any);
}

// Runs a convolution-like primitive whose src/dst layouts the primitive chose (p.src / p.dst): activations are
// reordered from and to plain NCHW around it when those differ.
void run(const CachedPrimitive& p, const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
  const memory::desc x_plain = plain_desc(x.shape()), y_plain = plain_desc(y.shape());
  memory src = wrap(x_plain, x.data()), dst = wrap(y_plain, y.data());
  if (p.src != x_plain) {
    memory blocked(p.src, engine());
    execute(dnnl::reorder(src, blocked), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, blocked}});
    src = blocked;
  }
  memory out = p.dst == y_plain ? dst : memory(p.dst, engine());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src},
                                       {DNNL_ARG_WEIGHTS, reordered_weights(w, p.user_weights, p.weights)},
                                       {DNNL_ARG_DST, out}};
  if (!b.empty()) args.emplace(DNNL_ARG_BIAS, wrap(p.bias, b.data()));
  execute(p.prim, args);
  if (p.dst != y_plain) execute(dnnl::reorder(out, dst), {{DNNL_ARG_FROM, out}, {DNNL_ARG_TO, dst}});
}

bool blocked_activations() {
  static const bool on = std::getenv("SAMMPA_CONV_BLOCKED") != nullptr;
  return on;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, int stride, int padding, int groups, Act act) {
  if (x.rank() != 4 || w.rank() != 4 || groups < 1 || x.dim(1) != w.dim(1) * groups || w.dim(0) % groups != 0)
    throw std::invalid_argument("conv2d: input " + x.shape_str() + " does not match weight " + w.shape_str() +
                                " with groups " + std::to_string(groups));
  const int64_t n = x.dim(0), cin = x.dim(1), h = x.dim(2), wd = x.dim(3);
  const int64_t cout = w.dim(0), kh = w.dim(2), kw = w.dim(3);
  if (!b.empty() && b.numel() != cout) throw std::invalid_argument("conv2d: bias " + b.shape_str());
  const int64_t oh = (h + 2 * padding - kh) / stride + 1, ow = (wd + 2 * padding - kw) / stride + 1;
  if (oh < 1 || ow < 1) throw std::invalid_argument("conv2d: input " + x.shape_str() + " smaller than the kernel");
  Tensor y({n, cout, oh, ow});
  const std::string key = "conv/" + dims_key(x.shape()) + "/" + dims_key(w.shape()) + "/" + std::to_string(stride) +
                          "/" + std::to_string(padding) + "/" + std::to_string(groups) + (b.empty() ? "/nb/" : "/b/") +
                          std::to_string(static_cast<int>(act));
  const auto& p = cached(key, [&] {
    CachedPrimitive c;
    c.src = blocked_activations() ? any_desc(memory::dims(x.shape().begin(), x.shape().end())) : plain_desc(x.shape());
    c.dst = blocked_activations() ? any_desc(memory::dims(y.shape().begin(), y.shape().end())) : plain_desc(y.shape());
    memory::dims wdims = groups == 1 ? memory::dims{cout, cin, kh, kw}
                                     : memory::dims{groups, cout / groups, cin / groups, kh, kw};
    Shape wshape(wdims.begin(), wdims.end());
    c.user_weights = plain_desc(wshape);  // PyTorch's [Cout, Cin/g, kh, kw] is goihw when split by group
    if (!b.empty()) c.bias = plain_desc({cout});
    const memory::dims strides{stride, stride}, pad{padding, padding};
    auto d = b.empty() ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                          dnnl::algorithm::convolution_direct, c.src,
                                                          any_desc(wdims), c.dst, strides, pad, pad)
                       : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                          dnnl::algorithm::convolution_direct, c.src,
                                                          any_desc(wdims), c.bias, c.dst, strides, pad, pad);
    dnnl::convolution_forward::primitive_desc pd(d, eltwise_attr(act), engine());
    c.src = pd.src_desc();
    c.dst = pd.dst_desc();
    c.weights = pd.weights_desc();
    c.prim = dnnl::convolution_forward(pd);
    return c;
  });
  run(p, x, w, b, y);
  return y;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b, int stride, Act act) {
  if (x.rank() != 4 || w.rank() != 4 || x.dim(1) != w.dim(0))
    throw std::invalid_argument("conv_transpose2d: input " + x.shape_str() + " does not match weight " +
                                w.shape_str());
  const int64_t n = x.dim(0), cin = x.dim(1), h = x.dim(2), wd = x.dim(3);
  const int64_t cout = w.dim(1), kh = w.dim(2), kw = w.dim(3);
  if (!b.empty() && b.numel() != cout) throw std::invalid_argument("conv_transpose2d: bias " + b.shape_str());
  Tensor y({n, cout, (h - 1) * stride + kh, (wd - 1) * stride + kw});
  const std::string key = "deconv/" + dims_key(x.shape()) + "/" + dims_key(w.shape()) + "/" +
                          std::to_string(stride) + (b.empty() ? "/nb/" : "/b/") + std::to_string(static_cast<int>(act));
  const auto& p = cached(key, [&] {
    CachedPrimitive c;
    c.src = blocked_activations() ? any_desc(memory::dims(x.shape().begin(), x.shape().end())) : plain_desc(x.shape());
    c.dst = blocked_activations() ? any_desc(memory::dims(y.shape().begin(), y.shape().end())) : plain_desc(y.shape());
    const memory::dims wdims{cout, cin, kh, kw};
    // oneDNN indexes deconvolution weights [O, I, kh, kw]; PyTorch stores them [I, O, kh, kw].
    c.user_weights = memory::desc(wdims, memory::data_type::f32, memory::format_tag::iohw);
    if (!b.empty()) c.bias = plain_desc({cout});
    const memory::dims strides{stride, stride}, pad{0, 0};
    auto d = b.empty() ? dnnl::deconvolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                            dnnl::algorithm::deconvolution_direct, c.src,
                                                            any_desc(wdims), c.dst, strides, pad, pad)
                       : dnnl::deconvolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                            dnnl::algorithm::deconvolution_direct, c.src,
                                                            any_desc(wdims), c.bias, c.dst, strides, pad, pad);
    dnnl::deconvolution_forward::primitive_desc pd(d, eltwise_attr(act), engine());
    c.src = pd.src_desc();
    c.dst = pd.dst_desc();
    c.weights = pd.weights_desc();
    c.prim = dnnl::deconvolution_forward(pd);
    return c;
  });
  run(p, x, w, b, y);
  return y;
}

}  // namespace sammpa::sam::nn
