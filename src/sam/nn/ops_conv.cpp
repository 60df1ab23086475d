// conv2d and conv_transpose2d on oneDNN's convolution / deconvolution primitives. Activations stay plain NCHW;
// weights are reordered once into the blocked layout the primitive prefers and cached (see reordered_weights).
#include <stdexcept>

#include "common/omp_errors.h"
#include "sam/nn/dnnl_context.h"
#include "sam/nn/ops.h"

namespace sammpa::sam::nn {

using dnnl::memory;
using namespace detail;

namespace {

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
    c.src = plain_desc(x.shape());
    c.dst = plain_desc(y.shape());
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
    dnnl::convolution_forward::primitive_desc pd(d, activation_attr(act), engine());
    c.src = pd.src_desc();
    c.dst = pd.dst_desc();
    c.weights = pd.weights_desc();
    c.prim = dnnl::convolution_forward(pd);
    return c;
  });
  run(p, x, w, b, y);
  return y;
}

namespace {

// A transposed convolution whose kernel equals its stride (SAM's 2x2 / stride-2 upscaling) writes every output
// pixel from exactly one input pixel: one matmul [Cout*kh*kw, Cin] x [Cin, H*W] (PyTorch's weight layout read
// transposed), then a scatter into the output grid with the bias. oneDNN's deconvolution kernels are several
// times slower on these shapes.
Tensor conv_transpose_no_overlap(const Tensor& x, const Tensor& w, const Tensor& b, Act act) {
  const int64_t n = x.dim(0), cin = x.dim(1), h = x.dim(2), wd = x.dim(3);
  const int64_t cout = w.dim(1), kh = w.dim(2), kw = w.dim(3), rows = cout * kh * kw, hw = h * wd;
  Tensor y({n, cout, h * kh, wd * kw});
  Tensor tmp({rows, hw});
  const auto& p = cached("deconv_gemm/" + dims_key(x.shape()) + "/" + dims_key(w.shape()), [&] {
    CachedPrimitive c;
    c.src = strided_desc({rows, cin}, {1, rows});
    c.weights = plain_desc({cin, hw});
    c.dst = plain_desc({rows, hw});
    c.prim = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(c.src, c.weights, c.dst), engine()));
    return c;
  });
  for (int64_t img = 0; img < n; ++img) {
    execute(p.prim, {{DNNL_ARG_SRC, wrap(p.src, w.data())},
                     {DNNL_ARG_WEIGHTS, wrap(p.weights, x.data() + img * cin * hw)},
                     {DNNL_ARG_DST, wrap(p.dst, tmp.data())}});
    float* out = y.data() + img * cout * hw * kh * kw;
    const int64_t out_w = wd * kw;
    ParallelErrors errors;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < cout * h * kh; ++r)  // output row r of channel co: input row i, kernel row a
      errors.run([&] {
        const int64_t co = r / (h * kh), i = (r % (h * kh)) / kh, a = r % kh;
        const float bias = b.empty() ? 0.f : b.data()[co];
        float* dst = out + r * out_w;
        for (int64_t bk = 0; bk < kw; ++bk) {
          const float* src = tmp.data() + ((co * kh + a) * kw + bk) * hw + i * wd;
          for (int64_t j = 0; j < wd; ++j) dst[j * kw + bk] = src[j] + bias;
        }
      });
    errors.rethrow();
  }
  if (act == Act::gelu) gelu_(y);
  if (act == Act::relu) relu_(y);
  return y;
}

}  // namespace

Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b, int stride, Act act) {
  if (x.rank() != 4 || w.rank() != 4 || x.dim(1) != w.dim(0))
    throw std::invalid_argument("conv_transpose2d: input " + x.shape_str() + " does not match weight " +
                                w.shape_str());
  if (!b.empty() && b.numel() != w.dim(1)) throw std::invalid_argument("conv_transpose2d: bias " + b.shape_str());
  if (w.dim(2) == stride && w.dim(3) == stride) return conv_transpose_no_overlap(x, w, b, act);
  const int64_t n = x.dim(0), cin = x.dim(1), h = x.dim(2), wd = x.dim(3);
  const int64_t cout = w.dim(1), kh = w.dim(2), kw = w.dim(3);
  if (!b.empty() && b.numel() != cout) throw std::invalid_argument("conv_transpose2d: bias " + b.shape_str());
  Tensor y({n, cout, (h - 1) * stride + kh, (wd - 1) * stride + kw});
  const std::string key = "deconv/" + dims_key(x.shape()) + "/" + dims_key(w.shape()) + "/" +
                          std::to_string(stride) + (b.empty() ? "/nb/" : "/b/") + std::to_string(static_cast<int>(act));
  const auto& p = cached(key, [&] {
    CachedPrimitive c;
    c.src = plain_desc(x.shape());
    c.dst = plain_desc(y.shape());
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
    dnnl::deconvolution_forward::primitive_desc pd(d, activation_attr(act), engine());
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
