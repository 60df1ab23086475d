#include "sam/tinyvit_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

// The project builds for the baseline x86-64 ISA; the per-row loops below get AVX2 and AVX-512 versions too,
// chosen at load time, since they run over every activation of the network.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TINYVIT_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TINYVIT_MULTIVERSION
#endif

namespace sammpa::sam::tinyvit {

namespace {

#define TINYVIT_INLINE_EXP __attribute__((always_inline)) inline

TINYVIT_MULTIVERSION
void norm_row(const float* x, float* y, int64_t c, const float* gamma, const float* beta, float eps) {
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < c; ++i) sum += x[i];
  const float mean = sum / static_cast<float>(c);
  float sq = 0.f;
#pragma omp simd reduction(+ : sq)
  for (int64_t i = 0; i < c; ++i) sq += (x[i] - mean) * (x[i] - mean);
  const float inv = 1.f / std::sqrt(sq / static_cast<float>(c) + eps);
  for (int64_t i = 0; i < c; ++i) y[i] = (x[i] - mean) * inv * gamma[i] + beta[i];
}

TINYVIT_MULTIVERSION
void add_row(const float* a, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a[i];
}

// exp(x) for x <= 0 as 2^k * e^r with |r| <= ln2 / 2 and a degree-7 Taylor polynomial (relative error
// below 1e-7); plain arithmetic so that the compiler vectorises the loop around it.
TINYVIT_INLINE_EXP float exp_nonpositive(float x) {
  x = std::max(x, -87.f);  // keeps 2^k a normal float
  const float shifter = 12582912.f;  // 1.5 * 2^23: adding it rounds to an integer in the low mantissa bits
  const float t = x * 1.44269504f + shifter;
  const float k = t - shifter;
  const float r = (x - k * 0.693145752f) - k * 1.42860677e-6f;  // ln2 split in two for accuracy
  float p = 1.f / 5040.f;
  p = p * r + 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  int32_t bits;
  std::memcpy(&bits, &t, 4);
  bits = (bits - 0x4B400000 + 127) << 23;  // the integer k sits in t's low bits; build 2^k
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

// Fused windowed attention for one (window, head). GCC vector types give 16-float registers: AVX-512 in the
// avx512f clone, pairs or quads of narrower registers in the others.
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));  // unaligned access to floats

#define TINYVIT_INLINE __attribute__((always_inline)) inline

