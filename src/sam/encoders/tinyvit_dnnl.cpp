#include "sam/encoders/tinyvit_dnnl.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

#include "sam/nn/row_kernels.h"

namespace sammpa::sam::tinyvit {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using dt = memory::data_type;

namespace {

using nn::detail::packed_copy;
using nn::detail::wrap;

// Each calling thread passes its own scratchpad (scratchpad() below), so one primitive may run on several
// threads at once (row tiles of one layer processed in parallel).
// GELU is not left to oneDNN's post-op: sammpa's row kernel (nn/row_kernels.h) runs it on the output right
// after the product, while it is still in cache, at about half the cost.
dnnl::primitive_attr attr_for(Post post) {
  return nn::detail::post_ops_attr(post == Post::accumulate || post == Post::accumulate_gelu, false, true);
}

bool has_gelu(Post post) { return post == Post::gelu || post == Post::accumulate_gelu; }

// GELU over n floats: on the calling thread inside a parallel region (a tile), else on every thread.
void gelu(float* x, int64_t n) {
  constexpr int64_t kChunk = 16384;
  if (omp_in_parallel() || n <= kChunk) {
    gelu_row(x, n);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i += kChunk) gelu_row(x + i, std::min(kChunk, n - i));
}

// The calling thread's scratchpad, grown to `md`'s size when needed.
memory scratchpad(const memory::desc& md) {
  struct Buffer {
    std::unique_ptr<char, decltype(&std::free)> data{nullptr, &std::free};
    size_t size = 0;
  };
  thread_local Buffer buf;
  const size_t need = md.get_size();
  if (need > buf.size) {
    const size_t bytes = (need + 4095) / 4096 * 4096;
    buf.data.reset(static_cast<char*>(std::aligned_alloc(4096, bytes)));
    if (!buf.data) throw std::bad_alloc();
    buf.size = bytes;
  }
  return wrap(md, buf.data.get());
}

memory copy_bias(const float* bias, int64_t n) {
  memory::desc md({n}, dt::f32, Tag::a);
  memory m(md, engine());
  auto* p = static_cast<float*>(m.get_data_handle());
  for (int64_t i = 0; i < n; ++i) p[i] = bias[i];
  return m;
}

}  // namespace

Conv::Conv(const ConvSpec& s, const float* weight, const float* bias) {
  const int pad = s.kernel / 2, pad_h = s.pad_rows ? pad : 0;
  out_h_ = (s.height + 2 * pad_h - s.kernel) / s.stride + 1;
  out_w_ = (s.width + 2 * pad - s.kernel) / s.stride + 1;
  src_md_ = memory::desc({1, s.cin, s.height, s.width}, dt::f32, s.src_tag);
  dst_md_ = memory::desc({1, s.cout, out_h_, out_w_}, dt::f32, s.dst_tag);
  memory::desc user_w, any_w;
  if (s.groups == 1) {
    user_w = memory::desc({s.cout, s.cin, s.kernel, s.kernel}, dt::f32, Tag::oihw);
    any_w = memory::desc({s.cout, s.cin, s.kernel, s.kernel}, dt::f32, Tag::any);
  } else {
    memory::dims d{s.groups, s.cout / s.groups, s.cin / s.groups, s.kernel, s.kernel};
    user_w = memory::desc(d, dt::f32, Tag::goihw);
    any_w = memory::desc(d, dt::f32, Tag::any);
  }
  memory::desc bias_md = bias ? memory::desc({s.cout}, dt::f32, Tag::a) : memory::desc();
  dnnl::convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, src_md_, any_w,
                                    bias_md, dst_md_, {s.stride, s.stride}, {pad_h, pad}, {pad_h, pad});
  dnnl::convolution_forward::primitive_desc pd(d, attr_for(s.post), engine());
  prim_ = dnnl::convolution_forward(pd);
  scratch_md_ = pd.scratchpad_desc();
  weights_ = packed_copy(user_w, weight, pd.weights_desc());
  if (bias) bias_ = copy_bias(bias, s.cout);
  gelu_ = has_gelu(s.post);
}

void Conv::operator()(const float* src, float* dst) const {
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, wrap(src_md_, src)},
                                       {DNNL_ARG_WEIGHTS, weights_},
                                       {DNNL_ARG_DST, wrap(dst_md_, dst)},
                                       {DNNL_ARG_SCRATCHPAD, scratchpad(scratch_md_)}};
  if (bias_) args.emplace(DNNL_ARG_BIAS, bias_);
  prim_.execute(stream(), args);
  stream().wait();
  if (gelu_) gelu(dst, static_cast<int64_t>(dst_md_.get_size() / sizeof(float)));
}

Reorder::Reorder(int64_t channels, int64_t height, int64_t width, Tag from, Tag to)
    : src_md_({1, channels, height, width}, dt::f32, from), dst_md_({1, channels, height, width}, dt::f32, to) {
  prim_ = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), src_md_, engine(), dst_md_));
}

void Reorder::operator()(const float* src, float* dst) const {
  prim_.execute(stream(), {{DNNL_ARG_FROM, wrap(src_md_, src)}, {DNNL_ARG_TO, wrap(dst_md_, dst)}});
  stream().wait();
}

Linear::Linear(int64_t rows, int64_t n, int64_t k, const float* weight, const float* bias, Post post) {
  bf16_ = nn::detail::bf16_products();
  const dt in = bf16_ ? dt::bf16 : dt::f32;  // the weights are rounded once here, the input at each run
  src_md_ = memory::desc({rows, k}, in, Tag::ab);
  dst_md_ = memory::desc({rows, n}, dt::f32, Tag::ab);
  memory::desc user_w({k, n}, dt::f32, Tag::ba);  // W^T of a row-major [n, k] matrix
  memory::desc any_w({k, n}, in, Tag::any);
  memory::desc bias_md = bias ? memory::desc({1, n}, dt::f32, Tag::ab) : memory::desc();
  dnnl::matmul::desc d(src_md_, any_w, bias_md, dst_md_);
  dnnl::matmul::primitive_desc pd(d, attr_for(post), engine());
  prim_ = dnnl::matmul(pd);
  scratch_md_ = pd.scratchpad_desc();
  weights_ = packed_copy(user_w, weight, pd.weights_desc());
  if (bias) bias_ = copy_bias(bias, n);
  gelu_ = has_gelu(post);
}

void Linear::operator()(const float* x, float* y) const {
  const void* src = x;
  if (bf16_) {
    thread_local std::vector<uint16_t> rounded;
    const auto count = static_cast<int64_t>(src_md_.get_size() / sizeof(uint16_t));
    if (static_cast<int64_t>(rounded.size()) < count) rounded.resize(count);
    to_bf16_row(x, rounded.data(), count);
    src = rounded.data();
  }
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, wrap(src_md_, src)},
      {DNNL_ARG_WEIGHTS, weights_},
      {DNNL_ARG_DST, wrap(dst_md_, y)},
      {DNNL_ARG_SCRATCHPAD, scratchpad(scratch_md_)}};
  if (bias_) args.emplace(DNNL_ARG_BIAS, bias_);
  prim_.execute(stream(), args);
  stream().wait();
  if (gelu_) gelu(y, static_cast<int64_t>(dst_md_.get_size() / sizeof(float)));
}

TiledLinear::TiledLinear(int64_t rows, int64_t tile, int64_t n, int64_t k, const float* weight, const float* bias,
                         Post post)
    : tile_(tile), full_(tile, n, k, weight, bias, post) {
  if (rows % tile != 0) last_ = Linear(rows % tile, n, k, weight, bias, post);
}

}  // namespace sammpa::sam::tinyvit
