#include "sam/encoders/attention_vit.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "common/omp_errors.h"
#include "sam/encoders/vit_kernels.h"

namespace sammpa::sam::vit {

namespace {

// Query rows per task in global attention (scores: rows x tokens floats per thread, 4 MB for SAM). Measured on
// ViT-B: 256 and 512 beat 128 (less repacking of K and V per row) and 64 (~20% slower).
constexpr int64_t kGlobalRows = 256;

void sgemm(char ta, char tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  // Called inside OpenMP parallel regions, where oneDNN runs it on the calling thread only.
  if (dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) != dnnl_success)
    throw std::runtime_error("attention: dnnl_sgemm failed");
}

struct Sizes {
  int64_t rows, keys, rel;  // query rows per task, keys, relative-position rows
};

Sizes sizes_of(const AttentionGeometry& g) {
  const int64_t kh = g.key_h(), kw = g.key_w();
  return {g.window ? kh * kw : std::min(kGlobalRows, g.grid_h * g.grid_w), kh * kw, 2 * kh - 1 + 2 * kw - 1};
}

// Floats of scratch `attend` needs for `rows` queries.
int64_t attend_floats(const Sizes& s, int64_t head_dim) {
  return s.rows * s.keys + s.rows * s.rel + s.rows + 2 * (s.keys + s.rel) + head_dim;
}

// One head: `nq` queries q (row stride ldq) at key-grid coordinates (qh[i], qw[i]) attend to the kh x kw keys
// k and values v; writes the output rows to o (row stride ldo).
void attend(const float* q, int64_t ldq, const int32_t* qh, const int32_t* qw, int64_t nq, const float* k,
            int64_t ldk, const float* v, int64_t ldv, int64_t kh, int64_t kw, const float* rel, int64_t hd,
            float* o, int64_t ldo, float* scratch) {
  const int64_t nk = kh * kw, lh = 2 * kh - 1, nrel = lh + 2 * kw - 1;
  float* s = scratch;
  float* t = s + nq * nk;
  float* inv = t + nq * nrel;
  float* rh = inv + nq;
  float* rw = rh + kh;
  const float scale = 1.f / std::sqrt(static_cast<float>(hd));
  sgemm('N', 'T', nq, nk, hd, scale, q, ldq, k, ldk, 0.f, s, nk);
  // Dot products of each query with every relative-position embedding; the bias terms are picked from them.
  sgemm('N', 'T', nq, nrel, hd, 1.f, q, ldq, rel, hd, 0.f, t, nrel);
  for (int64_t i = 0; i < nq; ++i) {
    const float* ti = t + i * nrel;
    for (int64_t a = 0; a < kh; ++a) rh[a] = ti[qh[i] - a + kh - 1];
    for (int64_t b = 0; b < kw; ++b) rw[b] = ti[lh + qw[i] - b + kw - 1];
    inv[i] = 1.f / bias_softmax_row(s + i * nk, rh, rw, kh, kw);
  }
  sgemm('N', 'N', nq, hd, nk, 1.f, s, nk, v, ldv, 0.f, o, ldo);
  for (int64_t i = 0; i < nq; ++i) scale_row(o + i * ldo, hd, inv[i]);
}

void global_attention(const AttentionGeometry& g, const float* qkv, const float* rel, float* out,
                      AttentionScratch& scratch) {
  const int64_t c = g.channels(), ld = 3 * c, hd = g.head_dim, tokens = g.grid_h * g.grid_w;
  const Sizes sz = sizes_of(g);
  const int64_t blocks = (tokens + sz.rows - 1) / sz.rows, tasks = blocks * g.heads;
  ParallelErrors errors;
#pragma omp parallel for schedule(dynamic)
  for (int64_t task = 0; task < tasks; ++task) errors.run([&] {
    const int64_t h = task % g.heads, r0 = (task / g.heads) * sz.rows, nq = std::min(sz.rows, tokens - r0);
    float* buf = scratch.thread_buffer(omp_get_thread_num());
    auto* qh = reinterpret_cast<int32_t*>(buf);
    int32_t* qw = qh + sz.rows;
    for (int64_t i = 0; i < nq; ++i) {
      qh[i] = static_cast<int32_t>((r0 + i) / g.grid_w);
      qw[i] = static_cast<int32_t>((r0 + i) % g.grid_w);
    }
    attend(qkv + r0 * ld + h * hd, ld, qh, qw, nq, qkv + c + h * hd, ld, qkv + 2 * c + h * hd, ld, g.grid_h,
           g.grid_w, rel, hd, out + r0 * c + h * hd, c, buf + 2 * sz.rows);
  });
  errors.rethrow();
}

void window_attention(const AttentionGeometry& g, const float* qkv, const float* qkv_bias, const float* rel,
                      float* out, AttentionScratch& scratch) {
  const int64_t c = g.channels(), ld = 3 * c, hd = g.head_dim, ws = g.window, n = ws * ws;
  const int64_t wins_y = (g.grid_h + ws - 1) / ws, wins_x = (g.grid_w + ws - 1) / ws;
  const int64_t tasks = wins_y * wins_x * g.heads;
  ParallelErrors errors;
#pragma omp parallel for schedule(dynamic)
  for (int64_t task = 0; task < tasks; ++task) errors.run([&] {
    const int64_t h = task % g.heads, win = task / g.heads, y0 = (win / wins_x) * ws, x0 = (win % wins_x) * ws;
    const int64_t ny = std::min(ws, g.grid_h - y0), nx = std::min(ws, g.grid_w - x0), nq = ny * nx;
    float* buf = scratch.thread_buffer(omp_get_thread_num());
    auto* qh = reinterpret_cast<int32_t*>(buf);
    int32_t* qw = qh + n;
    float* q = buf + 2 * n;
    float* k = q + n * hd;
    float* v = k + n * hd;
    float* o = v + n * hd;
    // Gather the window: queries only where there are tokens, keys and values over the whole padded window.
    for (int64_t a = 0; a < ws; ++a)
      for (int64_t b = 0; b < ws; ++b) {
        const int64_t j = a * ws + b;
        const bool inside = a < ny && b < nx;
        const float* row = inside ? qkv + ((y0 + a) * g.grid_w + x0 + b) * ld : qkv_bias;
        std::memcpy(k + j * hd, row + c + h * hd, hd * sizeof(float));
        std::memcpy(v + j * hd, row + 2 * c + h * hd, hd * sizeof(float));
        if (inside) {
          const int64_t i = a * nx + b;
          std::memcpy(q + i * hd, row + h * hd, hd * sizeof(float));
          qh[i] = static_cast<int32_t>(a);
          qw[i] = static_cast<int32_t>(b);
        }
      }
    attend(q, hd, qh, qw, nq, k, hd, v, hd, ws, ws, rel, hd, o, hd, o + n * hd);
    for (int64_t a = 0; a < ny; ++a)
      for (int64_t b = 0; b < nx; ++b)
        std::memcpy(out + ((y0 + a) * g.grid_w + x0 + b) * c + h * hd, o + (a * nx + b) * hd, hd * sizeof(float));
  });
  errors.rethrow();
}

}  // namespace

void AttentionScratch::reserve(const AttentionGeometry& g) {
  const Sizes sz = sizes_of(g);
  int64_t floats = 2 * sz.rows + attend_floats(sz, g.head_dim);
  if (g.window) floats += 4 * sz.keys * g.head_dim;  // gathered q, k, v and the output
  const auto threads = static_cast<size_t>(omp_get_max_threads());
  if (buffers_.size() < threads) buffers_.resize(threads);
  for (auto& b : buffers_)
    if (static_cast<int64_t>(b.size()) < floats) b.assign(static_cast<size_t>(floats), 0.f);
}

void attention_rel_pos(const AttentionGeometry& g, const float* qkv, const float* qkv_bias, const float* rel,
                       float* out, AttentionScratch& scratch) {
  scratch.reserve(g);
  if (g.window)
    window_attention(g, qkv, qkv_bias, rel, out, scratch);
  else
    global_attention(g, qkv, rel, out, scratch);
}

}  // namespace sammpa::sam::vit
