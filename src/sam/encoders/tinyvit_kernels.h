#pragma once
// The memory-bound steps of the TinyViT encoder that oneDNN has no fused primitive for, written as single
// passes over row-major token arrays ([height * width, channels], i.e. NHWC). Functions marked serial run on
// the calling thread (they are called on tiles inside parallel loops); the others use OpenMP.
#include <cstdint>
#include <vector>

namespace sammpa::sam::tinyvit {

// torch.nn.LayerNorm over the last dimension: y[r] = (x[r] - mean) / sqrt(var + eps) * gamma + beta. Serial.
void layer_norm_rows(const float* x, float* y, int64_t rows, int64_t channels, const float* gamma,
                     const float* beta, float eps);

// The same over all rows, in parallel.
void layer_norm(const float* x, float* y, int64_t rows, int64_t channels, const float* gamma, const float* beta,
                float eps);

// LayerNorm, then the transpose of the [hw, channels] result into [channels, hw] (NCHW output). Parallel.
void layer_norm_to_planar(const float* x, float* y, int64_t hw, int64_t channels, const float* gamma,
                          const float* beta, float eps);

// Windows as TinyViT cuts them: the [height, width, channels] image zero-padded up to multiples of `window`,
// cut into window x window windows, numbered row-major, tokens row-major inside each.
struct WindowGrid {
  int64_t height, width, channels, window;
  int64_t cols() const { return (width + window - 1) / window; }
  int64_t count() const { return ((height + window - 1) / window) * cols(); }
  int64_t tokens() const { return window * window; }
};

// Windows [first, first + count) of x, each token layer-normalised: out [count * tokens, channels]. A padding
// token normalises to beta, as LayerNorm of a zero vector does. Serial.
void window_partition_norm(const WindowGrid& g, const float* x, int64_t first, int64_t count, float* out,
                           const float* gamma, const float* beta, float eps);

// The inverse for windows [first, first + count), padding dropped, added onto x. Serial.
void window_reverse_add(const WindowGrid& g, const float* windows, int64_t first, int64_t count, float* x);

// A window's token count rounded up to whole 16-float registers: the row length of the padded bias.
inline int64_t padded_tokens(int64_t tokens) { return (tokens + 15) / 16 * 16; }

// TinyViT's attention bias [heads, tokens, tokens] laid out for window_attention: rows padded to
// padded_tokens(tokens) with -inf, which the softmax turns into zero weight.
std::vector<float> pad_attention_bias(const std::vector<float>& bias, int64_t heads, int64_t tokens);

// TinyViT's windowed attention for `windows` windows, each window's scores kept in cache:
//   out[w, i, h * head_dim ...] = softmax(scale * q[w, h, i] k[w, h]^T + bias[h, i]) v[w, h]
// qkv: [windows * tokens, heads * 3 * head_dim], each head's q, k, v side by side (TinyViT's split);
// bias: pad_attention_bias's [heads, tokens, padded_tokens(tokens)]; out: [windows * tokens, heads * head_dim].
// head_dim a multiple of 16, <= 64. Serial.
void window_attention(const float* qkv, const float* bias, float* out, int64_t windows, int64_t tokens,
                      int64_t heads, int64_t head_dim, float scale);

}  // namespace sammpa::sam::tinyvit
