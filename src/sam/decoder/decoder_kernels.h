#pragma once
// Row kernels of the two-way transformer's attention between a prompt's few tokens and its 4096 image tokens
// (internal), compiled for AVX-512, AVX2 and plain x86-64 and picked at run time. The attention is computed with
// the projections folded into the token side: a head's score q_h . k_h = (x W_q,h^T + b_q,h) . k_h is
// x . (W_q,h^T k_h) + b_q,h . k_h, so the 4096 image tokens meet a few folded rows (heads x tokens) instead of
// being projected. Columns and rows of (token, head) pairs are ordered token-major: t * heads + h.
#include <cstdint>

namespace sammpa::sam::decoder_kernels {

// out[(t * heads + h), c] = alpha * sum_j coef[t * ld_coef + h * d + j] * w[(h * d + j) * n + c]
// for t < tokens, h < heads, c < n: each head's slice of a token's projection times that head's rows of w
// ([heads * d, n], row-major).
void head_expand(const float* coef, int64_t ld_coef, int64_t tokens, int64_t heads, int64_t d, const float* w,
                 int64_t n, float alpha, float* out);

// out[t * ld_out + h * d + j] = sum_c r[(t * heads + h) * n + c] * w[(h * d + j) * n + c] + b[h * d + j]:
// a head's folded rows back through that head's rows of w ([heads * d, n]), plus the bias.
void head_reduce(const float* r, int64_t tokens, int64_t heads, int64_t d, int64_t n, const float* w,
                 const float* b, float* out, int64_t ld_out);

// In place on rows [rows, tokens * heads] (token-major columns): for each row and head, softmax over the
// tokens of s + e (e [tokens * heads], or null for none). At most 64 heads.
void softmax_over_tokens(float* s, int64_t rows, int64_t tokens, int64_t heads, const float* e);

// One image token's residual update: x = base + (delta + bias), then LayerNorm (gamma, beta, eps) into
// keys, and keys + pe into keys_pe. Each pointer is one row of n values.
void residual_norm_pe(const float* base, const float* delta, const float* bias, const float* gamma,
                      const float* beta, float eps, const float* pe, float* keys, float* keys_pe, int64_t n);

}  // namespace sammpa::sam::decoder_kernels
