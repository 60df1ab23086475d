#include "sam/decoder/mask_upscaling.h"

#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "common/omp_errors.h"
#include "sam/nn/row_kernels.h"

namespace sammpa::sam {

namespace {

// A 2x2 stride-2 ConvTranspose2d's weights [cin, cout, 2, 2] as a linear layer's [4 cout, cin]: output column
// (a * 2 + b) * cout + co holds kernel position (a, b) of channel co, so one token row becomes its 2x2 output
// pixels one after the other, channels last. The bias repeats for the four positions.
std::vector<float> kernel_as_linear(const Tensor& w, int64_t cin, int64_t cout) {
  std::vector<float> m(static_cast<size_t>(4 * cout * cin));
  for (int64_t ci = 0; ci < cin; ++ci)
    for (int64_t co = 0; co < cout; ++co)
      for (int64_t ab = 0; ab < 4; ++ab)
        m[static_cast<size_t>((ab * cout + co) * cin + ci)] = w.data()[(ci * cout + co) * 4 + ab];
  return m;
}

std::vector<float> bias_repeated(const Tensor& b, int64_t cout) {
  std::vector<float> r(static_cast<size_t>(4 * cout));
  for (int64_t ab = 0; ab < 4; ++ab)
    for (int64_t co = 0; co < cout; ++co) r[static_cast<size_t>(ab * cout + co)] = b.data()[co];
  return r;
}

// The logits of `rows` grid rows. u2 holds, for each of the rows * width tokens and each of its 2x2 first-stage
// pixels (a, b), the 2x2 second-stage pixels (a2, b2) with c8 channels each: a [16 rows width, c8] matrix of
// pixels. All their logits are one product, hyper [count, c8] x u2^T (into `products`, [count, pixels]), then
// each token's 16 go to their 4x4 block: pixel (4y + 2a + a2, 4x + 2b + b2) of mask m. `out` points at row 4y
// of mask 0; masks are `plane` floats apart. (One short dot product per pixel and mask, each ending in a
// horizontal sum, was several times slower; docs/PERFORMANCE.md.)
void tile_logits(const float* u2, int64_t rows, int64_t width, int64_t c8, const float* hyper, int count,
                 float* products, float* out, int64_t plane) {
  const int64_t pixels = 16 * rows * width, out_w = 4 * width;
  // Called inside an OpenMP parallel region, where oneDNN runs it on the calling thread only.
  if (dnnl_sgemm('N', 'T', count, pixels, c8, 1.f, hyper, c8, u2, c8, 0.f, products, pixels) != dnnl_success)
    throw std::runtime_error("mask upscaling: dnnl_sgemm failed");
  for (int m = 0; m < count; ++m) {
    const float* p = products + m * pixels;
    for (int64_t y = 0; y < rows; ++y)
      for (int64_t x = 0; x < width; ++x, p += 16) {
        float* block = out + m * plane + 4 * y * out_w + 4 * x;
        for (int64_t ab = 0; ab < 4; ++ab)
          for (int64_t ab2 = 0; ab2 < 4; ++ab2)
            block[(2 * (ab / 2) + ab2 / 2) * out_w + 2 * (ab % 2) + ab2 % 2] = p[ab * 4 + ab2];
      }
  }
}

}  // namespace

MaskUpscaling::MaskUpscaling(const Tensor& up1_w, const Tensor& up1_b, const Tensor& norm_w, const Tensor& norm_b,
                             const Tensor& up2_w, const Tensor& up2_b, int64_t width)
    : c_(up1_w.dim(0)), c4_(up1_w.dim(1)), c8_(up2_w.dim(1)), width_(width), norm_w_(norm_w), norm_b_(norm_b) {
  if (up1_w.rank() != 4 || up1_w.dim(2) != 2 || up1_w.dim(3) != 2 || up2_w.rank() != 4 || up2_w.dim(0) != c4_ ||
      up2_w.dim(2) != 2 || up2_w.dim(3) != 2 || up1_b.numel() != c4_ || up2_b.numel() != c8_ ||
      norm_w.numel() != c4_ || norm_b.numel() != c4_ || width < 1)
    throw std::invalid_argument("MaskUpscaling: weights " + up1_w.shape_str() + " and " + up2_w.shape_str());
  const std::vector<float> w1 = kernel_as_linear(up1_w, c_, c4_), b1 = bias_repeated(up1_b, c4_);
  const std::vector<float> w2 = kernel_as_linear(up2_w, c4_, c8_), b2 = bias_repeated(up2_b, c8_);
  for (int64_t rows : {kTileRows, int64_t{1}}) {
    Stage& st = rows == 1 ? one_row_ : tile_;
    st.up1 = tinyvit::Linear(rows * width, 4 * c4_, c_, w1.data(), b1.data(), tinyvit::Post::none);
    st.up2 = tinyvit::Linear(4 * rows * width, 4 * c8_, c4_, w2.data(), b2.data(), tinyvit::Post::gelu);
  }
}

void MaskUpscaling::run(int64_t groups, const float* tokens, int64_t h, const float* hyper, int count,
                        float* const* out) const {
  // Per prompt: h / kTileRows tiles of kTileRows grid rows, then the h % kTileRows last rows one by one.
  const int64_t full = h / kTileRows, per_prompt = full + h % kTileRows;
  const int64_t tasks = groups * per_prompt, plane = 16 * h * width_;
  ParallelErrors errors;
#pragma omp parallel
  {
    std::vector<float> u1(static_cast<size_t>(4 * kTileRows * width_ * c4_)),
        u2(static_cast<size_t>(16 * kTileRows * width_ * c8_)),
        products(static_cast<size_t>(16 * kTileRows * width_ * std::max(count, 1)));
#pragma omp for schedule(static)
    for (int64_t t = 0; t < tasks; ++t) errors.run([&] {
      const int64_t g = t / per_prompt, i = t % per_prompt;
      const bool whole = i < full;
      const int64_t y0 = whole ? i * kTileRows : full * kTileRows + (i - full), rows = whole ? kTileRows : 1;
      const Stage& st = whole ? tile_ : one_row_;
      st.up1(tokens + (g * h + y0) * width_ * c_, u1.data());
      for (int64_t r = 0; r < 4 * rows * width_; ++r) {
        float* row = u1.data() + r * c4_;
        layer_norm_row(row, row, c4_, norm_w_.data(), norm_b_.data(), 1e-6f);
        gelu_row(row, c4_);
      }
      st.up2(u1.data(), u2.data());
      tile_logits(u2.data(), rows, width_, c8_, hyper + g * count * c8_, count, products.data(),
                  out[g] + 4 * y0 * 4 * width_, plane);
    });
  }
  errors.rethrow();
}

}  // namespace sammpa::sam
