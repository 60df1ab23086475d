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

// Queries processed together, to reuse each load of k and v: as many as the 32 registers allow (Q x M score
// accumulators, Q x DV context accumulators).
constexpr int kMaxQueries = 8;

// s[t][j] = scale * q_t . k_j + bias_t[j] (t < Q) for the M * 16 columns starting at j0, each query's
// running maximum kept in m[t]; kt is k transposed, np wide; bias rows are np wide, -inf past the n tokens.
template <int Q, int M>
TINYVIT_INLINE void scores_block(const float* const* q, const float* kt, const float* const* bias, int64_t np,
                                 int64_t d, int64_t j0, float scale, float* const* s, v16* m) {
  v16 a[Q][M] = {};
  for (int64_t c = 0; c < d; ++c) {
    const float* kr = kt + c * np + j0;
    v16 kv[M];
    for (int t = 0; t < M; ++t) kv[t] = *reinterpret_cast<const v16u*>(kr + 16 * t);
    for (int i = 0; i < Q; ++i) {
      const float x = q[i][c];
      for (int t = 0; t < M; ++t) a[i][t] += x * kv[t];
    }
  }
  for (int i = 0; i < Q; ++i)
    for (int t = 0; t < M; ++t) {
      const v16 y = a[i][t] * scale + *reinterpret_cast<const v16u*>(bias[i] + j0 + 16 * t);
      *reinterpret_cast<v16u*>(s[i] + j0 + 16 * t) = y;
      m[i] = m[i] > y ? m[i] : y;
    }
}

typedef int32_t v16i __attribute__((vector_size(64)));

TINYVIT_INLINE void max_into(v16& m, const v16& x) { m = m > x ? m : x; }

// The largest of a register's 16 lanes, in four halving steps instead of 15 dependent scalar ones.
TINYVIT_INLINE float lanes_max(const v16& x) {
  v16 m = x;
  max_into(m, __builtin_shuffle(m, v16i{8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7}));
  max_into(m, __builtin_shuffle(m, v16i{4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11}));
  max_into(m, __builtin_shuffle(m, v16i{2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13}));
  max_into(m, __builtin_shuffle(m, v16i{1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14}));
  return m[0];
}

// p = exp(s - max) over a row of np scores (max: the largest of m's lanes), returning 1 / sum(p): the context
// is normalised once per output row instead of once per score. Padding scores are -inf: weight ~1e-38, and
// the context reads only the n real tokens.
TINYVIT_INLINE float softmax_unnormalised(float* s, int64_t np, const v16& m) {
  const float mx = lanes_max(m);
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < np; ++j) {
    s[j] = exp_nonpositive(s[j] - mx);
    sum += s[j];
  }
  return 1.f / sum;
}

// o_t = inv_t * sum_j p_t[j] v_j over DV * 16 channels (t < Q); v rows are `row` floats apart.
template <int Q, int DV>
TINYVIT_INLINE void context_block(const float* const* p, const float* inv, const float* v, int64_t row, int64_t n,
                                  float* const* o) {
  v16 a[Q][DV] = {};
  for (int64_t j = 0; j < n; ++j) {
    v16 vv[DV];
    for (int t = 0; t < DV; ++t) vv[t] = *reinterpret_cast<const v16u*>(v + j * row + 16 * t);
    for (int i = 0; i < Q; ++i) {
      const float x = p[i][j];
      for (int t = 0; t < DV; ++t) a[i][t] += x * vv[t];
    }
  }
  for (int i = 0; i < Q; ++i)
    for (int t = 0; t < DV; ++t) *reinterpret_cast<v16u*>(o[i] + 16 * t) = a[i][t] * inv[i];
}

// Swaps the off-diagonal h x h blocks of every 2h x 2h block of a 16 x 16 tile held in 16 registers; the
// four steps h = 8, 4, 2, 1 transpose it.
template <int H>
TINYVIT_INLINE void transpose_step(v16* r) {
  v16i lo, hi;  // lane c of the new rows i and i + h: from row i + h at c - h, or from row i at c + h
  for (int c = 0; c < 16; ++c) {
    lo[c] = (c & H) ? 16 + c - H : c;
    hi[c] = (c & H) ? 16 + c : c + H;
  }
  for (int i = 0; i < 16; ++i)
    if (!(i & H)) {
      const v16 a = r[i], b = r[i + H];
      r[i] = __builtin_shuffle(a, b, lo);
      r[i + H] = __builtin_shuffle(a, b, hi);
    }
}

