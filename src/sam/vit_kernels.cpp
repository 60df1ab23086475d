#include "sam/vit_kernels.h"

#include <bit>
#include <cmath>
#include <cstring>

// target_clones builds one copy per ISA; glibc's ifunc resolver picks the best at load time.
#define VIT_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))

namespace sammpa::sam::vit {

namespace {

// exp(x) for x <= 0 (softmax after subtracting the maximum), relative error ~2e-7: x = n ln2 + r with
// |r| <= ln2/2, a degree-6 polynomial for exp(r), and 2^n built in the exponent bits. Branch-free so that the
// calling loops vectorise.
inline float exp_nonpositive(float x) {
  x = x < -87.0f ? -87.0f : x;
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;  // ln2 split in two for an exact product
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return e * std::bit_cast<float>(bits);
}

VIT_CLONES void layer_norm_row(const float* x, float* y, int64_t n, const float* g, const float* b, float eps) {
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float mean = sum / static_cast<float>(n);
  float sq = 0.f;
#pragma omp simd reduction(+ : sq)
  for (int64_t i = 0; i < n; ++i) sq += (x[i] - mean) * (x[i] - mean);
  const float rstd = 1.f / std::sqrt(sq / static_cast<float>(n) + eps);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * rstd * g[i] + b[i];
}

}  // namespace

void layer_norm_rows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols,
                     const float* gamma, const float* beta, float eps) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) layer_norm_row(x + r * ldx, y + r * ldy, cols, gamma, beta, eps);
}

VIT_CLONES float bias_softmax_row(float* s, const float* rh, const float* rw, int64_t kh, int64_t kw) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < kh; ++i) {
    float* row = s + i * kw;
    const float bh = rh[i];
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < kw; ++j) {
      const float v = row[j] + bh + rw[j];
      row[j] = v;
      mx = v > mx ? v : mx;
    }
  }
  const int64_t n = kh * kw;
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) {
    const float e = exp_nonpositive(s[j] - mx);
    s[j] = e;
    sum += e;
  }
  return sum;
}

VIT_CLONES void scale_row(float* x, int64_t n, float a) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= a;
}

}  // namespace sammpa::sam::vit
