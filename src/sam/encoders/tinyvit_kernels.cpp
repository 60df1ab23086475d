#include "sam/encoders/tinyvit_kernels.h"

#include "common/omp_errors.h"
#include "sam/nn/row_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace sammpa::sam::tinyvit {

namespace {

SAMMPA_ROW_KERNEL_CLONES
void add_row(const float* a, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a[i];
}

// Fused windowed attention for one (window, head). GCC vector types give 16-float registers: AVX-512 in the
// avx512f clone, pairs or quads of narrower registers in the others.
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));  // unaligned access to floats

#define TINYVIT_INLINE __attribute__((always_inline)) inline

constexpr int kQueries = 4;  // queries processed together, to reuse each load of k and v

// s[t][j] = q_t . k_j (t < kQueries) for the M * 16 columns starting at j0; kt is k transposed, np wide.
template <int M>
TINYVIT_INLINE void scores_block(const float* const* q, const float* kt, int64_t np, int64_t d, int64_t j0,
                                 float* const* s) {
  v16 a[kQueries][M] = {};
  for (int64_t c = 0; c < d; ++c) {
    const float* kr = kt + c * np + j0;
    v16 kv[M];
    for (int t = 0; t < M; ++t) kv[t] = *reinterpret_cast<const v16u*>(kr + 16 * t);
    for (int i = 0; i < kQueries; ++i) {
      const float x = q[i][c];
      for (int t = 0; t < M; ++t) a[i][t] += x * kv[t];
    }
  }
  for (int i = 0; i < kQueries; ++i)
    for (int t = 0; t < M; ++t) *reinterpret_cast<v16u*>(s[i] + j0 + 16 * t) = a[i][t];
}

// p = softmax(scale * s + bias) over the n valid entries of s; s has room for n rounded up to 16, and the
// entries past n end up 0.
TINYVIT_INLINE void softmax_scaled(float* s, const float* bias, int64_t n, float scale) {
  const int64_t np = (n + 15) / 16 * 16;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) s[j] = s[j] * scale + bias[j];
  for (int64_t j = n; j < np; ++j) s[j] = -INFINITY;
  v16 m = *reinterpret_cast<const v16u*>(s);
  for (int64_t j = 16; j < np; j += 16) {
    const v16 x = *reinterpret_cast<const v16u*>(s + j);
    m = m > x ? m : x;
  }
  float mx = m[0];
  for (int t = 1; t < 16; ++t) mx = std::max(mx, m[t]);
#pragma omp simd
  for (int64_t j = 0; j < np; ++j) s[j] = exp_nonpositive(s[j] - mx);
  for (int64_t j = n; j < np; ++j) s[j] = 0.f;
  v16 acc = {};
  for (int64_t j = 0; j < np; j += 16) acc += *reinterpret_cast<const v16u*>(s + j);
  float sum = 0.f;
  for (int t = 0; t < 16; ++t) sum += acc[t];
  const float inv = 1.f / sum;
  for (int64_t j = 0; j < np; j += 16) *reinterpret_cast<v16u*>(s + j) = *reinterpret_cast<const v16u*>(s + j) * inv;
}

// o_t = sum_j p_t[j] v_j over DV * 16 channels (t < kQueries); v rows are `row` floats apart.
template <int DV>
TINYVIT_INLINE void context_block(const float* const* p, const float* v, int64_t row, int64_t n, float* const* o) {
  v16 a[kQueries][DV] = {};
  for (int64_t j = 0; j < n; ++j) {
    v16 vv[DV];
    for (int t = 0; t < DV; ++t) vv[t] = *reinterpret_cast<const v16u*>(v + j * row + 16 * t);
    for (int i = 0; i < kQueries; ++i) {
      const float x = p[i][j];
      for (int t = 0; t < DV; ++t) a[i][t] += x * vv[t];
    }
  }
  for (int i = 0; i < kQueries; ++i)
    for (int t = 0; t < DV; ++t) *reinterpret_cast<v16u*>(o[i] + 16 * t) = a[i][t];
}

template <int DV>
TINYVIT_INLINE void attend(const float* q, const float* k, const float* v, int64_t row, const float* bias,
                           float* out, int64_t out_row, int64_t n, float scale, float* kt, float* scores) {
  const int64_t d = DV * 16, np = (n + 15) / 16 * 16, nv = np / 16;
  for (int64_t c = 0; c < d; ++c) {
    for (int64_t j = 0; j < n; ++j) kt[c * np + j] = k[j * row + c];
    for (int64_t j = n; j < np; ++j) kt[c * np + j] = 0.f;
  }
  for (int64_t i0 = 0; i0 < n; i0 += kQueries) {
    // The last group repeats the last query where n is not a multiple of kQueries (same result, same place).
    const float* qs[kQueries];
    float* ss[kQueries];
    float* os[kQueries];
    int64_t is[kQueries];
    for (int t = 0; t < kQueries; ++t) {
      is[t] = std::min<int64_t>(i0 + t, n - 1);
      qs[t] = q + is[t] * row;
      ss[t] = scores + t * np;
      os[t] = out + is[t] * out_row;
    }
    int64_t jb = 0;
    for (; jb + 4 <= nv; jb += 4) scores_block<4>(qs, kt, np, d, jb * 16, ss);
    switch (nv - jb) {
      case 3: scores_block<3>(qs, kt, np, d, jb * 16, ss); break;
      case 2: scores_block<2>(qs, kt, np, d, jb * 16, ss); break;
      case 1: scores_block<1>(qs, kt, np, d, jb * 16, ss); break;
      default: break;
    }
    for (int t = 0; t < kQueries; ++t) softmax_scaled(ss[t], bias + is[t] * n, n, scale);
    context_block<DV>(ss, v, row, n, os);
  }
}