// kt[c * np + j] = k[j * row + c] for c < d, j < np (zero for j >= n), one 16 x 16 tile at a time.
TINYVIT_INLINE void transpose_keys(const float* k, int64_t row, int64_t n, int64_t d, int64_t np, float* kt) {
  for (int64_t j0 = 0; j0 < np; j0 += 16)
    for (int64_t c0 = 0; c0 < d; c0 += 16) {
      v16 r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = j0 + i < n ? *reinterpret_cast<const v16u*>(k + (j0 + i) * row + c0) : v16{};
      transpose_step<8>(r);
      transpose_step<4>(r);
      transpose_step<2>(r);
      transpose_step<1>(r);
      for (int i = 0; i < 16; ++i) *reinterpret_cast<v16u*>(kt + (c0 + i) * np + j0) = r[i];
    }
}

// Attention outputs of the Q queries i0 .. i0 + Q - 1 of one window and head.
template <int Q, int DV>
TINYVIT_INLINE void attend_queries(const float* q, const float* kt, const float* v, int64_t row, const float* bias,
                                   float* out, int64_t out_row, int64_t n, int64_t i0, float scale, float* scores) {
  constexpr int M = Q >= 8 ? 2 : 4;
  const int64_t d = DV * 16, np = padded_tokens(n), nv = np / 16;
  const float* qs[Q];
  const float* bs[Q];
  float* ss[Q];
  float* os[Q];
  float inv[Q];
  v16 m[Q];
  for (int t = 0; t < Q; ++t) {
    qs[t] = q + (i0 + t) * row;
    bs[t] = bias + (i0 + t) * np;
    ss[t] = scores + t * np;
    os[t] = out + (i0 + t) * out_row;
    m[t] = v16{} - INFINITY;
  }
  int64_t jb = 0;
  for (; jb + M <= nv; jb += M) scores_block<Q, M>(qs, kt, bs, np, d, jb * 16, scale, ss, m);
  for (; jb < nv; ++jb) scores_block<Q, 1>(qs, kt, bs, np, d, jb * 16, scale, ss, m);
  for (int t = 0; t < Q; ++t) inv[t] = softmax_unnormalised(ss[t], np, m[t]);
  context_block<Q, DV>(ss, inv, v, row, n, os);
}

template <int DV>
TINYVIT_INLINE void attend(const float* q, const float* k, const float* v, int64_t row, const float* bias,
                           float* out, int64_t out_row, int64_t n, float scale, float* kt, float* scores) {
  constexpr int Q = DV <= 2 ? 8 : 4;  // Q x DV context accumulators in the 32 registers
  transpose_keys(k, row, n, DV * 16, padded_tokens(n), kt);
  int64_t i0 = 0;
  for (; i0 + Q <= n; i0 += Q) attend_queries<Q, DV>(q, kt, v, row, bias, out, out_row, n, i0, scale, scores);
  for (; i0 < n; ++i0) attend_queries<1, DV>(q, kt, v, row, bias, out, out_row, n, i0, scale, scores);
}

SAMMPA_ROW_KERNEL_CLONES
void attend_window_head(const float* q, const float* k, const float* v, int64_t row, const float* bias, float* out,
                        int64_t out_row, int64_t n, int64_t d, float scale, float* scratch) {
  float *kt = scratch, *scores = kt + d * padded_tokens(n);
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
  const int64_t np = padded_tokens(tokens);
  thread_local std::vector<float> scratch;
  scratch.resize(static_cast<size_t>((head_dim + kMaxQueries) * np));
  for (int64_t w = 0; w < windows; ++w)
    for (int64_t h = 0; h < heads; ++h) {
      const float* q = qkv + w * tokens * row + h * 3 * head_dim;
      attend_window_head(q, q + head_dim, q + 2 * head_dim, row, bias + h * tokens * np,
                         out + w * tokens * out_row + h * head_dim, out_row, tokens, head_dim, scale, scratch.data());
    }
}

std::vector<float> pad_attention_bias(const std::vector<float>& bias, int64_t heads, int64_t tokens) {
  if (bias.size() != static_cast<size_t>(heads * tokens * tokens))
    throw std::invalid_argument("pad_attention_bias: expected [heads, tokens, tokens]");
  const int64_t np = padded_tokens(tokens);
  std::vector<float> out(static_cast<size_t>(heads * tokens * np), -INFINITY);
  for (int64_t r = 0; r < heads * tokens; ++r)
    std::copy_n(bias.begin() + r * tokens, tokens, out.begin() + r * np);
  return out;
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
