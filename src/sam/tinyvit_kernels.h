#pragma once
// The memory-bound steps of the TinyViT encoder that oneDNN has no fused primitive for, written as single
// passes over row-major token arrays ([height * width, channels], i.e. NHWC). OpenMP over all cores.
#include <cstdint>

namespace sammpa::sam::tinyvit {

// torch.nn.LayerNorm over the last dimension: y[r] = (x[r] - mean) / sqrt(var + eps) * gamma + beta.
void layer_norm(const float* x, float* y, int64_t rows, int64_t channels, const float* gamma, const float* beta,
                float eps);

// LayerNorm, then the transpose of the [hw, channels] result into [channels, hw] (NCHW output).
void layer_norm_to_planar(const float* x, float* y, int64_t hw, int64_t channels, const float* gamma,
                          const float* beta, float eps);

// Zero-pads the [height, width, channels] image up to multiples of `window`, cuts it into window x window
// windows (row-major order of windows, row-major tokens in each) and layer-normalises every token: out is
// [windows * window * window, channels]. A padded token normalises to beta, as LayerNorm of a zero vector does.
void window_partition_norm(const float* x, float* out, int64_t height, int64_t width, int64_t channels, int window,
                           const float* gamma, const float* beta, float eps);

// The inverse of window_partition (padding dropped), added onto x: x[y, x] += windows[token of (y, x)].
void window_reverse_add(const float* windows, float* x, int64_t height, int64_t width, int64_t channels,
                        int window);

// TinyViT's windowed attention, fused so that each window's scores stay in the core's cache:
//   out[w, i, h * head_dim ...] = softmax(scale * q[w, h, i] k[w, h]^T + bias[h, i]) v[w, h]
// qkv: [windows * tokens, heads * 3 * head_dim], each head's q, k, v side by side (TinyViT's split);
// bias: [heads, tokens, tokens]; out: [windows * tokens, heads * head_dim]. head_dim a multiple of 16, <= 64.
void window_attention(const float* qkv, const float* bias, float* out, int64_t windows, int64_t tokens,
                      int64_t heads, int64_t head_dim, float scale);

}  // namespace sammpa::sam::tinyvit
