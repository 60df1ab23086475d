#include "sam/decoder/decoder_kernels.h"

#include <algorithm>

#include "sam/nn/row_kernels.h"

namespace sammpa::sam::decoder_kernels {

SAMMPA_ROW_KERNEL_CLONES void head_expand(const float* coef, int64_t ld_coef, int64_t tokens, int64_t heads, int64_t d,
                                          const float* w, int64_t n, float alpha, float* out) {
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t h = 0; h < heads; ++h) {
      float* o = out + (t * heads + h) * n;
      std::fill(o, o + n, 0.f);
      for (int64_t j = 0; j < d; ++j) {
        const float a = alpha * coef[t * ld_coef + h * d + j];
        const float* wr = w + (h * d + j) * n;
#pragma omp simd
        for (int64_t c = 0; c < n; ++c) o[c] += a * wr[c];
      }
    }
}

SAMMPA_ROW_KERNEL_CLONES void head_reduce(const float* r, int64_t tokens, int64_t heads, int64_t d, int64_t n,
                                          const float* w, const float* b, float* out, int64_t ld_out) {
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t h = 0; h < heads; ++h) {
      const float* rr = r + (t * heads + h) * n;
      for (int64_t j = 0; j < d; ++j) {
        const float* wr = w + (h * d + j) * n;
        float s = 0.f;
#pragma omp simd reduction(+ : s)
        for (int64_t c = 0; c < n; ++c) s += rr[c] * wr[c];
        out[t * ld_out + h * d + j] = s + b[h * d + j];
      }
    }
}

SAMMPA_ROW_KERNEL_CLONES void softmax_over_tokens(float* s, int64_t rows, int64_t tokens, int64_t heads,
                                                  const float* e) {
  constexpr int64_t kMaxHeads = 64;
  float mx[kMaxHeads], sum[kMaxHeads];
  const int64_t width = tokens * heads;
  // Per row: add e, subtract each head's maximum. Then one flat pass of exp over all rows (vectorised), then
  // each head's sum and the division.
  for (int64_t i = 0; i < rows; ++i) {
    float* row = s + i * width;
    if (e)
      for (int64_t k = 0; k < width; ++k) row[k] += e[k];
    for (int64_t h = 0; h < heads; ++h) mx[h] = row[h];
    for (int64_t t = 1; t < tokens; ++t)
      for (int64_t h = 0; h < heads; ++h) mx[h] = std::max(mx[h], row[t * heads + h]);
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t h = 0; h < heads; ++h) row[t * heads + h] -= mx[h];
  }
  const int64_t n = rows * width;
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) s[k] = exp_nonpositive(s[k]);
  for (int64_t i = 0; i < rows; ++i) {
    float* row = s + i * width;
    for (int64_t h = 0; h < heads; ++h) sum[h] = row[h];
    for (int64_t t = 1; t < tokens; ++t)
      for (int64_t h = 0; h < heads; ++h) sum[h] += row[t * heads + h];
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t h = 0; h < heads; ++h) row[t * heads + h] /= sum[h];
  }
}

SAMMPA_ROW_KERNEL_CLONES void residual_norm_pe(const float* base, const float* delta, const float* bias,
                                               const float* gamma, const float* beta, float eps, const float* pe,
                                               float* keys, float* keys_pe, int64_t n) {
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) keys[c] = base[c] + (delta[c] + bias[c]);
  layer_norm_row(keys, keys, n, gamma, beta, eps);
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) keys_pe[c] = keys[c] + pe[c];
}

}  // namespace sammpa::sam::decoder_kernels
