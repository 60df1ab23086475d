#include "sam/nn/row_kernels.h"

#include <cmath>
#include <cstring>

namespace sammpa::sam {

SAMMPA_ROW_KERNEL_CLONES void layer_norm_row(
    const float* x, float* y, int64_t n, const float* gamma, const float* beta, float eps) {
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float mean = sum / static_cast<float>(n);
  float sq = 0.f;
#pragma omp simd reduction(+ : sq)
  for (int64_t i = 0; i < n; ++i) sq += (x[i] - mean) * (x[i] - mean);
  const float rstd = 1.f / std::sqrt(sq / static_cast<float>(n) + eps);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * rstd * gamma[i] + beta[i];
}

namespace {
// erf(z) ~ z P(z^2) / Q(z^2) for |z| <= kErfLimit (scripts/fit_gelu_erf.py); past it erf(z) is +-1 in float.
constexpr float kErfLimit = 3.92f;
constexpr float kP[6] = {1.128379025e+00f, 1.927361313e-01f, 5.305589430e-02f,
                         3.866854760e-03f, 2.873993137e-04f, 2.034358929e-06f};
constexpr float kQ[5] = {5.041396372e-01f, 1.150722457e-01f, 1.516942907e-02f, 1.187667627e-03f, 3.806249069e-05f};
}  // namespace

SAMMPA_ROW_KERNEL_CLONES void gelu_row(float* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    float z = v * 0.70710678118654752f;
    z = z < -kErfLimit ? -kErfLimit : (z > kErfLimit ? kErfLimit : z);
    const float t = z * z;
    const float p = ((((kP[5] * t + kP[4]) * t + kP[3]) * t + kP[2]) * t + kP[1]) * t + kP[0];
    const float q = ((((kQ[4] * t + kQ[3]) * t + kQ[2]) * t + kQ[1]) * t + kQ[0]) * t + 1.f;
    const float h = 0.5f * v;
    x[i] = h + h * (z * p / q);
  }
}

void to_bf16_row(const float* x, uint16_t* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, x + i, sizeof u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    out[i] = static_cast<uint16_t>(u >> 16);
  }
}

}  // namespace sammpa::sam
