// The mask decoder's upscaling and logits (MaskUpscaling) against a direct computation of what the official
// decoder does: ConvTranspose2d 2x2/2, LayerNorm2d, GELU, ConvTranspose2d 2x2/2, GELU, then each mask's
// hypernetwork output dotted with every pixel. A grid whose height is not a multiple of the tile (6 rows: one
// tile of 4 and two single rows) and several prompts and masks, so both paths and the placement are checked.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sam/decoder/mask_upscaling.h"

namespace {

using sammpa::sam::MaskUpscaling;
using sammpa::sam::Tensor;

Tensor filled(sammpa::sam::Shape shape, uint32_t seed) {
  Tensor t(std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) {
    seed = seed * 1664525u + 1013904223u;
    t.data()[i] = static_cast<float>(seed >> 8) / 8388608.f - 1.f;  // [-1, 1)
  }
  return t;
}

double gelu(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }

// [c, 2h, 2w] from [c_in, h, w] (channels first) by a 2x2 stride-2 transposed convolution, weights [c_in, c, 2, 2].
std::vector<double> conv_t(const std::vector<double>& x, int cin, int h, int w, const Tensor& wt, const Tensor& b) {
  const int c = static_cast<int>(wt.dim(1));
  std::vector<double> y(static_cast<size_t>(c) * 4 * h * w);
  for (int co = 0; co < c; ++co)
    for (int yy = 0; yy < 2 * h; ++yy)
      for (int xx = 0; xx < 2 * w; ++xx) {
        double s = b.data()[co];
        for (int ci = 0; ci < cin; ++ci)
          s += x[(static_cast<size_t>(ci) * h + yy / 2) * w + xx / 2] *
               wt.data()[((ci * c + co) * 2 + yy % 2) * 2 + xx % 2];
        y[(static_cast<size_t>(co) * 2 * h + yy) * 2 * w + xx] = s;
      }
  return y;
}

TEST(MaskUpscaling, MatchesADirectComputationOnEveryTileShape) {
  const int c = 32, c4 = c / 4, c8 = c / 8, w = 5, h = 6, groups = 2, count = 3;
  const Tensor up1_w = filled({c, c4, 2, 2}, 1), up1_b = filled({c4}, 2), norm_w = filled({c4}, 3),
               norm_b = filled({c4}, 4), up2_w = filled({c4, c8, 2, 2}, 5), up2_b = filled({c8}, 6);
  const Tensor tokens = filled({groups, h * w, c}, 7), hyper = filled({groups, count, c8}, 8);
  const MaskUpscaling up(up1_w, up1_b, norm_w, norm_b, up2_w, up2_b, w);
  std::vector<std::vector<float>> out(groups, std::vector<float>(static_cast<size_t>(count) * 16 * h * w, -7.f));
  std::vector<float*> outs = {out[0].data(), out[1].data()};
  up.run(groups, tokens.data(), h, hyper.data(), count, outs.data());

  for (int g = 0; g < groups; ++g) {
    std::vector<double> x(static_cast<size_t>(c) * h * w);  // channels first
    for (int t = 0; t < h * w; ++t)
      for (int ch = 0; ch < c; ++ch) x[static_cast<size_t>(ch) * h * w + t] = tokens.data()[(g * h * w + t) * c + ch];
    std::vector<double> u1 = conv_t(x, c, h, w, up1_w, up1_b);
    const int n1 = 4 * h * w;
    for (int p = 0; p < n1; ++p) {  // LayerNorm2d over the channels of each pixel (eps 1e-6), then GELU
      double mean = 0, var = 0;
      for (int ch = 0; ch < c4; ++ch) mean += u1[static_cast<size_t>(ch) * n1 + p] / c4;
      for (int ch = 0; ch < c4; ++ch) var += std::pow(u1[static_cast<size_t>(ch) * n1 + p] - mean, 2) / c4;
      for (int ch = 0; ch < c4; ++ch) {
        double& v = u1[static_cast<size_t>(ch) * n1 + p];
        v = gelu((v - mean) / std::sqrt(var + 1e-6) * norm_w.data()[ch] + norm_b.data()[ch]);
      }
    }
    std::vector<double> u2 = conv_t(u1, c4, 2 * h, 2 * w, up2_w, up2_b);
    for (double& v : u2) v = gelu(v);
    const int n2 = 16 * h * w;
    double worst = 0;
    for (int m = 0; m < count; ++m)
      for (int p = 0; p < n2; ++p) {
        const float* hm = hyper.data() + (g * count + m) * c8;
        double want = 0;
        for (int k = 0; k < c8; ++k) want += hm[k] * u2[static_cast<size_t>(k) * n2 + p];
        worst = std::max(worst, std::abs(want - out[g][static_cast<size_t>(m) * n2 + p]));
      }
    EXPECT_LT(worst, 1e-4) << "prompt " << g;
  }
}

}  // namespace
