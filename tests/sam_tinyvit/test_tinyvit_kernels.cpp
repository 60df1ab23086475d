// The fused windowed-attention kernel against a direct implementation of TinyViT's attention, on shapes that
// exercise its code paths (head sizes 16..64, token counts not multiples of 4 or 16, several heads/windows).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "sam/encoders/tinyvit_kernels.h"
#include "sam/nn/row_kernels.h"

namespace {

struct Case {
  int64_t windows, tokens, heads, head_dim;
};

// softmax(scale * q k^T + bias) v per window and head, in double precision.
std::vector<float> reference(const std::vector<float>& qkv, const std::vector<float>& bias, const Case& c,
                             float scale) {
  const int64_t d = c.head_dim, row = c.heads * 3 * d, n = c.tokens;
  std::vector<float> out(static_cast<size_t>(c.windows * n * c.heads * d));
  for (int64_t w = 0; w < c.windows; ++w)
    for (int64_t h = 0; h < c.heads; ++h) {
      const float* base = qkv.data() + w * n * row + h * 3 * d;
      for (int64_t i = 0; i < n; ++i) {
        std::vector<double> s(n);
        double mx = -1e300, sum = 0;
        for (int64_t j = 0; j < n; ++j) {
          double dot = 0;
          for (int64_t k = 0; k < d; ++k) dot += double(base[i * row + k]) * base[j * row + d + k];
          s[j] = dot * scale + bias[(h * n + i) * n + j];
          mx = std::max(mx, s[j]);
        }
        for (auto& v : s) sum += (v = std::exp(v - mx));
        for (int64_t k = 0; k < d; ++k) {
          double o = 0;
          for (int64_t j = 0; j < n; ++j) o += s[j] / sum * base[j * row + 2 * d + k];
          out[(w * n + i) * c.heads * d + h * d + k] = static_cast<float>(o);
        }
      }
    }
  return out;
}

}  // namespace

TEST(TinyViTKernels, WindowAttentionMatchesDirectComputation) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (const Case c : {Case{3, 49, 2, 32}, Case{2, 25, 3, 16}, Case{1, 196, 1, 64}, Case{2, 9, 2, 48}}) {
    std::vector<float> qkv(static_cast<size_t>(c.windows * c.tokens * c.heads * 3 * c.head_dim));
    std::vector<float> bias(static_cast<size_t>(c.heads * c.tokens * c.tokens));
    for (auto& v : qkv) v = normal(rng);
    for (auto& v : bias) v = normal(rng);
    const float scale = 1.f / std::sqrt(static_cast<float>(c.head_dim));
    std::vector<float> out(static_cast<size_t>(c.windows * c.tokens * c.heads * c.head_dim), -1.f);
    const auto padded = sammpa::sam::tinyvit::pad_attention_bias(bias, c.heads, c.tokens);
    sammpa::sam::tinyvit::window_attention(qkv.data(), padded.data(), out.data(), c.windows, c.tokens, c.heads,
                                           c.head_dim, scale);
    const auto want = reference(qkv, bias, c, scale);
    double err = 0;
    for (size_t i = 0; i < out.size(); ++i) err = std::max(err, double(std::fabs(out[i] - want[i])));
    EXPECT_LT(err, 2e-5) << "tokens " << c.tokens << " head_dim " << c.head_dim;
  }
}

TEST(TinyViTKernels, WindowAttentionRejectsUnsupportedHeadSize) {
  std::vector<float> buf(3 * 24 * 4, 0.f), bias(16, 0.f), out(24 * 4);
  EXPECT_THROW(sammpa::sam::tinyvit::window_attention(buf.data(), bias.data(), out.data(), 1, 4, 1, 24, 1.f),
               std::invalid_argument);
}

// The GELU row kernel (the encoders' and the decoder's activation) against the erf formula in double precision,
// on a row whose length is not a multiple of a register.
TEST(TinyViTKernels, GeluRowMatchesErfFormula) {
  std::vector<float> x;
  for (int i = -12000; i <= 12000; i += 3) x.push_back(static_cast<float>(i) / 1000.f);
  ASSERT_NE(x.size() % 16, 0u);
  std::vector<float> y = x;
  sammpa::sam::gelu_row(y.data(), static_cast<int64_t>(y.size()));
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = 0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0)));
    worst = std::max(worst, std::fabs(y[i] - want));
  }
  EXPECT_LT(worst, 2e-6);  // 9.7e-7 measured; float32 spacing at 10 is 9.5e-7
  const float big[4] = {8.f, -8.f, 0.f, 30.f};
  std::vector<float> b(big, big + 4);
  sammpa::sam::gelu_row(b.data(), 4);
  EXPECT_NEAR(b[0], 8.f, 1e-6);  // past the fitted range erf is +-1: gelu(x) = x, or 0
  EXPECT_NEAR(b[1], 0.f, 1e-6);
  EXPECT_EQ(b[2], 0.f);
  EXPECT_NEAR(b[3], 30.f, 4e-6);
}

// bf16 rounding of the products' inputs: to nearest, ties to even, sign kept.
TEST(TinyViTKernels, ToBf16RoundsToNearestTiesToEven) {
  const float x[6] = {1.0f, 1.00390625f, 1.01171875f, 1.0040000f, -2.5f, 0.0f};
  // 1 + 2^-8 lies half-way between 1 and the next bf16 (1 + 2^-7): to the even one, 1; 1 + 3 x 2^-8 likewise
  // to 1 + 2^-6; just above half-way rounds up.
  const uint16_t want[6] = {0x3F80, 0x3F80, 0x3F82, 0x3F81, 0xC020, 0x0000};
  uint16_t out[6];
  sammpa::sam::to_bf16_row(x, out, 6);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[i], want[i]) << x[i];
}

// Cutting into padded windows and pasting back: every pixel receives exactly its own window token.
TEST(TinyViTKernels, WindowReverseAddPlacesEveryTokenAtItsPixel) {
  using sammpa::sam::tinyvit::WindowGrid;
  const WindowGrid g{10, 9, 2, 4};  // 3 x 3 windows of 16 tokens, with padding on both sides
  ASSERT_EQ(g.count(), 9);
  std::vector<float> windows(static_cast<size_t>(g.count() * g.tokens() * g.channels));
  for (int64_t w = 0; w < g.count(); ++w)
    for (int64_t t = 0; t < g.tokens(); ++t) {
      const int64_t y = (w / 3) * 4 + t / 4, x = (w % 3) * 4 + t % 4;
      for (int64_t c = 0; c < g.channels; ++c)
        windows[(w * g.tokens() + t) * g.channels + c] = float(y * 100 + x) + 0.5f * float(c);
    }
  std::vector<float> image(static_cast<size_t>(g.height * g.width * g.channels), 1.f);
  sammpa::sam::tinyvit::window_reverse_add(g, windows.data(), 0, g.count(), image.data());
  for (int64_t y = 0; y < g.height; ++y)
    for (int64_t x = 0; x < g.width; ++x)
      for (int64_t c = 0; c < g.channels; ++c)
        ASSERT_EQ(image[(y * g.width + x) * g.channels + c], 1.f + float(y * 100 + x) + 0.5f * float(c));
}
