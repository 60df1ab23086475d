// The encoder's hand-written kernels against plain double-precision formulas, on sizes that exercise the
// vector tails (windows of 14 and 5 keys per row, SAM's 64, and a row shorter than one vector).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "sam/encoders/attention_vit.h"
#include "sam/encoders/vit_kernels.h"

namespace {

using sammpa::sam::vit::bias_softmax_row;
using sammpa::sam::vit::bias_softmax_row_portable;
using sammpa::sam::vit::layer_norm_rows;

std::vector<float> normal(size_t n, float sd, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void check_softmax(float (*kernel)(float*, const float*, const float*, int64_t, int64_t)) {
  for (auto [kh, kw] : {std::pair<int64_t, int64_t>{14, 14}, {5, 5}, {64, 64}, {3, 7}, {2, 17}}) {
    const auto scores = normal(kh * kw, 4.f, 1), rh = normal(kh, 2.f, 2), rw = normal(kw, 2.f, 3);
    std::vector<double> ref(kh * kw);
    double mx = -1e300, sum = 0;
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j)
        mx = std::max(mx, ref[i * kw + j] = double(scores[i * kw + j]) + rh[i] + rw[j]);
    for (auto& r : ref) sum += (r = std::exp(r - mx));
    auto s = scores;
    const float got_sum = kernel(s.data(), rh.data(), rw.data(), kh, kw);
    EXPECT_NEAR(got_sum, sum, 1e-5 * sum) << kh << "x" << kw;
    for (int64_t j = 0; j < kh * kw; ++j)
      ASSERT_NEAR(s[j], ref[j], 1e-6 * std::max(1.0, ref[j])) << kh << "x" << kw << " at " << j;
  }
}

TEST(VitKernels, BiasSoftmaxRowMatchesFormula) { check_softmax(bias_softmax_row); }
TEST(VitKernels, PortableBiasSoftmaxRowMatchesFormula) { check_softmax(bias_softmax_row_portable); }

TEST(VitKernels, SoftmaxHandlesVeryNegativeScores) {
  std::vector<float> s{0.f, -200.f, -90.f, -1e30f};
  const float rh[1] = {0.f}, rw[4] = {0.f, 0.f, 0.f, 0.f};
  const float sum = bias_softmax_row(s.data(), rh, rw, 1, 4);
  EXPECT_FLOAT_EQ(sum, 1.f);
  EXPECT_FLOAT_EQ(s[0], 1.f);
  for (int j = 1; j < 4; ++j) EXPECT_LT(s[j], 1e-37f);
}

TEST(VitKernels, LayerNormRowsMatchesFormula) {
  const int64_t rows = 37, cols = 96, ld = 100;
  const auto x = normal(rows * ld, 3.f, 4), g = normal(cols, 1.f, 5), b = normal(cols, 1.f, 6);
  std::vector<float> y(rows * ld, 0.f);
  layer_norm_rows(x.data(), ld, y.data(), ld, rows, cols, g.data(), b.data(), 1e-6f);
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t c = 0; c < cols; ++c) mean += x[r * ld + c];
    mean /= cols;
    for (int64_t c = 0; c < cols; ++c) var += (x[r * ld + c] - mean) * (x[r * ld + c] - mean);
    var /= cols;
    for (int64_t c = 0; c < cols; ++c)
      ASSERT_NEAR(y[r * ld + c], (x[r * ld + c] - mean) / std::sqrt(var + 1e-6) * g[c] + b[c], 1e-4);
    EXPECT_EQ(y[r * ld + cols], 0.f);  // the padding between rows is left alone
  }
}

}  // namespace
