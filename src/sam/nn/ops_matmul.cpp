// linear and matmul on oneDNN's matmul primitive. Weights keep PyTorch's [N, K] layout: the primitive reads
// them through a transposed ([K, N] with strides {1, K}) descriptor, so nothing is copied.
#include <stdexcept>

#include "sam/nn/dnnl_context.h"
#include "sam/nn/ops.h"

namespace sammpa::sam::nn {

using dnnl::memory;
using namespace detail;

namespace {

const char* act_name(Act act) { return act == Act::none ? "none" : act == Act::relu ? "relu" : "gelu"; }

}  // namespace

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, Act act) {
  if (w.rank() != 2 || x.rank() < 1 || x.dim(-1) != w.dim(1))
    throw std::invalid_argument("linear: input " + x.shape_str() + " does not match weight " + w.shape_str());
  const int64_t k = w.dim(1), n = w.dim(0), m = x.numel() / k;
  if (!b.empty() && b.numel() != n)
    throw std::invalid_argument("linear: bias " + b.shape_str() + " for weight " + w.shape_str());
  Shape out_shape = x.shape();
  out_shape.back() = n;
  Tensor y(out_shape);
  if (m == 0) return y;
  const std::string key = "linear/" + std::to_string(m) + "/" + std::to_string(k) + "/" + std::to_string(n) +
                          (b.empty() ? "/nobias/" : "/bias/") + act_name(act);
  const auto& p = cached(key, [&] {
    CachedPrimitive c;
    c.src = plain_desc({m, k});
    c.weights = strided_desc({k, n}, {1, k});
    c.dst = plain_desc({m, n});
    if (!b.empty()) c.bias = plain_desc({1, n});
    dnnl::matmul::desc d = b.empty() ? dnnl::matmul::desc(c.src, c.weights, c.dst)
                                     : dnnl::matmul::desc(c.src, c.weights, c.bias, c.dst);
    c.prim = dnnl::matmul(dnnl::matmul::primitive_desc(d, activation_attr(act), engine()));
    return c;
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, wrap(p.src, x.data())},
                                       {DNNL_ARG_WEIGHTS, wrap(p.weights, w.data())},
                                       {DNNL_ARG_DST, wrap(p.dst, y.data())}};
  if (!b.empty()) args.emplace(DNNL_ARG_BIAS, wrap(p.bias, b.data()));
  execute(p.prim, args);
  return y;
}

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_b, float alpha) {
  if (a.rank() < 2 || b.rank() < 2)
    throw std::invalid_argument("matmul: operands need rank >= 2, got " + a.shape_str() + " and " + b.shape_str());
  // Align the batch dimensions (missing leading ones count as 1, and 1 broadcasts), as torch.matmul does.
  const int rank = std::max(a.rank(), b.rank());
  auto padded = [rank](const Shape& s) {
    Shape p(rank - s.size(), 1);
    p.insert(p.end(), s.begin(), s.end());
    return p;
  };
  Shape as = padded(a.shape()), bs = padded(b.shape());
  const int64_t m = as[rank - 2], k = as[rank - 1];
  const int64_t n = transpose_b ? bs[rank - 2] : bs[rank - 1];
  const int64_t kb = transpose_b ? bs[rank - 1] : bs[rank - 2];
  if (k != kb)
    throw std::invalid_argument("matmul: inner dimensions differ: " + a.shape_str() + " and " + b.shape_str() +
                                (transpose_b ? " (transposed)" : ""));
  Shape out(rank);
  for (int i = 0; i < rank - 2; ++i) {
    if (as[i] != bs[i] && as[i] != 1 && bs[i] != 1)
      throw std::invalid_argument("matmul: batch dimensions differ: " + a.shape_str() + " and " + b.shape_str());
    out[i] = std::max(as[i], bs[i]);
  }
  out[rank - 2] = m;
  out[rank - 1] = n;
  Tensor y(out);
  if (y.numel() == 0) return y;
  const std::string key = "matmul/" + dims_key(as) + "/" + dims_key(bs) + (transpose_b ? "/t/" : "/n/") +
                          std::to_string(alpha);
  const auto& p = cached(key, [&] {
    CachedPrimitive c;
    c.src = plain_desc(as);
    if (transpose_b) {
      // b is stored [.., N, K]: describe it as [.., K, N] with swapped strides of the last two dimensions.
      memory::dims dims(bs.begin(), bs.end()), strides(rank);
      memory::dim s = 1;
      for (int i = rank; i-- > 0;) {
        strides[i] = s;
        s *= bs[i];
      }
      std::swap(dims[rank - 2], dims[rank - 1]);
      std::swap(strides[rank - 2], strides[rank - 1]);
      c.weights = strided_desc(dims, strides);
    } else {
      c.weights = plain_desc(bs);
    }
    c.dst = plain_desc(out);
    c.prim = dnnl::matmul(
        dnnl::matmul::primitive_desc(dnnl::matmul::desc(c.src, c.weights, c.dst), activation_attr(Act::none, alpha),
                                     engine()));
    return c;
  });
  execute(p.prim, {{DNNL_ARG_SRC, wrap(p.src, a.data())},
                   {DNNL_ARG_WEIGHTS, wrap(p.weights, b.data())},
                   {DNNL_ARG_DST, wrap(p.dst, y.data())}});
  return y;
}

}  // namespace sammpa::sam::nn
