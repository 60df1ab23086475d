#include "sam/tinyvit_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

// The project builds for the baseline x86-64 ISA; the per-row loops below get AVX2 and AVX-512 versions too,
// chosen at load time, since they run over every activation of the network.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TINYVIT_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TINYVIT_MULTIVERSION
#endif

namespace sammpa::sam::tinyvit {

namespace {

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
inline float exp_nonpositive(float x) {
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

TINYVIT_MULTIVERSION
void softmax_rows(float* s, const float* bias, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r, s += n, bias += n) {
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int64_t i = 0; i < n; ++i) {
      s[i] += bias[i];
      mx = std::max(mx, s[i]);
    }
    float sum = 0.f;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) {
      s[i] = exp_nonpositive(s[i] - mx);
      sum += s[i];
    }
    const float inv = 1.f / sum;
    for (int64_t i = 0; i < n; ++i) s[i] *= inv;
  }
}

}  // namespace

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
    float* tmp = new float[block * channels];
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t p0 = b * block, np = std::min(block, hw - p0);
      for (int64_t p = 0; p < np; ++p) norm_row(x + (p0 + p) * channels, tmp + p * channels, channels, gamma, beta, eps);
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t p = 0; p < np; ++p) y[c * hw + p0 + p] = tmp[p * channels + c];
    }
    delete[] tmp;
  }
}

void window_partition_norm(const float* x, float* out, int64_t height, int64_t width, int64_t channels, int window,
                           const float* gamma, const float* beta, float eps) {
  const int64_t nh = (height + window - 1) / window, nw = (width + window - 1) / window;
  const int64_t tokens = int64_t{window} * window;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < nh * nw * tokens; ++t) {
    const int64_t w = t / tokens, i = (t % tokens) / window, j = t % window;
    const int64_t yy = (w / nw) * window + i, xx = (w % nw) * window + j;
    float* dst = out + t * channels;
    if (yy < height && xx < width)
      norm_row(x + (yy * width + xx) * channels, dst, channels, gamma, beta, eps);
    else
      std::memcpy(dst, beta, static_cast<size_t>(channels) * sizeof(float));
  }
}

void window_reverse_add(const float* windows, float* x, int64_t height, int64_t width, int64_t channels,
                        int window) {
  const int64_t nw = (width + window - 1) / window;
  const int64_t tokens = int64_t{window} * window;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < height * width; ++p) {
    const int64_t yy = p / width, xx = p % width;
    const int64_t w = (yy / window) * nw + xx / window;
    const int64_t t = w * tokens + (yy % window) * window + xx % window;
    add_row(windows + t * channels, x + p * channels, channels);
  }
}

void softmax_with_bias(float* scores, const float* bias, int64_t batch, int64_t heads, int64_t n) {
#pragma omp parallel for schedule(static) collapse(2)
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h) softmax_rows(scores + (b * heads + h) * n * n, bias + h * n * n, n, n);
}

}  // namespace sammpa::sam::tinyvit
