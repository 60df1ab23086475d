#pragma once
// Element-wise and row kernels of the ViT image encoder (internal). Each is compiled for AVX-512, AVX2 and plain
// x86-64 and picked at run time, because the project builds for the baseline ISA.
#include <cstdint>

namespace sammpa::sam::vit {

// y[r, :] = LayerNorm(x[r, :]) * gamma + beta for `rows` rows of `cols` values (row strides ldx, ldy), over all
// OpenMP threads. x and y may alias.
void layer_norm_rows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols,
                     const float* gamma, const float* beta, float eps);

// One attention row of `kh * kw` scores laid out as [kh][kw]: adds the decomposed relative-position bias
// (rh[i] to key row i, rw[j] to key column j), replaces the scores by exp(s - max) and returns their sum.
float bias_softmax_row(float* s, const float* rh, const float* rw, int64_t kh, int64_t kw);
// The same in plain C++: what runs without AVX-512 (exposed so that tests cover it on any machine).
float bias_softmax_row_portable(float* s, const float* rh, const float* rw, int64_t kh, int64_t kw);

// x[i] *= a for n values.
void scale_row(float* x, int64_t n, float a);

}  // namespace sammpa::sam::vit
