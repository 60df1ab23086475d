#include "sam/encoders/vit_kernels.h"

#include "common/omp_errors.h"
#include "sam/nn/row_kernels.h"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps(), which -Wuninitialized reports falsely.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sammpa::sam::vit {

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

// exp_nonpositive (nn/row_kernels.h) on 16 lanes: the same steps and constants.
__attribute__((target("avx512f"))) inline __m512 exp_nonpositive16(__m512 x) {
  using namespace exp_constants;
  x = _mm512_max_ps(x, _mm512_set1_ps(kMin));
  const __m512 t = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)), _mm512_set1_ps(kShifter));
  const __m512 k = _mm512_sub_ps(t, _mm512_set1_ps(kShifter));
  __m512 r = _mm512_sub_ps(x, _mm512_mul_ps(k, _mm512_set1_ps(kLn2Hi)));
  r = _mm512_sub_ps(r, _mm512_mul_ps(k, _mm512_set1_ps(kLn2Lo)));
  __m512 p = _mm512_set1_ps(kP[0]);
  for (int i = 1; i < 6; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP[i]));
  const __m512 e = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.f));
  const __m512i bits = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(kBiasBits)), 23);
  return _mm512_mul_ps(e, _mm512_castsi512_ps(bits));
}

__attribute__((target("avx512f"))) __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
}

// Two versions of one function, picked at load time by glibc's ifunc resolver as target_clones does for the
// auto-vectorised kernels: the AVX-512 one where the CPU has it, else the portable steps. (A call inside this
// file is what makes GCC emit the resolver, hence the public wrapper below.)
__attribute__((target("default"))) float softmax_row_versions(float* s, const float* rh, const float* rw,
                                                               int64_t kh, int64_t kw) {
  return bias_softmax_row_portable(s, rh, rw, kh, kw);
}

__attribute__((target("avx512f"))) float softmax_row_versions(float* s, const float* rh, const float* rw,
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

}  // namespace

float bias_softmax_row(float* s, const float* rh, const float* rw, int64_t kh, int64_t kw) {
  return softmax_row_versions(s, rh, rw, kh, kw);
}

SAMMPA_ROW_KERNEL_CLONES void scale_row(float* x, int64_t n, float a) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= a;
}

}  // namespace sammpa::sam::vit
