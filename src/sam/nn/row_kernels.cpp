#include "sam/nn/row_kernels.h"

#include <cmath>

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

}  // namespace sammpa::sam
