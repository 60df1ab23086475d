#include "sam/encoders/vit_kernels.h"

#include "common/omp_errors.h"
#include "sam/nn/row_kernels.h"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps(), which -Wuninitialized reports falsely.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
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


}  // namespace

void layer_norm_rows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols,
                     const float* gamma, const float* beta, float eps) {
  ParallelErrors errors;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    errors.run([&] { layer_norm_row(x + r * ldx, y + r * ldy, cols, gamma, beta, eps); });
  errors.rethrow();
}

float bias_softmax_row_portable(float* s, const float* rh, const float* rw, int64_t kh, int64_t kw) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < kh; ++i)
    for (int64_t j = 0; j < kw; ++j) {
      const float v = s[i * kw + j] + rh[i] + rw[j];
      s[i * kw + j] = v;
      mx = std::max(mx, v);
    }
  float sum = 0.f;
  for (int64_t j = 0; j < kh * kw; ++j) sum += (s[j] = exp_nonpositive(s[j] - mx));
  return sum;
}

namespace {

// exp(x) for x <= 0 on 16 lanes, as exp_nonpositive; scalef multiplies by 2^n exactly.
__attribute__((target("avx512f"))) inline __m512 exp_nonpositive16(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 e = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(e, n);
}

__attribute__((target("avx512f"))) __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
}

__attribute__((target("avx512f"))) float bias_softmax_row_avx512(float* s, const float* rh, const float* rw,
                                                                  int64_t kh, int64_t kw) {
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int64_t i = 0; i < kh; ++i) {
    float* row = s + i * kw;
    const __m512 bh = _mm512_set1_ps(rh[i]);
    for (int64_t j = 0; j < kw; j += 16) {
      const __mmask16 m = tail_mask(kw - j);
      const __m512 v = _mm512_add_ps(_mm512_add_ps(_mm512_maskz_loadu_ps(m, row + j), bh),
                                     _mm512_maskz_loadu_ps(m, rw + j));
      _mm512_mask_storeu_ps(row + j, m, v);
      mx = _mm512_mask_max_ps(mx, m, mx, v);
    }
  }
  const __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
  __m512 sum = _mm512_setzero_ps();
  const int64_t n = kh * kw;
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = tail_mask(n - j);
    const __m512 e = exp_nonpositive16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), vmax));
    _mm512_mask_storeu_ps(s + j, m, e);
    sum = _mm512_mask_add_ps(sum, m, sum, e);
  }
  return _mm512_reduce_add_ps(sum);
}

bool has_avx512() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return yes;
}

}  // namespace

float bias_softmax_row(float* s, const float* rh, const float* rw, int64_t kh, int64_t kw) {
  return has_avx512() ? bias_softmax_row_avx512(s, rh, rw, kh, kw) : bias_softmax_row_portable(s, rh, rw, kh, kw);
}

VIT_CLONES void scale_row(float* x, int64_t n, float a) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= a;
}

}  // namespace sammpa::sam::vit