SAMMPA_ROW_KERNEL_CLONES
void attend_window_head(const float* q, const float* k, const float* v, int64_t row, const float* bias, float* out,
                        int64_t out_row, int64_t n, int64_t d, float scale, float* scratch) {
  const int64_t np = (n + 15) / 16 * 16;
  float *kt = scratch, *scores = kt + d * np;
  switch (d / 16) {
    case 1: attend<1>(q, k, v, row, bias, out, out_row, n, scale, kt, scores); break;
    case 2: attend<2>(q, k, v, row, bias, out, out_row, n, scale, kt, scores); break;
    case 3: attend<3>(q, k, v, row, bias, out, out_row, n, scale, kt, scores); break;
    case 4: attend<4>(q, k, v, row, bias, out, out_row, n, scale, kt, scores); break;
    default: break;
  }
}

}  // namespace

void window_attention(const float* qkv, const float* bias, float* out, int64_t windows, int64_t tokens,
                      int64_t heads, int64_t head_dim, float scale) {
  if (head_dim % 16 != 0 || head_dim > 64) throw std::invalid_argument("window_attention: unsupported head_dim");
  const int64_t row = heads * 3 * head_dim, out_row = heads * head_dim;
  const int64_t np = (tokens + 15) / 16 * 16;
  thread_local std::vector<float> scratch;
  scratch.resize(static_cast<size_t>((head_dim + kQueries) * np));
  for (int64_t w = 0; w < windows; ++w)
    for (int64_t h = 0; h < heads; ++h) {
      const float* q = qkv + w * tokens * row + h * 3 * head_dim;
      attend_window_head(q, q + head_dim, q + 2 * head_dim, row, bias + h * tokens * tokens,
                         out + w * tokens * out_row + h * head_dim, out_row, tokens, head_dim, scale, scratch.data());
    }
}

void layer_norm_rows(const float* x, float* y, int64_t rows, int64_t channels, const float* gamma,
                     const float* beta, float eps) {
  for (int64_t r = 0; r < rows; ++r) layer_norm_row(x + r * channels, y + r * channels, channels, gamma, beta, eps);
}

void layer_norm(const float* x, float* y, int64_t rows, int64_t channels, const float* gamma, const float* beta,
                float eps) {
  ParallelErrors errors;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    errors.run([&] { layer_norm_row(x + r * channels, y + r * channels, channels, gamma, beta, eps); });
  errors.rethrow();
}

void layer_norm_to_planar(const float* x, float* y, int64_t hw, int64_t channels, const float* gamma,
                          const float* beta, float eps) {
  constexpr int64_t block = 64;  // pixels normalised together, then written out channel by channel
  const int64_t blocks = (hw + block - 1) / block;
  ParallelErrors errors;
#pragma omp parallel
  {
    std::vector<float> tmp;
    errors.run([&] { tmp.resize(static_cast<size_t>(block * channels)); });
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b)
      errors.run([&] {
        const int64_t p0 = b * block, np = std::min(block, hw - p0);
        layer_norm_rows(x + p0 * channels, tmp.data(), np, channels, gamma, beta, eps);
        for (int64_t c = 0; c < channels; ++c)
          for (int64_t p = 0; p < np; ++p) y[c * hw + p0 + p] = tmp[p * channels + c];
      });
  }
  errors.rethrow();
}

void window_partition_norm(const WindowGrid& g, const float* x, int64_t first, int64_t count, float* out,
                           const float* gamma, const float* beta, float eps) {
  const int64_t c = g.channels, ws = g.window;
  for (int64_t w = first; w < first + count; ++w) {
    const int64_t y0 = (w / g.cols()) * ws, x0 = (w % g.cols()) * ws;
    for (int64_t i = 0; i < ws; ++i)
      for (int64_t j = 0; j < ws; ++j, out += c) {
        const int64_t yy = y0 + i, xx = x0 + j;
        if (yy < g.height && xx < g.width)
          layer_norm_row(x + (yy * g.width + xx) * c, out, c, gamma, beta, eps);
        else
          std::memcpy(out, beta, static_cast<size_t>(c) * sizeof(float));
      }
  }
}

void window_reverse_add(const WindowGrid& g, const float* windows, int64_t first, int64_t count, float* x) {
  const int64_t c = g.channels, ws = g.window;
  for (int64_t w = first; w < first + count; ++w) {
    const int64_t y0 = (w / g.cols()) * ws, x0 = (w % g.cols()) * ws;
    for (int64_t i = 0; i < ws; ++i)
      for (int64_t j = 0; j < ws; ++j, windows += c) {
        const int64_t yy = y0 + i, xx = x0 + j;
        if (yy < g.height && xx < g.width) add_row(windows, x + (yy * g.width + xx) * c, c);
      }
  }
}

}  // namespace sammpa::sam::tinyvit