// s{0,1}[j] = q{0,1} . k_j for the M * 16 columns starting at column j0; kt is k transposed, np columns wide.
template <int M>
TINYVIT_INLINE void scores_block(const float* q0, const float* q1, const float* kt, int64_t np, int64_t d,
                                 int64_t j0, float* s0, float* s1) {
  v16 a0[M] = {}, a1[M] = {};
  for (int64_t c = 0; c < d; ++c) {
    const float x0 = q0[c], x1 = q1[c];
    const float* kr = kt + c * np + j0;
    for (int t = 0; t < M; ++t) {
      const v16 kv = *reinterpret_cast<const v16u*>(kr + 16 * t);
      a0[t] += x0 * kv;
      a1[t] += x1 * kv;
    }
  }
  for (int t = 0; t < M; ++t) {
    *reinterpret_cast<v16u*>(s0 + j0 + 16 * t) = a0[t];
    *reinterpret_cast<v16u*>(s1 + j0 + 16 * t) = a1[t];
  }
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

// o{0,1} = sum_j p{0,1}[j] v_j over DV * 16 channels; v rows are `row` floats apart.
template <int DV>
TINYVIT_INLINE void context_pair(const float* p0, const float* p1, const float* v, int64_t row, int64_t n, float* o0,
                                 float* o1) {
  v16 a0[DV] = {}, a1[DV] = {};
  for (int64_t j = 0; j < n; ++j) {
    const float x0 = p0[j], x1 = p1[j];
    for (int t = 0; t < DV; ++t) {
      const v16 vv = *reinterpret_cast<const v16u*>(v + j * row + 16 * t);
      a0[t] += x0 * vv;
      a1[t] += x1 * vv;
    }
  }
  for (int t = 0; t < DV; ++t) {
    *reinterpret_cast<v16u*>(o0 + 16 * t) = a0[t];
    *reinterpret_cast<v16u*>(o1 + 16 * t) = a1[t];
  }
}

template <int DV>
TINYVIT_INLINE void attend(const float* q, const float* k, const float* v, int64_t row, const float* bias,
                           float* out, int64_t out_row, int64_t n, float scale, float* kt, float* s0, float* s1) {
  const int64_t d = DV * 16, np = (n + 15) / 16 * 16, nv = np / 16;
  for (int64_t c = 0; c < d; ++c) {
    for (int64_t j = 0; j < n; ++j) kt[c * np + j] = k[j * row + c];
    for (int64_t j = n; j < np; ++j) kt[c * np + j] = 0.f;
  }
  for (int64_t i = 0; i < n; i += 2) {
    // Queries go in pairs to reuse each load of k and v; an odd last query is paired with itself.
    const int64_t i1 = std::min(i + 1, n - 1);
    const float *q0 = q + i * row, *q1 = q + i1 * row;
    int64_t jb = 0;
    for (; jb + 4 <= nv; jb += 4) scores_block<4>(q0, q1, kt, np, d, jb * 16, s0, s1);
    switch (nv - jb) {
      case 3: scores_block<3>(q0, q1, kt, np, d, jb * 16, s0, s1); break;
      case 2: scores_block<2>(q0, q1, kt, np, d, jb * 16, s0, s1); break;
      case 1: scores_block<1>(q0, q1, kt, np, d, jb * 16, s0, s1); break;
      default: break;
    }
    softmax_scaled(s0, bias + i * n, n, scale);
    softmax_scaled(s1, bias + i1 * n, n, scale);
    context_pair<DV>(s0, s1, v, row, n, out + i * out_row, out + i1 * out_row);
  }
}

TINYVIT_MULTIVERSION
void attend_window_head(const float* q, const float* k, const float* v, int64_t row, const float* bias, float* out,
                        int64_t out_row, int64_t n, int64_t d, float scale, float* scratch) {
  const int64_t np = (n + 15) / 16 * 16;
  float *kt = scratch, *s0 = kt + d * np, *s1 = s0 + np;
  switch (d / 16) {
    case 1: attend<1>(q, k, v, row, bias, out, out_row, n, scale, kt, s0, s1); break;
    case 2: attend<2>(q, k, v, row, bias, out, out_row, n, scale, kt, s0, s1); break;
    case 3: attend<3>(q, k, v, row, bias, out, out_row, n, scale, kt, s0, s1); break;
    case 4: attend<4>(q, k, v, row, bias, out, out_row, n, scale, kt, s0, s1); break;
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
  scratch.resize(static_cast<size_t>((head_dim + 2) * np));
  for (int64_t w = 0; w < windows; ++w)
    for (int64_t h = 0; h < heads; ++h) {
      const float* q = qkv + w * tokens * row + h * 3 * head_dim;
      attend_window_head(q, q + head_dim, q + 2 * head_dim, row, bias + h * tokens * tokens,
                         out + w * tokens * out_row + h * head_dim, out_row, tokens, head_dim, scale, scratch.data());
    }
}

void layer_norm_rows(const float* x, float* y, int64_t rows, int64_t channels, const float* gamma,
                     const float* beta, float eps) {
  for (int64_t r = 0; r < rows; ++r) norm_row(x + r * channels, y + r * channels, channels, gamma, beta, eps);
}

void layer_norm(const float* x, float* y, int64_t rows, int64_t channels, const float* gamma, const float* beta,
                float eps) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) norm_row(x + r * channels, y + r * channels, channels, gamma, beta, eps);
}

void layer_norm_to_planar(const float* x, float* y, int64_t hw, int64_t channels, const float* gamma,
                          const float* beta, float eps) {
  constexpr int64_t block = 64;  // pixels normalised together, then written out channel by channel
  const int64_t blocks = (hw + block - 1) / block;
#pragma omp parallel
  {
    std::vector<float> tmp(static_cast<size_t>(block * channels));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t p0 = b * block, np = std::min(block, hw - p0);
      layer_norm_rows(x + p0 * channels, tmp.data(), np, channels, gamma, beta, eps);
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t p = 0; p < np; ++p) y[c * hw + p0 + p] = tmp[p * channels + c];
    }
  }
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
          norm_row(x + (yy * g.width + xx) * c, out, c, gamma, beta, eps);
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
